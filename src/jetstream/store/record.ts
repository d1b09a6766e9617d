// The byte layout of one file-store record, and the few functions that read and write it.
// Block files (block.ts) are nothing but records back to back; the per-block index (.idx)
// keeps a copy of every record's header, so both are parsed by the functions below.
//
// A record, little-endian, 48-byte header then the variable part:
//
//   off size field
//    0   4   length    whole record in bytes (header + subject + headers + payload)
//    4   4   checksum  CRC-32 of bytes [8, length): everything but length and itself
//    8   1   kind      1 message, 2 delete (tombstone), 3 skip, 4 floor, 5 erased message
//    9   1   reserved  0
//   10   2   subjLen   subject length in bytes
//   12   4   hdrLen    header block length (0: no headers)
//   16   8   seq       the message's / deleted / skipped sequence; floor: the new first seq
//   24   8   floor     first live sequence when the record was written (everything below is
//                      gone); floor records: the last sequence
//   32   8   ts        nanoseconds since the epoch (signed)
//   40   8   expires   per-message TTL deadline in ns, 0 when none
//   48   …   subject, then headers, then payload
//
// Why these fields:
// - length first, so a scan can step over a record without parsing it, and a torn tail (a
//   length pointing past the end of the file) is found without reading the rest.
// - The checksum covers the kind and the sequence, so a flipped bit anywhere but in the length
//   is caught; a flipped length shows as a checksum mismatch of the bytes it claims. CRC-32 is
//   what Bun computes natively (about 20 GB/s here): checking on every read is nearly free.
// - floor rides along in every record so that moving the first sequence (limits, max_age)
//   costs no write of its own: the next record carries it. Recovery re-applies the limits, so
//   a floor not yet carried by any record (only evictions caused by the very last append) is
//   reproduced exactly; see filestore.ts "Durability".
// - Sequences are integers below 2^53, written as two 32-bit halves (no BigInt on the hot path).

export const RECORD_HEADER_BYTES = 48;

export const RecordKind = {
  msg: 1,
  delete: 2,
  skip: 3,
  floor: 4,
  erased: 5,
} as const;
export type RecordKindValue = (typeof RecordKind)[keyof typeof RecordKind];

export const OFF_LENGTH = 0;
export const OFF_CHECKSUM = 4;
export const OFF_KIND = 8;
export const OFF_SUBJ_LEN = 10;
export const OFF_HDR_LEN = 12;
export const OFF_SEQ = 16;
export const OFF_FLOOR = 24;
export const OFF_TS = 32;
export const OFF_EXPIRES = 40;

/** The largest subject a record can hold (u16 length). */
export const SUBJECT_MAX_BYTES = 0xffff;

const TWO_32 = 4294967296;

/**
 * Bytes accounted for one message in state.bytes, as the reference's file store counts them
 * (filestore.go fileStoreMsgSize, checked against nats-server 2.9.10 STREAM.INFO): its 22-byte
 * record header and 8-byte hash, plus 4 bytes of header length when there are headers.
 */
export function fileStoreMsgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
  const hdrLen = hdr === null ? 0 : hdr.length;
  return hdrLen === 0 ? 30 + subject.length + data.length : 34 + subject.length + hdrLen + data.length;
}

/** Same as fileStoreMsgSize from lengths (recovery reads lengths, not buffers). */
export function fileStoreMsgSizeOf(subjLen: number, hdrLen: number, dataLen: number): number {
  return hdrLen === 0 ? 30 + subjLen + dataLen : 34 + subjLen + hdrLen + dataLen;
}

export function writeSeq(dv: DataView, at: number, seq: number): void {
  dv.setUint32(at, seq >>> 0, true);
  dv.setUint32(at + 4, Math.floor(seq / TWO_32), true);
}

export function readSeq(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * TWO_32 + dv.getUint32(at, true);
}

/** A signed 64-bit ns value; 0n without allocating a BigInt for the common "none". */
export function readNs(dv: DataView, at: number): bigint {
  if (dv.getUint32(at, true) === 0 && dv.getUint32(at + 4, true) === 0) return 0n;
  return dv.getBigInt64(at, true);
}

/** CRC-32 of a record's checked bytes [8, length). */
export function recordChecksum(buf: Uint8Array, off: number, length: number): number {
  return Bun.hash.crc32(buf.subarray(off + OFF_KIND, off + length)) >>> 0;
}

/**
 * Writes a record header at `off` (the variable part must already be in place, as the checksum
 * covers it) and returns the record length.
 */
export function writeRecordHeader(
  buf: Uint8Array,
  dv: DataView,
  off: number,
  kind: RecordKindValue,
  subjLen: number,
  hdrLen: number,
  bodyLen: number,
  seq: number,
  floor: number,
  ts: bigint,
  expiresNs: bigint,
): number {
  const length = RECORD_HEADER_BYTES + subjLen + hdrLen + bodyLen;
  dv.setUint32(off + OFF_LENGTH, length, true);
  buf[off + OFF_KIND] = kind;
  buf[off + OFF_KIND + 1] = 0;
  dv.setUint16(off + OFF_SUBJ_LEN, subjLen, true);
  dv.setUint32(off + OFF_HDR_LEN, hdrLen, true);
  writeSeq(dv, off + OFF_SEQ, seq);
  writeSeq(dv, off + OFF_FLOOR, floor);
  dv.setBigInt64(off + OFF_TS, ts, true);
  dv.setBigInt64(off + OFF_EXPIRES, expiresNs, true);
  dv.setUint32(off + OFF_CHECKSUM, recordChecksum(buf, off, length), true);
  return length;
}

export type RecordProblem = "torn" | "length" | "kind" | "checksum" | null;

/**
 * Checks the record at `off` of a block whose valid bytes end at `end`: null when good, else
 * what is wrong. `checkSum` false skips the checksum (the index vouches for the block).
 */
export function checkRecord(buf: Uint8Array, dv: DataView, off: number, end: number, checkSum: boolean): RecordProblem {
  if (end - off < RECORD_HEADER_BYTES) return "torn";
  const length = dv.getUint32(off + OFF_LENGTH, true);
  if (length < RECORD_HEADER_BYTES) return "length";
  if (length > end - off) return "torn";
  const kind = buf[off + OFF_KIND];
  if (kind < RecordKind.msg || kind > RecordKind.erased) return "kind";
  const subjLen = dv.getUint16(off + OFF_SUBJ_LEN, true);
  const hdrLen = dv.getUint32(off + OFF_HDR_LEN, true);
  if (RECORD_HEADER_BYTES + subjLen + hdrLen > length) return "length";
  if (checkSum && dv.getUint32(off + OFF_CHECKSUM, true) !== recordChecksum(buf, off, length)) return "checksum";
  return null;
}

/** The header fields agree with each other (no checksum: used for index copies of headers). */
export function headerLooksSane(buf: Uint8Array, dv: DataView, off: number): boolean {
  const length = dv.getUint32(off + OFF_LENGTH, true);
  const kind = buf[off + OFF_KIND];
  if (length < RECORD_HEADER_BYTES || kind < RecordKind.msg || kind > RecordKind.erased) return false;
  return RECORD_HEADER_BYTES + dv.getUint16(off + OFF_SUBJ_LEN, true) + dv.getUint32(off + OFF_HDR_LEN, true) <= length;
}
