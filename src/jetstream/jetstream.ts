// JetStream on this server: its configuration and resource limits, the JetStream-enabled
// accounts (each with its streams, usage, limits and API counters), recovery of file streams
// from the store directory at start, and advisories. The `$JS.API.>` request handlers are in
// api.ts; a stream's own publish path is in stream.ts.
//
// On disk (as the reference): <store_dir>/jetstream/<account>/streams/<stream>/ holds the
// stream's meta.json (config + created time, written by us) and the file store's files.
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { nuid } from "@nats-io/nuid";
import type { Account } from "../server/account.ts";
import { subjectMatches } from "../server/subject.ts";
import { InternalClient } from "../server/internal_client.ts";
import type { Server } from "../server/server.ts";
import { encodeUtf8, textToByteString } from "../util/bytes.ts";
import { handleApiRequest } from "./api.ts";
import { JsErr, type ApiError } from "./errors.ts";
import { goJson, nowNs, nsToRfc3339 } from "./json.ts";
import { Stream, storeConfigFor, type StreamHost } from "./stream.ts";
import { applyStreamDefaults, decodeStreamConfig, type StreamConfig } from "./stream_config.ts";
import { Consumer } from "./consumer.ts";
import type { SourceHost } from "./source.ts";
import { decodeConsumerConfig } from "./consumer_config.ts";
import type { Subscription } from "../server/sublist.ts";
import { createMemoryStore, openFileStore, readStreamMeta, writeStreamMeta, type FileStoreOptions, type StreamStore } from "./store/store.ts";

/** Per-account JetStream limits; -1 = unlimited. */
export interface JsLimits {
  maxMemory: number;
  maxStore: number;
  maxStreams: number;
  maxConsumers: number;
  maxAckPending: number;
  memoryMaxStreamBytes: number;
  storeMaxStreamBytes: number;
  maxBytesRequired: boolean;
}

export const unlimited: JsLimits = {
  maxMemory: -1,
  maxStore: -1,
  maxStreams: -1,
  maxConsumers: -1,
  maxAckPending: -1,
  memoryMaxStreamBytes: -1,
  storeMaxStreamBytes: -1,
  maxBytesRequired: false,
};

/** JetStream-wide configuration, resolved at start. */
export interface JsConfig {
  storeDir: string;
  maxMemory: number;
  maxStore: number;
  domain: string;
  syncIntervalMs: number;
  syncAlways: boolean;
}

const apiPrefix = "$JS.API.";

/** One JetStream-enabled account. */
export class JsAccount implements StreamHost, SourceHost {
  readonly streams = new Map<string, Stream>();
  limits: JsLimits;
  apiTotal = 0;
  apiErrors = 0;
  readonly client: InternalClient;

  constructor(
    readonly js: JetStream,
    readonly account: Account,
    limits: JsLimits,
  ) {
    this.limits = limits;
    this.client = new InternalClient(js.server, account, "JetStream");
  }

  get domain(): string {
    return this.js.config.domain;
  }

  get streamsDir(): string {
    return join(this.js.config.storeDir, this.account.name, "streams");
  }

