// Parser for the NATS configuration format: tokens from conf_lexer.ts → plain values, with the
// source position of every key. Resolves `$variables` and `include` files as the reference's
// conf/parse.go does; see conf_lexer.ts for the syntax.
//
// Values: string, number (integers with size suffixes applied; floats), boolean, Date (Zulu
// datetimes), arrays (ConfValue[]) and maps (ConfMap, a Map in file order).
//
// Positions: a ConfMap records where each key was written (`map.position(key)`), in the file
// that wrote it (included files keep their own name). Array elements: `elementPosition(list, i)`.
// Option processing reports `file:line:col: …` from these.
//
// Variables (`$NAME`): a key defined earlier in the enclosing maps, innermost first, then the
// environment. An environment value is itself parsed as a config value (`1MB`, `true`, `[1, 2]`),
// and may refer to further environment variables; a cycle among them is an error. A key used as
// a variable is remembered (`map.usedAsVariable(key)`) because the reference does not report such
// keys as unknown fields. `$2a$…` is a bcrypt hash, kept as a string.
//
// Includes: `include path` (relative to the including file's directory) parses that file on its
// own — it cannot see the includer's variables, as in the reference — and merges its keys at that
// point of the current map. Cycles and unreadable files are errors naming the include line.
//
// Differences from nats-server v2.9.10: an absolute include path is used as is (the reference
// joins it under the includer's directory); include cycles and environment-variable cycles are
// reported instead of recursing forever; an integer whose size suffix overflows 64 bits is an
// error instead of wrapping; an unknown suffix (`1kbib`) is an error instead of dropping the key.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, lexConf, TokenKind, type ConfPosition, type Token } from "./conf_lexer.ts";

export { ConfigError, formatPosition, type ConfPosition } from "./conf_lexer.ts";

export type ConfValue = string | number | boolean | Date | ConfValue[] | ConfMap;

/** A config map in file order, with where each key was written. */
export class ConfMap extends Map<string, ConfValue> {
  readonly #positions = new Map<string, ConfPosition>();
  readonly #usedAsVariable = new Set<string>();

  /** Sets a key with its position (use this rather than `set`, which keeps no position). */
  setAt(key: string, value: ConfValue, position: ConfPosition): void {
    this.set(key, value);
    this.#positions.set(key, position);
  }

  position(key: string): ConfPosition | undefined {
    return this.#positions.get(key);
  }

  markUsedAsVariable(key: string): void {
    this.#usedAsVariable.add(key);
  }

  /** Whether `$key` was referred to somewhere (such keys are not "unknown fields"). */
  usedAsVariable(key: string): boolean {
    return this.#usedAsVariable.has(key);
  }
}

const elementPositions = new WeakMap<ConfValue[], ConfPosition[]>();

/** Where element `index` of a parsed array was written. */
export function elementPosition(list: ConfValue[], index: number): ConfPosition | undefined {
  return elementPositions.get(list)?.[index];
}

export interface ParseOptions {
  /** Environment for `$VARIABLE` fallback; defaults to process.env (injected by tests). */
  env?: Record<string, string | undefined>;
}

/** Parses a config file; includes are resolved relative to its directory. */
export function parseConfigFile(path: string, options: ParseOptions = {}): ConfMap {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(null, describeFsError(err, path), { cause: err });
  }
  return new Parser(text, path, options.env ?? process.env, [resolve(path)], []).parseDocument();
}

/** Parses config text; `file` names it in positions and anchors relative includes. */
export function parseConfigText(text: string, file = "", options: ParseOptions = {}): ConfMap {
  const chain = file === "" ? [] : [resolve(file)];
  return new Parser(text, file, options.env ?? process.env, chain, []).parseDocument();
}

