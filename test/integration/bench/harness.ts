// Test harness for the load tool's integration tests: starts a NATS server on a free
// 127.0.0.1 port and runs `nats-bun bench` as a child process.
//
// Which server: $NATS_BUN_TEST_SERVER (a path to an executable taking nats-server flags),
// else our compiled dist/nats-bun-linux-x64 when it exists, else the reference nats-server
// from PATH. JetStream tests run against $NATS_BUN_TEST_JS_SERVER alone when it is set, else
// against each of ours (dist/) and the reference that is there.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const projectRoot = resolve(import.meta.dir, "../../..");
const bunExecutable = process.execPath;
const mainEntry = join(projectRoot, "src/main.ts");

export function coreServerExecutable(): string | null {
  const fromEnv = process.env.NATS_BUN_TEST_SERVER;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const ours = join(projectRoot, "dist/nats-bun-linux-x64");
  if (existsSync(ours)) return ours;
  return Bun.which("nats-server");
}

export function jetStreamServerExecutables(): string[] {
  const fromEnv = process.env.NATS_BUN_TEST_JS_SERVER;
  if (fromEnv !== undefined && fromEnv !== "") return [fromEnv];
  const ours = join(projectRoot, "dist/nats-bun-linux-x64");
  const reference = Bun.which("nats-server");
  return [...(existsSync(ours) ? [ours] : []), ...(reference !== null ? [reference] : [])];
}

/** Polls `condition` every `intervalMs` until it holds or `timeoutMs` passes (then throws). */
export async function checkFor(what: string, timeoutMs: number, intervalMs: number, condition: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

/** A port nobody listens on right now (the OS picks it; we release it for the server). */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** True once something at the port sends the INFO line a NATS server greets with. */
async function greets(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolveGreeting) => {
    let settled = false;
    const settle = (value: boolean, socket?: { end(): void }): void => {
      if (settled) return;
      settled = true;
      socket?.end();
      resolveGreeting(value);
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (socket, chunk) => settle(new TextDecoder().decode(chunk).startsWith("INFO "), socket),
        error: () => settle(false),
        close: () => settle(false),
        connectError: () => settle(false),
      },
    }).catch(() => settle(false));
    setTimeout(() => settle(false), 1000);
  });
}

export interface TestServer {
  url: string;
  port: number;
  /** The server's process id (tests may SIGSTOP/SIGCONT it). */
  pid: number;
  stop(): Promise<void>;
}

export async function startServer(executable: string, options: { jetstream?: boolean } = {}): Promise<TestServer> {
  const port = freePort();
  const storeDir = options.jetstream === true ? mkdtempSync(join(tmpdir(), "nats-bun-bench-js-")) : "";
  const args = [executable, "-a", "127.0.0.1", "-p", String(port)];
  if (storeDir !== "") args.push("-js", "-sd", storeDir);
  const child: Subprocess = Bun.spawn(args, { stdout: "ignore", stderr: "pipe" });
  const stop = async (): Promise<void> => {
    child.kill();
    await child.exited;
    if (storeDir !== "") rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    await checkFor(`${executable} to listen on ${port}`, 10_000, 20, async () => {
      if (child.exitCode !== null) throw new Error(`${executable} exited with ${child.exitCode}`);
      return await greets(port);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `nats://127.0.0.1:${port}`, port, pid: child.pid, stop };
}

export interface BenchOutput {
  code: number;
  stdout: string;
  stderr: string;
  // The --json document, parsed (undefined when stdout was not JSON).
  json: any;
}

/** A running `nats-bun bench` child; its stderr is collected as it comes. */
export interface BenchChild {
  process: Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves once stderr contains `marker` (e.g. a subscriber saying it is ready). */
  waitForStderr(marker: string, timeoutMs: number): Promise<void>;
  stderr: Promise<string>;
}

/** Starts `nats-bun bench …` (from source, as `npm run bench` does). */
export function spawnBench(args: string[]): BenchChild {
  const child = Bun.spawn([bunExecutable, mainEntry, "bench", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: projectRoot });
  let seen = "";
  const waiters: Array<{ marker: string; resolve: () => void }> = [];
  const stderr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      seen += decoder.decode(chunk);
      for (const waiter of waiters.filter((candidate) => seen.includes(candidate.marker))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    return seen;
  })();
  const waitForStderr = async (marker: string, timeoutMs: number): Promise<void> => {
    if (seen.includes(marker)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => waiters.push({ marker, resolve })),
        stderr.then(() => {
          if (!seen.includes(marker)) throw new Error(`bench exited before printing "${marker}": ${seen}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no "${marker}" within ${timeoutMs} ms: ${seen}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { process: child, waitForStderr, stderr };
}

export async function finishBench(child: BenchChild, timeoutMs: number): Promise<BenchOutput> {
  const timer = setTimeout(() => child.process.kill(), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.process.stdout).text(), child.stderr, child.process.exited]);
  clearTimeout(timer);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}

export async function runBenchCli(args: string[], timeoutMs = 20_000): Promise<BenchOutput> {
  return await finishBench(spawnBench(args), timeoutMs);
}
