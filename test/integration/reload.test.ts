// Configuration reload on the compiled binary (SIGHUP and `--signal reload`): what the
// reference applies live is applied (logging, limits for new connections, authorization, with
// connected clients re-checked), what it cannot apply (the listen port, max_pending, …) is
// refused with its log line while the running configuration stays; and the same reloads
// against the reference give the same log lines (when it is installed).
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { RawClient } from "../harness/raw.ts";
import { waitUntil } from "../harness/protocol.ts";
import { ourBinary, referenceBinary } from "../harness/server.ts";

/** A server started from a config file we rewrite between reloads (no -p flag: the file decides). */
interface Reloadable {
  port: number;
  proc: Subprocess;
  file: string;
  logs(): string;
  write(config: string): void;
  reload(): void;
  /** Waits for the n-th occurrence of `text` in the log. */
  waitFor(text: string, n?: number): Promise<void>;
  stop(): Promise<void>;
}

const running: Reloadable[] = [];

afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running.length = 0;
});

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

async function launch(binary: string, config: (port: number) => string): Promise<Reloadable> {
  const dir = mkdtempSync(join(tmpdir(), "nats-bun-reload-"));
  const file = join(dir, "server.conf");
  const port = await freePort();
  writeFileSync(file, config(port));
  const proc = Bun.spawn([binary, "-c", file], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let log = "";
  const dec = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) log += dec.decode(chunk, { stream: true });
  })();
  const count = (t: string): number => log.split(t).length - 1;
  const r: Reloadable = {
    port,
    proc,
    file,
    logs: () => log,
    write: (c) => writeFileSync(file, c),
    reload: () => proc.kill("SIGHUP"),
    waitFor: (t, n = 1) => waitUntil(() => count(t) >= n, `${JSON.stringify(t)} ×${n} in the log:\n${log}`, 5_000),
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.push(r);
  await r.waitFor("Server is ready");
  return r;
}

async function client(port: number, connect: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.write(`CONNECT ${connect}\r\nPING\r\n`);
  await waitUntil(() => c.buffered.includes("PONG\r\n") || c.closed, "PONG or close");
  return c;
}

const alice = (pass: string): string => JSON.stringify({ verbose: false, user: "alice", pass, protocol: 1 });

describe("reload applies what the reference applies live", () => {
  test("a changed password disconnects clients no longer authorised; others keep working", async () => {
    const base = (port: number, pass: string, extra = ""): string => `listen: "127.0.0.1:${port}"\nauthorization { user: alice, password: ${pass} }\n${extra}`;
    const s = await launch(ourBinary, (p) => base(p, "one"));
    const a = await client(s.port, alice("one"));
    expect(a.buffered).toContain("PONG");
    // A reload that keeps the credentials keeps the client.
    s.write(base(s.port, "one", "debug: true\n"));
    s.reload();
    await s.waitFor("Reloaded server configuration");
    expect(s.logs()).toContain("Reloaded: debug = true");
    a.write("PING\r\n");
    await waitUntil(() => a.buffered.split("PONG").length === 3, "a second PONG");
    expect(a.closed).toBe(false);
    // Now the password changes: alice with the old one is cut with the reference's error.
    s.write(base(s.port, "two"));
    const r = Bun.spawnSync([ourBinary, "--signal", `reload=${s.proc.pid}`]);
    expect(r.exitCode).toBe(0);
    await s.waitFor("Reloaded server configuration", 2);
    await waitUntil(() => a.closed, "the old client to be closed");
    expect(a.buffered).toContain("-ERR 'Authorization Violation'\r\n");
    expect(s.logs()).toContain("Reloaded: authorization password");
    const b = await client(s.port, alice("two"));
    expect(b.closed).toBe(false);
    const old = await client(s.port, alice("one"));
    expect(old.buffered).toContain("-ERR 'Authorization Violation'");
    b.close();
  });

  test("max_payload changes for new connections; existing ones keep theirs", async () => {
    const s = await launch(ourBinary, (p) => `listen: "127.0.0.1:${p}"\nmax_payload: 1000\n`);
    const before = await client(s.port, '{"verbose":false}');
    expect(before.buffered).toContain('"max_payload":1000');
    s.write(`listen: "127.0.0.1:${s.port}"\nmax_payload: 2000\n`);
    s.reload();
    await s.waitFor("Reloaded server configuration");
    expect(s.logs()).toContain("Reloaded: max_payload = 2000");
    const after = await client(s.port, '{"verbose":false}');
    expect(after.buffered).toContain('"max_payload":2000');
    // The old connection is still limited to 1000 bytes.
    before.write(`PUB x 1500\r\n${"a".repeat(1500)}\r\n`);
    await waitUntil(() => before.closed, "the old connection to be cut for max payload");
    expect(before.buffered).toContain("-ERR 'Maximum Payload Violation'");
    after.write(`PUB x 1500\r\n${"a".repeat(1500)}\r\nPING\r\n`);
    await waitUntil(() => after.buffered.split("PONG").length === 3, "PONG after a 1500-byte publish");
    after.close();
  });
});

