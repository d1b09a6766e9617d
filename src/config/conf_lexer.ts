// Lexer for the NATS configuration format (the reference's conf/lex.go accepts the same
// language; this is our own recursive scanner over a string, not a port of its state machine).
//
// The format, as the reference accepts it:
//   key = value | key: value | key value        key separators are optional
//   key { … }  key = { … }                      maps; entries end at `,`, `;` or a newline
//   key [ a, b                                   arrays; elements end at `,` or a newline
//         c ]
//   # comment      // comment                   to the end of the line
//   "double" (escapes \t \n \r \" \\ \xHH)  'single' (raw)  bare words (escapes too)
//   ( block string                              raw text until a `)` alone on its own line
//   )
//   1k 1kb 1MiB -3 1.5 2024-01-02T03:04:05Z     integers with size suffixes, floats, datetimes
//   true/yes/on false/no/off $VARIABLE  include ./other.conf
//
// Context decides what a character means, so the scanner keeps the same contexts as the
// reference (top level, map, array, value) and reports the reference's error texts where it has
// them, each with the 1-based line and column of the offending character.
//
// Deliberate differences from nats-server v2.9.10, all on inputs it rejects or mangles:
//   - Inside an array `]` ends an unsigned number, so `[1, 2, 3]` and `[1k]` work (v2.9.10
//     lexes `3]` as a string and fails with "Expected an array value terminator").
//   - A key with no value (`foo` at the end of a file, `m { a }`) is an error instead of being
//     dropped or misassigned.
//   - A lone `/` where a comment could start is an error instead of being skipped.
//   - A `}` at the top level is skipped like the optional top-level `{`, so JSON files work.

/** A place in a config file: 1-based line and column (UTF-16 units, like editors show). */
export interface ConfPosition {
  file: string;
  line: number;
  col: number;
}

/**
 * A configuration error with its position. `message` is `file:line:col: reason` like the
 * reference's configErr; without a position (e.g. the file cannot be opened) it is the reason
 * alone. When options processing collects several errors, `all` lists them (in file order) and
 * `message` joins warnings then errors with newlines, as nats-server prints them.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly reason: string;
  /** Every error this one stands for (itself when single). */
  readonly all: ConfigError[];
  /** Warnings reported with the errors (options processing). */
  readonly warnings: string[];

  constructor(position: ConfPosition | null, reason: string, details: ConfigErrorDetails = {}) {
    const own = position ? `${formatPosition(position)}: ${reason}` : reason;
    const warnings = details.warnings ?? [];
    const message = details.all ? [...warnings, ...details.all.map((e) => e.message)].join("\n") : own;
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.file = position?.file ?? "";
    this.line = position?.line ?? 0;
    this.col = position?.col ?? 0;
    this.reason = reason;
    this.all = details.all ?? [this];
    this.warnings = warnings;
  }

  /** One error standing for several: the first one's position and reason, every message. */
  static combine(errors: ConfigError[], warnings: string[] = []): ConfigError {
    const first = errors[0];
    if (first === undefined) throw new Error("ConfigError.combine needs at least one error");
    return new ConfigError(first.line > 0 ? first : null, first.reason, { all: errors, warnings });
  }
}

export interface ConfigErrorDetails {
  cause?: unknown;
  /** Several errors reported as one (see ConfigError.combine). */
  all?: ConfigError[];
  warnings?: string[];
}

export function formatPosition(p: ConfPosition): string {
  return `${p.file}:${p.line}:${p.col}`;
}

