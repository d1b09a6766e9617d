// Side-by-side comparison of our server with the reference nats-server, on one machine in one
// run: `npm run bench:compare` (builds dist/nats-bun-linux-x64 first), or
//   bun bench/compare.ts [--rounds N] [--quick] [--ours-cmd "CMD"] [--ref-cmd "CMD"] [--no-pin]
//
// Per round, each server (reference first, then ours, alternating which goes first every
// round) is started fresh on a free port with `-a 127.0.0.1 -p <port>`, pinned to CPU 0 while
// the load (`nats-bun bench`, from source) is pinned to CPU 1 — a per-core comparison. Each
// fresh server is measured for: startup time to first PONG, idle RSS, memory per idle
// connection, then the throughput and latency scenarios. The table shows medians over the
// rounds, the ratio ours/reference and the spread (min–max) of the per-round ratios; the
// JSON with every value and a description of the machine goes to bench/results/.
//
// Every child process is tracked and killed on exit, on error and on Ctrl-C.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Socket, Subprocess } from "bun";

const projectRoot = resolve(import.meta.dir, "..");
const oursDefault = join(projectRoot, "dist/nats-bun-linux-x64");
const benchEntry = join(projectRoot, "src/main.ts");

// ───────────────────────────── command line ─────────────────────────────

interface CompareOptions {
  rounds: number;
  quick: boolean;
  oursCmd: string[];
  refCmd: string[];
  pin: boolean;
  outDir: string;
  /** Print the table of a saved result file and exit (no servers started). */
  show: string | null;
  /** Which scenarios: core (default), js (JetStream, servers started with -js), or all. */
  set: "core" | "js" | "all";
}

function parseOptions(argv: string[]): CompareOptions {
  const options: CompareOptions = {
    rounds: 0, quick: false, oursCmd: [oursDefault], refCmd: ["nats-server"], pin: true, outDir: join(projectRoot, "bench/results"), show: null, set: "core",
  };
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = (): string => {
      const next = argv[index + 1];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      index += 1;
      return next;
    };
    if (flag === "--rounds") options.rounds = Number(value());
    else if (flag === "--quick") options.quick = true;
    else if (flag === "--ours-cmd") options.oursCmd = value().split(/\s+/).filter((word) => word !== "");
    else if (flag === "--ref-cmd") options.refCmd = value().split(/\s+/).filter((word) => word !== "");
    else if (flag === "--no-pin") options.pin = false;
    else if (flag === "--out") options.outDir = resolve(value());
    else if (flag === "--show") options.show = resolve(value());
    else if (flag === "--set") {
      const set = value();
      if (set !== "core" && set !== "js" && set !== "all") throw new Error("--set is core, js or all");
      options.set = set;
    }
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: bun bench/compare.ts [--rounds N (default 5, --quick 2)] [--quick] [--ours-cmd CMD] [--ref-cmd CMD] [--no-pin] [--out DIR] [--set core|js|all] | --show RESULT.json");
      process.exit(0);
    } else throw new Error(`unknown flag ${flag}`);
  }
  if (options.rounds === 0) options.rounds = options.quick ? 2 : 5;
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error("--rounds must be a positive integer");
  return options;
}

// ───────────────────────────── child processes ─────────────────────────────

const children = new Set<Subprocess>();

function track<T extends Subprocess>(child: T): T {
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** `taskset -c <cpu>` when pinning is possible (taskset installed, at least 2 CPUs). */
let pinningAvailable = false;
function pinned(cpu: number, command: string[]): string[] {
  return pinningAvailable ? ["taskset", "-c", String(cpu), ...command] : command;
}

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

// ───────────────────────────── raw probes ─────────────────────────────

const connectLine = `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, name: "compare-probe", lang: "compare", version: "0" })}\r\nPING\r\n`;

/**
 * One client handshake: connect, wait for INFO, send CONNECT+PING, resolve on PONG with the
 * open socket (the caller closes it). Rejects when the connection fails or `timeoutMs` passes.
 */
function handshake(port: number, timeoutMs: number): Promise<Socket<undefined>> {
  return new Promise((resolveSocket, reject) => {
    let seen = "";
    let sentConnect = false;
    let done = false;
    const timer = setTimeout(() => finish(new Error("handshake timed out")), timeoutMs);
    const finish = (error: Error | null, socket?: Socket<undefined>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error !== null) {
        socket?.end();
        reject(error);
      } else resolveSocket(socket as Socket<undefined>);
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(socket, chunk) {
          seen += new TextDecoder().decode(chunk);
          if (!sentConnect && seen.includes("\r\n") && seen.startsWith("INFO ")) {
            sentConnect = true;
            socket.write(connectLine);
          }
          if (seen.includes("PONG\r\n")) finish(null, socket);
          else if (seen.includes("-ERR")) finish(new Error(seen.trim()), socket);
        },
        close: () => finish(new Error("closed before PONG")),
        error: (_socket, error) => finish(error),
        connectError: (_socket, error) => finish(error),
      },
    }).catch((error: Error) => finish(error));
  });
}

