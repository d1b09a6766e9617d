// A bound on operations in flight (JS async publish acks, open-loop requests). Waiting for a
// free slot costs one promise, not a Promise.race over everything outstanding. One task
// acquires (the sending loop); any number of completions release.
export class InFlightWindow {
  readonly #limit: number;
  #inFlight = 0;
  #slotWaiter: (() => void) | null = null;
  #idleWaiter: (() => void) | null = null;

  constructor(limit: number) {
    if (limit < 1) throw new Error(`InFlightWindow: limit must be at least 1, got ${limit}`);
    this.#limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot, waiting for one when all are taken. */
  async acquire(): Promise<void> {
    while (this.#inFlight >= this.#limit) {
      await new Promise<void>((resolve) => {
        this.#slotWaiter = resolve;
      });
    }
    this.#inFlight += 1;
  }

  release(): void {
    this.#inFlight -= 1;
    const slot = this.#slotWaiter;
    this.#slotWaiter = null;
    slot?.();
    if (this.#inFlight === 0) {
      const idle = this.#idleWaiter;
      this.#idleWaiter = null;
      idle?.();
    }
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.#idleWaiter = resolve;
      });
    }
  }
}