export const TokenKind = {
  Key: "key",
  String: "string",
  Bool: "bool",
  Integer: "integer",
  Float: "float",
  Datetime: "datetime",
  /** `$NAME`; text is the name without `$`. */
  Variable: "variable",
  /** `include path`; text is the path as written. */
  Include: "include",
  ArrayStart: "[",
  ArrayEnd: "]",
  MapStart: "{",
  MapEnd: "}",
  End: "end",
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

/** A lexed item. `text` is the decoded value (escapes applied, quotes removed). */
export interface Token {
  kind: TokenKind;
  text: string;
  line: number;
  col: number;
}

/**
 * Lexes config text into tokens ending with `End`. Lazy, so that the parser meets errors in
 * file order (a bad variable on line 2 is reported before a syntax error on line 9), as the
 * reference does; throws ConfigError on bad syntax when iteration reaches it.
 */
export function lexConf(input: string, file = ""): Generator<Token> {
  return new ConfLexer(input, file).run();
}

const EOF = "";

// The reference treats unicode.IsSpace as space between tokens, but only space and tab as
// "whitespace" inside a line (a newline ends a value).
function isSpace(c: string): boolean {
  return c !== EOF && /\s/.test(c);
}
function isBlank(c: string): boolean {
  return c === " " || c === "\t";
}
function isNewline(c: string): boolean {
  return c === "\n" || c === "\r";
}
function isDigit(c: string): boolean {
  return c >= "0" && c <= "9" && c.length === 1;
}
function isKeySeparator(c: string): boolean {
  return c === "=" || c === ":";
}
function isSizeSuffix(c: string): boolean {
  return "kKmMgGtTpPeE".includes(c) && c !== EOF;
}
const boolWords = new Set(["true", "false", "yes", "no", "on", "off"]);

/** How a character is shown in messages (the reference escapes only newlines). */
function show(c: string): string {
  if (c === EOF) return "EOF";
  if (c === "\n") return "\\n";
  return c;
}

class ConfLexer {
  readonly #input: string;
  readonly #file: string;
  /** Index of the first character of every line, for positions of any index. */
  readonly #lineStarts: number[] = [0];
  #pos = 0;
  /** Open arrays and maps, innermost last: whether `]` may end a number depends on it. */
  readonly #nesting: ("array" | "map")[] = [];

  constructor(input: string, file: string) {
    this.#input = input;
    this.#file = file;
    for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
  }

  *run(): Generator<Token> {
    yield* this.#lexTop();
    yield this.#token(TokenKind.End, "", this.#pos);
  }

  // ---- primitives ------------------------------------------------------------------------

  #peek(offset = 0): string {
    return this.#input.charAt(this.#pos + offset);
  }

  #position(index: number): ConfPosition {
    // Binary search for the line holding `index`.
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.#file, line: lo + 1, col: index - this.#lineStarts[lo]! + 1 };
  }

  #token(kind: TokenKind, text: string, start: number): Token {
    const p = this.#position(start);
    return { kind, text, line: p.line, col: p.col };
  }

  #fail(index: number, reason: string): never {
    throw new ConfigError(this.#position(Math.min(index, this.#input.length)), reason);
  }

  /** Skips a `#` or `//` comment up to (not including) the end of the line. */
  #skipComment(): void {
    while (this.#pos < this.#input.length && !isNewline(this.#peek())) this.#pos++;
  }

  /** True (and the comment skipped) if a comment starts here. */
  #tryComment(): boolean {
    const c = this.#peek();
    if (c === "#" || (c === "/" && this.#peek(1) === "/")) {
      this.#skipComment();
      return true;
    }
    return false;
  }

  // ---- structure -------------------------------------------------------------------------

  *#lexTop(): Generator<Token> {
    for (;;) {
      const c = this.#peek();
      if (c === EOF) return;
      // The whole file may be wrapped in braces (JSON style); they carry no meaning.
      if (isSpace(c) || c === "{" || c === "}") {
        this.#pos++;
        continue;
      }
      if (this.#tryComment()) continue;
      if (c === "/") this.#fail(this.#pos, "Unexpected '/': comments start with '#' or '//'.");
      yield* this.#lexEntry(false);
      this.#lexTopValueEnd();
    }
  }

  #lexTopValueEnd(): void {
    for (;;) {
      const c = this.#peek();
      if (isBlank(c)) {
        this.#pos++;
        continue;
      }
      if (this.#tryComment() || c === EOF) return;
      if (isNewline(c) || c === ";" || c === "," || c === "}") {
        this.#pos++;
        return;
      }
      this.#fail(
        this.#pos,
        `Expected a top-level value to end with a new line, comment or EOF, but got '${show(c)}' instead.`,
      );
    }
  }

  /** A key and its value (or an `include`), at the top level or inside a map. */
  *#lexEntry(inMap: boolean): Generator<Token> {
    const keyStart = this.#pos;
    let keyText: string;
    const c = this.#peek();
    if (isKeySeparator(c)) this.#fail(keyStart, `Unexpected key separator '${c}'${inMap ? "." : ""}`);

    if (c === '"' || c === "'") {
      // Quoted keys are taken literally: no escapes.
      this.#pos++;
      const close = this.#input.indexOf(c, this.#pos);
      if (close < 0) {
        const what = c === '"' ? "double quoted map key" : "quoted map key";
        this.#fail(this.#input.length, inMap ? `Unexpected EOF processing ${what}.` : "Unexpected EOF.");
      }
      keyText = this.#input.slice(this.#pos, close);
      yield this.#token(TokenKind.Key, keyText, keyStart);
      this.#pos = close + 1;
    } else {
      while (this.#pos < this.#input.length && !isSpace(this.#peek()) && !isKeySeparator(this.#peek())) this.#pos++;
      const key = this.#input.slice(keyStart, this.#pos);
      if (this.#pos >= this.#input.length && inMap) this.#fail(this.#pos, "Unexpected EOF processing map key.");
      // `include` is a keyword only when a space follows it (`include: x` is a plain key).
      if (isSpace(this.#peek()) && key.toLowerCase() === "include") {
        yield* this.#lexInclude();
        return;
      }
      keyText = key;
      yield this.#token(TokenKind.Key, key, keyStart);
    }

    // Between a key and its value: any space, including new lines, then an optional separator.
    while (isSpace(this.#peek())) this.#pos++;
    let separated = false;
    if (isKeySeparator(this.#peek())) {
      this.#pos++;
      separated = true;
    }
    if (inMap) {
      // Inside a map a value may start on a later line.
      while (isSpace(this.#peek())) this.#pos++;
      const v = this.#peek();
      if (v === ",") this.#fail(this.#pos, "Unexpected map value terminator \",\".");
      if (v === "}" || v === EOF) this.#noValue(keyStart, keyText);
    } else if (!separated && this.#peek() === EOF) {
      this.#noValue(keyStart, keyText);
    }
    yield* this.#lexValue();
  }

  #noValue(keyStart: number, key: string): never {
    this.#fail(keyStart, `Expected a value for key '${key}'.`);
  }

  *#lexInclude(): Generator<Token> {
    while (isBlank(this.#peek())) this.#pos++;
    const start = this.#pos;
    const c = this.#peek();
    if (c === "'" || c === '"') {
      const close = this.#input.indexOf(c, start + 1);
      if (close < 0) this.#fail(this.#input.length, `Unexpected EOF in ${c === '"' ? "double quoted" : "quoted"} include`);
      yield this.#token(TokenKind.Include, this.#input.slice(start + 1, close), start);
      this.#pos = close + 1;
      return;
    }
    if (c === "[") this.#fail(start, "Expected include value but found start of an array");
    if (c === "{") this.#fail(start, "Expected include value but found start of a map");
    if (c === "(") this.#fail(start, "Expected include value but found start of a block");
    if (isDigit(c) || c === "-") this.#fail(start, "Expected include value but found start of a number");
    if (c === "\\") this.#fail(start, "Expected include value but found escape sequence");
    if (isNewline(c)) this.#fail(start, "Expected include value but found new line");
    if (c === EOF) this.#fail(start, "Expected include value but found EOF");
    for (;;) {
      const d = this.#peek();
      if (d === EOF || isNewline(d) || isBlank(d) || d === ";" || d === "}") break;
      if (d === "'") {
        // A stray quote ends a bare include path and is dropped, as in the reference.
        yield this.#token(TokenKind.Include, this.#input.slice(start, this.#pos), start);
        this.#pos++;
        return;
      }
      this.#pos++;
    }
    if (this.#pos === start) this.#fail(start, `Expected include value but found '${show(this.#peek())}'`);
    yield this.#token(TokenKind.Include, this.#input.slice(start, this.#pos), start);
  }

  *#lexMap(): Generator<Token> {
    for (;;) {
      const c = this.#peek();
      if (c === EOF) this.#fail(this.#pos, "Unexpected EOF processing map.");
      if (isSpace(c)) {
        this.#pos++;
        continue;
      }
      if (this.#tryComment()) continue;
      if (isKeySeparator(c)) this.#fail(this.#pos, `Unexpected key separator '${c}'.`);
      if (c === "]") this.#fail(this.#pos, "Unexpected array end ']' processing map.");
      if (c === "}") {
        yield this.#token(TokenKind.MapEnd, "", this.#pos);
        this.#pos++;
        return;
      }
      yield* this.#lexEntry(true);
      // After a value: blanks or a comment, then `,` `;` or a new line, or the closing `}`.
      for (;;) {
        const d = this.#peek();
        if (isBlank(d)) {
          this.#pos++;
          continue;
        }
        if (this.#tryComment()) continue;
        if (d === "," || d === ";" || isNewline(d)) {
          this.#pos++;
          break;
        }
        if (d === "}") break;
        if (d === EOF) this.#fail(this.#pos, "Unexpected EOF processing map.");
        this.#fail(this.#pos, `Expected a map value terminator "," or a map terminator "}", but got '${show(d)}' instead.`);
      }
    }
  }

  *#lexArray(): Generator<Token> {
    for (;;) {
      const c = this.#peek();
      if (c === EOF) this.#fail(this.#pos, "Unexpected EOF processing array.");
      if (isSpace(c)) {
        this.#pos++;
        continue;
      }
      if (this.#tryComment()) continue;
      if (c === ",") this.#fail(this.#pos, "Unexpected array value terminator ','.");
      if (c === "]") {
        yield this.#token(TokenKind.ArrayEnd, "", this.#pos);
        this.#pos++;
        return;
      }
      yield* this.#lexValue();
      for (;;) {
        const d = this.#peek();
        if (isBlank(d)) {
          this.#pos++;
          continue;
        }
        if (this.#tryComment()) continue;
        if (d === "," || isNewline(d)) {
          this.#pos++;
          break;
        }
        if (d === "]") break;
        if (d === EOF) this.#fail(this.#pos, "Unexpected EOF processing array.");
        this.#fail(
          this.#pos,
          `Expected an array value terminator "," or an array terminator "]", but got '${show(d)}' instead.`,
        );
      }
    }
  }

  // ---- values ----------------------------------------------------------------------------

  *#lexValue(): Generator<Token> {
    while (isBlank(this.#peek())) this.#pos++;
    const start = this.#pos;
    const c = this.#peek();
    switch (c) {
      case "[":
        yield this.#token(TokenKind.ArrayStart, "", start);
        this.#pos++;
        this.#nesting.push("array");
        yield* this.#lexArray();
        this.#nesting.pop();
        return;
      case "{":
        yield this.#token(TokenKind.MapStart, "", start);
        this.#pos++;
        this.#nesting.push("map");
        yield* this.#lexMap();
        this.#nesting.pop();
        return;
      case "'": {
        const close = this.#input.indexOf("'", start + 1);
        if (close < 0) this.#fail(this.#input.length, "Unexpected EOF.");
        yield this.#token(TokenKind.String, this.#input.slice(start + 1, close), start);
        this.#pos = close + 1;
        return;
      }
      case '"':
        this.#pos++;
        yield* this.#lexDoubleQuoted(start);
        return;
      case "-":
        this.#pos++;
        yield* this.#lexNegativeNumber(start);
        return;
      case "(":
        yield* this.#lexBlock(start);
        return;
      case ".":
        this.#fail(start, "Floats must start with a digit");
    }
    if (isDigit(c)) {
      yield* this.#lexNumberLike(start);
      return;
    }
    if (isNewline(c)) this.#fail(start, "Expected value but found new line");
    // A bare word; at the end of input this is the empty string (`a =` gives a = ""), as in
    // the reference.
    yield* this.#lexBare(start, new TextBuilder());
  }

  *#lexDoubleQuoted(start: number): Generator<Token> {
    const out = new TextBuilder();
    let chunk = this.#pos;
    for (;;) {
      const c = this.#peek();
      if (c === EOF) this.#fail(this.#input.length, "Unexpected EOF.");
      if (c === '"') break;
      if (c === "\\") {
        out.text(this.#input.slice(chunk, this.#pos));
        this.#lexEscape(out);
        chunk = this.#pos;
        continue;
      }
      this.#pos++;
    }
    out.text(this.#input.slice(chunk, this.#pos));
    this.#pos++; // closing quote
    yield this.#token(TokenKind.String, out.finish(), start);
  }

  /**
   * A bare word from `start` (some of it may already be consumed, e.g. digits that turned out
   * not to be a number). It may hold escapes; without them it may be a boolean or a variable.
   */
  *#lexBare(start: number, out: TextBuilder): Generator<Token> {
    let chunk = start;
    let escaped = false;
    for (;;) {
      const c = this.#peek();
      if (c === EOF || isNewline(c) || isBlank(c) || c === ";" || c === "," || c === "]" || c === "}") break;
      if (c === "'") break;
      if (c === "\\") {
        out.text(this.#input.slice(chunk, this.#pos));
        this.#lexEscape(out);
        chunk = this.#pos;
        escaped = true;
        continue;
      }
      this.#pos++;
    }
    const raw = this.#input.slice(chunk, this.#pos);
    // A single quote ends a bare word, is dropped, and makes it a plain string (no boolean or
    // variable), as in the reference.
    const quoteEnded = this.#peek() === "'";
    if (quoteEnded) this.#pos++;
    if (escaped || quoteEnded) {
      out.text(raw);
      yield this.#token(TokenKind.String, out.finish(), start);
    } else if (boolWords.has(raw.toLowerCase())) {
      yield this.#token(TokenKind.Bool, raw, start);
    } else if (raw.startsWith("$")) {
      yield this.#token(TokenKind.Variable, raw.slice(1), start);
    } else {
      yield this.#token(TokenKind.String, raw, start);
    }
  }

  /** At a backslash: the escapes the reference allows, \xHH giving one raw byte. */
  #lexEscape(out: TextBuilder): void {
    const at = this.#pos;
    this.#pos++; // the backslash
    const c = this.#peek();
    this.#pos++;
    switch (c) {
      case "t":
        out.text("\t");
        return;
      case "n":
        out.text("\n");
        return;
      case "r":
        out.text("\r");
        return;
      case '"':
        out.text('"');
        return;
      case "\\":
        out.text("\\");
        return;
      case "x": {
        const hex = this.#input.slice(this.#pos, this.#pos + 2);
        if (hex.length < 2 || isNewline(hex[0]!) || isNewline(hex[1]!)) {
          this.#fail(this.#pos, "Expected two hexadecimal digits after '\\x', but hit end of line");
        }
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
          this.#fail(this.#pos, `Expected two hexadecimal digits after '\\x', but got '${hex}'`);
        }
        out.byte(parseInt(hex, 16));
        this.#pos += 2;
        return;
      }
    }
    this.#fail(
      at + 1,
      `Invalid escape character '${show(c)}'. Only the following escape characters are allowed: ` +
        `\\xXX, \\t, \\n, \\r, \\", \\\\.`,
    );
  }

  /** What may follow an integer: the reference's list, plus `]` inside an array (see top). */
  #endsNumber(c: string): boolean {
    if (c === "]") return this.#nesting[this.#nesting.length - 1] === "array";
    return c === EOF || isNewline(c) || isBlank(c) || c === "}" || c === ";" || c === ",";
  }

  /** From a digit: an integer (maybe with a size suffix), float, datetime, IP:port, or a word. */
  *#lexNumberLike(start: number): Generator<Token> {
    while (isDigit(this.#peek())) this.#pos++;
    const c = this.#peek();
    if (c === "-") {
      // Only a four-digit year may be followed by '-'.
      if (this.#pos - start !== 4) this.#fail(this.#pos, "All ISO8601 dates must be in full Zulu form.");
      this.#pos++;
      yield* this.#lexDatetime(start);
      return;
    }
    if (c === ".") {
      this.#pos++;
      yield* this.#lexFraction(start);
      return;
    }
    if (isSizeSuffix(c)) {
      this.#pos++;
      yield* this.#lexSizeSuffix(start);
      return;
    }
    if (this.#endsNumber(c)) {
      yield this.#token(TokenKind.Integer, this.#input.slice(start, this.#pos), start);
      return;
    }
    // Something else: the whole thing is a word that starts with digits (e.g. 10ms, 3secret).
    this.#pos++;
    yield* this.#lexBare(start, new TextBuilder());
  }

  *#lexNegativeNumber(start: number): Generator<Token> {
    const c = this.#peek();
    if (!isDigit(c)) {
      if (c === ".") this.#fail(this.#pos, "Floats must start with a digit, not '.'.");
      this.#fail(this.#pos, `Expected a digit but got '${show(c)}'.`);
    }
    while (isDigit(this.#peek())) this.#pos++;
    const d = this.#peek();
    if (d === ".") {
      this.#pos++;
      yield* this.#lexFraction(start);
      return;
    }
    if (isSizeSuffix(d)) {
      this.#pos++;
      yield* this.#lexSizeSuffix(start);
      return;
    }
    // Whatever follows is left for the value terminator check.
    yield this.#token(TokenKind.Integer, this.#input.slice(start, this.#pos), start);
  }

  /** After the suffix letter: optional b/i letters (kb, ki, kib …); otherwise it was a word. */
  *#lexSizeSuffix(start: number): Generator<Token> {
    while ("bBiI".includes(this.#peek()) && this.#peek() !== EOF) this.#pos++;
    const c = this.#peek();
    if (this.#endsNumber(c) || isDigit(c)) {
      yield this.#token(TokenKind.Integer, this.#input.slice(start, this.#pos), start);
      return;
    }
    yield* this.#lexBare(start, new TextBuilder());
  }

  /** After `digits.`: a float, or an IP address (with optional :port) if another `.` follows. */
  *#lexFraction(start: number): Generator<Token> {
    const c = this.#peek();
    if (!isDigit(c)) this.#fail(this.#pos, `Floats must have a digit after the '.', but got '${show(c)}' instead.`);
    while (isDigit(this.#peek())) this.#pos++;
    if (this.#peek() === ".") {
      while (isDigit(this.#peek()) || ".:-".includes(this.#peek())) {
        if (this.#peek() === EOF) break;
        this.#pos++;
      }
      yield this.#token(TokenKind.String, this.#input.slice(start, this.#pos), start);
      return;
    }
    yield this.#token(TokenKind.Float, this.#input.slice(start, this.#pos), start);
  }

  /** After `YYYY-`: the rest of a Zulu datetime, `MM-DDTHH:MM:SSZ`, exactly. */
  *#lexDatetime(start: number): Generator<Token> {
    const pattern = "00-00T00:00:00Z";
    for (const want of pattern) {
      const c = this.#peek();
      if (want === "0") {
        if (!isDigit(c)) this.#fail(this.#pos, `Expected digit in ISO8601 datetime, but found '${show(c)}' instead.`);
      } else if (c !== want) {
        this.#fail(this.#pos, `Expected '${want}' in ISO8601 datetime, but found '${show(c)}' instead.`);
      }
      this.#pos++;
    }
    yield this.#token(TokenKind.Datetime, this.#input.slice(start, this.#pos), start);
  }

  /**
   * `( … )`: raw text up to a `)` that stands alone on its line (a new line right before it
   * and a new line or the end right after it). The text keeps the new line before the `)`.
   */
  *#lexBlock(start: number): Generator<Token> {
    let i = start + 1;
    for (;;) {
      const close = this.#input.indexOf(")", i);
      if (close < 0) this.#fail(this.#input.length, "Unexpected EOF processing block.");
      const after = this.#input.charAt(close + 1);
      if (close - 1 > start && this.#input[close - 1] === "\n" && (after === EOF || after === "\n")) {
        yield this.#token(TokenKind.String, this.#input.slice(start + 1, close), start);
        this.#pos = close + 1;
        return;
      }
      i = close + 1;
    }
  }
}

/**
 * Builds a string from text and raw bytes: `\xHH` escapes are bytes, so consecutive ones can
 * form one UTF-8 character (`"\xe2\x82\xac"` is "€"), as in the reference's byte strings.
 */
class TextBuilder {
  #parts: string[] = [];
  #bytes: number[] = [];

  text(s: string): void {
    if (s.length === 0) return;
    this.#flushBytes();
    this.#parts.push(s);
  }

  byte(b: number): void {
    this.#bytes.push(b);
  }

  finish(): string {
    this.#flushBytes();
    return this.#parts.join("");
  }

  #flushBytes(): void {
    if (this.#bytes.length === 0) return;
    this.#parts.push(new TextDecoder().decode(new Uint8Array(this.#bytes)));
    this.#bytes = [];
  }
}
