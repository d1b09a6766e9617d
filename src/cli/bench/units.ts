// Parsing and formatting of the quantities the load tool talks about: byte sizes with units,
// durations, and the human-readable numbers of the summary (natscli style).

/**
 * Binary multipliers, as natscli's ParseStringAsBytes (1 KB = 1 KiB = 1024 B), so that
 * `--size 1KB` means the same to us as to `nats bench`.
 */
const sizeShift: Record<string, number> = {
  B: 0,
  K: 10, KB: 10, KIB: 10,
  M: 20, MB: 20, MIB: 20,
  G: 30, GB: 30, GIB: 30,
};

/** `16`, `16B`, `1KB`, `1KiB`, `1MB`, `2 mb` → bytes; throws on anything else. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (match === null) throw new Error(`invalid size "${text}": expected a number with an optional unit B, KB, KiB, MB, MiB, GB`);
  const count = Number(match[1]);
  const unit = match[2].toUpperCase();
  if (unit === "") return count;
  const shift = sizeShift[unit];
  if (shift === undefined) throw new Error(`invalid size "${text}": unknown unit "${match[2]}" (use B, KB, KiB, MB, MiB, GB)`);
  const bytes = count * 2 ** shift;
  if (!Number.isSafeInteger(bytes)) throw new Error(`invalid size "${text}": too large`);
  return bytes;
}

const durationMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations as natscli takes them: `500ms`, `2s`, `1m30s`, or a bare number of seconds. */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < trimmed.length) {
    part.lastIndex = at;
    const match = part.exec(trimmed);
    if (match === null) throw new Error(`invalid duration "${text}": expected e.g. 500ms, 2s, 1m30s`);
    total += Number(match[1]) * durationMs[match[2]];
    at = part.lastIndex;
  }
  if (trimmed.length === 0) throw new Error("invalid duration: empty");
  return total;
}

/** A positive integer flag value; `1,000,000` and `1_000_000` are accepted for readability. */
export function parseCount(text: string, flag: string, minimum = 1): number {
  const cleaned = text.replace(/[,_]/g, "");
  if (!/^\d+$/.test(cleaned)) throw new Error(`${flag}: expected a whole number, got "${text}"`);
  const value = Number(cleaned);
  if (!Number.isSafeInteger(value) || value < minimum) throw new Error(`${flag}: must be at least ${minimum}, got "${text}"`);
  return value;
}

/** 1234567 → "1,234,567" (natscli prints counts with thousands separators). */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Bytes as natscli prints them: `16 B`, `1.0 KiB`, `16 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Nanoseconds → a short human duration: `850ns`, `12.3µs`, `4.56ms`, `1.20s`. */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${Math.round(ns)}ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)}µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 2 : 1)}ms`;
  return `${(ns / 1_000_000_000).toFixed(2)}s`;
}
