// JetStream and KV scenarios of `nats-bun bench` against a server with JetStream enabled
// (`-js -sd <tmp>`): the reference nats-server unless $NATS_BUN_TEST_JS_SERVER names another.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jetStreamServerExecutable, runBenchCli, startServer, type TestServer } from "./harness.ts";

const executable = jetStreamServerExecutable();
if (executable === null) console.warn("SKIPPED bench JetStream integration tests: nats-server is not installed (or set NATS_BUN_TEST_JS_SERVER)");

describe.skipIf(executable === null)(`bench JetStream scenarios against ${executable} -js`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(executable as string, { jetstream: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const common = (msgs: number): string[] => ["-s", server.url, "--msgs", String(msgs), "--json", "--no-progress", "--timeout", "5s"];
  const group = (json: any, role: string): any => json.runs[0].groups.find((candidate: { role: string }) => candidate.role === role);

  test("js pub sync, async and batch store every message", async () => {
    const sync = await runBenchCli(["js", "pub", "sync", "js.it", "--stream", "ITSTREAM", "--storage", "memory", "--size", "64", ...common(300)]);
    expect(sync.code).toBe(0);
    expect(sync.json.runs[0].notes.join(" ")).toContain('Created stream "ITSTREAM"');
    expect(group(sync.json, "publisher")).toMatchObject({ msgs: 300, bytes: 300 * 64 });
    expect(group(sync.json, "publisher").latency.count).toBe(300);
    const async = await runBenchCli(["js", "pub", "async", "js.it", "--stream", "ITSTREAM", "--batch", "50", ...common(1000)]);
    expect(async.code).toBe(0);
    expect(group(async.json, "publisher").msgs).toBe(1000);
    expect(group(async.json, "publisher").latency.count).toBe(1000);
    const batch = await runBenchCli(["js", "pub", "batch", "js.it", "--stream", "ITSTREAM", "--batch", "100", "--clients", "2", ...common(1000)]);
    expect(batch.code).toBe(0);
    expect(group(batch.json, "publisher").msgs).toBe(1000);
    // Latency per batch: 500 messages per client in batches of 100.
    expect(group(batch.json, "publisher").latency.count).toBe(10);
  });

  test("js consume, fetch and ordered read the stream; js get reads by sequence", async () => {
    const published = await runBenchCli(["js", "pub", "async", "js.read", "--stream", "READ", "--purge", "--size", "32", ...common(1500)]);
    expect(published.code).toBe(0);
    for (const [what, clients, expected] of [["consume", "2", 1500], ["fetch", "2", 1500], ["ordered", "2", 3000]] as const) {
      const out = await runBenchCli(["js", what, "--stream", "READ", "--clients", clients, "--batch", "100", ...common(1500)]);
      expect(out.code).toBe(0);
      expect(out.json.runs[0].scenario).toBe(`js-${what}`);
      expect(group(out.json, "consumer").msgs).toBe(expected);
      expect(out.json.runs[0].missing).toBe(0);
    }
    const acksAll = await runBenchCli(["js", "consume", "--stream", "READ", "--acks", "all", "--batch", "100", ...common(1500)]);
    expect(group(acksAll.json, "consumer").msgs).toBe(1500);
    const get = await runBenchCli(["js", "get", "--stream", "READ", "--clients", "2", ...common(400)]);
    expect(get.code).toBe(0);
    expect(group(get.json, "getter")).toMatchObject({ msgs: 400, bytes: 400 * 32 });
    expect(group(get.json, "getter").latency.count).toBe(400);
  });

  test("reading more than the stream holds reads what is there", async () => {
    const out = await runBenchCli(["js", "fetch", "--stream", "ITSTREAM", ...common(1_000_000)]);
    expect(out.code).toBe(0);
    expect(group(out.json, "consumer").msgs).toBe(2300);
    expect(out.json.runs[0].notes.join(" ")).toContain("holds 2,300 messages");
  });

  test("a missing stream is a clear error", async () => {
    const out = await runBenchCli(["js", "consume", "--stream", "NOPE", ...common(10)]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('stream "NOPE" does not exist');
  });

  test("kv put then kv get", async () => {
    const put = await runBenchCli(["kv", "put", "--bucket", "ITKV", "--size", "100", "--clients", "2", ...common(500)]);
    expect(put.code).toBe(0);
    expect(group(put.json, "publisher")).toMatchObject({ msgs: 500, bytes: 50_000 });
    const get = await runBenchCli(["kv", "get", "--bucket", "ITKV", ...common(500)]);
    expect(get.code).toBe(0);
    expect(group(get.json, "getter")).toMatchObject({ msgs: 500, bytes: 50_000 });
    expect(get.json.runs[0].notes).toEqual([]);
  });

  test("legacy --js --pub --sub --pull runs a publisher, then a fetch", async () => {
    const out = await runBenchCli(["js.legacy", "--js", "--pub", "1", "--sub", "1", "--pull", "--stream", "LEGACY", ...common(600)]);
    expect(out.code).toBe(0);
    expect(out.json.runs.map((run: { scenario: string }) => run.scenario)).toEqual(["js-pub", "js-fetch"]);
    expect(out.json.runs[1].groups[0].msgs).toBe(600);
  });
});
