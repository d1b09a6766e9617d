// /metrics in the Prometheus text exposition format (version 0.0.4), so a Prometheus server
// scrapes nats-bun directly — the reference needs a separate exporter for this. Names follow
// Prometheus conventions (`_total` for counters, base units: bytes, seconds).
import * as C from "../constants.ts";
import type { Server } from "../server/server.ts";
import { sublistStats } from "./subsz.ts";

type Kind = "counter" | "gauge";

/** Builds the exposition text: one HELP/TYPE header per family, then its samples. */
class Exposition {
  #lines: string[] = [];

  family(name: string, kind: Kind, help: string, samples: readonly [Record<string, string>, number][]): void {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.#lines.push(`# TYPE ${name} ${kind}`);
    for (const [labels, value] of samples) this.#lines.push(`${name}${labelText(labels)} ${numberText(value)}`);
  }

  one(name: string, kind: Kind, help: string, value: number, labels: Record<string, string> = {}): void {
    this.family(name, kind, help, [[labels, value]]);
  }

  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${labels[k].replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function metrics(server: Server, requestStats: Record<string, number>): string {
  const e = new Exposition();
  const id = { server_id: server.id, server_name: server.name };
  e.one("nats_server_info", "gauge", "Server identity; the value is always 1.", 1, { ...id, version: C.referenceVersion, nats_bun: C.natsBunVersion });
  e.one("nats_server_start_time_seconds", "gauge", "Start time of the server since the Unix epoch in seconds.", server.startedAt.getTime() / 1000);
  e.one("nats_server_config_load_time_seconds", "gauge", "When the configuration was last loaded or reloaded, in seconds since the Unix epoch.", server.configLoadTime.getTime() / 1000);
  e.one("nats_server_lame_duck_mode", "gauge", "1 while the server is in lame-duck mode.", server.lameDuck ? 1 : 0);
  e.one("nats_server_memory_resident_bytes", "gauge", "Resident set size of the server process.", process.memoryUsage.rss());
  e.one("nats_server_connections", "gauge", "Client connections currently open.", server.connections.size);
  e.one("nats_server_connections_total", "counter", "Client connections accepted since start.", server.totalConnections);
  e.one("nats_server_max_connections", "gauge", "Configured maximum number of client connections.", server.opts.maxConnections);
  e.one("nats_server_subscriptions", "gauge", "Subscriptions in every account.", sublistStats(server).num_subscriptions);
  e.one("nats_server_messages_received_total", "counter", "Messages published to the server.", server.inMsgs);
  e.one("nats_server_messages_sent_total", "counter", "Messages delivered by the server to subscribers.", server.outMsgs);
  e.one("nats_server_bytes_received_total", "counter", "Payload bytes published to the server.", server.inBytes);
  e.one("nats_server_bytes_sent_total", "counter", "Payload bytes delivered to subscribers.", server.outBytes);
  e.one("nats_server_slow_consumers_total", "counter", "Connections closed as slow consumers.", server.slowConsumers);
  e.one("nats_server_closed_connections_kept", "gauge", "Closed connections kept for /connz?state=closed.", server.closedClients.size);
  e.family(
    "nats_server_http_requests_total",
    "counter",
    "Monitoring HTTP requests by endpoint.",
    Object.keys(requestStats)
      .sort()
      .map((path) => [{ path }, requestStats[path]] as [Record<string, string>, number]),
  );

  const accounts = server.accountList();
  const per = (f: (a: (typeof accounts)[number]) => number): [Record<string, string>, number][] => accounts.map((a) => [{ account: a.name }, f(a)]);
  e.family("nats_account_connections", "gauge", "Client connections open per account.", per((a) => a.connections));
  e.family("nats_account_connections_total", "counter", "Client connections made per account.", per((a) => a.totalConnections));
  e.family("nats_account_subscriptions", "gauge", "Subscriptions per account.", per((a) => a.sublist.count));
  e.family("nats_account_messages_received_total", "counter", "Messages published by the account's clients.", per((a) => a.inMsgs));
  e.family("nats_account_messages_sent_total", "counter", "Messages delivered to the account's subscriptions.", per((a) => a.outMsgs));
  e.family("nats_account_bytes_received_total", "counter", "Payload bytes published by the account's clients.", per((a) => a.inBytes));
  e.family("nats_account_bytes_sent_total", "counter", "Payload bytes delivered to the account's subscriptions.", per((a) => a.outBytes));
  e.family("nats_account_slow_consumers_total", "counter", "Slow consumers closed per account.", per((a) => a.slowConsumers));

  const js = server.jetstreamMonitor;
  e.one("nats_jetstream_enabled", "gauge", "1 when JetStream runs on this server.", js === null ? 0 : 1);
  if (js !== null) {
    const api = js.api();
    e.one("nats_jetstream_api_requests_total", "counter", "JetStream API requests served.", api.total);
    e.one("nats_jetstream_api_errors_total", "counter", "JetStream API requests answered with an error.", api.errors);
    const accs = js.accounts();
    const byAcc = (f: (u: (typeof accs)[number]) => number): [Record<string, string>, number][] => accs.map((u) => [{ account: u.account }, f(u)]);
    e.family("nats_jetstream_account_memory_bytes", "gauge", "Memory storage used per account.", byAcc((u) => u.memory));
    e.family("nats_jetstream_account_storage_bytes", "gauge", "File storage used per account.", byAcc((u) => u.storage));
    e.family("nats_jetstream_account_streams", "gauge", "Streams per account.", byAcc((u) => u.streams));
    e.family("nats_jetstream_account_consumers", "gauge", "Consumers per account.", byAcc((u) => u.consumers));
    const streams = js.streams();
    const byStream = (f: (s: (typeof streams)[number]) => number): [Record<string, string>, number][] =>
      streams.map((s) => [{ account: s.account, stream: s.stream, storage: s.storage }, f(s)]);
    e.family("nats_jetstream_stream_messages", "gauge", "Messages stored per stream.", byStream((s) => s.messages));
    e.family("nats_jetstream_stream_bytes", "gauge", "Bytes stored per stream.", byStream((s) => s.bytes));
    e.family("nats_jetstream_stream_first_sequence", "gauge", "First sequence per stream.", byStream((s) => s.firstSeq));
    e.family("nats_jetstream_stream_last_sequence", "gauge", "Last sequence per stream.", byStream((s) => s.lastSeq));
    e.family("nats_jetstream_stream_consumers", "gauge", "Consumers per stream.", byStream((s) => s.consumers));
    const lat = js.storeLatency?.() ?? null;
    if (lat !== null) {
      e.one("nats_jetstream_store_writes_total", "counter", "Store writes measured.", lat.writes);
      e.one("nats_jetstream_store_write_seconds_total", "counter", "Time spent in store writes (divide by writes for the mean latency).", lat.writeSecondsTotal);
    }
  }
  return e.text();
}
