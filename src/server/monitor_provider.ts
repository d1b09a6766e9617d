// What monitoring (src/monitor/) asks of JetStream, so the core never imports either: JetStream
// sets `server.jetstreamMonitor` when it starts; while it is absent the endpoints report the
// reference's "disabled" shapes. JSON objects are spelled as on the wire (the reference's
// /jsz and /varz field names).

/** `/jsz` query parameters (reference JSzOptions). */
export interface JszOptions {
  /** `acc=<name>`: only this account. */
  account: string;
  accounts: boolean;
  streams: boolean;
  consumers: boolean;
  config: boolean;
  leaderOnly: boolean;
  offset: number;
  limit: number;
}

/** One stream's usage, for /metrics and the status page. */
export interface StreamUsage {
  account: string;
  stream: string;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: number;
  /** "memory" | "file" */
  storage: string;
}

/** One account's JetStream usage, for /metrics. */
export interface AccountJetStreamUsage {
  account: string;
  memory: number;
  storage: number;
  streams: number;
  consumers: number;
}

export interface JetStreamMonitor {
  /**
   * The /jsz body without `server_id` and `now`: `config`, `memory`, `storage`,
   * `reserved_memory`, `reserved_storage`, `accounts`, `ha_assets`, `api {total, errors}`,
   * `streams`, `consumers`, `messages`, `bytes`, and `account_details` when asked for.
   */
  jsz(opts: JszOptions): Record<string, unknown>;
  /** The `jetstream` section of /varz: `{ config, stats, … }`. */
  varz(): Record<string, unknown>;
  /** null when healthy, else the reason (/healthz `error`). */
  unhealthy(jsServerOnly: boolean): string | null;
  /** Per-account usage (/metrics). */
  accounts(): AccountJetStreamUsage[];
  /** Per-stream usage (/metrics, status page). */
  streams(): StreamUsage[];
  /** API requests served and errors (/metrics). */
  api(): { total: number; errors: number };
  /** Store latency samples, optional (/metrics `nats_jetstream_store_*`). */
  storeLatency?(): { writes: number; writeSecondsTotal: number } | null;
}
