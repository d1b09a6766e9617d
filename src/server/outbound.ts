// A connection's outbound buffer: every protocol line and message for one client is appended
// here and written to the socket once per event-loop turn (see flush in server.ts), or as
// soon as it holds outboundFlushThresholdBytes.
//
// Layout: bytes [head, tail) are pending. Appends go at `tail`; a partial socket write moves
// `head`; the buffer is compacted (not reallocated) when it runs out of room at the end, and
// grows by doubling.
//
// Buffers are borrowed, not owned: a connection takes a standard-size buffer from a shared
// pool when it has something to send and gives it back as soon as the socket has taken every
// byte. So thousands of idle connections hold no buffer at all, and a busy one reuses the
// same few. Only a buffer grown beyond the standard size stays with its connection, until
// housekeeping sees it unused for a tick.
import { outboundPoolBufferBytes, outboundPoolMaxBuffers } from "../constants.ts";
import { allocBytes, writeDecimal, decimalLength } from "../util/bytes.ts";

/** Buffer.prototype.copy: copies between buffers natively without creating subarray views. */
const nativeCopy = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

/** Copies src[start, end) to dst[at]; short runs in JS (a native call costs more than the loop). */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, start: number, end: number): void {
  const len = end - start;
  if (len <= 24) {
    for (let i = 0; i < len; i++) dst[at + i] = src[start + i];
  } else {
    nativeCopy.call(src, dst, at, start, end);
  }
}

const pool: Uint8Array[] = [];

function takeBuffer(n: number): Uint8Array {
  if (n <= outboundPoolBufferBytes) return pool.pop() ?? allocBytes(outboundPoolBufferBytes);
  let size = outboundPoolBufferBytes * 2;
  while (size < n) size *= 2;
  return allocBytes(size);
}

function giveBack(buf: Uint8Array): void {
  if (buf.length === outboundPoolBufferBytes && pool.length < outboundPoolMaxBuffers) pool.push(buf);
}

/** Buffers currently pooled (for tests and memory accounting). */
export function pooledOutboundBuffers(): number {
  return pool.length;
}

export class Outbound {
  buf: Uint8Array | null = null;
  head = 0;
  tail = 0;
  /** Written since the last housekeeping tick (an idle buffer is released). */
  used = false;

  /** Bytes queued and not yet accepted by the socket. */
  get pending(): number {
    return this.tail - this.head;
  }

  /** Makes room for `n` more bytes at `tail` and returns the buffer. */
  reserve(n: number): Uint8Array {
    this.used = true;
    let buf = this.buf;
    if (buf === null) {
      buf = takeBuffer(n);
      this.buf = buf;
      return buf;
    }
    if (buf.length - this.tail >= n) return buf;
    const pending = this.tail - this.head;
    if (buf.length - pending >= n && this.head >= pending) {
      // Enough room once the written prefix is dropped, and cheap to move: compact.
      buf.copyWithin(0, this.head, this.tail);
    } else {
      let size = buf.length * 2;
      while (size - pending < n) size *= 2;
      const grown = allocBytes(size);
      if (pending > 0) copyBytes(grown, 0, buf, this.head, this.tail);
      giveBack(buf);
      buf = grown;
      this.buf = buf;
    }
    this.head = 0;
    this.tail = pending;
    return buf;
  }

  append(bytes: Uint8Array): void {
    const buf = this.reserve(bytes.length);
    copyBytes(buf, this.tail, bytes, 0, bytes.length);
    this.tail += bytes.length;
  }

