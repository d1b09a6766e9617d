// Command line of `nats-bun bench`: the new-style subcommands of `nats bench` (natscli ≥ 0.2)
// and the legacy single-command spelling (`bench <subject> --pub N --sub M --js …`, natscli
// ≤ 0.1.x, still in many blog posts), mapped onto the same runs. Pure: argv in, data out.
import { parseCount, parseDurationMs, parseSize } from "./units.ts";
import {
  benchDefaults, defaultRun,
  type AckPolicyName, type BenchCommand, type BenchRun, type JsPubMode, type ScenarioKind,
} from "./options.ts";

export class BenchUsageError extends Error {
  override name = "BenchUsageError";
}

type FlagKind = "value" | "bool";
interface FlagSpec {
  kind: FlagKind;
  /** Only accepted in the legacy spelling. */
  legacy?: boolean;
}

/** Every flag we accept, long names only; short aliases are in `shortFlags`. */
const flagSpecs: Record<string, FlagSpec> = {
  server: { kind: "value" },
  clients: { kind: "value" },
  msgs: { kind: "value" },
  size: { kind: "value" },
  multisubject: { kind: "bool" },
  multisubjectmax: { kind: "value" },
  queue: { kind: "value" },
  client: { kind: "value" },
  rate: { kind: "value" },
  throughput: { kind: "value" },
  timeout: { kind: "value" },
  csv: { kind: "value" },
  json: { kind: "bool" },
  progress: { kind: "bool" },
  "no-progress": { kind: "bool" },
  pubs: { kind: "value" },
  subs: { kind: "value" },
  responders: { kind: "value" },
  stream: { kind: "value" },
  storage: { kind: "value" },
  replicas: { kind: "value" },
  maxbytes: { kind: "value" },
  purge: { kind: "bool" },
  consumer: { kind: "value" },
  batch: { kind: "value" },
  acks: { kind: "value" },
  bucket: { kind: "value" },
  history: { kind: "value" },
  randomize: { kind: "value" },
  create: { kind: "bool" },
  help: { kind: "bool" },
  // Legacy (natscli ≤ 0.1.x) spellings.
  pub: { kind: "value", legacy: true },
  sub: { kind: "value", legacy: true },
  js: { kind: "bool", legacy: true },
  pull: { kind: "bool", legacy: true },
  push: { kind: "bool", legacy: true },
  request: { kind: "bool", legacy: true },
  reply: { kind: "bool", legacy: true },
  kv: { kind: "bool", legacy: true },
  syncpub: { kind: "bool", legacy: true },
  pubbatch: { kind: "value", legacy: true },
  pullbatch: { kind: "value", legacy: true },
  consumerbatch: { kind: "value", legacy: true },
  jstimeout: { kind: "value", legacy: true },
  dedup: { kind: "bool", legacy: true },
  pubsleep: { kind: "value", legacy: true },
  subsleep: { kind: "value", legacy: true },
  retries: { kind: "value", legacy: true },
};

const shortFlags: Record<string, string> = { s: "server", h: "help" };

/** Legacy flags we accept so old command lines still run, but that change nothing. */
const ignoredLegacyFlags = new Set(["dedup", "pubsleep", "subsleep", "retries", "create"]);

interface ParsedFlags {
  positionals: string[];
  values: Map<string, string>;
  bools: Map<string, boolean>;
}

function tokenize(argv: string[]): ParsedFlags {
  const parsed: ParsedFlags = { positionals: [], values: new Map(), bools: new Map() };
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index];
    if (!token.startsWith("-") || token === "-") {
      parsed.positionals.push(token);
      continue;
    }
    if (token === "--") {
      parsed.positionals.push(...argv.slice(index + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (token.startsWith("--")) {
      const equals = token.indexOf("=");
      name = equals < 0 ? token.slice(2) : token.slice(2, equals);
      inline = equals < 0 ? undefined : token.slice(equals + 1);
    } else {
      const short = shortFlags[token.slice(1)];
      if (short === undefined) throw new BenchUsageError(`unknown flag ${token}`);
      name = short;
    }
    const spec = flagSpecs[name];
    if (spec === undefined) throw new BenchUsageError(`unknown flag --${name}`);
    if (spec.kind === "bool") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new BenchUsageError(`--${name} takes no value (or =true / =false)`);
      }
      parsed.bools.set(name, inline !== "false");
      continue;
    }
    let value = inline;
    if (value === undefined) {
      index += 1;
      if (index >= argv.length) throw new BenchUsageError(`--${name} needs a value`);
      value = argv[index];
    }
    parsed.values.set(name, value);
  }
  return parsed;
}

function wrapped<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof BenchUsageError) throw error;
    throw new BenchUsageError((error as Error).message);
  }
}

