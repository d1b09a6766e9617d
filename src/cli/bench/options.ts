// What one benchmark run needs to know, after the command line has been parsed. Pure data:
// `args.ts` builds it, `main.ts` hands each run to its scenario.

/** Every scenario the tool can run; the names follow `nats bench`'s subcommands. */
export const scenarioKinds = [
  "pub", "sub", "pubsub",
  "service-serve", "service-request", "service-both",
  "js-pub", "js-consume", "js-fetch", "js-ordered", "js-get",
  "kv-put", "kv-get",
] as const;
export type ScenarioKind = (typeof scenarioKinds)[number];

/** `js pub` flavours: one ack at a time, a sliding window of acks, or lock-step batches. */
export type JsPubMode = "sync" | "async" | "batch";
export type StorageKind = "file" | "memory";
export type AckPolicyName = "explicit" | "none" | "all";
/** `raw` = our lean byte-level client (core pub/sub only), `official` = @nats-io/transport-node. */
export type ClientKind = "raw" | "official";

export interface BenchRun {
  kind: ScenarioKind;
  subject: string;
  server: string;
  /** Main clients of the scenario: publishers, subscribers, requesters, responders, … */
  clients: number;
  /** pubsub only: how many subscribers run next to the `clients` publishers. */
  subscribers: number;
  /** service-both only: how many responders answer the `clients` requesters. */
  responders: number;
  /** Total operations, shared out between the clients (natscli semantics). */
  msgs: number;
  sizeBytes: number;
  multisubject: boolean;
  multisubjectMax: number;
  /** Queue group for subscribers / responders; "" = none. */
  queue: string;
  client: ClientKind;
  /** Aggregate target rate in msgs/s for open-loop runs; 0 = as fast as possible (closed loop). */
  ratePerSec: number;
  /** A waiting side (subscriber, consumer, responder) gives up after this long without progress. */
  idleTimeoutMs: number;
  // JetStream and KV
  jsPubMode: JsPubMode;
  stream: string;
  storage: StorageKind;
  replicas: number;
  maxBytes: number;
  purge: boolean;
  consumer: string;
  batch: number;
  acks: AckPolicyName;
  bucket: string;
  history: number;
  /** kv put/get: spread keys over this many names at random; 0 = one key per message. */
  randomize: number;
}

export interface BenchCommand {
  runs: BenchRun[];
  csvFile: string;
  json: boolean;
  progress: boolean;
  /** Notes about flags accepted but ignored (legacy spellings), printed before the run. */
  warnings: string[];
}

/** Defaults, as `nats bench` has them unless noted. */
export const benchDefaults = {
  server: "nats://127.0.0.1:4222",
  clients: 1,
  msgs: 100_000,
  sizeBytes: 128,
  multisubjectMax: 100_000,
  /** Long enough for a slow publisher started by hand in another terminal. */
  idleTimeoutMs: 30_000,
  stream: "benchstream",
  consumer: "nats-bench",
  bucket: "benchbucket",
  /** natscli's default for async publish, fetch and consume batches. */
  batch: 500,
  /** natscli's `--maxbytes` default: 1 GiB. */
  maxBytes: 1024 ** 3,
  serviceQueue: "bench-service",
} as const;

export function defaultRun(kind: ScenarioKind, subject: string): BenchRun {
  return {
    kind,
    subject,
    server: benchDefaults.server,
    clients: benchDefaults.clients,
    subscribers: 1,
    responders: 1,
    msgs: benchDefaults.msgs,
    sizeBytes: benchDefaults.sizeBytes,
    multisubject: false,
    multisubjectMax: benchDefaults.multisubjectMax,
    queue: "",
    client: "raw",
    ratePerSec: 0,
    idleTimeoutMs: benchDefaults.idleTimeoutMs,
    jsPubMode: "async",
    stream: benchDefaults.stream,
    storage: "file",
    replicas: 1,
    maxBytes: benchDefaults.maxBytes,
    purge: false,
    consumer: benchDefaults.consumer,
    batch: benchDefaults.batch,
    acks: "explicit",
    bucket: benchDefaults.bucket,
    history: 1,
    randomize: 0,
  };
}

/** Split `total` operations over `clients` as natscli does: the remainder goes to the first ones. */
export function shareOut(total: number, clients: number): number[] {
  const base = Math.floor(total / clients);
  const extra = total % clients;
  return Array.from({ length: clients }, (_, index) => base + (index < extra ? 1 : 0));
}
