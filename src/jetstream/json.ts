// JSON as the reference writes it (Go encoding/json): '<', '>', '&' escaped, times in
// RFC 3339 with nanoseconds (trailing zeros trimmed), durations as integer nanoseconds.
export { goJson } from "../protocol/encode.ts";

/** Go's zero time, which the reference writes for "no message" timestamps. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Nanoseconds since the epoch → RFC 3339 with up to 9 fraction digits, UTC (time.RFC3339Nano). */
export function nsToRfc3339(ns: bigint): string {
  if (ns === 0n) return ZERO_TIME;
  const ms = ns / 1_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  if (frac === 0n) return `${base}Z`;
  return `${base}.${frac.toString().padStart(9, "0").replace(/0+$/, "")}Z`;
}

/** RFC 3339 (with optional fraction) → nanoseconds since the epoch; null when invalid. */
export function rfc3339ToNs(text: string): bigint | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = BigInt((m[2] ?? "").padEnd(9, "0") || "0");
  return BigInt(ms) * 1_000_000n + frac;
}

/** The current time in nanoseconds since the epoch (microsecond resolution plus a counter for order). */
let lastNs = 0n;
export function nowNs(): bigint {
  let ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

// Decimal text of a nanosecond timestamp (the ack subject's ts token), without BigInt
// formatting on every call: the offset from a cached whole second is exact as a Number.
let decimalBaseNs = 0n;
let decimalBaseSec = 0;

/** `String(ns)` for nanosecond timestamps, ~2× faster (hot: every delivery's ack reply). */
export function nsToDecimal(ns: bigint): string {
  let d = Number(ns - decimalBaseNs);
  if (!(d >= 0 && d < 1e15)) {
    if (ns < 0n) return ns.toString();
    decimalBaseSec = Number(ns / 1_000_000_000n);
    decimalBaseNs = BigInt(decimalBaseSec) * 1_000_000_000n;
    d = Number(ns - decimalBaseNs);
  }
  const frac = d % 1e9;
  const sec = decimalBaseSec + (d - frac) / 1e9;
  if (sec === 0) return String(frac);
  const fracText = String(frac);
  return `${sec}${"000000000".slice(fracText.length)}${fracText}`;
}