/** Spawn → first PONG: retry the connection in a tight loop until the server answers. */
async function timeToFirstPong(port: number, startedAt: number, deadlineMs: number, child: Subprocess): Promise<number> {
  const deadline = startedAt + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before answering`);
    try {
      const socket = await handshake(port, 1000);
      const elapsed = performance.now() - startedAt;
      socket.end();
      return elapsed;
    } catch {
      if (performance.now() > deadline) throw new Error(`no PONG within ${deadlineMs} ms`);
      // Connection refused: the listener is not up yet. Retry on the next event-loop turn
      // (bounded by the deadline). This process is pinned to the load CPU, so the tight
      // loop does not take time from the starting server; a timer here (Bun's fire ~1 ms
      // late) would add its lateness to every measurement.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** Opens `count` idle client connections (CONNECT + PING/PONG each), a bounded number at a time. */
async function openIdleConnections(port: number, count: number): Promise<Array<Socket<undefined>>> {
  const sockets: Array<Socket<undefined>> = [];
  const concurrency = 200;
  for (let start = 0; start < count; start += concurrency) {
    const batch = Math.min(concurrency, count - start);
    sockets.push(...await Promise.all(Array.from({ length: batch }, () => handshake(port, 10_000))));
  }
  return sockets;
}

// ───────────────────────────── servers ─────────────────────────────

interface RunningServer {
  child: Subprocess;
  port: number;
  url: string;
  startupMs: number;
  stop(): Promise<void>;
}

async function startServer(command: string[], logDir: string, label: string): Promise<RunningServer> {
  const port = freePort();
  const logPath = join(logDir, `${label}-${port}.log`);
  const startedAt = performance.now();
  const child = track(Bun.spawn(pinned(0, [...command, "-a", "127.0.0.1", "-p", String(port)]), {
    stdin: "ignore", stdout: Bun.file(logPath), stderr: Bun.file(`${logPath}.err`),
  }));
  const stop = async (): Promise<void> => {
    child.kill("SIGKILL");
    await child.exited;
  };
  try {
    const startupMs = await timeToFirstPong(port, startedAt, 15_000, child);
    return { child, port, url: `nats://127.0.0.1:${port}`, startupMs, stop };
  } catch (error) {
    await stop();
    const log = existsSync(`${logPath}.err`) ? readFileSync(`${logPath}.err`, "utf8").slice(-2000) : "";
    throw new Error(`${label} (${command.join(" ")}) did not start: ${(error as Error).message}\n${log}`);
  }
}

// ───────────────────────────── load scenarios ─────────────────────────────

/** Runs `nats-bun bench <args> --json` pinned to CPU 1 and returns its JSON summary. */
async function runLoad(url: string, args: string[], timeoutMs: number): Promise<any> {
  const child = track(Bun.spawn(pinned(1, [process.execPath, benchEntry, "bench", ...args, "-s", url, "--json", "--no-progress", "--timeout", "10s"]), {
    stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: projectRoot,
  }));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench ${args.join(" ")} exited ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return JSON.parse(stdout);
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
const clockTicksPerSec = Number(commandOutput(["getconf", "CLK_TCK"])) || 100;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function processCpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th
  // field of the line, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSec;
}

function group(json: any, role: string): any {
  const found = json.runs[0].groups.find((candidate: { role: string }) => candidate.role === role);
  if (found === undefined) throw new Error(`no ${role} group in the bench output`);
  return found;
}

interface Metric {
  id: string;
  label: string;
  unit: string;
  /** For reading the ratio: is a larger value better? */
  higherIsBetter: boolean;
}