describe("reload refuses what it cannot apply, keeping the running configuration", () => {
  test("a changed listen port, max_pending, a bad key: logged, server unchanged", async () => {
    const s = await launch(ourBinary, (p) => `listen: "127.0.0.1:${p}"\n`);
    const c = await client(s.port, '{"verbose":false}');
    s.write(`listen: "127.0.0.1:${s.port + 1}"\n`);
    s.reload();
    await s.waitFor(`Failed to reload server configuration: config reload not supported for Port: old=${s.port}, new=${s.port + 1}`);
    s.write(`listen: "127.0.0.1:${s.port}"\nmax_pending: 1000000\n`);
    s.reload();
    await s.waitFor("Failed to reload server configuration: config reload not supported for MaxPending: old=67108864, new=1000000");
    s.write(`listen: "127.0.0.1:${s.port}"\nbad_key: 1\n`);
    s.reload();
    await s.waitFor(`Failed to reload server configuration: ${s.file}:2:1: unknown field "bad_key"`);
    // Still on the old port, the client unharmed.
    c.write("PING\r\n");
    await waitUntil(() => c.buffered.split("PONG").length === 3, "PONG");
    const d = await client(s.port, '{"verbose":false}');
    expect(d.closed).toBe(false);
    expect(s.logs()).not.toContain("Reloaded server configuration");
    c.close();
    d.close();
  });
});

describe.skipIf(referenceBinary === null)("reload log lines as the reference's", () => {
  test("the same reloads give the same refusals and Reloaded: lines", async () => {
    const steps: [string, string][] = [
      ["debug: true\nmax_payload: 2000\n", "Reloaded server configuration"],
      ["debug: true\nmax_payload: 2000\nmax_connections: 10\nping_interval: \"1m\"\nwrite_deadline: \"3s\"\n", "Reloaded server configuration"],
      ["max_pending: 1000000\n", "Failed to reload"],
      ["lame_duck_duration: \"40s\"\n", "Failed to reload"],
      ["max_subscriptions: 5\n", "Failed to reload"],
      ["server_name: other\n", "Failed to reload"],
      ["bad_key: 1\n", "Failed to reload"],
    ];
    const lines = async (binary: string): Promise<string[]> => {
      const s = await launch(binary, (p) => `listen: "127.0.0.1:${p}"\n`);
      let reloaded = 0;
      let failed = 0;
      for (const [extra, expectText] of steps) {
        s.write(`listen: "127.0.0.1:${s.port}"\n${extra}`);
        s.reload();
        if (expectText.startsWith("Reloaded")) await s.waitFor(expectText, ++reloaded);
        else await s.waitFor(expectText, ++failed);
      }
      return s
        .logs()
        .split("\n")
        .map((l) => l.replace(/^\[\d+\] \S+ \S+ /, ""))
        .filter((l) => /Reloaded: |Failed to reload/.test(l))
        .map((l) => l.replace(s.file, "FILE"));
    };
    const [ours, ref] = await Promise.all([lines(ourBinary), lines(referenceBinary!)]);
    // Both log "authorization users" and "accounts" on every reload (the reference compares
    // them by pointer, and re-applies the security configuration every time; so do we).
    expect(ours).toEqual(ref);
  }, 20_000);
});
