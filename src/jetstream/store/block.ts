// One block file of the file store (`<dir>/msgs/<index>.blk`): records back to back (layout in
// record.ts), append-only while the block is active, then sealed. Reads of the active block come
// from its in-memory copy (the write buffer holds the whole active file, so a record is encoded
// once, written from there and read back without a system call); reads of a sealed block come
// from a shared memory mapping made on first use.
//
// Next to a sealed block, `<index>.idx` is a small index: a copy of every record header and the
// block's subjects, so that opening the store reads ~48 bytes a record instead of whole payloads
// and needs no checksums of blocks that were sealed cleanly. It is only a cache: written when a
// block is sealed or compacted, deleted before a block is changed in place (erase), checked
// against the block on open (length and last record header) and rebuilt from the block when
// missing, damaged or stale.
//
// Index file layout (little-endian):
//    0  u32 magic "NBIX"
//    4  u32 CRC-32 of bytes [8, end)
//    8  u32 version (1)
//   12  u32 record count n
//   16  u64 length of the block file it describes
//   24  u32 subject count m
//   28  u32 reserved
//   32  n × 48 bytes: the records' headers, in file order
//       n × u32: subject id of each record (0xffffffff when it has no subject)
//       m × (u16 length, bytes): the subjects

import { closeSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { mapFile } from "./mmap.ts";
import { OFF_LENGTH, OFF_SUBJ_LEN, RECORD_HEADER_BYTES, RecordKind, headerLooksSane } from "./record.ts";

/** Bun's Buffer decodes a latin1 slice natively, without a subarray. */
export type LatinBuffer = Buffer & { latin1Slice(start: number, end: number): string };

/** A view over bytes with the decoders the store needs. */
export interface Bytes {
  u8: Uint8Array;
  dv: DataView;
  text: LatinBuffer;
}

export function bytesOver(u8: Uint8Array): Bytes {
  return {
    u8,
    dv: new DataView(u8.buffer, u8.byteOffset, u8.byteLength),
    text: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength) as LatinBuffer,
  };
}

export function allocBytes(capacity: number): Bytes {
  return bytesOver(new Uint8Array(new ArrayBuffer(capacity)));
}

export class Block {
  readonly index: number;
  readonly path: string;
  readonly indexPath: string;
  /** Bytes of records in the file (for the active block: written plus pending). */
  size = 0;
  /** Message records physically in the file, live or deleted (erased ones count too). */
  msgRecords = 0;
  /** Live messages and the record bytes they occupy. */
  live = 0;
  liveBytes = 0;
  /** Sequences of the first and last message record in the file (0: none). */
  firstMsgSeq = 0;
  lastMsgSeq = 0;

  // Active block only: the file descriptor, the whole file in memory, and how much of it the
  // OS already has (the rest is pending: records whose write may wait, see filestore.ts).
  fd = -1;
  mem: Bytes | null = null;
  flushed = 0;
  /** fdatasyncs running in the thread pool on fd; the descriptor is closed after the last one. */
  pendingSyncs = 0;
  closeWhenIdle = false;
  /** Sealed without its index written yet (written off the append path). */
  needsIndex = false;

  #map: Bytes | null = null;

  constructor(index: number, path: string, indexPath: string) {
    this.index = index;
    this.path = path;
    this.indexPath = indexPath;
  }

  get active(): boolean {
    return this.mem !== null;
  }

