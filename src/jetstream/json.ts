// JSON as the reference writes it (Go encoding/json): '<', '>', '&' escaped, times in
// RFC 3339 with nanoseconds (trailing zeros trimmed), durations as integer nanoseconds.
export { goJson } from "../protocol/encode.ts";

export { nowNs, nsToRfc3339, rfc3339ToNs, ZERO_TIME } from "../util/time.ts";

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
