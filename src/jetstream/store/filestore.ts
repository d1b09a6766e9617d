// The file store: the shared engine (core.ts) with message bytes in append-only block files.
//
// Directory of a stream (the stream layer writes meta.json next to these):
//   msgs/<n>.blk      block files: records back to back (record.ts), n ascending, the last one
//                     is the active block that appends go to
//   msgs/<n>.idx      per-block index of a sealed block (block.ts): a cache, rebuilt when needed
//   obs/<consumer>/   consumer metadata and state (file_consumer.ts)
//
// Everything the store knows is in the records: messages, deletes (tombstones), skipped
// sequences, and floors (everything below a sequence is gone, and the last sequence — so an
// empty stream keeps its first/last sequence across restarts). Opening the store replays the
// records of every block in order; there is no separate state file to get out of step.
//
// Durability
// - An append is written to the OS (pwrite from the active block's in-memory copy) before
//   storeMsg returns, so the PubAck that follows never announces a message that a killed
//   process could lose: once written, the page cache has it. That is one system call per
//   message (2–4 µs here, most of an append). With `coalesceWrites`, appends instead wait in
//   the buffer and flushFileStores() writes every waiting store at once — one pwrite (and,
//   with syncAlways, one fdatasync) per store per batch. The guarantee then rests on the
//   server calling flushFileStores() before it writes to any socket (each flush of dirty
//   connections, including early ones in the middle of a read); a microtask also calls it
//   after the current task, as a bound, not as the guarantee. Off by default.
// - fsync: every write with syncAlways (fdatasync), else every syncIntervalMs (2 minutes by
//   default, the reference's sync_interval) and when a block is sealed — both in the thread
//   pool, the event loop does not wait for the disk — and on sync() and stop(). A compaction
//   writes its floor record and carried tombstones before it unlinks or renames anything (and
//   syncs them first with syncAlways); a rewritten block is fsynced before it is renamed in.
// - Removals the store makes by itself — max_msgs, max_bytes, max_msgs_per_subject, max_age and
//   TTL — are not written at once: a moved first sequence rides in the next record's header
//   and a tombstone waits in the active block's buffer until the next write or the end of the
//   current task (a microtask). After a crash, opening the store applies the limits and the
//   expiry again, which removes exactly those messages once more. Removals a client asked for
//   (delete, erase, purge, compact) are written before the call returns.
//
// Space: a sealed block whose messages are all gone is deleted; one whose live messages fill
// less than half of it is rewritten with only them (new file, fsync, rename over the old one).
// Either way the tombstones in it that still matter are first copied to the active block, and a
// floor record keeps the first and last sequence. This runs after the operation that caused it
// (a zero-delay timer), not inside a publish.
//
// Reads: sealed blocks through a shared memory mapping (mmap.ts; at most
// fileStoreMappedBlocksMax at once), the active block from its in-memory copy; every read
// checks the record's checksum and sequence and throws StoreError("io") on a mismatch.
//
// Recovery on open: blocks in order; a sealed block with a current index (block.ts) is read
// from the index alone, any other is scanned with every checksum checked. The first bad
// record (torn, or failing its checksum) and everything after it in that block is cut off
// with a warning; later blocks are kept. Then limits and expiry are applied (see above).

import { writeHooks } from "../../server/write_hooks.ts";
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { StoreCore, wallClock, type Clock, type EntryBase } from "./core.ts";
import type { ConsumerStore, FileStoreOptions, RemoveReason, StoreConfig, StreamStore } from "./store.ts";
import { StoreError } from "./store_error.ts";
import { Block, allocBytes, readBlockIndex, removeFileIfExists, writeAll, writeBlockIndex, type Bytes } from "./block.ts";
import { FileConsumerStore } from "./file_consumer.ts";
import { fsyncDir } from "./meta.ts";
import {
  OFF_CHECKSUM,
  OFF_EXPIRES,
  OFF_FLOOR,
  OFF_HDR_LEN,
  OFF_KIND,
  OFF_LENGTH,
  OFF_SEQ,
  OFF_SUBJ_LEN,
  OFF_TS,
  RECORD_HEADER_BYTES,
  RecordKind,
  SUBJECT_MAX_BYTES,
  checkRecord,
  fileStoreMsgSize,
  fileStoreMsgSizeOf,
  readNs,
  readSeq,
  recordChecksum,
  writeRecordHeader,
  type RecordKindValue,
} from "./record.ts";

/**
 * Default block size. Each stream keeps its active block in memory (it is the write buffer and
 * the read cache of the newest messages), so this bounds a stream's own memory; sealed blocks
 * cost only page cache. 4 MiB is the reference's block size for most streams (it uses 8 MiB
 * for large limits streams): big enough that a block holds tens of thousands of small messages
 * and opening a store touches few files, small enough that compacting one is a short pause.
 */
