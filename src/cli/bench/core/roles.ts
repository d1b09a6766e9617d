// The two roles of a core pub/sub run, whatever client drives them (raw bytes or the
// official client). Scenarios talk to these interfaces only.
import type { LatencyRecorder } from "../latency.ts";
import type { Sample } from "../stats.ts";

export interface PublishPlan {
  /** Messages this publisher sends. */
  count: number;
  /** Sequence of its first message (for --multisubject suffixes). */
  firstSeq: number;
  /** Open loop: this publisher's share of --rate, msgs/s; 0 = closed loop. */
  ratePerSec: number;
  /** Called with the number of messages just handed to the connection. */
  onProgress: (messages: number) => void;
}

export interface CorePublisher {
  readonly sample: Sample;
  /** Publishes the plan, then flushes (PING/PONG) before stopping the clock. */
  publish(plan: PublishPlan): Promise<void>;
  close(): Promise<void>;
}

export interface CoreSubscriber {
  readonly sample: Sample;
  /** End-to-end latencies read from payload timestamps. */
  readonly e2e: LatencyRecorder;
  /** Resolves when the expected count was reached or the idle timeout fired. */
  readonly finished: Promise<void>;
  close(): Promise<void>;
}

/**
 * How many messages subscribers wait for. Without a queue group every subscriber gets every
 * message; in a queue group the members share `expected` between them.
 */
export class Expectation {
  readonly expected: number;
  readonly shared: boolean;
  received = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(expected: number, shared: boolean) {
    this.expected = expected;
    this.shared = shared;
  }

  /** Counts one delivery for the group; true once the group has seen everything. */
  countGroup(): boolean {
    this.received += 1;
    if (this.received === this.expected) for (const resolve of this.#waiters.splice(0)) resolve();
    return this.received >= this.expected;
  }

  /** Resolves when a shared expectation is met (queue groups). */
  whenMet(): Promise<void> {
    if (this.received >= this.expected) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
