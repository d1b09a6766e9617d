// Live progress bar (cli-progress) on a TTY. Scenarios call add() on their hot paths, so it
// is only a counter increment; a timer moves the bar. Off when stderr is not a terminal or
// with --no-progress: then every call is a no-op.
import { Presets, SingleBar } from "cli-progress";

export interface Progress {
  start(total: number, label: string): void;
  add(count: number): void;
  stop(): void;
}

const redrawIntervalMs = 100;

class BarProgress implements Progress {
  #bar: SingleBar | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #done = 0;

  start(total: number, label: string): void {
    this.stop();
    this.#done = 0;
    this.#bar = new SingleBar(
      { format: `${label} {bar} {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
      Presets.shades_classic,
    );
    this.#bar.start(total, 0);
    this.#timer = setInterval(() => this.#bar?.update(this.#done), redrawIntervalMs);
  }

  add(count: number): void {
    this.#done += count;
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#bar !== null) {
      this.#bar.update(this.#done);
      this.#bar.stop();
    }
    this.#bar = null;
  }
}

class NoProgress implements Progress {
  start(): void {}
  add(): void {}
  stop(): void {}
}

export function createProgress(wanted: boolean): Progress {
  return wanted && process.stderr.isTTY === true ? new BarProgress() : new NoProgress();
}