  /** Bytes stored in this account's streams of one storage type. */
  usage(storage: "file" | "memory"): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.config.storage === storage) n += s.store.bytesStored();
    return n;
  }

  consumerCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.consumers.size;
    return n;
  }

  /**
   * Whether a message of `addBytes` (as the store accounts it) may be stored. As the reference:
   * the server refuses only once its limit is already exceeded (a message may take it over the
   * limit), the account when the message would exceed the account's limit.
   */
  checkStorage(storage: "file" | "memory", addBytes: number): ApiError | null {
    const serverLimit = storage === "memory" ? this.js.config.maxMemory : this.js.config.maxStore;
    if (this.js.usage(storage) > serverLimit) return JsErr.insufficientResources();
    const limit = storage === "memory" ? this.limits.maxMemory : this.limits.maxStore;
    if (limit >= 0 && this.usage(storage) + addBytes > limit) return JsErr.accountResourcesExceeded();
    return null;
  }

  persist(stream: Stream): void {
    if (stream.dir === null) return;
    writeStreamMeta(stream.dir, { config: stream.config, created: stream.created });
  }

  warn(text: string): void {
    this.js.server.logger.warn(text);
  }

  /** Opens the store for a new or recovered stream. */
  openStore(config: StreamConfig): { store: StreamStore; dir: string | null } {
    if (config.storage === "memory") return { store: createMemoryStore(storeConfigFor(config)), dir: null };
    const dir = join(this.streamsDir, config.name);
    const options: FileStoreOptions = { syncAlways: this.js.config.syncAlways, coalesceWrites: true, warn: (t) => this.warn(`JetStream file store '${this.account.name} > ${config.name}': ${t}`) };
    if (this.js.config.syncIntervalMs > 0) options.syncIntervalMs = this.js.config.syncIntervalMs;
    return { store: openFileStore(dir, storeConfigFor(config), options), dir };
  }

  /** Creates and starts a stream (config already validated). */
  addStream(config: StreamConfig): Stream {
    const { store, dir } = this.openStore(config);
    const stream = new Stream(this, config, nsToRfc3339(nowNs()), store, dir);
    try {
      this.persist(stream);
    } catch (e) {
      store.destroy();
      throw e;
    }
    this.streams.set(config.name, stream);
    stream.start();
    stream.startSources(this);
    this.#attachWaitingReaders(stream);
    return stream;
  }

  lookup(name: string, external: { api: string; deliver: string } | null = null): Stream | undefined {
    if (external === null || external.api === "") return this.streams.get(name);
    const api = external.api.endsWith(".") ? external.api.slice(0, -1) : external.api;
    // This server's own domain: the same account.
    if (this.js.config.domain !== "" && api === `$JS.${this.js.config.domain}.API`) return this.streams.get(name);
    // Another account's JetStream API imported as a service under `api`.
    const probe = `${api}.STREAM.INFO.${name}`;
    for (const imp of this.account.imports) {
      if (imp.kind !== "service") continue;
      const local = imp.to !== "" ? imp.to : imp.subject;
      if (!subjectMatches(probe, local)) continue;
      const exporter = this.js.accounts.get(imp.account);
      if (exporter === undefined || exporter === this) continue;
      return exporter.streams.get(name);
    }
    return undefined;
  }

  #attachWaitingReaders(origin: Stream): void {
    this.js.attachWaitingReaders(origin);
  }


  deleteStream(stream: Stream): void {
    this.streams.delete(stream.name);
    stream.destroy();
    if (stream.dir !== null) rmSync(stream.dir, { recursive: true, force: true });
  }

  /** Recovers the file streams of this account from the store directory. */
  recover(): void {
    const dir = this.streamsDir;
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const sdir = join(dir, name);
      try {
        const meta = readStreamMeta(sdir) as { config?: Record<string, unknown>; created?: string } | null;
        if (meta === null || meta.config === undefined) {
          this.warn(`JetStream: ignoring ${sdir}: no stream metadata`);
          continue;
        }
        const config = decodeStreamConfig(meta.config);
        applyStreamDefaults(config);
        const store = openFileStore(sdir, storeConfigFor(config), {
          syncAlways: this.js.config.syncAlways,
          coalesceWrites: true,
          warn: (t) => this.warn(`JetStream file store '${this.account.name} > ${config.name}': ${t}`),
          ...(this.js.config.syncIntervalMs > 0 ? { syncIntervalMs: this.js.config.syncIntervalMs } : {}),
        });
        const stream = new Stream(this, config, meta.created ?? nsToRfc3339(nowNs()), store, sdir);
        this.streams.set(config.name, stream);
        stream.rebuildDedup();
        stream.start();
        this.#recoverConsumers(stream);
        const st = store.state();
        this.js.server.logger.info(`  Restored ${st.messages} messages for stream '${this.account.name} > ${config.name}'`);
      } catch (e) {
        this.js.server.logger.error(`JetStream: could not restore stream in ${sdir}: ${(e as Error).message}`);
      }
    }
  }

  #recoverConsumers(stream: Stream): void {
    for (const name of stream.store.consumerNames().sort()) {
      try {
        const cs = stream.store.consumerStore(name);
        const meta = cs.readMeta() as { name?: string; created?: string; config?: Record<string, unknown> } | null;
        if (meta === null || meta.config === undefined) {
          this.warn(`JetStream: consumer state without metadata for '${this.account.name} > ${stream.name} > ${name}', removed`);
          cs.destroy();
          continue;
        }
        const config = decodeConsumerConfig(meta.config);
        const consumer = new Consumer(stream, name, config, meta.created ?? nsToRfc3339(nowNs()), cs, cs.state());
        stream.addConsumer(consumer);
      } catch (e) {
        this.js.server.logger.error(`JetStream: could not restore consumer '${this.account.name} > ${stream.name} > ${name}': ${(e as Error).message}`);
      }
    }
  }

  /** Sublist hook: a new subscription may bind a push consumer's deliver subject. */
  onInterest(sub: Subscription): void {
    for (const s of this.streams.values()) {
      if (s.consumers.size === 0) continue;
      for (const c of s.consumers.values()) if (!c.isPull) c.onInterest(sub);
    }
  }

  /** After recovery: start mirrors/sources (every origin is known by now). */
  startAllSources(): void {
    for (const s of this.streams.values()) if (s.config.mirror !== null || s.config.sources !== null) s.startSources(this);
  }

  stop(): void {
    for (const s of this.streams.values()) {
      try {
        s.store.sync();
      } catch {
        // best effort; stop() below reports
      }
      s.stop();
    }
    this.client.close();
  }

  /** The account info limits object (reference field order). */
  limitsJson(): Record<string, unknown> {
    const l = this.limits;
    return {
      max_memory: l.maxMemory,
      max_storage: l.maxStore,
      max_streams: l.maxStreams,
      max_consumers: l.maxConsumers,
      max_ack_pending: l.maxAckPending,
      memory_max_stream_bytes: l.memoryMaxStreamBytes,
      storage_max_stream_bytes: l.storeMaxStreamBytes,
      max_bytes_required: l.maxBytesRequired,
    };
  }

  /** Publishes an advisory when someone listens on its subject. */
  advisory(subject: string, body: Record<string, unknown>): void {
    const bs = textToByteString(subject);
    const r = this.account.sublist.match(bs);
    if (r.psubs.length === 0 && r.qsubs.length === 0) return;
    const o: Record<string, unknown> = { type: body.type, id: nuid.next(), timestamp: nsToRfc3339(nowNs()), ...body };
    if (this.domain !== "") o.domain = this.domain;
    this.client.publish(bs, "", null, encodeUtf8(goJson(o)));
  }
}

