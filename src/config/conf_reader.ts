// Reading config entries: the reader that collects errors and warnings with their positions,
// typed accessors for values, and Go durations. Shared by the option mappers (conf_options.ts,
// conf_tls.ts, conf_auth.ts).
import { ConfigError, ConfMap, formatPosition, type ConfPosition, type ConfValue } from "./conf_parser.ts";
import type { ServerOptions } from "./options.ts";

// ---- Go durations ------------------------------------------------------------------------

const nsPerUnit: ReadonlyMap<string, number> = new Map([
  ["ns", 1], ["us", 1e3], ["µs", 1e3], ["μs", 1e3], ["ms", 1e6], ["s", 1e9], ["m", 60e9], ["h", 3600e9],
]);
const maxDurationNs = 2 ** 63 - 1;

/**
 * Parses a duration as Go's time.ParseDuration ("1h30m", "250ms", "-1.5s", "0") into
 * nanoseconds. Throws an Error with Go's message (`time: invalid duration "x"`).
 */
export function parseDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== "") {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const whole = m[1]!;
    const fraction = m[2];
    if (whole === "" && (fraction === undefined || fraction === "")) throw new Error(`time: invalid duration ${quoted}`);
    s = s.slice(m[0].length);
    const unitMatch = /^[^0-9.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === "") throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = nsPerUnit.get(unit);
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    total += Number(whole || "0") * scale;
    if (fraction) total += Number(`0.${fraction}`) * scale;
    if (total > maxDurationNs) throw new Error(`time: invalid duration ${quoted}`);
  }
  return negative ? -total : total;
}

/** Formats nanoseconds as Go's Duration.String ("1m30s", "250ms", "2h0m0s"), for messages. */
export function formatDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let rest = Math.round(Math.abs(ns));
  if (rest < 1e9) {
    if (rest < 1e3) return `${sign}${rest}ns`;
    if (rest < 1e6) return `${sign}${decimal(rest, 1e3)}µs`;
    return `${sign}${decimal(rest, 1e6)}ms`;
  }
  const hours = Math.floor(rest / 3600e9);
  rest -= hours * 3600e9;
  const minutes = Math.floor(rest / 60e9);
  rest -= minutes * 60e9;
  const h = hours > 0 ? `${hours}h` : "";
  const m = hours > 0 || minutes > 0 ? `${minutes}m` : "";
  return `${sign}${h}${m}${decimal(rest, 1e9)}s`;
}

/** `value / unit` written with only the digits needed (1500/1000 → "1.5"). */
function decimal(value: number, unit: number): string {
  const whole = Math.floor(value / unit);
  const fraction = value - whole * unit;
  if (fraction === 0) return String(whole);
  const digits = String(fraction).padStart(String(unit).length - 1, "0").replace(/0+$/, "");
  return `${whole}.${digits}`;
}

// ---- reading entries -----------------------------------------------------------------------

export interface Entry {
  /** The key as written. */
  key: string;
  value: ConfValue;
  pos: ConfPosition;
  /** The map holding the key (for `usedAsVariable`). */
  map: ConfMap;
}

export type Handler = (r: OptionsReader, e: Entry) => void;

export type FieldOfType<T> = { [K in keyof ServerOptions]: ServerOptions[K] extends T ? K : never }[keyof ServerOptions];
export type NumberField = FieldOfType<number>;
export type StringField = FieldOfType<string>;
export type BoolField = FieldOfType<boolean>;

export function positionOf(map: ConfMap, key: string): ConfPosition {
  const p = map.position(key);
  // Every key of a parsed map has a position; a map built by hand may not.
  return p ?? { file: "", line: 0, col: 0 };
}

/** How a value is named in type errors: `string "abc"`, `integer 5`, `map`. */
export function describe(v: ConfValue): string {
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? `integer ${v}` : `float ${v}`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (v instanceof Date) return `datetime ${v.toISOString()}`;
  if (Array.isArray(v)) return "array";
  return "map";
}

export class OptionsReader {
  readonly opts: ServerOptions;
  readonly errors: ConfigError[] = [];
  readonly warnings: string[] = [];
  /** Whether store_dir was set already in this file (top level or in jetstream {}): once only. */
  storeDirSet = false;

  constructor(opts: ServerOptions) {
    this.opts = opts;
  }

  error(e: Entry, reason: string): void {
    this.errors.push(new ConfigError(e.pos, reason));
  }

  /** The reference's configWarningErr form. */
  warn(e: Entry, field: string, reason: string): void {
    this.warnings.push(`${formatPosition(e.pos)}: invalid use of field "${field}": ${reason}`);
  }

  notYetSupported(e: Entry, name: string): void {
    this.error(e, `"${name}" is not yet supported by nats-bun`);
  }

  unknownField(e: Entry): void {
    this.error(e, `unknown field "${e.key}"`);
  }

  set<K extends keyof ServerOptions>(field: K, value: ServerOptions[K]): void {
    this.opts[field] = value;
    this.opts.explicit.add(field);
  }

  string(e: Entry): string | undefined {
    if (typeof e.value === "string") return e.value;
    this.error(e, `invalid value for "${e.key}": expected a string, got ${describe(e.value)}`);
    return undefined;
  }

  bool(e: Entry): boolean | undefined {
    if (typeof e.value === "boolean") return e.value;
    this.error(e, `invalid value for "${e.key}": expected a boolean, got ${describe(e.value)}`);
    return undefined;
  }

  integer(e: Entry): number | undefined {
    if (typeof e.value === "number" && Number.isInteger(e.value)) return e.value;
    this.error(e, `invalid value for "${e.key}": expected an integer, got ${describe(e.value)}`);
    return undefined;
  }

  /**
   * A duration in nanoseconds: a Go duration string, or (when `secondsAllowed`) a bare integer
   * of seconds with the reference's warning.
   */
  duration(e: Entry, field: string, secondsAllowed: boolean): number | undefined {
    if (typeof e.value === "string") {
      try {
        return parseDuration(e.value);
      } catch (err) {
        this.error(e, `error parsing ${field}: ${(err as Error).message}`);
        return undefined;
      }
    }
    if (secondsAllowed && typeof e.value === "number" && Number.isInteger(e.value)) {
      this.warn(e, field, `${field} should be converted to a duration`);
      return e.value * 1e9;
    }
    const want = secondsAllowed ? "a duration string such as \"2m\" or a number of seconds" : "a duration string such as \"2m\"";
    this.error(e, `error parsing ${field}: expected ${want}, got ${describe(e.value)}`);
    return undefined;
  }
}


/** Entries of a sub-block, with keys lower-cased for matching and positions for errors. */
export function blockEntries(map: ConfMap): { lower: string; entry: Entry }[] {
  return [...map].map(([key, value]) => ({ lower: key.toLowerCase(), entry: { key, value, pos: positionOf(map, key), map } }));
}
