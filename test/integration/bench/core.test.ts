// Core scenarios of `nats-bun bench` against a freshly started server (see harness.ts for
// which one), in short bounded runs: counts, exit codes and the shape of the output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { coreServerExecutable, finishBench, runBenchCli, spawnBench, startServer, type TestServer } from "./harness.ts";

const executable = coreServerExecutable();
if (executable === null) console.warn("SKIPPED bench core integration tests: no server (set NATS_BUN_TEST_SERVER, build dist/, or install nats-server)");

const msgs = 2000;

describe.skipIf(executable === null)(`bench core scenarios against ${executable}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(executable as string);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const common = (): string[] => ["-s", server.url, "--msgs", String(msgs), "--json", "--no-progress", "--timeout", "5s"];

  function group(json: any, role: string): any {
    return json.runs[0].groups.find((candidate: { role: string }) => candidate.role === role);
  }

  test("pub: every message published and flushed", async () => {
    const out = await runBenchCli(["pub", "it.pub", "--size", "16", ...common()]);
    expect(out.code).toBe(0);
    expect(out.json.tool).toBe("nats-bun bench");
    expect(out.json.runs).toHaveLength(1);
    const publishers = group(out.json, "publisher");
    expect(publishers).toMatchObject({ clients: 1, msgs, bytes: msgs * 16, latencyKind: "operation" });
    expect(publishers.msgsPerSec).toBeGreaterThan(0);
    expect(out.stderr).toContain("Starting Core NATS publisher benchmark");
  });

  test("pubsub (raw client): every subscriber gets every message, with end-to-end latency", async () => {
    const out = await runBenchCli(["pubsub", "it.pubsub", "--pubs", "2", "--subs", "2", "--size", "128", ...common()]);
    expect(out.code).toBe(0);
    const [publishers, subscribers] = [group(out.json, "publisher"), group(out.json, "subscriber")];
    expect(publishers.msgs).toBe(msgs);
    expect(publishers.perClient.map((client: { msgs: number }) => client.msgs)).toEqual([msgs / 2, msgs / 2]);
    expect(subscribers.msgs).toBe(2 * msgs);
    expect(subscribers.latencyKind).toBe("end-to-end");
    expect(subscribers.latency.count).toBe(2 * msgs);
    expect(subscribers.latency.p99Us).toBeGreaterThan(0);
    expect(out.json.runs[0].missing).toBe(0);
  });

  test("pubsub (official client)", async () => {
    const out = await runBenchCli(["pubsub", "it.official", "--client", "official", "--size", "64", ...common()]);
    expect(out.code).toBe(0);
    expect(out.json.runs[0].config.client).toBe("official");
    expect(group(out.json, "subscriber").msgs).toBe(msgs);
    expect(group(out.json, "subscriber").latency.count).toBe(msgs);
  });

  test("payloads smaller than the timestamp skip end-to-end latency", async () => {
    const out = await runBenchCli(["pubsub", "it.tiny", "--size", "8", ...common()]);
    expect(out.code).toBe(0);
    expect(group(out.json, "subscriber").msgs).toBe(msgs);
    expect(group(out.json, "subscriber").latency).toBeNull();
  });

  test("queue group of 4 shares the messages", async () => {
    const out = await runBenchCli(["pubsub", "it.queue", "--subs", "4", "--queue", "workers", "--size", "16", ...common()]);
    expect(out.code).toBe(0);
    const subscribers = group(out.json, "subscriber");
    expect(subscribers.clients).toBe(4);
    expect(subscribers.msgs).toBe(msgs);
  });

  test("multisubject publishers reach a wildcard subscriber", async () => {
    const out = await runBenchCli(["pubsub", "it.multi", "--multisubject", "--multisubjectmax", "7", "--size", "32", ...common()]);
    expect(out.code).toBe(0);
    expect(group(out.json, "subscriber").msgs).toBe(msgs);
  });

  test("open loop at a fixed rate measures latency from intended send times", async () => {
    const out = await runBenchCli(["pubsub", "it.rate", "--rate", "20000", "--size", "16", ...common()]);
    expect(out.code).toBe(0);
    const run = out.json.runs[0];
    expect(run.openLoop).toBe(true);
    const publishers = group(out.json, "publisher");
    // 2,000 messages at 20,000/s take at least ~0.1 s.
    expect(publishers.durationSec).toBeGreaterThan(0.09);
    expect(publishers.msgsPerSec).toBeLessThan(30_000);
    expect(group(out.json, "subscriber").latency.count).toBe(msgs);
    expect(out.stdout.length).toBeGreaterThan(0);
  });

  test("sub and pub as two processes, as nats bench users run them", async () => {
    const subscriber = spawnBench(["sub", "it.split", ...common()]);
    await subscriber.waitForStderr("Waiting for", 10_000);
    const publisher = await runBenchCli(["pub", "it.split", "--size", "16", ...common()]);
    expect(publisher.code).toBe(0);
    const out = await finishBench(subscriber, 20_000);
    expect(out.code).toBe(0);
    expect(group(out.json, "subscriber").msgs).toBe(msgs);
    expect(group(out.json, "subscriber").latency.count).toBe(msgs);
  });

  test("a subscriber without publisher gives up after its timeout and reports what is missing", async () => {
    const out = await runBenchCli(["sub", "it.nobody", "-s", server.url, "--msgs", "10", "--json", "--no-progress", "--timeout", "300ms"]);
    expect(out.code).toBe(1);
    expect(out.json.runs[0].missing).toBe(10);
  });

  test("service both: every request answered, round trip per request", async () => {
    const out = await runBenchCli(["service", "both", "it.svc", "--clients", "2", "--responders", "2", "--size", "16", ...common()]);
    expect(out.code).toBe(0);
    const requesters = group(out.json, "requester");
    expect(requesters.msgs).toBe(msgs);
    expect(requesters.latency.count).toBe(msgs);
    expect(group(out.json, "responder").msgs).toBe(msgs);
  });

  test("service both with the raw client, closed and open loop", async () => {
    const closed = await runBenchCli(["service", "both", "it.rawsvc", "--client", "raw", "--clients", "2", "--responders", "3", "--size", "16", ...common()]);
    expect(closed.code).toBe(0);
    expect(closed.json.runs[0].config.client).toBe("raw");
    expect(group(closed.json, "requester")).toMatchObject({ msgs, bytes: msgs * 16 });
    expect(group(closed.json, "requester").latency.count).toBe(msgs);
    expect(group(closed.json, "responder").msgs).toBe(msgs);
    const open = await runBenchCli(["service", "both", "it.rawsvc", "--client", "raw", "--rate", "20000", "--size", "32", ...common()]);
    expect(open.code).toBe(0);
    expect(open.json.runs[0].openLoop).toBe(true);
    expect(group(open.json, "requester").latency.count).toBe(msgs);
    expect(group(open.json, "requester").durationSec).toBeGreaterThan(0.09);
  });

  test("raw responder answers official requesters and the other way round", async () => {
    const responder = spawnBench(["service", "serve", "it.mixed", "--client", "raw", ...common()]);
    await responder.waitForStderr("Serving", 10_000);
    const requester = await runBenchCli(["service", "request", "it.mixed", "--size", "64", ...common()]);
    expect(requester.code).toBe(0);
    expect(group(requester.json, "requester").msgs).toBe(msgs);
    expect(group((await finishBench(responder, 20_000)).json, "responder").msgs).toBe(msgs);
    const official = spawnBench(["service", "serve", "it.mixed2", ...common()]);
    await official.waitForStderr("Serving", 10_000);
    const rawRequester = await runBenchCli(["service", "request", "it.mixed2", "--client", "raw", "--size", "64", ...common()]);
    expect(rawRequester.code).toBe(0);
    expect(group(rawRequester.json, "requester").latency.count).toBe(msgs);
    expect((await finishBench(official, 20_000)).code).toBe(0);
  });

  test("service serve and service request as two processes", async () => {
    const responder = spawnBench(["service", "serve", "it.svc2", ...common()]);
    await responder.waitForStderr("Serving", 10_000);
    const requester = await runBenchCli(["service", "request", "it.svc2", ...common()]);
    expect(requester.code).toBe(0);
    expect(group(requester.json, "requester").latency.count).toBe(msgs);
    const out = await finishBench(responder, 20_000);
    expect(out.code).toBe(0);
    expect(group(out.json, "responder").msgs).toBe(msgs);
  });

  test("legacy spelling and CSV output", async () => {
    const csv = join(tmpdir(), `nats-bun-bench-${process.pid}.csv`);
    try {
      const out = await runBenchCli(["it.legacy", "--pub", "1", "--sub", "2", "--csv", csv, ...common()]);
      expect(out.code).toBe(0);
      expect(out.json.runs[0].scenario).toBe("pubsub");
      const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
      expect(lines[0]).toStartWith("#RunID, ClientID, MsgCount");
      expect(lines.slice(1).map((line) => line.split(",").slice(1, 3))).toEqual([["P0", String(msgs)], ["S0", String(msgs)], ["S1", String(msgs)]]);
    } finally {
      rmSync(csv, { force: true });
    }
  });

  test("human-readable summary without --json", async () => {
    const out = await runBenchCli(["pubsub", "it.human", "-s", server.url, "--msgs", "500", "--no-progress"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Starting Core NATS publish-subscribe benchmark/);
    expect(out.stdout).toMatch(/NATS Core NATS publisher stats: [\d,]+ msgs\/sec ~ /);
    expect(out.stdout).toMatch(/NATS Core NATS subscriber stats: [\d,]+ msgs\/sec ~ /);
    expect(out.stdout).toMatch(/End-to-end latency \(publish→deliver\) \(500 samples, µs\): min [\d.,]+ \| avg/);
  });
});

describe("bench errors", () => {
  test("bad arguments exit 2 with a message", async () => {
    const out = await runBenchCli(["pub", "x", "--size", "12XB"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("invalid size");
  });
  test("an unreachable server exits 1", async () => {
    const out = await runBenchCli(["pub", "x", "-s", "nats://127.0.0.1:1", "--msgs", "10", "--no-progress"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("pub on nats://127.0.0.1:1 failed");
  });
});
