// Consumer state of a file store: `<stream dir>/obs/<name>/` holds `meta.json` (the consumer's
// config blob, written by the stream layer) and `o.dat` (delivered/ack floors, pending and
// redelivery counts, JSON from consumer_state.ts).
//
// Writes: meta is written at once and durably (it changes rarely). State changes on every
// delivery and ack, so update() only keeps a copy and marks it dirty; the file is rewritten at
// most once per consumerStateWriteIntervalMs (tmp + rename: a crash leaves the old or the new
// file, never a torn one), and made durable (with fsync) by sync() and stop(). What a crash can
// lose is at most that interval of acks — the messages are redelivered, which at-least-once
// delivery allows.

import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ConsumerState, ConsumerStore } from "./store.ts";
import { StoreError } from "./store_error.ts";
import { cloneConsumerState, decodeConsumerState, encodeConsumerState } from "./consumer_state.ts";
import { readJsonFile, writeFileAtomic } from "./meta.ts";

export const CONSUMER_META_FILE = "meta.json";
export const CONSUMER_STATE_FILE = "o.dat";
/** Longest a consumer state change waits in memory before it is written to the OS. */
export const consumerStateWriteIntervalMs = 100;

const encoder = new TextEncoder();

export class FileConsumerStore implements ConsumerStore {
  readonly dir: string;
  #meta: unknown = null;
  #state: ConsumerState | null = null;
  /** The state holds changes not yet written; durable: written with fsync. */
  #dirty = false;
  #undurable = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #onClose: () => void;
  readonly #warn: (text: string) => void;

  constructor(dir: string, onClose: () => void, warn: (text: string) => void) {
    this.dir = dir;
    this.#onClose = onClose;
    this.#warn = warn;
    this.#meta = readJsonFile(join(dir, CONSUMER_META_FILE));
    let text: string | null = null;
    try {
      text = readFileSync(join(dir, CONSUMER_STATE_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new StoreError("io", `reading consumer state in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    if (text !== null) {
      try {
        this.#state = decodeConsumerState(text);
      } catch (err) {
        // The file is replaced atomically, so this is damage from outside: start over rather
        // than refuse the consumer (its messages are redelivered).
        warn(`consumer state ${join(dir, CONSUMER_STATE_FILE)} is unreadable (${(err as Error).message}); starting from an empty state`);
      }
    }
  }

  writeMeta(meta: unknown): void {
    this.#checkOpen();
    writeFileAtomic(this.dir, CONSUMER_META_FILE, encoder.encode(JSON.stringify(meta)));
    this.#meta = structuredClone(meta);
  }

  readMeta(): unknown | null {
    return this.#meta === null ? null : structuredClone(this.#meta);
  }

  update(state: ConsumerState): void {
    this.#checkOpen();
    this.#state = cloneConsumerState(state);
    this.#dirty = true;
    if (this.#timer === null) {
      const t = setTimeout(() => this.#onTimer(), consumerStateWriteIntervalMs);
      (t as { unref?: () => void }).unref?.();
      this.#timer = t;
    }
  }

  state(): ConsumerState | null {
    return this.#state === null ? null : cloneConsumerState(this.#state);
  }

  #onTimer(): void {
    this.#timer = null;
    if (this.#closed || !this.#dirty) return;
    try {
      this.#write(false);
    } catch (err) {
      this.#warn(`writing consumer state in ${this.dir}: ${(err as Error).message}`);
    }
  }

  #write(durable: boolean): void {
    if (this.#state === null) return;
    writeFileAtomic(this.dir, CONSUMER_STATE_FILE, encoder.encode(encodeConsumerState(this.#state)), durable);
    this.#dirty = false;
    this.#undurable = !durable;
  }

  /** Writes pending changes to the OS now (no fsync): they survive a crash of the process. */
  flush(): void {
    if (this.#closed || !this.#dirty) return;
    this.#write(false);
  }

  sync(): void {
    if (this.#closed) return;
    if (this.#dirty || this.#undurable) this.#write(true);
  }

  stop(): void {
    if (this.#closed) return;
    this.sync();
    this.#close();
  }

  destroy(): void {
    if (!this.#closed) this.#close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#onClose();
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError("store_closed", `consumer store in ${this.dir} is closed`);
  }
}
