// JetStream and KV scenarios of `nats-bun bench` against servers with JetStream enabled
// (`-js -sd <tmp>`): ours (dist/) and the reference nats-server, or $NATS_BUN_TEST_JS_SERVER.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { jetStreamServerExecutables, runBenchCli, startServer, type TestServer } from "./harness.ts";

const executables = jetStreamServerExecutables();
if (executables.length === 0) console.warn("SKIPPED bench JetStream integration tests: no dist/ build and no nats-server (or set NATS_BUN_TEST_JS_SERVER)");

describe.each(executables)("bench JetStream scenarios against %s -js", (executable) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(executable, { jetstream: true });
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
  test("js pub sync, async and batch with --client raw store every message", async () => {
    const sync = await runBenchCli(["js", "pub", "sync", "js.raw", "--client", "raw", "--stream", "RAW", "--storage", "memory", "--size", "64", ...common(300)]);
    expect(sync.code).toBe(0);
    expect(sync.json.runs[0].notes.join(" ")).toContain('Created stream "RAW"');
    expect(group(sync.json, "publisher")).toMatchObject({ msgs: 300, bytes: 300 * 64 });
    expect(group(sync.json, "publisher").latency.count).toBe(300);
    const async = await runBenchCli(["js", "pub", "async", "js.raw", "--client", "raw", "--stream", "RAW", "--size", "64", "--batch", "64", "--clients", "2", ...common(5000)]);
    expect(async.code).toBe(0);
    expect(group(async.json, "publisher")).toMatchObject({ msgs: 5000, bytes: 5000 * 64 });
    expect(group(async.json, "publisher").latency.count).toBe(5000);
    const batch = await runBenchCli(["js", "pub", "batch", "js.raw", "--client", "raw", "--stream", "RAW", "--size", "64", "--batch", "100", ...common(1000)]);
    expect(batch.code).toBe(0);
    expect(group(batch.json, "publisher").msgs).toBe(1000);
    expect(group(batch.json, "publisher").latency.count).toBe(10);
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info("RAW");
      expect(info.state.messages).toBe(6300);
      expect(info.state.last_seq).toBe(6300);
      const first = await jsm.streams.getMessage("RAW", { seq: 1 });
      if (first === null) throw new Error("RAW has no message 1");
      expect(first.subject).toBe("js.raw");
      expect(first.data.length).toBe(64);
      expect(new TextDecoder().decode(first.data.subarray(0, 4))).toBe("NBts");
    } finally {
      await nc.close();
    }
  });

  test("js pub --client raw --multisubject spreads over <subject>.<n>", async () => {
    const out = await runBenchCli(["js", "pub", "async", "js.rawm", "--client", "raw", "--multisubject", "--multisubjectmax", "10", "--stream", "RAWM", "--storage", "memory", "--size", "16", ...common(100)]);
    expect(out.code).toBe(0);
    const nc = await connect({ servers: server.url });
    try {
      const info = await (await jetstreamManager(nc)).streams.info("RAWM", { subjects_filter: ">" });
      expect(info.config.subjects).toEqual(["js.rawm.>"]);
      expect(info.state.subjects).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`js.rawm.${index}`, 10])));
    } finally {
      await nc.close();
    }
  });

  test("js pub --client raw fails clearly on an error ack and when no stream listens", async () => {
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: "LIMITED", subjects: ["js.limited"], max_msgs: 10, discard: DiscardPolicy.New });
    } finally {
      await nc.close();
    }
    const full = await runBenchCli(["js", "pub", "async", "js.limited", "--client", "raw", "--stream", "LIMITED", ...common(50)]);
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('publish to "js.limited" (message 10) failed: JetStream error 503 (err_code 10077): maximum messages exceeded');
    const nobody = await runBenchCli(["js", "pub", "sync", "js.nobody", "--client", "raw", "--stream", "LIMITED", ...common(5)]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('publish to "js.nobody" (message 0) failed: no responders (503)');
    const reader = await runBenchCli(["js", "fetch", "--client", "raw", "--stream", "LIMITED", ...common(5)]);
    expect(reader.code).toBe(2);
    expect(reader.stderr).toContain("js fetch runs on the official client only");
  });
});