function countFlag(flags: ParsedFlags, name: string, minimum = 1): number | undefined {
  const text = flags.values.get(name);
  return text === undefined ? undefined : wrapped(() => parseCount(text, `--${name}`, minimum));
}

function oneOf<T extends string>(flags: ParsedFlags, name: string, allowed: readonly T[]): T | undefined {
  const text = flags.values.get(name);
  if (text === undefined) return undefined;
  const lowered = text.toLowerCase();
  if (!(allowed as readonly string[]).includes(lowered)) {
    throw new BenchUsageError(`--${name}: expected one of ${allowed.join(", ")}, got "${text}"`);
  }
  return lowered as T;
}

/** Applies the flags every spelling shares to a run. */
function applyCommonFlags(run: BenchRun, flags: ParsedFlags): void {
  run.server = flags.values.get("server") ?? process.env.NATS_URL ?? run.server;
  if (!/^(nats|tls|ws|wss):\/\/|^[^:/]+:\d+$|^[^:/]+$/.test(run.server)) {
    throw new BenchUsageError(`--server: expected a URL like nats://127.0.0.1:4222, got "${run.server}"`);
  }
  run.clients = countFlag(flags, "clients") ?? run.clients;
  run.msgs = countFlag(flags, "msgs") ?? run.msgs;
  const size = flags.values.get("size");
  if (size !== undefined) run.sizeBytes = wrapped(() => parseSize(size));
  run.multisubject = flags.bools.get("multisubject") ?? run.multisubject;
  run.multisubjectMax = countFlag(flags, "multisubjectmax") ?? run.multisubjectMax;
  run.queue = flags.values.get("queue") ?? run.queue;
  run.client = oneOf(flags, "client", ["raw", "official"] as const) ?? run.client;
  run.ratePerSec = countFlag(flags, "rate") ?? countFlag(flags, "throughput") ?? run.ratePerSec;
  const timeout = flags.values.get("timeout") ?? flags.values.get("jstimeout");
  if (timeout !== undefined) run.idleTimeoutMs = wrapped(() => parseDurationMs(timeout));
  if (run.idleTimeoutMs <= 0) throw new BenchUsageError("--timeout must be positive");
  run.subscribers = countFlag(flags, "subs") ?? run.subscribers;
  run.responders = countFlag(flags, "responders") ?? run.responders;
  run.stream = flags.values.get("stream") ?? run.stream;
  run.storage = oneOf(flags, "storage", ["file", "memory"] as const) ?? run.storage;
  run.replicas = countFlag(flags, "replicas") ?? run.replicas;
  const maxBytes = flags.values.get("maxbytes");
  if (maxBytes !== undefined) run.maxBytes = wrapped(() => parseSize(maxBytes));
  run.purge = flags.bools.get("purge") ?? run.purge;
  run.consumer = flags.values.get("consumer") ?? run.consumer;
  run.batch = countFlag(flags, "batch") ?? run.batch;
  run.acks = oneOf<AckPolicyName>(flags, "acks", ["explicit", "none", "all"]) ?? run.acks;
  run.bucket = flags.values.get("bucket") ?? run.bucket;
  run.history = countFlag(flags, "history") ?? run.history;
  run.randomize = countFlag(flags, "randomize", 0) ?? run.randomize;
  if (run.history > 64) throw new BenchUsageError("--history: at most 64 (the KV limit)");
}

function validate(run: BenchRun): void {
  const needsSubject = !(run.kind.startsWith("kv") || ["js-consume", "js-fetch", "js-ordered", "js-get"].includes(run.kind));
  if (run.subject === "" && needsSubject) throw new BenchUsageError(`${run.kind.replace("-", " ")}: a subject is required`);
  if (/[\s]/.test(run.subject)) throw new BenchUsageError(`invalid subject "${run.subject}"`);
  if (run.kind === "pub" || run.kind === "pubsub" || run.kind === "js-pub") {
    if (/[*>]/.test(run.subject)) throw new BenchUsageError(`cannot publish to the wildcard subject "${run.subject}"`);
  }
  if (run.client === "raw" && (run.kind.startsWith("js") || run.kind.startsWith("kv")) && run.kind !== "js-pub") {
    // The raw client speaks core pub/sub, request/reply and JetStream publishing; consumers,
    // gets and KV need the official one.
    throw new BenchUsageError(`--client raw: ${run.kind.replace("-", " ")} runs on the official client only (raw: pub, sub, pubsub, service, js pub)`);
  }
  if (run.ratePerSec > 0 && !["pub", "pubsub", "service-request", "service-both"].includes(run.kind)) {
    throw new BenchUsageError("--rate applies to pub, pubsub and service request runs");
  }
  if (run.multisubject && !["pub", "sub", "pubsub", "js-pub"].includes(run.kind)) {
    // Subscribers listen on `<subject>.>` to match multisubject publishers.
    throw new BenchUsageError("--multisubject applies to core and JetStream publishers and core subscribers");
  }
}