interface LoadScenario {
  metrics: Metric[];
  run(url: string, scale: number): Promise<ScenarioOutcome>;
}

interface ScenarioOutcome {
  /** One value per metric, in order. */
  values: number[];
  /** Throughput rows: the interval the rate was measured over, and the load's CPU during its run. */
  measuredSec?: number;
  loadCpuSec?: number;
  /** Messages (operations) the rate counted. */
  msgs?: number;
}

/** A throughput row's outcome from the bench JSON and its measured group. */
function rateOutcome(json: any, measured: any): ScenarioOutcome {
  return { values: [measured.msgsPerSec], measuredSec: measured.durationSec, loadCpuSec: json.runs[0].cpuSec ?? undefined, msgs: measured.msgs };
}

const throughput = (id: string, label: string, args: (scale: number) => string[], role: "publisher" | "subscriber"): LoadScenario => ({
  metrics: [{ id, label, unit: "msgs/s", higherIsBetter: true }],
  run: async (url, scale) => {
    const json = await runLoad(url, args(scale), 180_000);
    return rateOutcome(json, group(json, role));
  },
});

const msgsCount = (full: number, scale: number): number => Math.max(1000, Math.round(full * scale));
const msgsFor = (full: number, scale: number): string => String(msgsCount(full, scale));

/** Fixed rate for the end-to-end latency row: well below either server's limit, so it measures latency, not saturation. */
const e2eRatePerSec = 20_000;

const loadScenarios: LoadScenario[] = [
  // Publish-only runs are the shortest per message: enough of them that a run lasts ~1 s.
  throughput("pub16", "pub 16 B", (s) => ["pub", "cmp.pub", "--size", "16", "--msgs", msgsFor(12_000_000, s)], "publisher"),
  throughput("pub128", "pub 128 B", (s) => ["pub", "cmp.pub", "--size", "128", "--msgs", msgsFor(6_000_000, s)], "publisher"),
  throughput("pubsub16", "pub+sub 16 B", (s) => ["pubsub", "cmp.ps", "--size", "16", "--msgs", msgsFor(2_000_000, s)], "subscriber"),
  throughput("pubsub128", "pub+sub 128 B", (s) => ["pubsub", "cmp.ps", "--size", "128", "--msgs", msgsFor(1_500_000, s)], "subscriber"),
  throughput("pubsub1k", "pub+sub 1 KB", (s) => ["pubsub", "cmp.ps", "--size", "1KB", "--msgs", msgsFor(500_000, s)], "subscriber"),
  throughput("pubsub16k", "pub+sub 16 KB", (s) => ["pubsub", "cmp.ps", "--size", "16KB", "--msgs", msgsFor(100_000, s)], "subscriber"),
  throughput("fanout8", "fan-out to 8 subs (deliveries)", (s) => ["pubsub", "cmp.fan", "--subs", "8", "--size", "16", "--msgs", msgsFor(300_000, s)], "subscriber"),
  throughput("queue4", "queue group of 4", (s) => ["pubsub", "cmp.q", "--subs", "4", "--queue", "q", "--size", "16", "--msgs", msgsFor(1_000_000, s)], "subscriber"),
  {
    metrics: [
      { id: "reqP50", label: "request/reply p50", unit: "µs", higherIsBetter: false },
      { id: "reqP99", label: "request/reply p99", unit: "µs", higherIsBetter: false },
    ],
    run: async (url, scale) => {
      // The raw client keeps the load's own share of each round trip small.
      const latency = group(await runLoad(url, ["service", "both", "cmp.svc", "--client", "raw", "--size", "128", "--msgs", msgsFor(30_000, scale)], 180_000), "requester").latency;
      return { values: [latency.p50Us, latency.p99Us] };
    },
  },
  {
    metrics: [
      { id: "e2eP50", label: `end-to-end p50 @ ${e2eRatePerSec / 1000}k msgs/s`, unit: "µs", higherIsBetter: false },
      { id: "e2eP99", label: `end-to-end p99 @ ${e2eRatePerSec / 1000}k msgs/s`, unit: "µs", higherIsBetter: false },
    ],
    run: async (url, scale) => {
      const seconds = Math.max(1, Math.round(3 * scale * 10) / 10);
      const json = await runLoad(url, ["pubsub", "cmp.e2e", "--size", "128", "--rate", String(e2eRatePerSec), "--msgs", String(Math.round(e2eRatePerSec * seconds))], 180_000);
      const latency = group(json, "subscriber").latency;
      return { values: [latency.p50Us, latency.p99Us] };
    },
  },
];