  /** The bytes to read records from: the in-memory copy (active) or the mapping (sealed). */
  bytes(): Bytes {
    if (this.mem !== null) return this.mem;
    if (this.#map === null) this.#map = bytesOver(mapFile(this.path, this.size));
    return this.#map;
  }

  get mapped(): boolean {
    return this.#map !== null;
  }

  /** Forget the mapping (the file was replaced or removed); the next read maps anew. */
  unmap(): void {
    this.#map = null;
  }

  hasDeadMessages(): boolean {
    return this.msgRecords > this.live;
  }
}

const INDEX_MAGIC = 0x5849424e; // "NBIX" little-endian
const INDEX_VERSION = 1;
const INDEX_HEAD_BYTES = 32;
const NO_SUBJECT = 0xffffffff;

/**
 * Writes the index of a block whose records are `bytes[0, size)`: to a temporary file renamed
 * into place, so a crash leaves the old index, the new one, or none (all handled on open).
 * No fsync: an index lost in a power failure is rebuilt.
 */
export function writeBlockIndex(block: Block, bytes: Bytes, size: number): void {
  const { u8, dv, text } = bytes;
  const subjectIds = new Map<string, number>();
  const subjects: string[] = [];
  const ids: number[] = [];
  const offsets: number[] = [];
  let subjectBytes = 0;
  for (let off = 0; off < size; ) {
    const len = dv.getUint32(off + OFF_LENGTH, true);
    offsets.push(off);
    const subjLen = dv.getUint16(off + OFF_SUBJ_LEN, true);
    if (subjLen === 0 || u8[off + 8] !== RecordKind.msg) ids.push(NO_SUBJECT);
    else {
      const s = text.latin1Slice(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + subjLen);
      let id = subjectIds.get(s);
      if (id === undefined) {
        id = subjects.length;
        subjectIds.set(s, id);
        subjects.push(s);
        subjectBytes += 2 + s.length;
      }
      ids.push(id);
    }
    off += len;
  }
  const n = offsets.length;
  const total = INDEX_HEAD_BYTES + n * RECORD_HEADER_BYTES + n * 4 + subjectBytes;
  const out = allocBytes(total);
  const o = out.dv;
  o.setUint32(0, INDEX_MAGIC, true);
  o.setUint32(8, INDEX_VERSION, true);
  o.setUint32(12, n, true);
  o.setFloat64(16, 0, true);
  o.setUint32(16, size >>> 0, true);
  o.setUint32(20, Math.floor(size / 4294967296), true);
  o.setUint32(24, subjects.length, true);
  let p = INDEX_HEAD_BYTES;
  for (const off of offsets) {
    out.u8.set(u8.subarray(off, off + RECORD_HEADER_BYTES), p);
    p += RECORD_HEADER_BYTES;
  }
  for (const id of ids) {
    o.setUint32(p, id, true);
    p += 4;
  }
  for (const s of subjects) {
    o.setUint16(p, s.length, true);
    out.text.write(s, p + 2, "latin1");
    p += 2 + s.length;
  }
  o.setUint32(4, Bun.hash.crc32(out.u8.subarray(8)) >>> 0, true);
  const tmp = `${block.indexPath}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeAll(fd, out.u8, 0, total, 0);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, block.indexPath);
}

/** A block's index as read back: headers (48 bytes each, in file order) and each record's subject. */
export interface BlockIndex {
  count: number;
  headers: Bytes;
  /** Byte offset of the first header in `headers`. */
  headersAt: number;
  subjectOf: (i: number) => string;
}

/**
 * Reads and checks a block's index. null when it is missing, damaged, or does not describe the
 * block file as it is now (length differs, or the last record's header differs).
 */
export function readBlockIndex(block: Block): BlockIndex | null {
  let raw: Uint8Array;
  try {
    raw = readFileSync(block.indexPath);
  } catch {
    return null;
  }
  if (raw.length < INDEX_HEAD_BYTES) return null;
  const b = bytesOver(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  const dv = b.dv;
  if (dv.getUint32(0, true) !== INDEX_MAGIC || dv.getUint32(8, true) !== INDEX_VERSION) return null;
  if (dv.getUint32(4, true) !== Bun.hash.crc32(b.u8.subarray(8)) >>> 0) return null;
  const n = dv.getUint32(12, true);
  const blockLen = dv.getUint32(20, true) * 4294967296 + dv.getUint32(16, true);
  const m = dv.getUint32(24, true);
  const idsAt = INDEX_HEAD_BYTES + n * RECORD_HEADER_BYTES;
  if (idsAt + n * 4 > raw.length) return null;
  let fileLen: number;
  try {
    fileLen = statSync(block.path).size;
  } catch {
    return null;
  }
  if (fileLen !== blockLen) return null;
  // Headers must tile the block exactly and look sane.
  let off = 0;
  for (let i = 0; i < n; i++) {
    const h = INDEX_HEAD_BYTES + i * RECORD_HEADER_BYTES;
    const len = dv.getUint32(h + OFF_LENGTH, true);
    if (!headerLooksSane(b.u8, dv, h)) return null;
    off += len;
  }
  if (off !== blockLen) return null;
  // The last record of the file must be the one the index ends with.
  if (n > 0) {
    const lastH = INDEX_HEAD_BYTES + (n - 1) * RECORD_HEADER_BYTES;
    const lastLen = dv.getUint32(lastH + OFF_LENGTH, true);
    const onDisk = new Uint8Array(RECORD_HEADER_BYTES);
    const fd = openSync(block.path, "r");
    try {
      if (readSync(fd, onDisk, 0, RECORD_HEADER_BYTES, blockLen - lastLen) !== RECORD_HEADER_BYTES) return null;
    } finally {
      closeSync(fd);
    }
    for (let i = 0; i < RECORD_HEADER_BYTES; i++) if (onDisk[i] !== b.u8[lastH + i]) return null;
  }
  const subjects: string[] = [];
  let p = idsAt + n * 4;
  for (let i = 0; i < m; i++) {
    if (p + 2 > raw.length) return null;
    const len = dv.getUint16(p, true);
    if (p + 2 + len > raw.length) return null;
    subjects.push(b.text.latin1Slice(p + 2, p + 2 + len));
    p += 2 + len;
  }
  for (let i = 0; i < n; i++) {
    const id = dv.getUint32(idsAt + i * 4, true);
    if (id !== NO_SUBJECT && id >= m) return null;
  }
  return {
    count: n,
    headers: b,
    headersAt: INDEX_HEAD_BYTES,
    subjectOf: (i) => {
      const id = dv.getUint32(idsAt + i * 4, true);
      return id === NO_SUBJECT ? "" : subjects[id];
    },
  };
}

export function removeFileIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Writes all of buf[start, start+len) at file position pos (retrying short writes). */
export function writeAll(fd: number, buf: Uint8Array, start: number, len: number, pos: number): void {
  let done = 0;
  while (done < len) {
    const n = writeSync(fd, buf, start + done, len - done, pos + done);
    if (n <= 0) throw new Error("short write");
    done += n;
  }
}
