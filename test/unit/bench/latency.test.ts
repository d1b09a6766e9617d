import { describe, expect, test } from "bun:test";
import { OpenLoopSchedule } from "../../../src/cli/bench/clock.ts";
import { LatencyRecorder } from "../../../src/cli/bench/latency.ts";

/** HDR keeps 3 significant digits: values agree within 0.1 %. */
function near(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(expected * 0.001, 0.001));
}

describe("LatencyRecorder percentiles", () => {
  test("uniform 1..10000 µs", () => {
    const recorder = new LatencyRecorder();
    for (let us = 1; us <= 10_000; us += 1) recorder.recordNs(us * 1000);
    const summary = recorder.summary();
    if (summary === null) throw new Error("no summary");
    expect(summary.count).toBe(10_000);
    near(summary.minUs, 1);
    near(summary.maxUs, 10_000);
    near(summary.meanUs, 5000.5);
    near(summary.p50Us, 5000);
    near(summary.p90Us, 9000);
    near(summary.p99Us, 9900);
    near(summary.p999Us, 9990);
    near(summary.p9999Us, 9999);
    near(summary.stddevUs, 2886.75);
  });

  test("percentiles never exceed the max, and one outlier shows only in the tail", () => {
    const recorder = new LatencyRecorder();
    for (let index = 0; index < 999; index += 1) recorder.recordMs(0.05);
    recorder.recordMs(250);
    const summary = recorder.summary();
    if (summary === null) throw new Error("no summary");
    near(summary.p50Us, 50);
    near(summary.p99Us, 50);
    near(summary.p999Us, 50);
    near(summary.p9999Us, 250_000);
    near(summary.maxUs, 250_000);
  });

  test("negative latencies (clock skew) count as zero; empty recorder has no summary", () => {
    const recorder = new LatencyRecorder();
    expect(recorder.summary()).toBeNull();
    recorder.recordMs(-3);
    expect(recorder.summary()?.minUs).toBe(0);
    expect(recorder.count).toBe(1);
  });

  test("merge adds distributions", () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    for (let index = 0; index < 100; index += 1) a.recordNs(1000);
    for (let index = 0; index < 100; index += 1) b.recordNs(3000);
    a.merge(b);
    expect(a.count).toBe(200);
    near(a.summary()?.meanUs ?? 0, 2);
    near(a.percentileNs(25), 1000);
    near(a.percentileNs(75), 3000);
  });
});

/**
 * A synthetic run: a publisher meant to send one message per millisecond for one second,
 * against a server that answers in 0.1 ms except for a 100 ms stall starting at 500 ms.
 * While stalled the publisher is blocked (it cannot send), the classic setting of
 * coordinated omission.
 */
function simulate(measureFromIntended: boolean): LatencyRecorder {
  const ratePerSec = 1000;
  const serviceMs = 0.1;
  const stallStartMs = 500;
  const stallEndMs = 600;
  const schedule = new OpenLoopSchedule(0, ratePerSec);
  const recorder = new LatencyRecorder();
  let clockMs = 0;
  for (let index = 0; index < 1000; index += 1) {
    const intended = schedule.intendedMs(index);
    clockMs = Math.max(clockMs, intended);
    const sentAt = clockMs;
    let doneAt = sentAt + serviceMs;
    if (sentAt >= stallStartMs && sentAt < stallEndMs) doneAt = stallEndMs + serviceMs;
    clockMs = doneAt;
    recorder.recordMs(doneAt - (measureFromIntended ? intended : sentAt));
  }
  return recorder;
}

describe("coordinated-omission correction", () => {
  test("measuring from the actual send time hides the stall below p99.9", () => {
    const naive = simulate(false).summary();
    if (naive === null) throw new Error("no summary");
    near(naive.p50Us, 100);
    near(naive.p99Us, 100);
    near(naive.maxUs, 100_100);
  });

  test("measuring from the intended send time charges every message the stall delayed", () => {
    const corrected = simulate(true).summary();
    if (corrected === null) throw new Error("no summary");
    near(corrected.p50Us, 100);
    // ~100 of 1000 messages were due during the stall: the top 10 % wait 0…100 ms.
    expect(corrected.p90Us).toBeGreaterThan(100);
    expect(corrected.p99Us).toBeGreaterThan(85_000);
    near(corrected.maxUs, 100_100);
  });

  test("closed-loop correction with an expected interval back-fills the missing samples", () => {
    const recorder = new LatencyRecorder();
    for (let index = 0; index < 900; index += 1) recorder.recordNsCorrected(100_000, 1_000_000);
    recorder.recordNsCorrected(100_000_000, 1_000_000);
    // 100 ms at an expected 1 ms interval also stands for 99 samples of 99, 98, … 1 ms.
    expect(recorder.count).toBe(1000);
    expect(recorder.percentileNs(99) / 1e6).toBeGreaterThan(85);
  });
});

describe("OpenLoopSchedule", () => {
  test("intended times and how many are due", () => {
    const schedule = new OpenLoopSchedule(1000, 500);
    expect(schedule.intendedMs(0)).toBe(1000);
    expect(schedule.intendedMs(10)).toBe(1020);
    expect(schedule.dueBy(999)).toBe(0);
    expect(schedule.dueBy(1000)).toBe(1);
    expect(schedule.dueBy(1019.9)).toBe(10);
    expect(schedule.dueBy(1020)).toBe(11);
    expect(() => new OpenLoopSchedule(0, 0)).toThrow();
  });
});
