// Time for the load tool, and the end-to-end timestamp publishers write into payloads.
//
// Timestamps are epoch milliseconds as a float64 (`performance.timeOrigin + performance.now()`):
// one clock for publisher and subscriber in the same process, and comparable between two
// processes on the same machine (both anchor to the system clock at start). A float64 of
// ~1.7e12 ms keeps sub-microsecond resolution. Reading it allocates nothing, unlike the
// BigInt of process.hrtime.bigint().

/** Epoch milliseconds with sub-microsecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Payload timestamp layout (little endian), written at the start of the payload:
 *   bytes 0..3   magic "NBts" — so payloads of other publishers (nats bench, zero fill) are
 *                not mistaken for timestamps
 *   bytes 4..11  float64 epoch milliseconds of the (intended) send time
 * Payloads shorter than `timestampBytes` carry no timestamp and skip end-to-end latency.
 */
export const timestampBytes = 12;
const magic = [0x4e, 0x42, 0x74, 0x73] as const; // "NBts"

/** Writes the magic once; the time is patched per message with `writeTimestamp`. */
export function writeTimestampMagic(target: Uint8Array, offset: number): void {
  target[offset] = magic[0];
  target[offset + 1] = magic[1];
  target[offset + 2] = magic[2];
  target[offset + 3] = magic[3];
}

/** `view` must cover `target`'s buffer (reuse one DataView per buffer: no allocation per call). */
export function writeTimestamp(view: DataView, offset: number, epochMs: number): void {
  view.setFloat64(offset + 4, epochMs, true);
}

/** Reads the timestamp from a payload prefix of at least `timestampBytes`; NaN when absent. */
export function readTimestamp(prefix: Uint8Array, view: DataView, offset: number): number {
  if (prefix[offset] !== magic[0] || prefix[offset + 1] !== magic[1] || prefix[offset + 2] !== magic[2] || prefix[offset + 3] !== magic[3]) {
    return Number.NaN;
  }
  return view.getFloat64(offset + 4, true);
}

/**
 * Open-loop schedule: message `index` is *intended* to leave at `startMs + index / rate`.
 * Latency is measured from that intended time, not from when the publisher got round to
 * sending it — the coordinated-omission correction: when the publisher (or the server
 * pushing back on it) stalls, every message that should have gone out during the stall is
 * charged the wait, instead of the stall vanishing from the numbers.
 */
export class OpenLoopSchedule {
  readonly #startMs: number;
  readonly #intervalMs: number;

  constructor(startMs: number, ratePerSec: number) {
    if (!(ratePerSec > 0)) throw new Error(`OpenLoopSchedule: rate must be positive, got ${ratePerSec}`);
    this.#startMs = startMs;
    this.#intervalMs = 1000 / ratePerSec;
  }

  intendedMs(index: number): number {
    return this.#startMs + index * this.#intervalMs;
  }

  /** How many messages are due by `atMs` (messages 0 … due-1 should have left). */
  dueBy(atMs: number): number {
    if (atMs < this.#startMs) return 0;
    return Math.floor((atMs - this.#startMs) / this.#intervalMs) + 1;
  }
}

/** Resolves after `ms` (a timer, for pacing open-loop publishers; never for waiting on events). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