  /**
   * Appends `MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n`, or `HMSG … <hdr> <size>`
   * when hdb (header-size digits) is non-empty. Subject, reply and the size digits are
   * copied from the publisher's argument bytes, the payload (headers included) from
   * payload[payloadStart, payloadStart + totalLength). Returns the bytes appended.
   */
  appendMsg(
    argBuf: Uint8Array,
    subjectStart: number,
    subjectEnd: number,
    sid: Uint8Array,
    replyStart: number,
    replyEnd: number,
    hdbStart: number,
    hdbEnd: number,
    szStart: number,
    szEnd: number,
    payload: Uint8Array,
    payloadStart: number,
    totalLength: number,
  ): number {
    const subjectLength = subjectEnd - subjectStart;
    const replyLength = replyEnd - replyStart;
    const hdbLength = hdbEnd - hdbStart;
    const szLength = szEnd - szStart;
    const total =
      (hdbLength > 0 ? 5 + hdbLength + 1 : 4) + subjectLength + 1 + sid.length + 1 + (replyLength > 0 ? replyLength + 1 : 0) + szLength + 2 + totalLength + 2;
    const buf = this.reserve(total);
    let p = this.tail;
    if (hdbLength > 0) buf[p++] = 0x48; // H
    buf[p] = 0x4d; // M
    buf[p + 1] = 0x53; // S
    buf[p + 2] = 0x47; // G
    buf[p + 3] = 0x20;
    p += 4;
    copyBytes(buf, p, argBuf, subjectStart, subjectEnd);
    p += subjectLength;
    buf[p++] = 0x20;
    copyBytes(buf, p, sid, 0, sid.length);
    p += sid.length;
    buf[p++] = 0x20;
    if (replyLength > 0) {
      copyBytes(buf, p, argBuf, replyStart, replyEnd);
      p += replyLength;
      buf[p++] = 0x20;
    }
    if (hdbLength > 0) {
      copyBytes(buf, p, argBuf, hdbStart, hdbEnd);
      p += hdbLength;
      buf[p++] = 0x20;
    }
    copyBytes(buf, p, argBuf, szStart, szEnd);
    p += szLength;
    buf[p++] = 13;
    buf[p++] = 10;
    copyBytes(buf, p, payload, payloadStart, payloadStart + totalLength);
    p += totalLength;
    buf[p++] = 13;
    buf[p++] = 10;
    this.tail = p;
    return total;
  }

  /** `MSG` for a receiver without header support: payload only, size written in decimal. */
  appendMsgStripped(
    argBuf: Uint8Array,
    subjectStart: number,
    subjectEnd: number,
    sid: Uint8Array,
    replyStart: number,
    replyEnd: number,
    payload: Uint8Array,
    payloadStart: number,
    size: number,
  ): number {
    const subjectLength = subjectEnd - subjectStart;
    const replyLength = replyEnd - replyStart;
    const total = 4 + subjectLength + 1 + sid.length + 1 + (replyLength > 0 ? replyLength + 1 : 0) + decimalLength(size) + 2 + size + 2;
    const buf = this.reserve(total);
    let p = this.tail;
    buf[p] = 0x4d;
    buf[p + 1] = 0x53;
    buf[p + 2] = 0x47;
    buf[p + 3] = 0x20;
    p += 4;
    copyBytes(buf, p, argBuf, subjectStart, subjectEnd);
    p += subjectLength;
    buf[p++] = 0x20;
    copyBytes(buf, p, sid, 0, sid.length);
    p += sid.length;
    buf[p++] = 0x20;
    if (replyLength > 0) {
      copyBytes(buf, p, argBuf, replyStart, replyEnd);
      p += replyLength;
      buf[p++] = 0x20;
    }
    p = writeDecimal(buf, p, size);
    buf[p++] = 13;
    buf[p++] = 10;
    copyBytes(buf, p, payload, payloadStart, payloadStart + size);
    p += size;
    buf[p++] = 13;
    buf[p++] = 10;
    this.tail = p;
    return total;
  }

  /** The socket accepted `n` bytes of the pending ones. */
  consumed(n: number): void {
    this.head += n;
    if (this.head >= this.tail) {
      this.head = 0;
      this.tail = 0;
      const buf = this.buf;
      if (buf !== null && buf.length === outboundPoolBufferBytes) {
        giveBack(buf);
        this.buf = null;
      }
    }
  }

  /** Drops a (grown) buffer if nothing is pending and it was not used since the last call. */
  releaseIfIdle(): void {
    if (this.buf !== null && this.tail === this.head && !this.used) {
      giveBack(this.buf);
      this.buf = null;
      this.head = 0;
      this.tail = 0;
    }
    this.used = false;
  }

  /** Gives the buffer back (connection closed). */
  release(): void {
    if (this.buf !== null) giveBack(this.buf);
    this.buf = null;
    this.head = 0;
    this.tail = 0;
  }
}