const jsPubModes: readonly JsPubMode[] = ["sync", "async", "batch"];

/** New-style spelling: the subcommand words come first, then the subject. */
function parseSubcommand(flags: ParsedFlags): BenchRun {
  const words = [...flags.positionals];
  const first = words.shift();
  let kind: ScenarioKind;
  let jsPubMode: JsPubMode | undefined;
  switch (first) {
    case "pub":
    case "sub":
    case "pubsub":
      kind = first;
      break;
    case "service": {
      const role = words.shift();
      if (role !== "serve" && role !== "request" && role !== "both") {
        throw new BenchUsageError("service: expected serve, request or both");
      }
      kind = `service-${role}`;
      break;
    }
    case "js": {
      const what = words.shift();
      if (what === "pub") {
        const mode = words[0];
        if (mode !== undefined && (jsPubModes as readonly string[]).includes(mode)) {
          jsPubMode = mode as JsPubMode;
          words.shift();
        } else if (mode === "atomic" || mode === "fast") {
          throw new BenchUsageError(`js pub ${mode}: needs server 2.12+ batch publishing, not supported by this tool`);
        } else {
          throw new BenchUsageError("js pub: expected sync, async or batch");
        }
        kind = "js-pub";
      } else if (what === "consume" || what === "fetch" || what === "ordered" || what === "get") {
        kind = `js-${what}`;
        // natscli spells direct gets `js get sync`; the only mode we have.
        if (what === "get" && words[0] === "sync") words.shift();
      } else {
        throw new BenchUsageError("js: expected pub, consume, fetch, ordered or get");
      }
      break;
    }
    case "kv": {
      const what = words.shift();
      if (what !== "put" && what !== "get") throw new BenchUsageError("kv: expected put or get");
      kind = `kv-${what}`;
      break;
    }
    default:
      throw new BenchUsageError(`unknown scenario "${first}"`);
  }
  const subject = words.shift() ?? "";
  if (words.length > 0) throw new BenchUsageError(`unexpected argument "${words[0]}"`);
  const run = defaultRun(kind, subject);
  if (jsPubMode !== undefined) run.jsPubMode = jsPubMode;
  for (const [name] of [...flags.values, ...flags.bools]) {
    if (flagSpecs[name].legacy === true && name !== "jstimeout") {
      throw new BenchUsageError(`--${name} belongs to the legacy spelling "bench <subject> --${name} …"`);
    }
  }
  if (kind === "pubsub") run.clients = countFlag(flags, "pubs") ?? run.clients;
  if (kind.startsWith("service")) {
    run.queue = benchDefaults.serviceQueue;
    // As natscli: request/reply goes through the official client unless --client raw.
    run.client = "official";
  }
  // Core scenarios use the raw client by default; service, JetStream and KV the official
  // client (JetStream publishing takes --client raw).
  if (kind.startsWith("js") || kind.startsWith("kv")) run.client = "official";
  applyCommonFlags(run, flags);
  validate(run);
  return run;
}

/**
 * Legacy spelling (natscli ≤ 0.1.x): `bench <subject> --pub N --sub M [--js [--pull|--push]]
 * [--request|--reply] [--kv] …`. Where the old tool ran a JetStream or KV publisher and reader
 * at once, we run them one after the other (writer first), so the reader finds the messages.
 */