export class JetStream {
  readonly config: JsConfig;
  readonly accounts = new Map<string, JsAccount>();
  /** Accounts in which $JS.API is answered (enabled or not), by name. */
  #apiClients = new Map<string, InternalClient>();

  constructor(
    readonly server: Server,
    config: Partial<JsConfig> & { storeDir: string },
  ) {
    const base = config.storeDir === "" ? join(tmpdir(), "nats") : config.storeDir;
    const storeDir = join(base, "jetstream");
    this.config = {
      storeDir,
      maxMemory: config.maxMemory !== undefined && config.maxMemory >= 0 ? config.maxMemory : Math.floor((totalmem() * 3) / 4),
      maxStore: config.maxStore !== undefined && config.maxStore >= 0 ? config.maxStore : defaultMaxStore(base),
      domain: config.domain ?? "",
      syncIntervalMs: config.syncIntervalMs ?? 0,
      syncAlways: config.syncAlways ?? false,
    };
  }

  /** Server-wide bytes of one storage type. */
  usage(storage: "file" | "memory"): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.usage(storage);
    return n;
  }

  /** Creates the store directory and logs the banner. Throws a clear error when unusable. */
  start(): void {
    const log = this.server.logger;
    try {
      mkdirSync(this.config.storeDir, { recursive: true });
    } catch (e) {
      throw new Error(`Could not create storage directory - ${(e as Error).message}`);
    }
    log.info("Starting JetStream");
    log.info("    _ ___ _____ ___ _____ ___ ___   _   __  __");
    log.info(" _ | | __|_   _/ __|_   _| _ \\ __| /_\\ |  \\/  |");
    log.info("| || | _|  | | \\__ \\ | | |   / _| / _ \\| |\\/| |");
    log.info(" \\__/|___| |_| |___/ |_| |_|_\\___/_/ \\_\\_|  |_|");
    log.info("");
    log.info("         https://docs.nats.io/jetstream");
    log.info("");
    log.info("---------------- JETSTREAM ----------------");
    log.info(`  Max Memory:      ${friendlyBytes(this.config.maxMemory)}`);
    log.info(`  Max Storage:     ${friendlyBytes(this.config.maxStore)}`);
    log.info(`  Store Directory: "${this.config.storeDir}"`);
    if (this.config.domain !== "") log.info(`  Domain:          ${this.config.domain}`);
    log.info("-------------------------------------------");
  }

  /** Enables JetStream for `account` (recovering its streams) with `limits`. */
  enableAccount(account: Account, limits: JsLimits = unlimited): JsAccount {
    let jsa = this.accounts.get(account.name);
    if (jsa !== undefined) {
      jsa.limits = limits;
      return jsa;
    }
    jsa = new JsAccount(this, account, limits);
    this.accounts.set(account.name, jsa);
    const target = jsa;
    account.sublist.onInsert = (sub) => target.onInterest(sub);
    this.server.logger.info(`  Enabled JetStream for account "${account.name}"`);
    jsa.recover();
    jsa.startAllSources();
    this.serveApi(account);
    return jsa;
  }

  /** JetStream off for `account` (its JWT no longer allows it): streams stop, their data stays. */
  disableAccount(account: Account): void {
    const jsa = this.accounts.get(account.name);
    if (jsa === undefined) return;
    this.accounts.delete(account.name);
    account.sublist.onInsert = null;
    jsa.stop();
    this.server.logger.info(`  JetStream disabled for account "${account.name}"`);
  }

  /** The account is gone (removed by a configuration reload): its streams stop, no API. */
  forgetAccount(account: Account): void {
    this.disableAccount(account);
    this.#apiClients.get(account.name)?.close();
    this.#apiClients.delete(account.name);
  }

  /** Answers `$JS.API.>` in `account` (with "not enabled for account" when it is not). */
  serveApi(account: Account): void {
    if (this.#apiClients.has(account.name)) return;
    const client = new InternalClient(this.server, account, "JetStream API");
    this.#apiClients.set(account.name, client);
    const handler = (subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): void => {
      handleApiRequest(this, account, client, subject, reply, hdr, data);
    };
    client.subscribe("$JS.API.>", handler);
    if (this.config.domain !== "") {
      const prefix = `$JS.${textToByteString(this.config.domain)}.API.`;
      client.subscribe(`${prefix}>`, (subject, reply, hdr, data) => handler(apiPrefix + subject.slice(prefix.length), reply, hdr, data));
    }
  }

  stop(): void {
    for (const a of this.accounts.values()) a.stop();
    for (const c of this.#apiClients.values()) c.close();
    this.accounts.clear();
    this.#apiClients.clear();
  }

  /** Mirrors/sources (of any account) waiting for `origin` attach now. */
  attachWaitingReaders(origin: Stream): void {
    for (const a of this.accounts.values()) {
      for (const s of a.streams.values()) {
        for (const r of s.readers) if (r.origin === null && a.lookup(r.spec.name, r.spec.external) === origin) r.attach(origin);
      }
    }
  }

  reservedBytes(storage: "file" | "memory"): number {
    let n = 0;
    for (const a of this.accounts.values()) {
      for (const s of a.streams.values()) if (s.config.storage === storage && s.config.max_bytes > 0) n += s.config.max_bytes;
    }
    return n;
  }
}

/** The reference's default max_file_store: 75% of the free space of the store's file system (1 TB when unknown). */
function defaultMaxStore(dir: string): number {
  try {
    let probe = dir;
    while (!existsSync(probe)) {
      const parent = join(probe, "..");
      if (parent === probe) break;
      probe = parent;
    }
    const st = statfsSync(probe);
    return Math.floor((Number(st.bavail) * Number(st.bsize) * 3) / 4);
  } catch {
    return 1024 ** 4;
  }
}

/** Bytes for the banner: "17.66 GB" like the reference's friendlyBytes (1024-based). */
export function friendlyBytes(n: number): string {
  const units = ["K", "M", "G", "T", "P", "E"];
  if (n < 1024) return `${n} B`;
  let exp = Math.floor(Math.log(n) / Math.log(1024));
  if (exp > units.length) exp = units.length;
  return `${(n / 1024 ** exp).toFixed(2)} ${units[exp - 1]}B`;
}
