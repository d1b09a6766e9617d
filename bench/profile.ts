// Profiles our server under a load, the way bench/compare.ts measures it: the server runs from
// source under Bun's sampling profiler, pinned to CPU 0, with JetStream on a store directory;
// each load (`nats-bun bench …`) runs pinned to CPU 1; then the server gets SIGTERM, writes its
// profile on exit, and bench/cpuprofile.ts summarises it.
//
//   bun bench/profile.ts [--out DIR] [--store DIR] [--interval US] [--exclude TEXT]… \
//     [--setup "BENCH ARGS"]… [--load "BENCH ARGS"]…
//
// --setup loads run against the same server before the --load ones; pass `--exclude` with a
// function only they use (e.g. `#onMessage` for the publish path) to leave them out of the
// summary. --store keeps the store directory (a second call with the same --store and no
// load profiles a restart with what the first one stored). Module loading at start-up is
// always left out of the summary (--exclude require) unless there is no load at all.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const projectRoot = resolve(import.meta.dir, "..");

interface ProfileOptions {
  outDir: string;
  storeDir: string | null;
  intervalUs: number;
  excluded: string[];
  setups: string[][];
  loads: string[][];
}

function parseOptions(argv: string[]): ProfileOptions {
  const options: ProfileOptions = { outDir: "", storeDir: null, intervalUs: 250, excluded: [], setups: [], loads: [] };
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = (): string => {
      const next = argv[index + 1];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      index += 1;
      return next;
    };
    const words = (text: string): string[] => text.split(/\s+/).filter((word) => word !== "");
    if (flag === "--out") options.outDir = resolve(value());
    else if (flag === "--store") options.storeDir = resolve(value());
    else if (flag === "--interval") options.intervalUs = Number(value());
    else if (flag === "--exclude") options.excluded.push(value());
    else if (flag === "--setup") options.setups.push(words(value()));
    else if (flag === "--load") options.loads.push(words(value()));
    else throw new Error(`unknown flag ${flag} (see the header of bench/profile.ts)`);
  }
  if (!(options.intervalUs > 0)) throw new Error("--interval must be positive");
  return options;
}

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Resolves once the server greets a connection with INFO (retried on each event-loop turn, bounded). */
async function waitForInfo(port: number, deadlineMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const greeted = await new Promise<boolean>((resolveGreeting) => {
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          data: (socket, chunk) => {
            socket.end();
            resolveGreeting(new TextDecoder().decode(chunk).startsWith("INFO "));
          },
          connectError: () => resolveGreeting(false),
          error: () => resolveGreeting(false),
        },
      }).catch(() => resolveGreeting(false));
    });
    if (greeted) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`no INFO on port ${port} within ${deadlineMs} ms`);
    await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
  }
}

async function runBench(url: string, args: string[]): Promise<void> {
  const child = Bun.spawn(["taskset", "-c", "1", process.execPath, join(projectRoot, "src/main.ts"), "bench", ...args, "-s", url, "--no-progress"], {
    stdin: "ignore", stdout: "pipe", stderr: "inherit", cwd: projectRoot,
  });
  const output = await new Response(child.stdout).text();
  const code = await child.exited;
  for (const line of output.split("\n").filter((text) => /stats:|Latency|latency/.test(text))) console.log(`  ${line.trim()}`);
  if (code !== 0) throw new Error(`bench ${args.join(" ")} exited ${code}`);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const outDir = options.outDir !== "" ? options.outDir : mkdtempSync(join(tmpdir(), "nats-bun-profile-"));
  mkdirSync(outDir, { recursive: true });
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "nats-bun-profile-store-"));
  mkdirSync(storeDir, { recursive: true });
  const port = freePort();
  const url = `nats://127.0.0.1:${port}`;
  const before = new Set(readdirSync(outDir));
  const server = Bun.spawn([
    "taskset", "-c", "0", process.execPath, "--cpu-prof", `--cpu-prof-dir=${outDir}`, `--cpu-prof-interval=${options.intervalUs}`,
    join(projectRoot, "src/main.ts"), "-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", String(port),
  ], { stdin: "ignore", stdout: "ignore", stderr: "inherit", cwd: projectRoot });
  try {
    const readyMs = await waitForInfo(port, 120_000);
    console.log(`server (pid ${server.pid}) up after ${readyMs.toFixed(0)} ms; store ${storeDir}`);
    for (const args of options.setups) {
      console.log(`setup: bench ${args.join(" ")}`);
      await runBench(url, args);
    }
    for (const args of options.loads) {
      console.log(`load: bench ${args.join(" ")}`);
      await runBench(url, args);
    }
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    if (options.storeDir === null) rmSync(storeDir, { recursive: true, force: true });
  }
  const written = readdirSync(outDir).filter((name) => name.endsWith(".cpuprofile") && !before.has(name));
  if (written.length === 0) throw new Error(`the server wrote no profile into ${outDir}`);
  const profile = join(outDir, written.sort((a, b) => statSync(join(outDir, b)).mtimeMs - statSync(join(outDir, a)).mtimeMs)[0]);
  const excluded = [...options.excluded, ...(options.setups.length + options.loads.length > 0 ? ["require"] : [])];
  const summary = Bun.spawnSync([process.execPath, join(projectRoot, "bench/cpuprofile.ts"), profile, "--top", "20", ...excluded.flatMap((text) => ["--exclude", text])], {
    stdout: "inherit", stderr: "inherit", cwd: projectRoot,
  });
  return summary.exitCode ?? 1;
}

main().then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  console.error(`profile: ${(error as Error).message}`);
  process.exitCode = 1;
});
