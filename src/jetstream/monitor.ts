// JetStream's side of monitoring (/jsz, /varz jetstream, /healthz, /metrics, status page):
// the JetStreamMonitor provider the monitoring endpoints call, with the reference's /jsz
// field names and order.
import type { AccountJetStreamUsage, JetStreamMonitor, JszOptions, StreamUsage } from "../server/monitor_provider.ts";
import type { JetStream, JsAccount } from "./jetstream.ts";

export class JetStreamMonitorImpl implements JetStreamMonitor {
  constructor(readonly js: JetStream) {}

  #config(): Record<string, unknown> {
    const c = this.js.config;
    const o: Record<string, unknown> = { max_memory: c.maxMemory, max_storage: c.maxStore, store_dir: c.storeDir };
    if (c.domain !== "") o.domain = c.domain;
    if (c.syncIntervalMs > 0) o.sync_interval = c.syncIntervalMs * 1e6;
    if (c.syncAlways) o.sync_always = true;
    return o;
  }

  #api(): { total: number; errors: number } {
    let total = 0;
    let errors = 0;
    for (const a of this.js.accounts.values()) {
      total += a.apiTotal;
      errors += a.apiErrors;
    }
    return { total, errors };
  }

  #stats(): Record<string, unknown> {
    return {
      memory: this.js.usage("memory"),
      storage: this.js.usage("file"),
      reserved_memory: this.js.reservedBytes("memory"),
      reserved_storage: this.js.reservedBytes("file"),
      accounts: this.js.accounts.size,
      ha_assets: 0,
      api: this.#api(),
    };
  }

  jsz(opts: JszOptions): Record<string, unknown> {
    let streams = 0;
    let consumers = 0;
    let messages = 0;
    let bytes = 0;
    for (const a of this.js.accounts.values()) {
      for (const s of a.streams.values()) {
        streams++;
        consumers += s.consumers.size;
        const st = s.store.state();
        messages += st.messages;
        bytes += st.bytes;
      }
    }
    const o: Record<string, unknown> = { config: this.#config(), ...this.#stats(), streams, consumers, messages, bytes };
    if (opts.accounts || opts.streams || opts.consumers || opts.account !== "") {
      const accounts = [...this.js.accounts.values()]
        .filter((a) => opts.account === "" || a.account.name === opts.account)
        .sort((a, b) => (a.account.name < b.account.name ? -1 : 1))
        .slice(opts.offset, opts.offset + opts.limit);
      o.account_details = accounts.map((a) => this.#accountDetail(a, opts));
    }
    return o;
  }

  #accountDetail(a: JsAccount, opts: JszOptions): Record<string, unknown> {
    const o: Record<string, unknown> = {
      name: a.account.name,
      id: a.account.name,
      memory: a.usage("memory"),
      storage: a.usage("file"),
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 0,
      ha_assets: 0,
      api: { total: a.apiTotal, errors: a.apiErrors },
    };
    if (opts.streams || opts.consumers) {
      const names = [...a.streams.keys()].sort();
      o.stream_detail = names.map((n) => {
        const s = a.streams.get(n)!;
        const d: Record<string, unknown> = { name: s.name, created: s.created, cluster: { leader: this.js.server.name } };
        const info = s.infoJson();
        if (opts.config) d.config = info.config;
        d.state = info.state;
        if (opts.consumers && s.consumers.size > 0) {
          d.consumer_detail = [...s.consumers.values()]
            .sort((x, y) => (x.name < y.name ? -1 : 1))
            .map((c) => {
              const ci = c.infoJson();
              if (!opts.config) delete ci.config;
              return ci;
            });
        }
        return d;
      });
    }
    return o;
  }

  varz(): Record<string, unknown> {
    return { config: this.#config(), stats: this.#stats() };
  }

  unhealthy(_jsServerOnly: boolean): string | null {
    for (const a of this.js.accounts.values()) {
      for (const s of a.streams.values()) if (s.closed) return `JetStream stream '${a.account.name} > ${s.name}' is not current`;
    }
    return null;
  }

  accounts(): AccountJetStreamUsage[] {
    return [...this.js.accounts.values()].map((a) => ({
      account: a.account.name,
      memory: a.usage("memory"),
      storage: a.usage("file"),
      streams: a.streams.size,
      consumers: a.consumerCount(),
    }));
  }

  streams(): StreamUsage[] {
    const out: StreamUsage[] = [];
    for (const a of this.js.accounts.values()) {
      for (const s of a.streams.values()) {
        const st = s.store.state();
        out.push({
          account: a.account.name,
          stream: s.name,
          messages: st.messages,
          bytes: st.bytes,
          firstSeq: st.firstSeq,
          lastSeq: st.lastSeq,
          consumers: s.consumers.size,
          storage: s.config.storage,
        });
      }
    }
    return out;
  }

  api(): { total: number; errors: number } {
    return this.#api();
  }
}
