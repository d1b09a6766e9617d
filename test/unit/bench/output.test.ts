import { describe, expect, test } from "bun:test";
import { csvHeader, formatCsv } from "../../../src/cli/bench/output/csv.ts";
import { jsonSummary } from "../../../src/cli/bench/output/json.ts";
import { formatReport } from "../../../src/cli/bench/output/report.ts";
import { defaultRun, shareOut } from "../../../src/cli/bench/options.ts";
import { Sample, SampleGroup, rateSpread, type RunResult } from "../../../src/cli/bench/stats.ts";

function sample(id: string, msgs: number, seconds: number, latencyMs: number[] = []): Sample {
  const result = new Sample(id);
  result.msgs = msgs;
  result.bytes = msgs * 16;
  result.startMs = 1000;
  result.endMs = 1000 + seconds * 1000;
  for (const ms of latencyMs) result.latency.recordMs(ms);
  return result;
}

function pubsubResult(): RunResult {
  const publishers = new SampleGroup("publisher");
  publishers.add(sample("P0", 1000, 1));
  publishers.add(sample("P1", 1000, 2));
  const subscribers = new SampleGroup("subscriber");
  subscribers.add(sample("S0", 2000, 2, [0.1, 0.2, 0.3]));
  const run = defaultRun("pubsub", "foo");
  run.msgs = 2000;
  run.sizeBytes = 16;
  return { run, title: "Core NATS", groups: [publishers, subscribers], openLoop: false, missing: 0, notes: ["a note"] };
}

describe("stats", () => {
  test("group rate runs from the first start to the last end", () => {
    const [publishers] = pubsubResult().groups;
    expect(publishers.msgs).toBe(2000);
    expect(publishers.durationSec).toBe(2);
    expect(publishers.msgsPerSec).toBe(1000);
    expect(publishers.bytesPerSec).toBe(16_000);
    expect(rateSpread(publishers.samples)).toEqual({ min: 500, avg: 750, max: 1000, stddev: 250 });
  });
  test("shareOut gives the remainder to the first clients", () => {
    expect(shareOut(10, 3)).toEqual([4, 3, 3]);
    expect(shareOut(2, 4)).toEqual([1, 1, 0, 0]);
  });
});

describe("CSV", () => {
  test("natscli columns, one row per client, P for writers and S for readers", () => {
    const lines = formatCsv([{ runId: "run1", result: pubsubResult() }]).trimEnd().split("\n");
    expect(lines[0]).toBe(csvHeader);
    expect(lines[0].startsWith("#RunID, ClientID, MsgCount, MsgBytes, MsgsPerSec, BytesPerSec, DurationSecs")).toBe(true);
    const columns = lines[0].split(", ").length;
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(1)) expect(line.split(",")).toHaveLength(columns);
    expect(lines[1].split(",").slice(0, 7)).toEqual(["run1", "P0", "1000", "16000", "1000", "16000", "1.000000"]);
    expect(lines[2].split(",")[1]).toBe("P1");
    const subscriberRow = lines[3].split(",");
    expect(subscriberRow[1]).toBe("S0");
    expect(Number(subscriberRow[7])).toBeCloseTo(100, 0);
    expect(Number(subscriberRow[9])).toBeCloseTo(300, 0);
    expect(lines[1].split(",")[7]).toBe("");
  });
});

describe("JSON", () => {
  test("summary shape", () => {
    const summary = JSON.parse(JSON.stringify(jsonSummary(new Date(0), [{ runId: "r", result: pubsubResult() }])));
    expect(summary.tool).toBe("nats-bun bench");
    expect(summary.startedAt).toBe("1970-01-01T00:00:00.000Z");
    expect(summary.runs).toHaveLength(1);
    const [run] = summary.runs;
    expect(run).toMatchObject({ runId: "r", scenario: "pubsub", title: "Core NATS", openLoop: false, missing: 0, notes: ["a note"] });
    expect(run.cpuSec).toBeNull();
    expect(jsonSummary(new Date(0), [{ runId: "r", result: { ...pubsubResult(), cpuSec: 1.23456 } }]).runs[0].cpuSec).toBe(1.235);
    expect(run.config).toMatchObject({ subject: "foo", msgs: 2000, sizeBytes: 16, client: "raw" });
    expect(run.groups.map((group: { role: string }) => group.role)).toEqual(["publisher", "subscriber"]);
    const [publishers, subscribers] = run.groups;
    expect(publishers).toMatchObject({ latencyKind: "operation", clients: 2, msgs: 2000, bytes: 32000, durationSec: 2, msgsPerSec: 1000, latency: null });
    expect(publishers.clientRates).toEqual({ min: 500, avg: 750, max: 1000, stddev: 250 });
    expect(publishers.perClient.map((client: { id: string }) => client.id)).toEqual(["P0", "P1"]);
    expect(subscribers.latencyKind).toBe("end-to-end");
    expect(Object.keys(subscribers.latency).sort()).toEqual(["count", "maxUs", "meanUs", "minUs", "p50Us", "p90Us", "p9999Us", "p999Us", "p99Us", "stddevUs"]);
    expect(subscribers.latency.count).toBe(3);
  });
});

describe("report", () => {
  test("natscli-style lines", () => {
    const report = formatReport({ ...pubsubResult(), missing: 5 });
    const lines = report.split("\n");
    expect(lines[0]).toMatch(/^NATS Core NATS publisher aggregated stats: 1,000 msgs\/sec ~ 16 KiB\/sec/);
    expect(lines[1]).toMatch(/^ \[1\] 1,000 msgs\/sec/);
    expect(lines[2]).toMatch(/^ \[2\] 500 msgs\/sec/);
    expect(lines[3]).toBe(" message rates min 500 | avg 750 | max 1,000 | stddev 250 msgs");
    expect(lines[4]).toMatch(/^NATS Core NATS subscriber stats: 1,000 msgs\/sec/);
    expect(lines[5]).toMatch(/^ End-to-end latency \(publish→deliver\) \(3 samples, µs\): min 100 \| avg 200 \| P50 200/);
    expect(report).toContain("WARNING: 5 expected messages were not received");
    expect(report).toContain("a note");
  });
});
