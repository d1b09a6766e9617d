// Giving the event loop a turn, and waiting for an open-loop send time precisely.
import { delay, nowMs } from "../clock.ts";

/** Lets pending I/O (PONGs, deliveries to subscribers in this process, the progress bar) run. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Timers fire ~1 ms late in Bun: sleep until this close to the target, then spin on setImmediate. */
const timerSlackMs = 1.5;

/**
 * Resolves at `targetMs` (epoch ms) give or take a few microseconds. The last stretch spins
 * with setImmediate, which keeps serving I/O, so a paced publisher does not add the timer's
 * millisecond of lateness to every latency it measures.
 */
export async function waitUntil(targetMs: number): Promise<void> {
  const remaining = targetMs - nowMs();
  if (remaining > timerSlackMs + 0.5) await delay(remaining - timerSlackMs);
  while (nowMs() < targetMs) await yieldToLoop();
}
