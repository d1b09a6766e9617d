// Latency recording in an HDR histogram (hdr-histogram-js): constant memory whatever the
// number of samples, 3 significant digits, and exact enough tails (p99.99) — unlike natscli,
// which keeps every sample in an array and takes nearest-rank percentiles.
import { build, type Histogram } from "hdr-histogram-js";

/** Percentiles every summary reports. */
export const reportedPercentiles = [50, 90, 99, 99.9, 99.99] as const;

/** A latency distribution in microseconds, as printed and as written to JSON/CSV. */
export interface LatencySummary {
  count: number;
  minUs: number;
  meanUs: number;
  maxUs: number;
  stddevUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  p9999Us: number;
}

/** 1 hour in ns: anything slower is clamped, a run that slow has failed anyway. */
const highestTrackableNs = 3_600_000_000_000;

export class LatencyRecorder {
  readonly #histogram: Histogram;

  constructor() {
    // Pure-JS histogram (no WebAssembly): recording is a few array operations per sample.
    this.#histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: highestTrackableNs,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
      bitBucketSize: 32,
    });
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Records one latency in nanoseconds. Negative values (clock skew between processes) count as 0. */
  recordNs(ns: number): void {
    this.#histogram.recordValue(ns <= 0 ? 0 : ns >= highestTrackableNs ? highestTrackableNs : Math.round(ns));
  }

  recordMs(ms: number): void {
    this.recordNs(ms * 1_000_000);
  }

  /**
   * Closed-loop correction (HdrHistogram's recordValueWithExpectedInterval): a sample longer
   * than the expected interval between samples also stands for the samples that could not be
   * taken while it lasted.
   */
  recordNsCorrected(ns: number, expectedIntervalNs: number): void {
    const value = ns <= 0 ? 0 : ns >= highestTrackableNs ? highestTrackableNs : Math.round(ns);
    this.#histogram.recordValueWithExpectedInterval(value, Math.max(1, Math.round(expectedIntervalNs)));
  }

  merge(other: LatencyRecorder): void {
    this.#histogram.add(other.#histogram);
  }

  percentileNs(percentile: number): number {
    return this.#histogram.getValueAtPercentile(percentile);
  }

  summary(): LatencySummary | null {
    const h = this.#histogram;
    if (h.totalCount === 0) return null;
    const us = (ns: number): number => Math.round(ns) / 1000;
    // HDR reports the highest value equivalent to a bucket, which can exceed the true max.
    const at = (percentile: number): number => us(Math.min(h.getValueAtPercentile(percentile), h.maxValue));
    return {
      count: h.totalCount,
      minUs: us(h.getValueAtPercentile(0)),
      meanUs: us(h.mean),
      maxUs: us(h.maxValue),
      stddevUs: us(h.stdDeviation),
      p50Us: at(50),
      p90Us: at(90),
      p99Us: at(99),
      p999Us: at(99.9),
      p9999Us: at(99.99),
    };
  }
}
