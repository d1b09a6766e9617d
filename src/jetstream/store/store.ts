// The StreamStore seam: what a JetStream stream needs from its message storage. Two
// implementations share one test suite (test/unit/jetstream/store.test.ts): the memory store
// (memstore.ts) and the file store (filestore.ts). This module is pure: no server or protocol
// imports, so the stream layer, Raft (later) and tests can all use a store directly.
//
// Import everything store-related from here: the types below, StoreError, and the factories
// createMemoryStore / openFileStore / writeStreamMeta / readStreamMeta (re-exported at the end
// from the files that implement them; those files import only types from here, so there is no
// runtime import cycle).

export { StoreError } from "./store_error.ts";
export type { StoreErrorCode } from "./store_error.ts";

export type StorageType = "file" | "memory";
export type DiscardPolicy = "old" | "new";

/** Limits the store enforces itself (the stream layer passes them from the stream config). */
export interface StoreConfig {
  name: string; // stream name (for errors/logs)
  storage: StorageType;
  maxMsgs: number; // <= 0: unlimited
  maxBytes: number; // <= 0: unlimited
  maxAgeMs: number; // <= 0: unlimited (store expires old messages on a timer)
  maxMsgsPerSubject: number; // <= 0: unlimited
  discard: DiscardPolicy; // "new": storeMsg throws StoreError("max_msgs"|"max_bytes"|...) instead of removing old
  discardNewPerSubject: boolean; // with discard new: refuse when the subject is at maxMsgsPerSubject
  firstSeq?: number; // first sequence of an empty store (stream first_seq)
}

export interface StoredMessage {
  seq: number;
  subject: string; // byte string (latin1: one char per byte)
  hdr: Uint8Array | null; // raw NATS/1.0 header block as published, or null
  /** Payload. Always a copy owned by the caller (never aliases store memory). */
  data: Uint8Array;
  ts: bigint; // nanoseconds since the Unix epoch
}

export interface StreamState {
  messages: number;
  bytes: number;
  firstSeq: number;
  firstTs: bigint;
  lastSeq: number;
  lastTs: bigint; // ts 0n when none
  numSubjects: number;
  numDeleted: number; // interior deletes between first and last
  consumerCount: number; // maintained by the stream layer via setConsumerCount
}

export type RemoveReason = "limits" | "max_age" | "ttl" | "remove" | "purge" | "compact";

export interface StreamStore {
  readonly type: StorageType;
  /** Append one message; ts defaults to now. ttlMs > 0: per-message TTL (Nats-TTL), expired by the store. Synchronous. */
  storeMsg(subject: string, hdr: Uint8Array | null, data: Uint8Array, ttlMs?: number, ts?: bigint): { seq: number; ts: bigint };
  /** Reserve the next sequence without a message (mirrors, first_seq); returns it. */
  skipMsg(): number;
  loadMsg(seq: number): StoredMessage | null;
  /** The message with the highest sequence whose subject matches filter ("" or ">" = any; wildcards allowed). */
  loadLastMsg(filter: string): StoredMessage | null;
  /** The first message with seq >= start whose subject matches filter. */
  loadNextMsg(filter: string, start: number): StoredMessage | null;
  /** Remove (removeMsg) or remove and overwrite the bytes on disk (eraseMsg). false if not present. */
  removeMsg(seq: number): boolean;
  eraseMsg(seq: number): boolean;
  /** Purge everything, or only `subject` (wildcards allowed), only below `seq`, keeping the newest `keep`. Returns count purged.
   *  Semantics exactly as the reference's STREAM.PURGE (ADR-10): seq and keep are exclusive. */
  purge(opts?: { subject?: string; seq?: number; keep?: number }): number;
  /** Remove all messages with seq < seq; first_seq becomes seq. */
  compact(seq: number): number;
  state(): StreamState;
  /** state().bytes, without building the whole state (checked on every publish). */
  bytesStored(): number;
  /** Sequences of interior deletes (for STREAM.INFO deleted_details). */
  deleted(): number[];
  /** Per-subject message counts for subjects matching filter (STREAM.INFO subjects_filter). */
  subjectsTotals(filter: string): Map<string, number>;
  /** Messages at or after startSeq matching filter; lastPerSubject counts only the last of each subject. */
  numPending(startSeq: number, filter: string, lastPerSubject: boolean): number;
  /** Apply new limits now (may remove messages); called on stream update. */
  updateConfig(config: StoreConfig): void;
  /** Called synchronously for every message the store removes by itself or on request. */
  onRemove(callback: ((seq: number, subject: string, reason: RemoveReason) => void) | null): void;
  setConsumerCount(count: number): void;
  /** Make everything appended so far durable (fsync for the file store). */
  sync(): void;
  /** Stop timers and close files; the data stays. */
  stop(): void;
  /** Stop and remove all data. */
  destroy(): void;
  /** Consumer state persistence for consumer `name` (created on first use). */
  consumerStore(name: string): ConsumerStore;
  /** Names of consumers with persisted state (for recovery on start). */
  consumerNames(): string[];
}

export interface ConsumerState {
  delivered: { consumerSeq: number; streamSeq: number };
  ackFloor: { consumerSeq: number; streamSeq: number };
  /** stream seq → [consumer seq of last delivery, delivery time ms] for messages delivered and not yet acked. */
  pending: Map<number, { consumerSeq: number; tsMs: number }>;
  /** stream seq → delivery count (only entries > 1). */
  redelivered: Map<number, number>;
}

export interface ConsumerStore {
  /** Persist config/metadata blob (JSON-serialisable) for the consumer. */
  writeMeta(meta: unknown): void;
  readMeta(): unknown | null;
  update(state: ConsumerState): void; // may be coalesced; durable after sync()/stop()
  /** Writes what update() coalesced to the OS now (survives a process crash, not a power loss). */
  flush?(): void;
  state(): ConsumerState | null;
  sync(): void;
  stop(): void;
  destroy(): void;
}

export interface FileStoreOptions {
  blockSizeBytes?: number;
  syncIntervalMs?: number /* default 120000 */;
  syncAlways?: boolean;
  /** Where recovery reports what it repaired (a torn tail cut off, …); default console.warn. */
  warn?: (text: string) => void;
  /**
   * Appends wait in memory until flushFileStores() (one write per store per batch instead of
   * one per message). Only safe when the server calls flushFileStores() before every socket
   * write, so that no PubAck leaves before its message is written. Default false.
   */
  coalesceWrites?: boolean;
}

/** Opens (recovering) or creates a file store in dir: `openFileStore(dir, config, options?)`. */
export { openFileStore, flushFileStores } from "./filestore.ts";
/** `createMemoryStore(config)`. */
export { createMemoryStore } from "./memstore.ts";
/** Stream metadata (config JSON written by the stream layer) next to the store: atomic write (tmp + fsync + rename) and read. */
export { writeStreamMeta, readStreamMeta } from "./meta.ts";
