// How the reference spells values in its monitoring JSON, and how it decodes query
// parameters (Go's strconv), so that tools built for it parse ours unchanged.
import { formatDuration } from "../config/conf_options.ts";

/**
 * A time as Go's RFC 3339 with nanoseconds prints it (UTC): fraction digits only as needed,
 * none for a whole second ("2026-12-07T02:34:57.7883Z", "…:57Z").
 */
export function rfc3339(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // …:SS.mmmZ
  const micros = Math.round((ms - whole) * 1000);
  let fraction = iso.slice(20, 23) + (micros > 0 ? String(Math.min(micros, 999)).padStart(3, "0") : "");
  fraction = fraction.replace(/0+$/, "");
  return iso.slice(0, 19) + (fraction === "" ? "" : "." + fraction) + "Z";
}

/** Now, in milliseconds with a fraction (microsecond precision). */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The reference's uptime and idle format: "1y2d3h4m5s", "3h0m1s", "42s" (whole seconds). */
export function uptimeText(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  const mins = Math.floor(secs / 60);
  const hrs = Math.floor(mins / 60);
  const days = Math.floor(hrs / 24);
  const years = Math.floor(days / 365);
  if (years > 0) return `${years}y${days % 365}d${hrs % 24}h${mins % 60}m${secs % 60}s`;
  if (days > 0) return `${days}d${hrs % 24}h${mins % 60}m${secs % 60}s`;
  if (hrs > 0) return `${hrs}h${mins % 60}m${secs % 60}s`;
  if (mins > 0) return `${mins}m${secs % 60}s`;
  return `${secs}s`;
}

/** A duration in milliseconds as Go's Duration.String ("8.756ms", "1.5s", "901µs"). */
export function goDuration(ms: number): string {
  return formatDuration(Math.round(ms * 1e6));
}

/** A bad query parameter: answered with 400 and this text, as the reference does. */
export class QueryError extends Error {
  override readonly name = "QueryError";
}

/** Go's strconv.ParseBool for `name` (absent or empty = false). */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === "") return false;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new QueryError(`Error decoding boolean for '${name}': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** Go's strconv.Atoi for `name` (absent or empty = 0). */
export function queryInt(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === "") return 0;
  if (!/^[+-]?[0-9]+$/.test(v)) throw new QueryError(`Error decoding int for '${name}': strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new QueryError(`Error decoding int for '${name}': strconv.Atoi: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

/** Go's strconv.ParseUint for `name` (absent or empty = 0). */
export function queryUint(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === "") return 0;
  if (!/^[0-9]+$/.test(v)) throw new QueryError(`Error decoding uint64 for '${name}': strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** Subjects, queues and sids are byte strings (one char per byte); JSON wants their UTF-8 text. */
export function byteStringText(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, "latin1").toString("utf8");
  return s;
}