export const fileStoreBlockSizeDefaultBytes = 4 * 1024 * 1024;
/** With max_bytes set, blocks are a quarter of it (so limits free space in steps of 25%), not below this. */
export const fileStoreBlockSizeMinBytes = 64 * 1024;
/** The active block's buffer starts at this size and doubles up to the block size. */
export const fileStoreBufferInitialBytes = 64 * 1024;
export const fileStoreSyncIntervalDefaultMs = 2 * 60_000;
/**
 * Sealed blocks mapped at once, per store. Mappings are released by the garbage collector
 * once dropped, and Linux allows 65530 per process (vm.max_map_count): a replay through a
 * stream of thousands of blocks must not keep them all.
 */
export const fileStoreMappedBlocksMax = 64;
/** Sealed blocks smaller than this (or half a block, if less) are not worth rewriting. */
export const fileStoreCompactMinBytes = 4 * 1024;

export const MSGS_DIR = "msgs";
export const CONSUMERS_DIR = "obs";

interface FileEntry extends EntryBase {
  block: Block;
  /** Offset of the record in its block file, and its length. */
  off: number;
  len: number;
}

/** Removal reasons that recovery reproduces by itself (see "Durability" above). */
function deferrable(reason: RemoveReason): boolean {
  return reason === "limits" || reason === "max_age" || reason === "ttl";
}

const BLOCK_FILE = /^(\d+)\.blk$/;
const INDEX_FILE = /^(\d+)\.idx$/;

export interface FileStoreOpenOptions extends FileStoreOptions {
  clock?: Clock;
}

export class FileStore extends StoreCore<FileEntry> {
  readonly type = "file" as const;
  protected readonly refuseWhenOldestEqual = true;
  protected override readonly deletedThroughLast = true;

  readonly #dir: string;
  readonly #msgsDir: string;
  readonly #obsDir: string;
  readonly #blockSize: number;
  readonly #syncAlways: boolean;
  readonly #syncIntervalMs: number;
  readonly #coalesce: boolean;
  readonly #warn: (text: string) => void;
  /** A write failed while appends were coalesced: they were acknowledged, so refuse more. */
  #failed: StoreError | null = null;

  /** Blocks in file order; the last is the active one. */
  #blocks: Block[] = [];
  #active!: Block;
  /** The floor (first sequence) carried by the last record appended. */
  #persistedFloor = 0;
  /** The pending bytes include a record that must reach the OS before the operation returns. */
  #eager = false;
  #flushQueued = false;
  #candidates = new Set<Block>();
  #maintenanceTimer: ReturnType<typeof setTimeout> | null = null;
  #syncTimer: ReturnType<typeof setInterval> | null = null;
  /** Written since the last fsync: the active block's data, and the directory (new files). */
  #unsynced = false;
  #dirUnsynced = false;
  #consumers = new Map<string, FileConsumerStore>();
  /** Sealed blocks with a mapping, oldest mapped first. */
  #mapped = new Set<Block>();

  constructor(dir: string, config: StoreConfig, options: FileStoreOpenOptions) {
    super(config, options.clock ?? wallClock);
    this.#dir = dir;
    this.#msgsDir = join(dir, MSGS_DIR);
    this.#obsDir = join(dir, CONSUMERS_DIR);
    this.#blockSize = options.blockSizeBytes !== undefined && options.blockSizeBytes > 0 ? options.blockSizeBytes : defaultBlockSize(config);
    this.#syncAlways = options.syncAlways === true;
    this.#syncIntervalMs = options.syncIntervalMs ?? fileStoreSyncIntervalDefaultMs;
    this.#coalesce = options.coalesceWrites === true;
    this.#warn = options.warn ?? ((text) => console.warn(`file store: ${text}`));
  }

  // ---- the engine's hooks ----------------------------------------------------------------

