// Starts a NATS server process for a test: our compiled executable by default, or the
// reference nats-server for differential tests. The port is chosen by the server (-p -1)
// and read back from the reference-compatible ports file (--ports_file_dir).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const root = resolve(import.meta.dir, "../..");

/** Our compiled executable (built by `npm test` before the suite runs). */
export const ourBinary = process.env.NATS_BUN_BINARY ?? join(root, "dist", `nats-bun-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);

/** The reference server, if installed (Debian: apt-get install nats-server). */
export const referenceBinary: string | null = (() => {
  for (const p of [process.env.NATS_SERVER_BINARY, "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]) {
    if (p && existsSync(p)) return p;
  }
  return null;
})();

export interface StartOptions {
  /** Extra command-line flags. */
  args?: string[];
  /** Config file contents (written to a temp file and passed with -c). */
  config?: string;
  /** Which executable: ours (default) or the reference. */
  binary?: string;
  /** Bound on the wait for the ports file. */
  startTimeoutMs?: number;
  /** Command to run the executable under, e.g. ["qemu-aarch64", "-L", sysroot]. */
  prefix?: string[];
}

export interface RunningServer {
  port: number;
  url: string;
  /** The monitoring URL (`http://127.0.0.1:P`) from the ports file, when monitoring is on. */
  monitorUrl: string | null;
  /** The config file written for `config` (rewrite it and send SIGHUP to reload). */
  configFile: string | null;
  proc: Subprocess;
  dir: string;
  /** Everything the server logged so far (stderr). */
  logs(): string;
  /** Waits until the log contains `text` (bounded). */
  waitForLog(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const binary = opts.binary ?? ourBinary;
  if (!existsSync(binary)) throw new Error(`server executable not found: ${binary} (run \`bun run build.ts --host-only\`)`);
  const dir = mkdtempSync(join(tmpdir(), "nats-bun-test-"));
  const args = ["-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir, ...(opts.args ?? [])];
  if (opts.config !== undefined) {
    const file = join(dir, "server.conf");
    writeFileSync(file, opts.config);
    args.push("-c", file);
  }
  const proc = Bun.spawn([...(opts.prefix ?? []), binary, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let log = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    for await (const chunk of stream) log += decoder.decode(chunk, { stream: true });
  };
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  void pump(proc.stdout as ReadableStream<Uint8Array>);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  let port = 0;
  let monitorUrl: string | null = null;
  const wantsMonitor = (opts.args ?? []).some((a) => /^--?(m|http_port|ms|https_port)(=|$)/.test(a)) || /^\s*(http|https|http_port|monitor_port|https_port)\s*[:=\s]/m.test(opts.config ?? "");
  while (port === 0) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode} before listening:\n${log}`);
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`server did not write its ports file in time:\n${log}`);
    }
    const file = readdirSync(dir).find((f) => f.endsWith(".ports"));
    if (file !== undefined) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, file), "utf8")) as { nats: string[]; monitoring?: string[] };
        if (wantsMonitor && ports.monitoring === undefined) throw new Error("monitoring not in the ports file yet");
        if (ports.monitoring !== undefined) monitorUrl = ports.monitoring[0].replace("0.0.0.0", "127.0.0.1");
        port = Number(new URL(ports.nats[0]).port);
      } catch {
        // Partially written: try again.
      }
    }
    if (port === 0) await Bun.sleep(5);
  }

  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    monitorUrl,
    configFile: opts.config !== undefined ? join(dir, "server.conf") : null,
    proc,
    dir,
    logs: () => log,
    async waitForLog(text, timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (!(typeof text === "string" ? log.includes(text) : text.test(log))) {
        if (Date.now() > until) throw new Error(`log did not show ${String(text)} within ${timeoutMs} ms:\n${log}`);
        await Bun.sleep(10);
      }
    },
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const code = await Promise.race([proc.exited, Bun.sleep(5_000).then(() => -1)]);
      if (code === -1) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
