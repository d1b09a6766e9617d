// Logging in the reference's format: `[pid] YYYY/MM/DD HH:MM:SS.uuuuuu [INF] text`, to stderr
// or a file (appended), with debug and protocol trace on demand (-D, -V, -DV).
import { appendFileSync, closeSync, openSync, readdirSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export const LogLevel = { FATAL: "FTL", ERROR: "ERR", WARN: "WRN", INFO: "INF", DEBUG: "DBG", TRACE: "TRC" } as const;

export interface LoggerOptions {
  debug: boolean;
  trace: boolean;
  logtime: boolean;
  logtimeUtc: boolean;
  /** Log file path; empty = stderr. */
  file: string;
  /** Rotate the file when it grows beyond this many bytes (0 = never). */
  sizeLimitBytes: number;
  /** Rotated files to keep (0 = keep all). */
  maxFiles: number;
}

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n));

/**
 * Whether local time is UTC, decided without asking the Date object: its first local-time
 * computation loads the ICU time-zone data, which costs ~10 ms — most of our startup time.
 * UTC when TZ says so, or when TZ is unset and /etc/localtime is absent or a UTC zone (the
 * usual server and container setup); anything else is left to Date.
 */
const localTimeIsUtc: boolean = (() => {
  const tz = process.env.TZ;
  if (tz !== undefined) return /^:?(Etc\/)?(UTC|UCT|Universal|Zulu|GMT|GMT[+-]?0)?$/.test(tz);
  try {
    return /(^|\/)(Etc\/)?(UTC|UCT|Universal|Zulu|GMT|GMT[+-]?0)$/.test(readlinkSync("/etc/localtime"));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
})();

export class Logger {
  debugEnabled: boolean;
  traceEnabled: boolean;
  #opts: LoggerOptions;
  #prefix = `[${process.pid}] `;
  #fd = -1;
  #written = 0;

  constructor(opts: LoggerOptions) {
    this.#opts = opts;
    this.debugEnabled = opts.debug;
    this.traceEnabled = opts.trace;
    this.#open();
  }

  /**
   * Takes new options (configuration reload): debug/trace switch at once, timestamps from the
   * next line, a changed file is opened (and the old one closed).
   */
  configure(opts: LoggerOptions): void {
    const fileChanged = opts.file !== this.#opts.file;
    this.#opts = opts;
    this.debugEnabled = opts.debug;
    this.traceEnabled = opts.trace;
    if (fileChanged) {
      this.#closeFile();
      this.#open();
    }
  }

  /** Reopens the log file (SIGUSR1 / logrotate). */
  reopen(): void {
    this.#closeFile();
    this.#open();
  }

  close(): void {
    this.#closeFile();
  }

  fatal(msg: string): void {
    this.#write(LogLevel.FATAL, msg);
  }
  error(msg: string): void {
    this.#write(LogLevel.ERROR, msg);
  }
  warn(msg: string): void {
    this.#write(LogLevel.WARN, msg);
  }
  info(msg: string): void {
    this.#write(LogLevel.INFO, msg);
  }
  debug(msg: string): void {
    if (this.debugEnabled) this.#write(LogLevel.DEBUG, msg);
  }
  trace(msg: string): void {
    if (this.traceEnabled) this.#write(LogLevel.TRACE, msg);
  }

  #open(): void {
    if (this.#opts.file === "") return;
    this.#fd = openSync(this.#opts.file, "a");
    try {
      this.#written = statSync(this.#opts.file).size;
    } catch {
      this.#written = 0;
    }
  }

  #closeFile(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #timestamp(): string {
    if (!this.#opts.logtime) return "";
    // One clock reading for both the date and the microseconds.
    const t = performance.timeOrigin + performance.now();
    const now = new Date(Math.floor(t));
    const micros = String(Math.floor(t * 1000) % 1_000_000).padStart(6, "0");
    const utc = this.#opts.logtimeUtc || localTimeIsUtc;
    const y = utc ? now.getUTCFullYear() : now.getFullYear();
    const mo = utc ? now.getUTCMonth() + 1 : now.getMonth() + 1;
    const d = utc ? now.getUTCDate() : now.getDate();
    const h = utc ? now.getUTCHours() : now.getHours();
    const mi = utc ? now.getUTCMinutes() : now.getMinutes();
    const s = utc ? now.getUTCSeconds() : now.getSeconds();
    return `${y}/${pad2(mo)}/${pad2(d)} ${pad2(h)}:${pad2(mi)}:${pad2(s)}.${micros} `;
  }

  #write(level: string, msg: string): void {
    const line = `${this.#prefix}${this.#timestamp()}[${level}] ${msg}\n`;
    if (this.#fd < 0) {
      // A plain synchronous write to fd 2, as Go's logger does: process.stderr costs ~6 ms
      // to set up on first use, which would be a third of our startup time.
      writeSync(2, line);
      return;
    }
    const bytes = Buffer.from(line);
    writeSync(this.#fd, bytes);
    this.#written += bytes.length;
    if (this.#opts.sizeLimitBytes > 0 && this.#written >= this.#opts.sizeLimitBytes) this.#rotate();
  }

  /** Renames the full file to `<file>.<timestamp>` and starts a new one, keeping at most maxFiles. */
  #rotate(): void {
    const file = this.#opts.file;
    this.#closeFile();
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    let target = `${file}.${stamp}`;
    for (let n = 1; existsFile(target); n++) target = `${file}.${stamp}.${n}`;
    renameSync(file, target);
    this.#open();
    appendFileSync(file, "");
    if (this.#opts.maxFiles > 0) pruneRotated(file, this.#opts.maxFiles);
  }
}

function existsFile(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function pruneRotated(file: string, keep: number): void {
  const dir = dirname(file);
  const base = basename(file);
  const rotated = readdirSync(dir)
    .filter((f) => f.startsWith(base + "."))
    .sort();
  for (const f of rotated.slice(0, Math.max(0, rotated.length - keep))) unlinkSync(join(dir, f));
}

/** A logger that discards everything (tests, `bench`). */
export function silentLogger(): Logger {
  const l = new Logger({ debug: false, trace: false, logtime: false, logtimeUtc: false, file: "", sizeLimitBytes: 0, maxFiles: 0 });
  for (const k of ["fatal", "error", "warn", "info", "debug", "trace"] as const) (l as unknown as Record<string, () => void>)[k] = () => {};
  return l;
}
