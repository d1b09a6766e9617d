// Throughput history for the status page: the server's counters sampled every few seconds
// into a bounded ring, so a freshly opened page shows the last minutes at once.
import type { Server } from "../server/server.ts";

export const historySampleMs = 2_000;
/** Ten minutes of samples. */
export const historySamplesMax = 300;

export interface HistorySample {
  /** Unix milliseconds. */
  t: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  connections: number;
}

export class History {
  readonly samples: HistorySample[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(readonly server: Server) {}

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), historySampleMs);
    // Never keeps the process alive by itself.
    (this.#timer as unknown as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  sample(): void {
    const s = this.server;
    this.samples.push({ t: Date.now(), in_msgs: s.inMsgs, out_msgs: s.outMsgs, in_bytes: s.inBytes, out_bytes: s.outBytes, connections: s.connections.size });
    if (this.samples.length > historySamplesMax) this.samples.splice(0, this.samples.length - historySamplesMax);
  }
}
