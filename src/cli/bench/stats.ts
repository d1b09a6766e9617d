// Throughput bookkeeping, shaped after natscli's internal/bench/stats.go: one Sample per
// client, grouped per role (publishers, subscribers, …); a group's rate runs from its first
// client's start to its last client's end.
import { LatencyRecorder, type LatencySummary } from "./latency.ts";
import type { BenchRun } from "./options.ts";

export type Role = "publisher" | "subscriber" | "requester" | "responder" | "consumer" | "getter";

/** CSV client-id prefix, as natscli: P for writers, S for readers. */
export const rolePrefix: Record<Role, string> = {
  publisher: "P", subscriber: "S", requester: "P", responder: "S", consumer: "S", getter: "S",
};

export class Sample {
  readonly id: string;
  msgs = 0;
  bytes = 0;
  startMs = 0;
  endMs = 0;
  /**
   * What this client measured: per-operation latency for writers (request round trip, JS
   * ack, get), end-to-end publish→deliver latency for subscribers and consumers.
   */
  readonly latency = new LatencyRecorder();

  constructor(id: string) {
    this.id = id;
  }

  get durationSec(): number {
    return Math.max(this.endMs - this.startMs, 0) / 1000;
  }

  get msgsPerSec(): number {
    return this.durationSec > 0 ? this.msgs / this.durationSec : 0;
  }

  get bytesPerSec(): number {
    return this.durationSec > 0 ? this.bytes / this.durationSec : 0;
  }
}

export interface RateSpread {
  min: number;
  avg: number;
  max: number;
  stddev: number;
}

export function rateSpread(samples: readonly Sample[]): RateSpread {
  if (samples.length === 0) return { min: 0, avg: 0, max: 0, stddev: 0 };
  const rates = samples.map((sample) => sample.msgsPerSec);
  const avg = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
  const variance = rates.reduce((sum, rate) => sum + (rate - avg) ** 2, 0) / rates.length;
  return { min: Math.min(...rates), avg, max: Math.max(...rates), stddev: Math.sqrt(variance) };
}

/** What a group's latency measures: publish→deliver (payload timestamps) or one operation. */
export type LatencyKind = "end-to-end" | "operation";

export class SampleGroup {
  readonly role: Role;
  readonly latencyKind: LatencyKind;
  readonly samples: Sample[] = [];

  /** Readers measure end to end by default, writers per operation. */
  constructor(role: Role, latencyKind?: LatencyKind) {
    this.role = role;
    this.latencyKind = latencyKind ?? (role === "subscriber" || role === "consumer" ? "end-to-end" : "operation");
  }

  add(sample: Sample): void {
    this.samples.push(sample);
  }

  get msgs(): number {
    return this.samples.reduce((sum, sample) => sum + sample.msgs, 0);
  }

  get bytes(): number {
    return this.samples.reduce((sum, sample) => sum + sample.bytes, 0);
  }

  get startMs(): number {
    return Math.min(...this.samples.map((sample) => sample.startMs));
  }

  get endMs(): number {
    return Math.max(...this.samples.map((sample) => sample.endMs));
  }

  get durationSec(): number {
    return this.samples.length === 0 ? 0 : Math.max(this.endMs - this.startMs, 0) / 1000;
  }

  get msgsPerSec(): number {
    return this.durationSec > 0 ? this.msgs / this.durationSec : 0;
  }

  get bytesPerSec(): number {
    return this.durationSec > 0 ? this.bytes / this.durationSec : 0;
  }

  /** Latency over all clients of the group; null when none was recorded. */
  latency(): LatencySummary | null {
    const merged = new LatencyRecorder();
    for (const sample of this.samples) merged.merge(sample.latency);
    return merged.summary();
  }
}

/** Everything one run produced; turned into text, CSV and JSON by output/. */
export interface RunResult {
  run: BenchRun;
  /** Title as natscli prints it before the role, e.g. "Core NATS" → "Core NATS publisher". */
  title: string;
  groups: SampleGroup[];
  /** True when latency is measured from intended send times (open loop, --rate). */
  openLoop: boolean;
  /** Messages the waiting side expected but did not see before its timeout. */
  missing: number;
  /** Scenario notes for the person reading (e.g. "stream created"). */
  notes: string[];
  /**
   * CPU seconds (user + system) this load process used during the run, setup included, set
   * by main.ts: next to the server's CPU it tells whether the client or the server limited
   * the rate.
   */
  cpuSec?: number;
}