// JetStream: the server runs with -js and a fresh store directory. Publishing goes through our
// raw client (`--client raw`): through nats.js the publisher saturates its own core at ~22k
// acks/s against either server, and the ratio would say nothing about the servers. Readers and
// KV have only the official client. Every row checks that it published or read every message
// it asked for (a short count would flatter the rate), in this order: the async file publish
// fills BASYNC, which fetch, consume and ordered then read; kv put writes the keys kv get reads.
const jsAsyncWindow = 256;
const jsReadMsgs = 200_000;
const kvMsgs = 30_000;

const jsRow = (id: string, label: string, args: (scale: number) => string[], role: "publisher" | "consumer" | "getter", expected: (scale: number) => number): LoadScenario => ({
  metrics: [{ id, label, unit: "msgs/s", higherIsBetter: true }],
  run: async (url, scale) => {
    const json = await runLoad(url, args(scale), 300_000);
    const found = group(json, role);
    const want = expected(scale);
    if (found.msgs !== want) throw new Error(`${found.msgs} of ${want} messages (${json.runs[0].notes.join("; ")})`);
    return rateOutcome(json, found);
  },
});

const jsPub = (id: string, label: string, mode: "sync" | "async", subject: string, stream: string, storage: "file" | "memory", full: number): LoadScenario =>
  jsRow(id, label, (s) => [
    "js", "pub", mode, subject, "--client", "raw", "--stream", stream, "--storage", storage, "--size", "128",
    ...(mode === "async" ? ["--batch", String(jsAsyncWindow)] : []), "--purge", "--msgs", msgsFor(full, s),
  ], "publisher", (s) => msgsCount(full, s));

const jsRead = (id: string, label: string, args: string[]): LoadScenario =>
  jsRow(id, label, (s) => ["js", ...args, "--stream", "BASYNC", "--msgs", msgsFor(jsReadMsgs, s)], "consumer", (s) => msgsCount(jsReadMsgs, s));

const jsScenarios: LoadScenario[] = [
  jsPub("jsPubSyncFile", "js pub sync, file, 128 B", "sync", "bjs.sync", "BSYNC", "file", 30_000),
  jsPub("jsPubAsyncFile", `js pub async (window ${jsAsyncWindow}), file, 128 B`, "async", "bjs.async", "BASYNC", "file", 400_000),
  jsPub("jsPubAsyncMem", `js pub async (window ${jsAsyncWindow}), memory, 128 B`, "async", "bjs.mem", "BMEM", "memory", 400_000),
  jsRead("jsFetch", "js fetch (batch 500, explicit ack)", ["fetch", "--consumer", "bfetch", "--batch", "500", "--acks", "explicit"]),
  jsRead("jsConsume", "js consume (durable, explicit ack)", ["consume", "--consumer", "bconsume", "--batch", "500", "--acks", "explicit"]),
  jsRead("jsOrdered", "js ordered consumer", ["ordered"]),
  jsRow("kvPut", "kv put (128 B)", (s) => ["kv", "put", "--bucket", "BKV", "--size", "128", "--msgs", msgsFor(kvMsgs, s)], "publisher", (s) => msgsCount(kvMsgs, s)),
  jsRow("kvGet", "kv get", (s) => ["kv", "get", "--bucket", "BKV", "--msgs", msgsFor(kvMsgs, s)], "getter", (s) => msgsCount(kvMsgs, s)),
];

const serverMetrics: Metric[] = [
  { id: "startup", label: "startup to first PONG", unit: "ms", higherIsBetter: false },
  { id: "idleRss", label: "idle RSS", unit: "MiB", higherIsBetter: false },
  { id: "connMem", label: "memory per idle connection", unit: "KiB", higherIsBetter: false },
];

const recoveryMetric: Metric = { id: "jsRecover", label: "restart with a 1M-message file stream, to first PONG", unit: "ms", higherIsBetter: false };

const floorMetric: Metric = { id: "floorStartup", label: "startup: Bun floor (empty compiled program)", unit: "ms", higherIsBetter: false };