  protected msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
    return fileStoreMsgSize(subject, hdr, data);
  }

  protected writeMsg(seq: number, subject: string, hdr: Uint8Array | null, data: Uint8Array, ts: bigint, expiresNs: bigint): FileEntry {
    if (this.#failed !== null) throw this.#failed;
    const subjLen = subject.length;
    if (subjLen > SUBJECT_MAX_BYTES) throw new StoreError("msg_too_large", `subject of ${subjLen} bytes is too long for the file store`);
    const hdrLen = hdr === null ? 0 : hdr.length;
    const off = this.#reserve(RECORD_HEADER_BYTES + subjLen + hdrLen + data.length);
    const b = this.#active;
    const mem = b.mem!;
    let p = off + RECORD_HEADER_BYTES;
    if (subjLen < 32) {
      const u8 = mem.u8;
      for (let i = 0; i < subjLen; i++) u8[p + i] = subject.charCodeAt(i);
    } else mem.text.write(subject, p, "latin1");
    p += subjLen;
    if (hdr !== null) {
      mem.u8.set(hdr, p);
      p += hdrLen;
    }
    mem.u8.set(data, p);
    const len = writeRecordHeader(mem.u8, mem.dv, off, RecordKind.msg, subjLen, hdrLen, data.length, seq, this.firstSeq, ts, expiresNs);
    this.#persistedFloor = this.firstSeq;
    if (this.#coalesce) waitForFlush(this);
    else this.#flush();
    b.msgRecords++;
    b.live++;
    b.liveBytes += len;
    if (b.firstMsgSeq === 0) b.firstMsgSeq = seq;
    b.lastMsgSeq = seq;
    return { seq, subject, ts, size: fileStoreMsgSizeOf(subjLen, hdrLen, data.length), expiresNs, block: b, off, len };
  }

  protected readMsg(e: FileEntry): { hdr: Uint8Array | null; data: Uint8Array } {
    const b = e.block;
    const { u8, dv } = this.#view(b);
    const off = e.off;
    const end = off + e.len;
    if (
      end > u8.length ||
      dv.getUint32(off + OFF_LENGTH, true) !== e.len ||
      u8[off + OFF_KIND] !== RecordKind.msg ||
      readSeq(dv, off + OFF_SEQ) !== e.seq ||
      // The active block's bytes are the ones this process wrote (in memory): its checksums
      // guard what comes back from disk, so sealed blocks are checked, the active one is not.
      (b !== this.#active && dv.getUint32(off + OFF_CHECKSUM, true) !== recordChecksum(u8, off, e.len))
    ) {
      throw new StoreError("io", `stream "${this.config.name}": message ${e.seq} in ${b.path} at ${off} is damaged (checksum or header mismatch)`);
    }
    const subjLen = dv.getUint16(off + OFF_SUBJ_LEN, true);
    const hdrLen = dv.getUint32(off + OFF_HDR_LEN, true);
    const start = off + RECORD_HEADER_BYTES + subjLen;
    // Copies: the caller owns them, and a mapping may go away with its block.
    const hdr = hdrLen === 0 ? null : u8.slice(start, start + hdrLen);
    return { hdr, data: u8.slice(start + hdrLen, end) };
  }

  protected writeTombstone(e: FileEntry, erase: boolean, reason: RemoveReason): void {
    if (erase) {
      this.#eraseRecord(e);
      this.#eager = true;
      return;
    }
    this.#appendMarker(RecordKind.delete, e.seq, this.firstSeq, this.clock.nowNs());
    if (!deferrable(reason)) this.#eager = true;
  }

  protected writeFloor(firstSeq: number, lastSeq: number, reason: RemoveReason): void {
    // Deferred floors ride in the next record's header (or a floor record at the end of the task).
    if (deferrable(reason)) return;
    this.#appendMarker(RecordKind.floor, firstSeq, lastSeq, this.lastTs);
    this.#eager = true;
  }

  protected writeSkip(seq: number, ts: bigint): void {
    this.#appendMarker(RecordKind.skip, seq, this.firstSeq, ts);
    this.#flush();
  }

  protected entryDropped(e: FileEntry): void {
    const b = e.block;
    b.live--;
    b.liveBytes -= e.len;
    this.#candidates.add(b);
  }

  protected afterRemovals(): void {
    if (this.closed) return;
    if (this.#eager) this.#flush();
    else if (this.#active.flushed < this.#active.size || this.#persistedFloor < this.firstSeq) this.#queueFlush();
    if (this.#candidates.size > 0) this.#queueMaintenance();
  }

  override updateConfig(config: StoreConfig): void {
    super.updateConfig(config);
    // Limits applied now are the config's: not reproducible from an older config after a crash.
    this.#flushWithFloor();
  }

  sync(): void {
    if (this.closed) return;
    this.#flushWithFloor();
    this.#fsync();
    for (const c of this.#consumers.values()) c.sync();
  }

  protected closeStorage(): void {
    this.#clearTimers();
    let failure: unknown = null;
    try {
      this.#flushWithFloor();
      this.#fsync();
      // A clean stop leaves every sealed block indexed, so the next open reads no payloads.
      this.#writePendingIndexes();
    } catch (err) {
      failure = err;
    }
    for (const c of [...this.#consumers.values()]) {
      try {
        c.stop();
      } catch (err) {
        failure ??= err;
      }
    }
    this.#release();
    if (failure !== null) throw failure instanceof StoreError ? failure : new StoreError("io", `closing ${this.#dir}: ${(failure as Error).message}`, { cause: failure });
  }

  protected destroyStorage(): void {
    this.#clearTimers();
    for (const c of [...this.#consumers.values()]) c.destroy();
    this.#release();
    try {
      rmSync(this.#dir, { recursive: true, force: true });
    } catch (err) {
      throw new StoreError("io", `removing ${this.#dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  #clearTimers(): void {
    if (this.#maintenanceTimer !== null) clearTimeout(this.#maintenanceTimer);
    this.#maintenanceTimer = null;
    if (this.#syncTimer !== null) clearInterval(this.#syncTimer);
    this.#syncTimer = null;
  }

  /** Closes the active file and lets go of buffers and mappings. */
  #release(): void {
    if (this.#active !== undefined) this.#closeFd(this.#active);
    for (const b of this.#blocks) {
      b.mem = null;
      b.unmap();
    }
    this.#mapped.clear();
  }

  /** Sealed blocks mapped now (tests, monitoring). */
  get mappedBlocks(): number {
    let n = 0;
    for (const b of this.#blocks) if (b.mapped) n++;
    return n;
  }

  /** A block's bytes; keeps at most fileStoreMappedBlocksMax sealed blocks mapped. */
  #view(b: Block): Bytes {
    if (b.mem === null && !b.mapped) {
      const mapped = this.#mapped;
      mapped.add(b);
      if (mapped.size > fileStoreMappedBlocksMax) {
        const oldest = mapped.values().next().value!;
        mapped.delete(oldest);
        oldest.unmap();
      }
    }
    return b.bytes();
  }

  // ---- consumers -------------------------------------------------------------------------

  consumerStore(name: string): ConsumerStore {
    if (this.closed) throw new StoreError("store_closed", `stream store "${this.config.name}" is closed`);
    let c = this.#consumers.get(name);
    if (c === undefined) {
      const dir = join(this.#obsDir, encodeURIComponent(name));
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw new StoreError("io", `creating ${dir}: ${(err as Error).message}`, { cause: err });
      }
      c = new FileConsumerStore(dir, () => this.#consumers.delete(name), this.#warn);
      this.#consumers.set(name, c);
    }
    return c;
  }

  consumerNames(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.#obsDir);
    } catch {
      return [];
    }
    return names.filter((n) => !n.endsWith(".tmp")).map((n) => decodeURIComponent(n));
  }

  // ---- writing records -------------------------------------------------------------------

  /** Room for a record of `len` bytes at the end of the active block (sealing it when full); returns its offset. */
  #reserve(len: number): number {
    let a = this.#active;
    if (a.size > 0 && a.size + len > this.#blockSize) {
      this.#rotate();
      a = this.#active;
    }
    const need = a.size + len;
    if (need > a.mem!.u8.length) this.#grow(a, need);
    const off = a.size;
    a.size = need;
    return off;
  }

  #grow(a: Block, need: number): void {
    const old = a.mem!;
    let cap = Math.max(old.u8.length, fileStoreBufferInitialBytes);
    while (cap < need) cap *= 2;
    cap = Math.min(cap, Math.max(this.#blockSize, need));
    const mem = allocBytes(cap);
    mem.u8.set(old.u8.subarray(0, a.size));
    a.mem = mem;
  }

  /** A record without payload (delete, skip, floor), pending in the active block's buffer. */
  #appendMarker(kind: RecordKindValue, seq: number, floor: number, ts: bigint): void {
    const off = this.#reserve(RECORD_HEADER_BYTES);
    const mem = this.#active.mem!;
    writeRecordHeader(mem.u8, mem.dv, off, kind, 0, 0, 0, seq, floor, ts, 0n);
    if (kind !== RecordKind.floor) this.#persistedFloor = floor;
    else this.#persistedFloor = seq;
  }

  /** Writes the pending bytes of the active block to the OS (fdatasync too with syncAlways). */
  #flush(): void {
    const a = this.#active;
    this.#eager = false;
    if (a.flushed === a.size) return;
    if (this.#failed !== null) throw this.#failed;
    try {
      writeAll(a.fd, a.mem!.u8, a.flushed, a.size - a.flushed, a.flushed);
    } catch (err) {
      const failure = new StoreError("io", `stream "${this.config.name}": writing ${a.path}: ${(err as Error).message}`, { cause: err });
      if (this.#coalesce) {
        // Messages in the buffer were acknowledged and are indexed: keep them readable, take
        // no more.
        this.#failed = failure;
        throw failure;
      }
      // Nothing after `flushed` is in the file; drop it (what it recorded is reproduced on open
      // or was the failing append itself) and cut off anything partially written.
      a.size = a.flushed;
      try {
        ftruncateSync(a.fd, a.flushed);
      } catch {
        // The file may have a torn tail now: recovery truncates it on open.
      }
      throw failure;
    }
    a.flushed = a.size;
    if (this.#syncAlways) this.#fdatasync(a);
    else this.#unsynced = true;
  }

  /** Writes coalesced appends (flushFileStores). */
  flushWaiting(): void {
    if (this.closed) return;
    try {
      this.#flush();
    } catch (err) {
      this.#warn((err as Error).message);
    }
  }

  /** Pending bytes plus a floor record when the first sequence moved without one. */
  #flushWithFloor(): void {
    if (this.#persistedFloor < this.firstSeq) this.#appendMarker(RecordKind.floor, this.firstSeq, this.lastSeq, this.lastTs);
    this.#flush();
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.closed) return;
      try {
        this.#flushWithFloor();
      } catch (err) {
        this.#warn((err as Error).message);
      }
    });
  }

  #fdatasync(b: Block): void {
    try {
      fdatasyncSync(b.fd);
    } catch (err) {
      throw new StoreError("io", `stream "${this.config.name}": syncing ${b.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * fdatasync in the thread pool, so that the event loop never waits for the disk on the
   * append path (sealing a block, the sync_interval timer); the descriptor stays open until
   * it is done.
   */
  #fdatasyncInBackground(b: Block): void {
    if (b.fd < 0) return;
    b.pendingSyncs++;
    fdatasync(b.fd, (err) => {
      b.pendingSyncs--;
      if (err !== null) this.#warn(`stream "${this.config.name}": syncing ${b.path}: ${err.message}`);
      if (b.pendingSyncs === 0 && b.closeWhenIdle) {
        b.closeWhenIdle = false;
        this.#closeFd(b);
      }
    });
  }

  /** Closes a block's descriptor now, or after its background syncs. */
  #closeFd(b: Block): void {
    if (b.fd < 0) return;
    if (b.pendingSyncs > 0) {
      b.closeWhenIdle = true;
      return;
    }
    try {
      closeSync(b.fd);
    } catch {
      // Nothing more can be done with this descriptor.
    }
    b.fd = -1;
  }

  /** Everything written so far reaches the disk before this returns (sync(), stop()). */
  #fsync(): void {
    const a = this.#active;
    for (const b of this.#blocks) {
      // Sealed blocks still open are those whose background sync has not finished.
      if (b.fd >= 0 && (b !== a || this.#unsynced || b.pendingSyncs > 0)) this.#fdatasync(b);
    }
    this.#unsynced = false;
    if (this.#dirUnsynced) {
      fsyncDir(this.#msgsDir);
      this.#dirUnsynced = false;
    }
  }

  /**
   * Seals the active block and starts the next. The sealed block is synced in the background
   * (with syncAlways every write was already synced), indexed by the maintenance task, and
   * read through a mapping from now on.
   */
  #rotate(): void {
    this.#flush();
    const a = this.#active;
    if (this.#unsynced) this.#fdatasyncInBackground(a);
    this.#unsynced = false;
    this.#closeFd(a);
    const mem = a.mem!;
    a.mem = null;
    a.needsIndex = true;
    const next = this.#createBlock(a.index + 1);
    // Reuse the buffer unless a huge record made it bigger than a block.
    next.mem = mem.u8.length <= this.#blockSize ? mem : allocBytes(Math.min(this.#blockSize, fileStoreBufferInitialBytes));
    this.#active = next;
    this.#queueMaintenance();
  }

  #writePendingIndexes(): void {
    for (const b of this.#blocks) {
      if (!b.needsIndex || b === this.#active) continue;
      b.needsIndex = false;
      try {
        writeBlockIndex(b, this.#view(b), b.size);
      } catch (err) {
        // Only a cache: the next open scans the block instead.
        this.#warn(`writing the index of ${b.path}: ${(err as Error).message}`);
      }
    }
  }

  #createBlock(index: number): Block {
    const b = new Block(index, join(this.#msgsDir, `${index}.blk`), join(this.#msgsDir, `${index}.idx`));
    try {
      b.fd = openSync(b.path, "w+");
    } catch (err) {
      throw new StoreError("io", `stream "${this.config.name}": creating ${b.path}: ${(err as Error).message}`, { cause: err });
    }
    removeFileIfExists(b.indexPath);
    this.#blocks.push(b);
    this.#dirUnsynced = true;
    if (this.#syncAlways) {
      fsyncDir(this.#msgsDir);
      this.#dirUnsynced = false;
    }
    return b;
  }

  /** Overwrites a message's record in place: kind "erased", random subject, headers and payload. */
  #eraseRecord(e: FileEntry): void {
    const b = e.block;
    const src = this.#view(b).u8;
    const rec = src.slice(e.off, e.off + e.len);
    const dv = new DataView(rec.buffer);
    for (let p = RECORD_HEADER_BYTES; p < rec.length; p += 65536) crypto.getRandomValues(rec.subarray(p, Math.min(rec.length, p + 65536)));
    rec[OFF_KIND] = RecordKind.erased;
    dv.setUint32(OFF_CHECKSUM, recordChecksum(rec, 0, rec.length), true);
    try {
      if (b.mem !== null) {
        b.mem.u8.set(rec, e.off);
        if (e.off < b.flushed) writeAll(b.fd, rec, 0, rec.length, e.off);
        if (this.#syncAlways) this.#fdatasync(b);
        else this.#unsynced = true;
      } else {
        // The index keeps a copy of the header, now stale: remove it first, write it anew later.
        removeFileIfExists(b.indexPath);
        const fd = openSync(b.path, "r+");
        try {
          writeAll(fd, rec, 0, rec.length, e.off);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
        b.needsIndex = true;
        this.#queueMaintenance();
      }
    } catch (err) {
      throw new StoreError("io", `stream "${this.config.name}": erasing message ${e.seq} in ${b.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  // ---- compaction ------------------------------------------------------------------------

  #queueMaintenance(): void {
    if (this.#maintenanceTimer !== null) return;
    const t = setTimeout(() => {
      this.#maintenanceTimer = null;
      if (this.closed) return;
      try {
        this.#writePendingIndexes();
        this.compactBlocks();
      } catch (err) {
        this.#warn(`stream "${this.config.name}": compacting blocks: ${(err as Error).message}`);
      }
    }, 0);
    (t as { unref?: () => void }).unref?.();
    this.#maintenanceTimer = t;
  }

  /** Removes empty blocks and rewrites sparse ones (normally run on a timer after removals). */
  compactBlocks(): void {
    if (this.closed) return;
    const candidates = [...this.#candidates];
    this.#candidates.clear();
    if (candidates.includes(this.#active)) {
      const a = this.#active;
      // An active block emptied of messages (a purge, a work queue drained) is sealed so that it
      // can go, once it holds enough to be worth a file.
      if (a.live === 0 && a.msgRecords > 0 && a.size >= this.#blockSize / 4) {
        this.#rotate();
        candidates.push(a);
      }
    }
    const removing: Block[] = [];
    const rewriting: Block[] = [];
    for (const b of candidates) {
      if (b === this.#active || !this.#blocks.includes(b)) continue;
      if (b.live === 0) removing.push(b);
      else if (b.size >= Math.min(fileStoreCompactMinBytes, this.#blockSize / 2) && b.liveBytes * 2 < b.size) rewriting.push(b);
    }
    if (removing.length === 0 && rewriting.length === 0) return;
    const going = new Set<Block>([...removing, ...rewriting]);

    // First write what must outlive these blocks: the tombstones in them that still hide a
    // message elsewhere, and a floor record with the first and last sequence. With syncAlways
    // the flush syncs them; otherwise they reach the disk before the unlinks below do on a
    // journalling file system that orders data before metadata (ext4's default), and within
    // sync_interval in any case.
    const withMsgs = this.#blocks.filter((b) => b.msgRecords > 0);
    for (const b of going) this.#carryTombstones(b, going, withMsgs);
    this.#appendMarker(RecordKind.floor, this.firstSeq, this.lastSeq, this.lastTs);
    this.#flush();

    for (const b of rewriting) this.#rewriteBlock(b);
    for (const b of removing) {
      removeFileIfExists(b.path);
      removeFileIfExists(b.indexPath);
      b.unmap();
      this.#mapped.delete(b);
      b.needsIndex = false;
      this.#blocks.splice(this.#blocks.indexOf(b), 1);
    }
    this.#dirUnsynced = true;
    if (this.#syncAlways) this.#fsync();
  }

  /** Copies the tombstones of `b` that still hide a message record in another block to the active block. */
  #carryTombstones(b: Block, going: Set<Block>, withMsgs: Block[]): void {
    const { u8, dv } = this.#view(b);
    for (let off = 0; off < b.size; off += dv.getUint32(off + OFF_LENGTH, true)) {
      if (u8[off + OFF_KIND] !== RecordKind.delete) continue;
      const seq = readSeq(dv, off + OFF_SEQ);
      if (seq < this.firstSeq) continue;
      const holder = blockHolding(withMsgs, seq);
      if (holder === null || holder === b || going.has(holder) || !holder.hasDeadMessages()) continue;
      this.#appendMarker(RecordKind.delete, seq, this.firstSeq, readNs(dv, off + OFF_TS));
    }
  }

  /** Rewrites a sealed block with only its live messages: new file, fsync, rename over the old one. */
  #rewriteBlock(b: Block): void {
    const src = this.#view(b).u8;
    const keep: FileEntry[] = [];
    for (let s = b.firstMsgSeq; s <= b.lastMsgSeq; s++) {
      const e = this.msgs.get(s);
      if (e !== undefined && e.block === b) keep.push(e);
    }
    let total = 0;
    for (const e of keep) total += e.len;
    const out = allocBytes(Math.max(total, 1));
    const offsets: number[] = [];
    let p = 0;
    for (const e of keep) {
      out.u8.set(src.subarray(e.off, e.off + e.len), p);
      offsets.push(p);
      p += e.len;
    }
    const tmp = `${b.path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeAll(fd, out.u8, 0, total, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, b.path);
    b.unmap();
    for (let i = 0; i < keep.length; i++) keep[i].off = offsets[i];
    b.size = total;
    b.msgRecords = keep.length;
    b.liveBytes = total;
    b.firstMsgSeq = keep.length > 0 ? keep[0].seq : 0;
    b.lastMsgSeq = keep.length > 0 ? keep[keep.length - 1].seq : 0;
    b.needsIndex = false;
    try {
      writeBlockIndex(b, out, total);
    } catch (err) {
      this.#warn(`writing the index of ${b.path}: ${(err as Error).message}`);
    }
  }

  // ---- opening and recovery --------------------------------------------------------------

  /** Reads every block, rebuilding the in-memory state; cuts off a torn or damaged tail. */
  open(): void {
    try {
      mkdirSync(this.#msgsDir, { recursive: true });
    } catch (err) {
      throw new StoreError("io", `creating ${this.#msgsDir}: ${(err as Error).message}`, { cause: err });
    }
    const names = readdirSync(this.#msgsDir);
    const indexes: number[] = [];
    const present = new Set<number>();
    for (const name of names) {
      const m = BLOCK_FILE.exec(name);
      if (m !== null) {
        indexes.push(Number(m[1]));
        present.add(Number(m[1]));
      } else if (name.endsWith(".tmp")) removeFileIfExists(join(this.#msgsDir, name)); // an interrupted rewrite or index write
    }
    for (const name of names) {
      const m = INDEX_FILE.exec(name);
      if (m !== null && !present.has(Number(m[1]))) removeFileIfExists(join(this.#msgsDir, name));
    }
    indexes.sort((a, b) => a - b);

    for (let i = 0; i < indexes.length; i++) {
      const index = indexes[i];
      const b = new Block(index, join(this.#msgsDir, `${index}.blk`), join(this.#msgsDir, `${index}.idx`));
      const last = i === indexes.length - 1;
      if (last) this.#recoverActive(b);
      else if (!this.#recoverSealed(b)) continue;
      this.#blocks.push(b);
    }
    if (this.#blocks.length === 0) {
      const b = this.#createBlock(1);
      b.mem = allocBytes(Math.min(this.#blockSize, fileStoreBufferInitialBytes));
      this.#active = b;
    }
    this.#persistedFloor = this.firstSeq;

    // Removals that were not written yet (see "Durability") happen again now.
    this.enforceLimits();
    this.#flushWithFloor();
    this.startExpiry();

    for (const b of this.#blocks) this.#candidates.add(b);
    this.#queueMaintenance();
    if (!this.#syncAlways && this.#syncIntervalMs > 0) {
      const t = setInterval(() => this.#onSyncTimer(), this.#syncIntervalMs);
      (t as { unref?: () => void }).unref?.();
      this.#syncTimer = t;
    }
  }

  /** sync_interval: written data to the disk, in the background. */
  #onSyncTimer(): void {
    if (this.closed) return;
    try {
      this.#flushWithFloor();
      if (this.#unsynced) this.#fdatasyncInBackground(this.#active);
      this.#unsynced = false;
      if (this.#dirUnsynced) {
        fsyncDir(this.#msgsDir);
        this.#dirUnsynced = false;
      }
      for (const c of this.#consumers.values()) c.sync();
    } catch (err) {
      this.#warn((err as Error).message);
    }
  }

  /** A sealed block: from its index when that is current, else by scanning (and re-indexing) it. false: dropped (empty). */
  #recoverSealed(b: Block): boolean {
    let size: number;
    try {
      size = statSync(b.path).size;
    } catch (err) {
      throw new StoreError("io", `reading ${b.path}: ${(err as Error).message}`, { cause: err });
    }
    if (size === 0) {
      removeFileIfExists(b.path);
      removeFileIfExists(b.indexPath);
      return false;
    }
    b.size = size;
    const idx = readBlockIndex(b);
    if (idx !== null) {
      const { u8, dv } = idx.headers;
      let off = 0;
      for (let i = 0; i < idx.count; i++) {
        const h = idx.headersAt + i * RECORD_HEADER_BYTES;
        this.#applyRecord(b, u8, dv, h, off, idx.subjectOf(i));
        off += dv.getUint32(h + OFF_LENGTH, true);
      }
      return true;
    }
    const bytes = this.#view(b);
    const good = this.#scan(b, bytes, size);
    if (good < size) {
      this.#truncate(b, good, size);
      b.unmap();
    }
    if (good === 0) {
      removeFileIfExists(b.path);
      removeFileIfExists(b.indexPath);
      return false;
    }
    try {
      writeBlockIndex(b, bytes, good);
    } catch (err) {
      this.#warn(`writing the index of ${b.path}: ${(err as Error).message}`);
    }
    return true;
  }

  /** The last block becomes the active one again: read into memory, scanned, tail cut if torn. */
  #recoverActive(b: Block): void {
    let raw: Uint8Array;
    try {
      raw = readFileSync(b.path);
      b.fd = openSync(b.path, "r+");
    } catch (err) {
      throw new StoreError("io", `reading ${b.path}: ${(err as Error).message}`, { cause: err });
    }
    // An active block has no index; one left from before a crash would go stale at the next append.
    removeFileIfExists(b.indexPath);
    let cap = Math.min(this.#blockSize, fileStoreBufferInitialBytes);
    while (cap < raw.length) cap *= 2;
    const mem = allocBytes(Math.max(cap, Math.min(this.#blockSize, raw.length)));
    mem.u8.set(raw);
    b.mem = mem;
    b.size = raw.length;
    const good = this.#scan(b, mem, raw.length);
    if (good < raw.length) {
      this.#truncate(b, good, raw.length);
      mem.u8.fill(0, good, raw.length);
    }
    b.size = good;
    b.flushed = good;
    this.#active = b;
  }

  /** Applies every good record of bytes[0, size); returns where the good records end. */
  #scan(b: Block, bytes: Bytes, size: number): number {
    const { u8, dv, text } = bytes;
    let off = 0;
    while (off < size) {
      const problem = checkRecord(u8, dv, off, size, true);
      if (problem !== null) {
        this.#warn(
          `stream "${this.config.name}": ${b.path}: ${problem === "torn" ? "torn record" : `bad record (${problem})`} at offset ${off} of ${size}; ` +
            `the rest of the block (${size - off} bytes) is cut off`,
        );
        return off;
      }
      const subjLen = dv.getUint16(off + OFF_SUBJ_LEN, true);
      const subject = u8[off + OFF_KIND] === RecordKind.msg ? text.latin1Slice(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + subjLen) : "";
      this.#applyRecord(b, u8, dv, off, off, subject);
      off += dv.getUint32(off + OFF_LENGTH, true);
    }
    return off;
  }

  #truncate(b: Block, good: number, size: number): void {
    try {
      const fd = b.fd >= 0 ? b.fd : openSync(b.path, "r+");
      try {
        ftruncateSync(fd, good);
        fdatasyncSync(fd);
      } finally {
        if (fd !== b.fd) closeSync(fd);
      }
    } catch (err) {
      throw new StoreError("io", `truncating ${b.path} from ${size} to ${good} bytes: ${(err as Error).message}`, { cause: err });
    }
    b.size = good;
  }

  /**
   * Replays one record whose header is at `h` in `u8` (the block itself, or a copy in the
   * index) and which sits at `off` in block b.
   */
  #applyRecord(b: Block, u8: Uint8Array, dv: DataView, h: number, off: number, subject: string): void {
    const kind = u8[h + OFF_KIND];
    const seq = readSeq(dv, h + OFF_SEQ);
    const floor = readSeq(dv, h + OFF_FLOOR);
    const ts = readNs(dv, h + OFF_TS);
    if (kind === RecordKind.floor) {
      this.applyFloor(seq, floor, ts);
      return;
    }
    this.applyFloor(floor, 0, 0n);
    switch (kind) {
      case RecordKind.msg: {
        const len = dv.getUint32(h + OFF_LENGTH, true);
        b.msgRecords++;
        if (b.firstMsgSeq === 0) b.firstMsgSeq = seq;
        b.lastMsgSeq = seq;
        if (this.msgs.has(seq)) {
          this.#warn(`stream "${this.config.name}": ${b.path}: a second record for message ${seq} at offset ${off} is ignored`);
          return;
        }
        if (seq < this.firstSeq) return; // below a floor: gone
        const subjLen = dv.getUint16(h + OFF_SUBJ_LEN, true);
        const hdrLen = dv.getUint32(h + OFF_HDR_LEN, true);
        const entry: FileEntry = {
          seq,
          subject,
          ts,
          size: fileStoreMsgSizeOf(subjLen, hdrLen, len - RECORD_HEADER_BYTES - subjLen - hdrLen),
          expiresNs: readNs(dv, h + OFF_EXPIRES),
          block: b,
          off,
          len,
        };
        b.live++;
        b.liveBytes += len;
        this.indexEntry(entry);
        return;
      }
      case RecordKind.delete:
        this.forget(seq);
        this.noteSequence(seq, ts);
        return;
      case RecordKind.erased:
        b.msgRecords++;
        if (b.firstMsgSeq === 0) b.firstMsgSeq = seq;
        b.lastMsgSeq = seq;
        this.forget(seq);
        this.noteSequence(seq, ts);
        return;
      case RecordKind.skip:
        this.noteSequence(seq, ts);
        return;
    }
  }
}

/** The block whose message records span seq, among blocks with messages (their sequences ascend). */
function blockHolding(blocks: Block[], seq: number): Block | null {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = blocks[mid];
    if (seq < b.firstMsgSeq) hi = mid - 1;
    else if (seq > b.lastMsgSeq) lo = mid + 1;
    else return b;
  }
  return null;
}

function defaultBlockSize(config: StoreConfig): number {
  if (config.maxBytes > 0) {
    const quarter = Math.floor(config.maxBytes / 4);
    return Math.max(fileStoreBlockSizeMinBytes, Math.min(fileStoreBlockSizeDefaultBytes, quarter));
  }
  return fileStoreBlockSizeDefaultBytes;
}

// Stores holding coalesced appends (coalesceWrites), written by flushFileStores().
const waiting = new Set<FileStore>();
let flushQueued = false;

function waitForFlush(store: FileStore): void {
  waiting.add(store);
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flushFileStores);
  }
}

/**
 * Writes the coalesced appends of every file store to the OS (with syncAlways: and syncs
 * them). The server calls this before writing to sockets, so that no PubAck leaves before
 * its message is written; see "Durability" above.
 */
// Registered at load: the server calls it before writing to any client socket.
writeHooks.beforeSocketWrite = () => flushFileStores();

export function flushFileStores(): void {
  flushQueued = false;
  if (waiting.size === 0) return;
  for (const s of waiting) s.flushWaiting();
  waiting.clear();
}

/** Opens (recovering) or creates the file store of one stream in `dir`. */
export function openFileStore(dir: string, config: StoreConfig, options?: FileStoreOpenOptions): StreamStore {
  const store = new FileStore(dir, config, options ?? {});
  store.open();
  return store;
}
