// Byte-level helpers for the data plane: ASCII codes, bounded integer parsing, and string
// <-> byte conversion without intermediate copies where Bun gives us a faster path.

export const CR = 13;
export const LF = 10;
export const SPACE = 32;
export const TAB = 9;
export const DOT = 46;
export const STAR = 42;
export const GT = 62;
export const ZERO = 48;
export const NINE = 57;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bun's Buffer exposes native slicing decoders that skip the subarray allocation. */
type NativeSlicing = Uint8Array & { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string };

/**
 * Decodes `buf[start, end)` as UTF-8. Buffers (what Bun's socket `data` handler delivers and
 * what we allocate for scratch) decode in place; other views go through TextDecoder.
 */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if ((buf as NativeSlicing).utf8Slice !== undefined) return (buf as NativeSlicing).utf8Slice(start, end);
  return decoder.decode(buf.subarray(start, end));
}

/**
 * Subjects, queue names and sids are byte strings on the data plane: one character per byte
 * (latin1), so that two subjects are equal exactly when their bytes are — as in the
 * reference, which compares bytes. UTF-8 decoding would merge distinct invalid sequences
 * into U+FFFD. Use `byteStringToText` to show one to a person.
 */
export function decodeByteString(buf: Uint8Array, start: number, end: number): string {
  if ((buf as NativeSlicing).latin1Slice !== undefined) return (buf as NativeSlicing).latin1Slice(start, end);
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** The bytes of a byte string (see decodeByteString). */
export function encodeByteString(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** A byte string (see decodeByteString) as readable text: its bytes decoded as UTF-8. */
export function byteStringToText(s: string): string {
  return Buffer.from(s, "latin1").toString("utf8");
}

/** Text (e.g. a subject from config or an internal client) as a data-plane byte string. */
export function textToByteString(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Allocates a Buffer (a Uint8Array with native slicing), uninitialised: callers write before reading. */
export function allocBytes(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/**
 * Parses a non-negative decimal of at most 9 digits from `buf[start, end)`; -1 for anything
 * else. Nine digits is the reference's limit (parseSize: "999M"), which also keeps the value
 * far inside the safe-integer range.
 */
export function parseSize(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len > 9) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Writes the decimal digits of a non-negative integer at `off`; returns the offset after them. */
export function writeDecimal(dst: Uint8Array, off: number, n: number): number {
  if (n < 10) {
    dst[off] = ZERO + n;
    return off + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let p = off + digits - 1;
  while (n >= 10) {
    const q = Math.floor(n / 10);
    dst[p--] = ZERO + (n - q * 10);
    n = q;
  }
  dst[p] = ZERO + n;
  return off + digits;
}

/** Number of decimal digits of a non-negative integer. */
export function decimalLength(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** Byte-wise equality of `a[aStart, aEnd)` and all of `b`. */
export function bytesEqual(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bLen: number): boolean {
  if (aEnd - aStart !== bLen) return false;
  for (let i = 0; i < bLen; i++) if (a[aStart + i] !== b[i]) return false;
  return true;
}

/** Renders bytes for a log line the way Go's %q would, roughly: printable ASCII kept, others escaped. */
export function quoteBytes(buf: Uint8Array, start: number, end: number): string {
  let s = '"';
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += "\\\\";
    else if (b === CR) s += "\\r";
    else if (b === LF) s += "\\n";
    else if (b === TAB) s += "\\t";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += "\\x" + b.toString(16).padStart(2, "0");
  }
  return s + '"';
}
