// Connection-time windows of user JWTs: `times: [{start:"HH:MM:SS", end:"HH:MM:SS"}]` in the
// zone `times_location` (IANA name; empty = the server's local zone). The reference's rules
// (nats-server validateTimes, Go time.Parse / time.LoadLocation), reproduced here:
//   - a clock is H or HH (0–23), ':' MM, ':' SS, optionally a fraction ".5" or ",5";
//   - each window is placed on today's date in the zone; a window whose start is after its
//     end closes tomorrow. A connection is allowed when start < now < end, and the user may
//     stay until that end. So, as in the reference, `22:00:00`–`06:00:00` admits a client at
//     23:00 but not at 02:00 (that morning's part belongs to yesterday's window, never tried).
//   - a zone name exists when the system's zoneinfo has it ("UTC", "" and "Local" always do);
//     `..` or a leading slash is refused as an invalid name.
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TimeRange } from "./claims.ts";

/** Seconds since midnight of a clock "H:MM:SS[.fff]", or null when Go's time.Parse refuses it. */
export function parseClock(text: string): number | null {
  const m = /^([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?$/.exec(text);
  if (m === null) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || min > 59 || s > 59) return null;
  const fraction = m[4] === undefined ? 0 : Number(`0.${m[4]}`);
  return h * 3600 + min * 60 + s + fraction;
}

/** Where Go looks for zone files on Unix (time.platformZoneSources), ZONEINFO aside. */
const zoneDirs = ["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/"];

export type ZoneCheck = { ok: true } | { ok: false; error: string };

/** What a zone file lookup found: the file's first bytes, or why there is none. */
export type ZoneFile = { kind: "missing" } | { kind: "directory" } | { kind: "file"; head: Uint8Array };

function readZoneFile(path: string): ZoneFile {
  try {
    if (statSync(path).isDirectory()) return { kind: "directory" };
    const fd = openSync(path, "r");
    try {
      const head = new Uint8Array(4);
      const n = readSync(fd, head, 0, 4, 0);
      return { kind: "file", head: head.subarray(0, n) };
    } finally {
      closeSync(fd);
    }
  } catch {
    return { kind: "missing" };
  }
}

const tzifMagic = [0x54, 0x5a, 0x69, 0x66]; // "TZif"

/** Go's time.LoadLocation verdict for a zone name, with its error text. */
export function checkTimeZone(name: string, lookup: (path: string) => ZoneFile = readZoneFile, dirExists: (path: string) => boolean = existsSync): ZoneCheck {
  if (name === "" || name === "UTC" || name === "Local") return { ok: true };
  if (name.includes("..") || name.startsWith("/") || name.startsWith("\\")) return { ok: false, error: "time: invalid location name" };
  if (zoneDirs.some((dir) => dirExists(dir))) {
    for (const dir of zoneDirs) {
      const found = lookup(join(dir, name));
      if (found.kind === "missing") continue;
      if (found.kind === "directory") return { ok: false, error: "is a directory" };
      if (found.head.length < 4 || tzifMagic.some((b, i) => found.head[i] !== b)) return { ok: false, error: "malformed time zone information" };
      return { ok: true };
    }
    return { ok: false, error: `unknown time zone ${name}` };
  }
  // No zone database on this machine: the JavaScript runtime's own is the next best judge.
  return intlKnowsZone(name) ? { ok: true } : { ok: false, error: `unknown time zone ${name}` };
}

function intlKnowsZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of an instant in a zone ("" or "Local" = the process's local zone). */
function wallClock(instantMs: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const key = zone === "" || zone === "Local" ? "" : zone;
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: key === "" ? undefined : key,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(key, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  let y = Number(parts.year);
  if (parts.era === "BC" || parts.era === "B") y = 1 - y;
  return { y, mo: Number(parts.month), d: Number(parts.day), h: Number(parts.hour), mi: Number(parts.minute), s: Number(parts.second) };
}

/** Milliseconds the zone's wall clock is ahead of UTC at an instant. */
function zoneOffsetMs(instantMs: number, zone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const w = wallClock(whole, zone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - whole;
}

/** The instant of a wall-clock time in a zone (fields normalise as Go's time.Date does). */
function zonedInstant(y: number, mo: number, d: number, secondsOfDay: number, zone: string): number {
  const asUtc = Date.UTC(y, mo - 1, d) + secondsOfDay * 1000;
  const first = zoneOffsetMs(asUtc, zone);
  const candidate = asUtc - first;
  const second = zoneOffsetMs(candidate, zone);
  return second === first ? candidate : asUtc - second;
}

export interface WindowVerdict {
  allowed: boolean;
  /** When allowed: how long until the window closes (the reference expires the client then). */
  validForMs: number;
}

/**
 * Whether `now` falls in one of the windows (nats-server validateTimes). No windows: allowed
 * with no deadline (validForMs 0). An unparsable clock or unknown zone refuses, as there.
 */
export function checkTimeWindows(times: TimeRange[] | null, zone: string, nowMs: number): WindowVerdict {
  if (times === null || times.length === 0) return { allowed: true, validForMs: 0 };
  if (zone !== "" && !checkTimeZone(zone).ok) return { allowed: false, validForMs: 0 };
  let today: { y: number; mo: number; d: number };
  try {
    today = wallClock(nowMs, zone);
  } catch {
    return { allowed: false, validForMs: 0 };
  }
  for (const range of times) {
    const start = parseClock(range.start);
    const end = parseClock(range.end);
    if (start === null || end === null) return { allowed: false, validForMs: 0 };
    const startAt = zonedInstant(today.y, today.mo, today.d, start, zone);
    const endAt = zonedInstant(today.y, today.mo, today.d + (start > end ? 1 : 0), end, zone);
    if (startAt < nowMs && endAt > nowMs) return { allowed: true, validForMs: endAt - nowMs };
  }
  return { allowed: false, validForMs: 0 };
}
