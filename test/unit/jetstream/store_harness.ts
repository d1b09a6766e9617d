// Shared helpers of the store tests: configs, byte helpers, a fake clock, and stores opened in
// temporary directories that are removed after each test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../../src/jetstream/store/core.ts";
import { createMemoryStore, openFileStore, type StoreConfig, type StreamStore } from "../../../src/jetstream/store/store.ts";
import type { FileStoreOpenOptions } from "../../../src/jetstream/store/filestore.ts";
import { memStoreMsgSize } from "../../../src/jetstream/store/memstore.ts";
import { fileStoreMsgSize } from "../../../src/jetstream/store/record.ts";

export type Kind = "memory" | "file";
export const KINDS: Kind[] = ["memory", "file"];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);
export const HDR = bytes("NATS/1.0\r\nX: y\r\n\r\n");

export function config(overrides: Partial<StoreConfig> = {}): StoreConfig {
  return {
    name: "S",
    storage: "file",
    maxMsgs: 0,
    maxBytes: 0,
    maxAgeMs: 0,
    maxMsgsPerSubject: 0,
    discard: "old",
    discardNewPerSubject: false,
    ...overrides,
  };
}

/** A clock the test moves by hand (nanoseconds since the epoch). */
export class FakeClock implements Clock {
  constructor(public ns = 1_700_000_000_000_000_000n) {}
  nowNs(): bigint {
    return this.ns;
  }
  advanceMs(ms: number): void {
    this.ns += BigInt(ms) * 1_000_000n;
  }
}

/** Accounted bytes of one message in a store of `kind`. */
export function msgSize(kind: Kind, subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
  return kind === "memory" ? memStoreMsgSize(subject, hdr, data) : fileStoreMsgSize(subject, hdr, data);
}

export function tempDir(prefix = "nats-bun-store-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Opens stores of one kind; file stores live in one temporary directory. `reopen` stops the
 * current store and opens the same directory again (file stores only). `close` removes it all.
 */
export class StoreBox {
  readonly kind: Kind;
  readonly dir: string | null;
  store!: StreamStore;
  cfg: StoreConfig;
  options: FileStoreOpenOptions;
  warnings: string[] = [];

  constructor(kind: Kind, cfg: StoreConfig = config(), options: FileStoreOpenOptions = {}) {
    this.kind = kind;
    this.cfg = { ...cfg, storage: kind };
    this.options = { warn: (t) => this.warnings.push(t), ...options };
    this.dir = kind === "file" ? tempDir() : null;
    this.store = this.#open();
  }

  #open(): StreamStore {
    if (this.kind === "memory") return createMemoryStore(this.cfg, { clock: this.options.clock });
    return openFileStore(this.dir!, this.cfg, this.options);
  }

  reopen(cfg?: StoreConfig): StreamStore {
    if (this.kind !== "file") throw new Error("reopen: file stores only");
    if (cfg !== undefined) this.cfg = { ...cfg, storage: "file" };
    try {
      this.store.stop();
    } catch {
      // Already stopped by the test.
    }
    this.store = this.#open();
    return this.store;
  }

  /** Opens the directory again without stopping the current store (what a crash leaves). */
  reopenAfterCrash(): StreamStore {
    if (this.kind !== "file") throw new Error("reopen: file stores only");
    this.store = this.#open();
    return this.store;
  }

  close(): void {
    try {
      this.store.stop();
    } catch {
      // Stopped or destroyed already.
    }
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every stored message as [seq, subject, data text] (hdr shown as "H" when present). */
export function dump(s: StreamStore): Array<[number, string, string]> {
  const out: Array<[number, string, string]> = [];
  const st = s.state();
  for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) {
    const m = s.loadMsg(seq);
    if (m !== null) out.push([m.seq, m.subject, (m.hdr === null ? "" : "H:") + text(m.data)]);
  }
  return out;
}

/** Waits until cond() holds, polling each event-loop turn, at most timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