// ───────────────────────────── one server, one round ─────────────────────────────

function scenariosFor(options: CompareOptions): LoadScenario[] {
  if (options.set === "core") return loadScenarios;
  if (options.set === "js") return jsScenarios;
  return [...loadScenarios, ...jsScenarios];
}

type Values = Record<string, number | null>;

/**
 * Where the CPU went during one scenario (its whole load process, start-up and setup
 * included): a server near 1.0 of its core is the bottleneck; a load near 1.0 with a server
 * well below it means the client limits the rate, not the server.
 */
interface ScenarioCpu {
  /** The interval the rate was measured over. */
  measuredSec: number;
  /** CPU of the server over the whole scenario (setup included; small next to the run). */
  serverCpuSec: number;
  /** CPU of the load process during its run (setup included, Bun's start-up not). */
  loadCpuSec: number;
  /** Messages (operations) the rate counted. */
  msgs: number;
}
type CpuByScenario = Record<string, ScenarioCpu>;

async function measureServer(command: string[], label: string, options: CompareOptions, logDir: string): Promise<{ values: Values; errors: string[]; cpu: CpuByScenario }> {
  const values: Values = {};
  const cpu: CpuByScenario = {};
  const errors: string[] = [];
  const scale = options.quick ? 0.1 : 1;
  const storeDir = mkdtempSync(join(logDir, `${label}-store-`));
  const withJs = options.set !== "core" ? [...command, "-js", "-sd", storeDir] : command;
  const server = await startServer(withJs, logDir, label);
  try {
    values.startup = server.startupMs;
    values.idleRss = rssBytes(server.child.pid) / 1048576;
    const connections = options.quick ? 1000 : 5000;
    try {
      const before = rssBytes(server.child.pid);
      const sockets = await openIdleConnections(server.port, connections);
      values.connMem = (rssBytes(server.child.pid) - before) / connections / 1024;
      for (const socket of sockets) socket.end();
    } catch (error) {
      values.connMem = null;
      errors.push(`connMem: ${(error as Error).message}`);
    }
    for (const scenario of scenariosFor(options)) {
      const serverCpuStart = processCpuSec(server.child.pid);
      try {
        const outcome = await scenario.run(server.url, scale);
        const results = outcome.values;
        if (outcome.measuredSec !== undefined && outcome.loadCpuSec !== undefined && outcome.msgs !== undefined) {
          cpu[scenario.metrics[0].id] = {
            measuredSec: outcome.measuredSec,
            serverCpuSec: processCpuSec(server.child.pid) - serverCpuStart,
            loadCpuSec: outcome.loadCpuSec,
            msgs: outcome.msgs,
          };
        }
        scenario.metrics.forEach((metric, index) => {
          values[metric.id] = results[index];
        });
      } catch (error) {
        for (const metric of scenario.metrics) values[metric.id] = null;
        errors.push(`${scenario.metrics[0].label}: ${(error as Error).message}`);
      }
    }
  } finally {
    await server.stop();
  }
  if (options.set !== "core") {
    // Recovery: fill a file stream, stop, and time the restart to the first PONG.
    try {
      values.jsRecover = await measureRecovery(withJs, logDir, label, options.quick ? 100_000 : 1_000_000);
    } catch (error) {
      values.jsRecover = null;
      errors.push(`recovery: ${(error as Error).message}`);
    }
  }
  rmSync(storeDir, { recursive: true, force: true });
  return { values, errors, cpu };
}

async function measureRecovery(command: string[], logDir: string, label: string, msgs: number): Promise<number> {
  const first = await startServer(command, logDir, `${label}-fill`);
  try {
    await runLoad(first.url, ["js", "pub", "async", "bjs.rec", "--client", "raw", "--stream", "BREC", "--storage", "file", "--size", "128", "--batch", "512", "--purge", "--msgs", String(msgs)], 600_000);
  } finally {
    await first.stop();
  }
  const again = await startServer(command, logDir, `${label}-recover`);
  const ms = again.startupMs;
  await again.stop();
  return ms;
}

