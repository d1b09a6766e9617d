// How hard does `nats-bun bench` drive a server, next to the official Go client?
//   bun bench/go/client_compare.ts [--rounds 5] [--msgs 10000000]
// Builds bench/go/natspub (nats.go from Debian: golang-github-nats-io-go-nats-dev), then per
// round starts a fresh reference nats-server pinned to CPU 0 and runs, pinned to CPU 1, the
// Go publisher and our raw publisher (order alternating) for pub 16 B / 128 B, and the same
// with one subscriber in the process (pub+sub). Prints the median msgs/s of each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const root = resolve(import.meta.dir, "../..");
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const rounds = flag("--rounds", 5);
const msgs = flag("--msgs", 10_000_000);

const children = new Set<Subprocess>();
const killAll = (): void => {
  for (const child of children) child.kill("SIGKILL");
};
process.on("exit", killAll);
process.on("SIGINT", () => process.exit(130));

const work = mkdtempSync(join(tmpdir(), "nats-bun-goclient-"));
const natspub = join(work, "natspub");
const build = Bun.spawnSync(["go", "build", "-o", natspub, "./bench/go/natspub"], {
  cwd: root,
  env: { ...process.env, GOPATH: "/usr/share/gocode", GO111MODULE: "off", GOCACHE: join(work, "gocache") },
  stderr: "pipe",
});
if (build.exitCode !== 0) {
  console.error(`cannot build the Go publisher (apt-get install golang-go golang-github-nats-io-go-nats-dev): ${build.stderr}`);
  process.exit(1);
}

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function withServer<T>(body: (url: string) => Promise<T>): Promise<T> {
  const port = freePort();
  const server = Bun.spawn(["taskset", "-c", "0", "nats-server", "-a", "127.0.0.1", "-p", String(port)], { stdout: "ignore", stderr: "ignore" });
  children.add(server);
  try {
    for (let attempt = 0; ; attempt += 1) {
      const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then((socket) => {
        socket.end();
        return true;
      }, () => false);
      if (ok) break;
      if (attempt > 2000) throw new Error("nats-server did not start");
    }
    return await body(`nats://127.0.0.1:${port}`);
  } finally {
    server.kill("SIGKILL");
    await server.exited;
    children.delete(server);
  }
}

async function output(command: string[]): Promise<string> {
  const child = Bun.spawn(["taskset", "-c", "1", ...command], { stdout: "pipe", stderr: "pipe", cwd: root });
  children.add(child);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  children.delete(child);
  if (code !== 0) throw new Error(`${command.join(" ")}: ${stderr}`);
  return stdout;
}

type Case = { name: string; size: number; subs: number };
const cases: Case[] = [
  { name: "pub 16 B", size: 16, subs: 0 },
  { name: "pub 128 B", size: 128, subs: 0 },
  { name: "pub+sub 16 B (sub rate)", size: 16, subs: 1 },
  { name: "pub+sub 128 B (sub rate)", size: 128, subs: 1 },
];

async function goRate(url: string, item: Case): Promise<number> {
  const count = item.subs > 0 ? Math.round(msgs / 4) : msgs;
  const result = JSON.parse(await output([natspub, "-s", url, "-msgs", String(count), "-size", String(item.size), "-subs", String(item.subs)]));
  return item.subs > 0 ? result.subMsgsPerSec : result.pubMsgsPerSec;
}

async function oursRate(url: string, item: Case): Promise<number> {
  const count = item.subs > 0 ? Math.round(msgs / 4) : msgs;
  const scenario = item.subs > 0 ? ["pubsub", "bench.go"] : ["pub", "bench.go"];
  const json = JSON.parse(await output([process.execPath, "src/main.ts", "bench", ...scenario, "-s", url, "--msgs", String(count), "--size", String(item.size), "--json", "--no-progress"]));
  const role = item.subs > 0 ? "subscriber" : "publisher";
  return json.runs[0].groups.find((group: { role: string }) => group.role === role).msgsPerSec;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const results = new Map<string, { go: number[]; ours: number[] }>(cases.map((item) => [item.name, { go: [], ours: [] }]));
for (let round = 0; round < rounds; round += 1) {
  for (const item of cases) {
    // A fresh server per measurement, so one client's leftovers never slow the other.
    const entry = results.get(item.name)!;
    const order = round % 2 === 0 ? ["go", "ours"] : ["ours", "go"];
    for (const who of order) {
      const rate = await withServer((url) => (who === "go" ? goRate(url, item) : oursRate(url, item)));
      (who === "go" ? entry.go : entry.ours).push(rate);
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds} done\n`);
}
console.log(`nats-server ${Bun.spawnSync(["nats-server", "--version"]).stdout.toString().trim()}, server on CPU 0, load on CPU 1, ${msgs.toLocaleString("en-US")} msgs (pub+sub: a quarter), ${rounds} rounds, medians:`);
for (const [name, { go, ours }] of results) {
  const fmt = (value: number): string => Math.round(value).toLocaleString("en-US").padStart(11);
  console.log(`${name.padEnd(26)} nats.go ${fmt(median(go))} msgs/s   nats-bun bench ${fmt(median(ours))} msgs/s   ours/go ${(median(ours) / median(go)).toFixed(2)}   (go ${fmt(Math.min(...go))}–${fmt(Math.max(...go)).trim()}, ours ${fmt(Math.min(...ours)).trim()}–${fmt(Math.max(...ours)).trim()})`);
}
rmSync(work, { recursive: true, force: true });