function parseLegacy(flags: ParsedFlags, warnings: string[]): BenchRun[] {
  if (flags.positionals.length > 1) throw new BenchUsageError(`unexpected argument "${flags.positionals[1]}"`);
  const subject = flags.positionals[0];
  const pubs = countFlag(flags, "pub", 0) ?? 0;
  const subs = countFlag(flags, "sub", 0) ?? 0;
  const js = flags.bools.get("js") ?? false;
  const kv = flags.bools.get("kv") ?? false;
  const request = flags.bools.get("request") ?? false;
  const reply = flags.bools.get("reply") ?? false;
  for (const name of ignoredLegacyFlags) {
    if (flags.values.has(name) || flags.bools.has(name)) warnings.push(`--${name} is accepted for compatibility and ignored`);
  }
  if (pubs === 0 && subs === 0 && !request && !reply) throw new BenchUsageError("legacy bench: give --pub N and/or --sub N");

  const make = (kind: ScenarioKind, clients: number): BenchRun => {
    const run = defaultRun(kind, subject);
    applyCommonFlags(run, flags);
    // JetStream readers and KV have the official client only; a JetStream publisher takes --client raw.
    if ((kind.startsWith("js") || kind.startsWith("kv")) && (kind !== "js-pub" || !flags.values.has("client"))) run.client = "official";
    run.clients = clients;
    return run;
  };
  const runs: BenchRun[] = [];
  if (request || reply) {
    if (request && reply) {
      const run = make("service-both", Math.max(pubs, 1));
      run.responders = Math.max(subs, 1);
      runs.push(run);
    } else {
      runs.push(make(request ? "service-request" : "service-serve", Math.max(request ? pubs : subs, 1)));
    }
    for (const run of runs) {
      run.queue = benchDefaults.serviceQueue;
      if (!flags.values.has("client")) run.client = "official";
    }
  } else if (kv) {
    if (pubs > 0) runs.push(make("kv-put", pubs));
    if (subs > 0) runs.push(make("kv-get", subs));
  } else if (js) {
    if (pubs > 0) {
      const run = make("js-pub", pubs);
      const pubBatch = countFlag(flags, "pubbatch");
      run.jsPubMode = (flags.bools.get("syncpub") ?? false) ? "sync" : "batch";
      // The old tool's async publisher waited for each batch of --pubbatch acks (default 100).
      run.batch = pubBatch ?? countFlag(flags, "batch") ?? 100;
      runs.push(run);
    }
    if (subs > 0) {
      const pull = flags.bools.get("pull") ?? false;
      const push = flags.bools.get("push") ?? false;
      const run = make(pull ? "js-fetch" : push ? "js-consume" : "js-ordered", subs);
      run.batch = countFlag(flags, "pullbatch") ?? countFlag(flags, "consumerbatch") ?? run.batch;
      runs.push(run);
    }
  } else if (pubs > 0 && subs > 0) {
    const run = make("pubsub", pubs);
    run.subscribers = subs;
    runs.push(run);
  } else {
    runs.push(make(pubs > 0 ? "pub" : "sub", pubs > 0 ? pubs : subs));
  }
  for (const run of runs) validate(run);
  return runs;
}

const newStyleWords = new Set(["pub", "sub", "pubsub", "service", "js", "kv"]);

export const benchUsage = `Usage: nats-bun bench <scenario> [subject] [flags]

Scenarios:
  pub <subject>                    core publishers
  sub <subject>                    core subscribers (run next to a publisher)
  pubsub <subject>                 publishers and subscribers in one process (--pubs N --subs M)
  service serve|request <subject>  request/reply: responders (queue group) or requesters
  service both <subject>           responders and requesters in one process (--responders N)
  js pub sync|async|batch <subj>   JetStream publish (sync acks, window of --batch acks, lock-step batches)
  js consume|fetch|ordered         JetStream consumers (durable consume/fetch, ordered ephemeral)
  js get                           JetStream direct gets
  kv put|get                       KV bucket puts / gets
Legacy: nats-bun bench <subject> --pub N --sub M [--js [--pull|--push]] [--request|--reply] [--kv]

Flags:
  -s, --server URL      server URL (default ${benchDefaults.server}, or $NATS_URL)
  --clients N           clients (default 1)          --msgs N     total messages (default 100,000)
  --size SIZE           payload: 16, 16B, 1KB, 1MiB (1 KB = 1024 B, as nats bench; default 128B)
  --multisubject        publish to <subject>.<n>     --multisubjectmax N (default 100,000)
  --queue NAME          queue group for subscribers
  --client raw|official core pub/sub (default raw), service and js pub (default official)
  --rate N              open loop: N msgs/s in total, latency measured from the intended send time
  --timeout DUR         waiting sides give up after DUR without progress (default 30s)
  --stream NAME --storage file|memory --replicas N --maxbytes SIZE --purge
  --consumer NAME --batch N --acks explicit|none|all --bucket NAME --history N --randomize N
  --csv FILE            natscli CSV columns          --json   machine-readable summary on stdout
  --no-progress         no progress bar (also off when stderr is not a TTY)
`;

/** Parses `nats-bun bench` arguments; `null` means help was asked for. */
export function parseBenchArgs(argv: string[]): BenchCommand | null {
  const flags = tokenize(argv);
  if (flags.bools.get("help") === true || flags.positionals[0] === "help") return null;
  if (flags.positionals.length === 0) throw new BenchUsageError("a scenario is required (pub, sub, pubsub, service, js, kv)");
  const warnings: string[] = [];
  const runs = newStyleWords.has(flags.positionals[0]) ? [parseSubcommand(flags)] : parseLegacy(flags, warnings);
  const noProgress = flags.bools.get("no-progress") === true || flags.bools.get("progress") === false;
  return {
    runs,
    csvFile: flags.values.get("csv") ?? "",
    json: flags.bools.get("json") ?? false,
    progress: !noProgress,
    warnings,
  };
}
