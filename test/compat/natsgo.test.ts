// The Go client (nats.go as packaged by Debian) against our server: builds natsgo/main.go into
// a temporary directory and checks the JSON it prints. Skipped, with a note, when `go` or the
// nats.go sources are missing (apt-get install golang-go golang-github-nats-io-go-nats-dev).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../harness/server.ts";

const GOPATH = "/usr/share/gocode";
const goBinary = Bun.which("go");
const natsGoSources = join(GOPATH, "src/github.com/nats-io/nats.go");
const available = goBinary !== null && existsSync(natsGoSources);

if (!available) {
  console.warn(`nats.go compatibility test skipped: ${goBinary === null ? "`go` is not installed" : `no nats.go sources at ${natsGoSources}`} (apt-get install golang-go golang-github-nats-io-go-nats-dev)`);
}

let server: RunningServer;
let dir = "";
let program = "";

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), "nats-bun-natsgo-"));
  program = join(dir, "natsgo");
  // A cache outside the temp dir keeps rebuilds fast across runs.
  const build = Bun.spawn([goBinary!, "build", "-o", program, "."], {
    cwd: join(import.meta.dir, "natsgo"),
    env: { ...process.env, GOPATH, GO111MODULE: "off", GOFLAGS: "", GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "nats-bun-gocache") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await Promise.race([build.exited, Bun.sleep(90_000).then(() => -1)]);
  if (code !== 0) {
    build.kill();
    throw new Error(`go build failed (${code}): ${await new Response(build.stderr).text()}`);
  }
  server = await startServer();
}, 100_000);

afterAll(async () => {
  await server?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!available)("nats.go: pub/sub, wildcards, queue group, request/reply with headers, no responders, auto-unsubscribe", async () => {
  const run = Bun.spawn([program, server.url], { stdout: "pipe", stderr: "pipe" });
  const code = await Promise.race([run.exited, Bun.sleep(20_000).then(() => -1)]);
  if (code === -1) run.kill();
  const [stdout, stderr] = [await new Response(run.stdout).text(), await new Response(run.stderr).text()];
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  const r = JSON.parse(stdout) as Record<string, unknown>;
  expect(r.server_version).toBe("2.9.10");
  expect(r.headers_support).toBe(true);
  expect(r.max_payload).toBe(1048576);
  expect(r.pubsub).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  expect(r.wildcard).toEqual(["go.w.a", "go.w.a.b"]);
  expect(r.queue_distinct).toBe(300);
  const counts = r.queue_counts as number[];
  expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
  // Expected 100 each; below 45 (15% of 300) is practically impossible for a uniform choice.
  for (const n of counts) expect(n).toBeGreaterThan(45);
  expect(r.reply).toBe("echo:hello");
  expect(r.reply_header).toEqual(["a", "b", "go"]);
  expect(r.reply_header_keys).toBe("[X-Multi X-Service]");
  expect(r.no_responders).toBe(true);
  expect(r.auto_unsub).toBe(2);
}, 30_000);