/** Compiles a do-nothing Bun program that speaks just enough NATS for the startup probe. */
async function buildFloor(dir: string): Promise<string> {
  const source = join(dir, "floor.ts");
  writeFileSync(source, `// The least a Bun executable must do to answer a NATS client: listen, send INFO, answer PING.
const args = process.argv.slice(2);
const port = Number(args[args.indexOf("-p") + 1]);
const hostname = args.includes("-a") ? args[args.indexOf("-a") + 1] : "0.0.0.0";
const info = 'INFO {"server_id":"floor","version":"0.0.0","proto":1,"headers":true,"max_payload":1048576}\\r\\n';
Bun.listen({ hostname, port, socket: {
  open(socket) { socket.write(info); },
  data(socket, data) { if (data.toString().includes("PING\\r\\n")) socket.write("PONG\\r\\n"); },
} });
`);
  const output = join(dir, "floor");
  // Same settings as build.ts, so the floor is comparable with our executable.
  const build = Bun.spawnSync([process.execPath, "build", source, "--compile", "--minify", "--bytecode", "--outfile", output], { stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`could not compile the floor program: ${build.stderr.toString()}`);
  return output;
}

// ───────────────────────────── statistics and output ─────────────────────────────

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function present(values: Array<number | null>): number[] {
  return values.filter((value): value is number => value !== null && Number.isFinite(value));
}

interface SummaryRow {
  id: string;
  label: string;
  unit: string;
  higherIsBetter: boolean;
  referenceMedian: number | null;
  oursMedian: number | null;
  /** ours / reference, of the medians. */
  ratio: number | null;
  /** Spread of the per-round ratios ours/reference. */
  ratioMin: number | null;
  ratioMax: number | null;
}

function summarise(metric: Metric, reference: Array<number | null>, ours: Array<number | null>): SummaryRow {
  const referenceValues = present(reference);
  const oursValues = present(ours);
  const ratios = reference.flatMap((value, round) => {
    const mine = ours[round];
    return value !== null && mine !== null && value > 0 ? [mine / value] : [];
  });
  const referenceMedian = referenceValues.length > 0 ? median(referenceValues) : null;
  const oursMedian = oursValues.length > 0 ? median(oursValues) : null;
  return {
    ...metric,
    referenceMedian,
    oursMedian,
    ratio: referenceMedian !== null && oursMedian !== null && referenceMedian > 0 ? oursMedian / referenceMedian : null,
    ratioMin: ratios.length > 0 ? Math.min(...ratios) : null,
    ratioMax: ratios.length > 0 ? Math.max(...ratios) : null,
  };
}

function formatValue(value: number | null, unit: string): string {
  if (value === null) return "failed";
  if (unit === "msgs/s") return Math.round(value).toLocaleString("en-US");
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(value >= 10 ? 1 : 2);
}

function formatTable(rows: SummaryRow[]): string {
  const header = ["scenario", "unit", "reference", "ours", "ours/ref", "per-round spread", "better"];
  const lines = rows.map((row) => [
    row.label,
    row.unit,
    formatValue(row.referenceMedian, row.unit),
    formatValue(row.oursMedian, row.unit),
    row.ratio === null ? "—" : row.ratio.toFixed(2),
    row.ratioMin === null || row.ratioMax === null ? "—" : `${row.ratioMin.toFixed(2)}–${row.ratioMax.toFixed(2)}`,
    row.higherIsBetter ? "higher" : "lower",
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const render = (cells: string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ");
  return [render(header), widths.map((width) => "─".repeat(width)).join("  "), ...lines.map(render)].join("\n");
}

/**
 * Per throughput scenario, medians over rounds of: the server's CPU per message (robust to the
 * machine's scheduling noise, unlike a rate), and how busy each side's core was over the
 * measured interval.
 */
function formatCpuTable(metrics: Metric[], reference: CpuByScenario[], ours: CpuByScenario[]): string {
  const medianOf = (rounds: CpuByScenario[], id: string, pick: (cpu: ScenarioCpu) => number): number | null => {
    const values = rounds.flatMap((round) => (round[id] === undefined || round[id].measuredSec <= 0 || round[id].msgs <= 0 ? [] : [pick(round[id])]));
    return values.length === 0 ? null : median(values);
  };
  const text = (value: number | null, digits: number): string => (value === null ? "—" : value.toFixed(digits));
  const header = ["scenario", "server µs/msg: ref", "ours", "ours/ref", "server busy: ref", "ours", "load busy: vs ref", "vs ours"];
  const lines = metrics.filter((metric) => reference.some((round) => round[metric.id] !== undefined) || ours.some((round) => round[metric.id] !== undefined)).map((metric) => {
    const perMsg = (cpu: ScenarioCpu): number => (1e6 * cpu.serverCpuSec) / cpu.msgs;
    const referencePerMsg = medianOf(reference, metric.id, perMsg);
    const oursPerMsg = medianOf(ours, metric.id, perMsg);
    return [
      metric.label,
      text(referencePerMsg, 1),
      text(oursPerMsg, 1),
      referencePerMsg !== null && oursPerMsg !== null && referencePerMsg > 0 ? (oursPerMsg / referencePerMsg).toFixed(2) : "—",
      text(medianOf(reference, metric.id, (cpu) => cpu.serverCpuSec / cpu.measuredSec), 2),
      text(medianOf(ours, metric.id, (cpu) => cpu.serverCpuSec / cpu.measuredSec), 2),
      text(medianOf(reference, metric.id, (cpu) => cpu.loadCpuSec / cpu.measuredSec), 2),
      text(medianOf(ours, metric.id, (cpu) => cpu.loadCpuSec / cpu.measuredSec), 2),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const render = (cells: string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ");
  return [render(header), widths.map((width) => "─".repeat(width)).join("  "), ...lines.map(render)].join("\n");
}

function commandOutput(command: string[]): string {
  try {
    const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe", timeout: 5000 });
    return `${result.stdout.toString()}${result.stderr.toString()}`.trim();
  } catch {
    return "unknown";
  }
}

function machineDescription(options: CompareOptions): Record<string, unknown> {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  return {
    nproc: Number(commandOutput(["nproc"])) || cpus().length,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown",
    kernel: release(),
    bunVersion: Bun.version,
    referenceVersion: commandOutput([...options.refCmd, "--version"]),
    oursVersion: commandOutput([...options.oursCmd, "--version"]).split("\n")[0],
    pinned: pinningAvailable ? "server on CPU 0, load on CPU 1 (taskset)" : "not pinned",
  };
}

// ───────────────────────────── main ─────────────────────────────

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.show !== null) {
    const saved = JSON.parse(readFileSync(options.show, "utf8")) as {
      date: string; machine: Record<string, unknown>; options: { rounds: number }; summary: SummaryRow[];
      rounds: { cpu?: { reference: CpuByScenario[]; ours: CpuByScenario[] } };
    };
    console.log(`${saved.date}, ${saved.options.rounds} round(s); ${JSON.stringify(saved.machine)}\n`);
    console.log(formatTable(saved.summary));
    const cpu = saved.rounds.cpu;
    if (cpu !== undefined) {
      console.log("\nCPU per throughput scenario (medians of rounds): server CPU µs per message; CPU seconds ÷ measured interval:");
      console.log(formatCpuTable(saved.summary, cpu.reference, cpu.ours));
    }
    return 0;
  }
  if (Bun.which(options.refCmd[0]) === null && !existsSync(options.refCmd[0])) {
    console.log(`SKIPPED: the reference server "${options.refCmd[0]}" is not installed (apt-get install nats-server, or --ref-cmd).`);
    return 0;
  }
  if (Bun.which(options.oursCmd[0]) === null && !existsSync(options.oursCmd[0])) {
    console.error(`our executable ${options.oursCmd[0]} is missing: build it (bun run build.ts --host-only) or use npm run bench:compare`);
    return 1;
  }
  pinningAvailable = options.pin && Bun.which("taskset") !== null && cpus().length >= 2;
  // Described before pinning ourselves: nproc reports the CPUs of our own affinity.
  const machine = machineDescription(options);
  if (pinningAvailable) {
    // This process probes startup in a tight connect loop and holds the idle connections:
    // it belongs with the load on CPU 1, never on the server's core.
    Bun.spawnSync(["taskset", "-a", "-p", "-c", "1", String(process.pid)], { stdout: "ignore", stderr: "ignore" });
  }
  console.log(`Comparing ${options.refCmd.join(" ")} (reference) with ${options.oursCmd.join(" ")} (ours): ${options.rounds} round(s)${options.quick ? ", quick" : ""}`);
  console.log(`Machine: ${machine.nproc} CPUs, ${machine.cpuModel}, kernel ${machine.kernel}, Bun ${machine.bunVersion}, ${machine.pinned}`);

  const workDir = mkdtempSync(join(tmpdir(), "nats-bun-compare-"));
  try {
    const floor = await buildFloor(workDir);
    const reference: Values[] = [];
    const ours: Values[] = [];
    const referenceCpu: CpuByScenario[] = [];
    const oursCpu: CpuByScenario[] = [];
    const floorStartups: Array<number | null> = [];
    const errors: string[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      // Alternate which server goes first, so neither always runs on a "warmer" machine.
      const order = round % 2 === 0 ? (["reference", "ours"] as const) : (["ours", "reference"] as const);
      for (const side of order) {
        const command = side === "reference" ? options.refCmd : options.oursCmd;
        const started = performance.now();
        process.stdout.write(`round ${round + 1}/${options.rounds}: ${side} … `);
        try {
          const measured = await measureServer(command, side, options, workDir);
          (side === "reference" ? reference : ours)[round] = measured.values;
          (side === "reference" ? referenceCpu : oursCpu)[round] = measured.cpu;
          errors.push(...measured.errors.map((error) => `round ${round + 1} ${side}: ${error}`));
          console.log(`${((performance.now() - started) / 1000).toFixed(1)}s${measured.errors.length > 0 ? ` (${measured.errors.length} scenario(s) failed)` : ""}`);
        } catch (error) {
          (side === "reference" ? reference : ours)[round] = {};
          (side === "reference" ? referenceCpu : oursCpu)[round] = {};
          errors.push(`round ${round + 1} ${side}: ${(error as Error).message}`);
          console.log("failed to start");
        }
      }
      try {
        const floorServer = await startServer([floor], workDir, "floor");
        floorStartups.push(floorServer.startupMs);
        await floorServer.stop();
      } catch (error) {
        floorStartups.push(null);
        errors.push(`round ${round + 1} floor: ${(error as Error).message}`);
      }
    }

    const metrics = [...serverMetrics, ...scenariosFor(options).flatMap((scenario) => scenario.metrics), ...(options.set !== "core" ? [recoveryMetric] : [])];
    const rows = metrics.map((metric) => summarise(
      metric,
      reference.map((values) => values[metric.id] ?? null),
      ours.map((values) => values[metric.id] ?? null),
    ));
    // The floor row puts the empty Bun program where ours would be: the least startup time
    // any Bun executable can have, next to the reference's.
    rows.splice(1, 0, summarise(floorMetric, reference.map((values) => values.startup ?? null), floorStartups));

    console.log("");
    console.log(formatTable(rows));
    console.log("\nMedians over rounds; ours/ref is the ratio of the medians, the spread is the min–max of the per-round ratios.");
    console.log("The Bun floor row has an empty compiled Bun program (listen, INFO, PONG) in the ours column.");
    const scenarioMetrics = scenariosFor(options).map((scenario) => scenario.metrics[0]);
    console.log("\nCPU per throughput scenario (medians of rounds): the server's CPU µs per message, and CPU seconds ÷ the measured");
    console.log("interval for the server and the load (setup included, so slightly high; near 1.00 = that side's core is the limit):");
    console.log(formatCpuTable(scenarioMetrics, referenceCpu, oursCpu));
    if (errors.length > 0) {
      console.log("\nFailures:");
      for (const error of errors) console.log(`  ${error}`);
    }

    mkdirSync(options.outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:]/g, "-").replace(/\..+$/, "");
    const outFile = join(options.outDir, `compare-${stamp}${options.quick ? "-quick" : ""}.json`);
    writeFileSync(outFile, `${JSON.stringify({
      date: new Date().toISOString(),
      machine,
      options: { rounds: options.rounds, quick: options.quick, oursCmd: options.oursCmd, refCmd: options.refCmd, connectionsForMemory: options.quick ? 1000 : 5000, e2eRatePerSec, set: options.set, jsAsyncWindow },
      summary: rows,
      rounds: { reference, ours, floorStartupMs: floorStartups, cpu: { reference: referenceCpu, ours: oursCpu } },
      errors,
    }, null, 2)}\n`);
    console.log(`\nSaved ${outFile}`);
    return 0;
  } finally {
    killAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  console.error(`compare: ${(error as Error).stack ?? String(error)}`);
  killAll();
  process.exitCode = 1;
});
