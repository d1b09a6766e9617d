// Times as the reference writes them (Go's time.RFC3339Nano) and the wall clock in
// nanoseconds: shared by JetStream, the system account's events and monitoring.

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