/** Converts parsed values to plain JSON-like objects (for tests, logging and /varz). */
export function toPlain(value: ConfValue): unknown {
  if (value instanceof ConfMap) {
    const out: Record<string, unknown> = {};
    // defineProperty so that a key named `__proto__` stays a key.
    for (const [k, v] of value) Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  if (Array.isArray(value)) return value.map(toPlain);
  return value;
}

/** Key name for the one-entry document an environment value is parsed as (reference "pk"). */
const envValueKey = "pk";
/** An unquoted `$2a$…` is a bcrypt hash, not a variable. */
const bcryptPrefix = "2a$";

/** Size suffixes of integers, as the reference's parse.go: decimal k/m/g…, binary kb/ki/kib… */
const sizeMultipliers: ReadonlyMap<string, bigint> = (() => {
  const m = new Map<string, bigint>([["", 1n]]);
  const letters = ["k", "m", "g", "t", "p", "e"];
  letters.forEach((letter, i) => {
    const power = BigInt(i + 1);
    m.set(letter, 1000n ** power);
    for (const binary of ["b", "i", "ib"]) m.set(letter + binary, 1024n ** power);
  });
  return m;
})();
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

class Parser {
  readonly #tokens: Iterator<Token>;
  readonly #file: string;
  readonly #env: Record<string, string | undefined>;
  /** Absolute paths of the files being parsed, outermost first (include cycle detection). */
  readonly #includeChain: string[];
  /** Environment variables being expanded, outermost first (variable cycle detection). */
  readonly #envChain: string[];
  /** Maps being built, outermost first: the scopes of variable look-up. */
  readonly #scopes: ConfMap[] = [];

  constructor(text: string, file: string, env: Record<string, string | undefined>, includeChain: string[], envChain: string[]) {
    this.#tokens = lexConf(text, file);
    this.#file = file;
    this.#env = env;
    this.#includeChain = includeChain;
    this.#envChain = envChain;
  }

  parseDocument(): ConfMap {
    const root = new ConfMap();
    this.#parseEntries(root, TokenKind.End);
    return root;
  }

  #take(): Token {
    const next = this.#tokens.next();
    // The lexer always ends with End and the grammar never reads past it.
    if (next.done) throw new Error("conf parser read past the end of the tokens");
    return next.value;
  }

  #at(t: Token): ConfPosition {
    return { file: this.#file, line: t.line, col: t.col };
  }

  #parseEntries(map: ConfMap, closing: TokenKind): void {
    this.#scopes.push(map);
    for (;;) {
      const t = this.#take();
      if (t.kind === closing) break;
      if (t.kind === TokenKind.Include) {
        this.#mergeInclude(map, t);
        continue;
      }
      if (t.kind !== TokenKind.Key) throw new Error(`conf parser: unexpected ${t.kind} token at ${t.line}:${t.col}`);
      const value = this.#parseValue(this.#take());
      map.setAt(t.text, value, this.#at(t));
    }
    this.#scopes.pop();
  }

  #parseValue(t: Token): ConfValue {
    switch (t.kind) {
      case TokenKind.String:
        return t.text;
      case TokenKind.Bool: {
        const word = t.text.toLowerCase();
        return word === "true" || word === "yes" || word === "on";
      }
      case TokenKind.Integer:
        return this.#parseInteger(t);
      case TokenKind.Float: {
        const n = Number(t.text);
        if (!Number.isFinite(n)) throw new ConfigError(this.#at(t), `float '${t.text}' is out of the range`);
        return n;
      }
      case TokenKind.Datetime:
        return this.#parseDatetime(t);
      case TokenKind.ArrayStart: {
        const list: ConfValue[] = [];
        const positions: ConfPosition[] = [];
        for (;;) {
          const e = this.#take();
          if (e.kind === TokenKind.ArrayEnd) break;
          positions.push(this.#at(e));
          list.push(this.#parseValue(e));
        }
        elementPositions.set(list, positions);
        return list;
      }
      case TokenKind.MapStart: {
        const map = new ConfMap();
        this.#parseEntries(map, TokenKind.MapEnd);
        return map;
      }
      case TokenKind.Variable:
        return this.#resolveVariable(t);
    }
    throw new Error(`conf parser: unexpected ${t.kind} token where a value belongs at ${t.line}:${t.col}`);
  }

  #parseInteger(t: Token): number {
    const match = /^(-?[0-9]+)(.*)$/.exec(t.text);
    const multiplier = match ? sizeMultipliers.get(match[2]!.toLowerCase()) : undefined;
    if (!match || multiplier === undefined) {
      throw new ConfigError(this.#at(t), `expected integer, but got '${t.text}'`);
    }
    const digits = BigInt(match[1]!);
    const n = digits * multiplier;
    if (digits < int64Min || digits > int64Max || n < int64Min || n > int64Max) {
      throw new ConfigError(this.#at(t), `integer '${t.text}' is out of the range`);
    }
    return Number(n);
  }

  #parseDatetime(t: Token): Date {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(t.text);
    if (m) {
      const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
      // Date.UTC rolls over (month 13 → next year); a valid datetime survives the round trip.
      if (
        date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d &&
        h < 24 && mi < 60 && s < 60
      ) {
        return date;
      }
    }
    throw new ConfigError(this.#at(t), `expected Zulu formatted DateTime, but got '${t.text}'`);
  }

  #resolveVariable(t: Token): ConfValue {
    const name = t.text;
    if (name.startsWith(bcryptPrefix)) return "$" + name;

    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      const scope = this.#scopes[i]!;
      const value = scope.get(name);
      if (value !== undefined) {
        scope.markUsedAsVariable(name);
        return value;
      }
    }

    const envText = Object.hasOwn(this.#env, name) ? this.#env[name] : undefined;
    if (envText === undefined) {
      throw new ConfigError(this.#at(t), `variable reference for '${name}' can not be found`);
    }
    if (this.#envChain.includes(name)) {
      const cycle = [...this.#envChain.slice(this.#envChain.indexOf(name)), name].map((n) => "$" + n).join(" -> ");
      throw new ConfigError(this.#at(t), `variable reference cycle: ${cycle}`);
    }
    let parsed: ConfMap;
    try {
      const inner = new Parser(`${envValueKey}=${envText}`, "", this.#env, this.#includeChain, [...this.#envChain, name]);
      parsed = inner.parseDocument();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // A cycle is reported as such from the reference that started it; other failures say
      // which variable's value could not be parsed.
      if (err.reason.startsWith("variable reference cycle")) throw new ConfigError(this.#at(t), err.reason, { cause: err });
      throw new ConfigError(this.#at(t), `variable reference for '${name}' could not be parsed: ${err.reason}`, { cause: err });
    }
    return parsed.get(envValueKey) ?? "";
  }

  #mergeInclude(map: ConfMap, t: Token): void {
    const base = this.#file === "" ? "." : dirname(this.#file);
    const path = isAbsolute(t.text) ? t.text : join(base, t.text);
    const absolute = resolve(path);
    if (this.#includeChain.includes(absolute)) {
      const cycle = [...this.#includeChain.slice(this.#includeChain.indexOf(absolute)), absolute].join(" -> ");
      throw new ConfigError(this.#at(t), `include cycle: ${cycle}`);
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ConfigError(this.#at(t), `error parsing include file '${t.text}', ${describeFsError(err, path)}`, { cause: err });
    }
    // Errors inside the included file carry that file's own position.
    const included = new Parser(text, path, this.#env, [...this.#includeChain, absolute], []).parseDocument();
    for (const [key, value] of included) {
      map.setAt(key, value, included.position(key) ?? this.#at(t));
      if (included.usedAsVariable(key)) map.markUsedAsVariable(key);
    }
  }
}

/** A file-system error in the words Go uses (`open x.conf: no such file or directory`). */
function describeFsError(err: unknown, path: string): string {
  const code = (err as { code?: string }).code;
  const words: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EISDIR: "is a directory",
    ENOTDIR: "not a directory",
  };
  const why = (code && words[code]) ?? (err instanceof Error ? err.message : String(err));
  return code === "EISDIR" ? `read ${path}: ${why}` : `open ${path}: ${why}`;
}
