// Bounded waiting for the receiving side: a subscriber gives up after `idleTimeoutMs`
// without a delivery, instead of hanging when messages were lost or no publisher came.
import { nowMs } from "../clock.ts";

/** How often the watch looks; coarse on purpose, it only has to end a stuck run. */
const idleCheckIntervalMs = 100;

export class IdleWatch {
  #lastActivityMs = nowMs();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(idleTimeoutMs: number, onIdle: () => void) {
    this.#timer = setInterval(() => {
      if (nowMs() - this.#lastActivityMs > idleTimeoutMs) {
        this.stop();
        onIdle();
      }
    }, idleCheckIntervalMs);
  }

  /** Called on progress; cheap on purpose (one store), the check runs on the timer. */
  touch(atMs: number): void {
    this.#lastActivityMs = atMs;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
