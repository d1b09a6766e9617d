// Byte-level decoders with the reference's acceptance rules and error texts. NATS JWTs are
// decoded by Go's encoding/base64 (RawURLEncoding) and encoding/json; a token refused there
// must be refused here with the same words, because those words reach $SYS replies and logs.
// Both decoders are written here, not taken from a library: jose and JSON.parse accept other
// inputs (padding, other alphabets, deep nesting) and explain failures differently.

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** The base64 alphabets: RFC 4648 §5 (URL) for JWT segments, §4 (std) for nonce signatures. */
const urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function alphabetTable(alphabet: string): Int8Array {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}
const urlTable = alphabetTable(urlAlphabet);
const stdTable = alphabetTable(stdAlphabet);

const CR = 0x0d;
const LF = 0x0a;
const PAD = 0x3d; // '='

export type Base64Result = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

function corrupt(offset: number): Base64Result {
  return { ok: false, error: `illegal base64 data at input byte ${offset}` };
}

/**
 * Decodes base64 as Go's `base64.RawURLEncoding` (`padded` false) or `base64.StdEncoding`
 * (`padded` true) do: CR and LF are skipped anywhere; a bad byte, missing or misplaced
 * padding, a lone trailing symbol, or anything after the padding is an error at the offset
 * Go reports. Input is taken as the UTF-8 bytes of `text` (offsets count bytes).
 */
export function decodeBase64(text: string, padded: boolean): Base64Result {
  const src = encoder.encode(text);
  const table = padded ? stdTable : urlTable;
  const out = new Uint8Array(Math.ceil((src.length * 3) / 4));
  let written = 0;
  let pos = 0;
  const skipNewlines = (): void => {
    while (pos < src.length && (src[pos] === CR || src[pos] === LF)) pos++;
  };
  while (pos < src.length) {
    // One quantum: up to four symbols, newlines not counted.
    const symbols = [0, 0, 0, 0];
    let count = 0;
    let ended = false;
    while (count < 4) {
      if (pos === src.length) {
        if (count === 0) return { ok: true, bytes: out.subarray(0, written) };
        // A lone symbol never decodes; padded alphabets need whole quanta.
        if (count === 1 || padded) return corrupt(pos - count);
        ended = true;
        break;
      }
      const byte = src[pos++];
      const value = table[byte];
      if (value >= 0) {
        symbols[count++] = value;
        continue;
      }
      if (byte === CR || byte === LF) continue;
      if (!padded || byte !== PAD) return corrupt(pos - 1);
      // Padding: only after two or three symbols; after two, a second '=' must follow.
      if (count < 2) return corrupt(pos - 1);
      if (count === 2) {
        skipNewlines();
        if (pos === src.length) return corrupt(src.length);
        if (src[pos] !== PAD) return corrupt(pos - 1);
        pos++;
      }
      skipNewlines();
      if (pos < src.length) {
        // Go writes what the padded quantum holds, then reports the trailing garbage.
        written = flushQuantum(out, written, symbols, count);
        return corrupt(pos);
      }
      ended = true;
      break;
    }
    written = flushQuantum(out, written, symbols, count);
    if (ended) break;
  }
  return { ok: true, bytes: out.subarray(0, written) };
}

function flushQuantum(out: Uint8Array, at: number, symbols: number[], count: number): number {
  const value = (symbols[0] << 18) | (symbols[1] << 12) | (symbols[2] << 6) | symbols[3];
  out[at++] = (value >>> 16) & 0xff;
  if (count >= 3) out[at++] = (value >>> 8) & 0xff;
  if (count === 4) out[at++] = value & 0xff;
  return at;
}

/** Encodes bytes as unpadded base64url (the JWT segment form). */
export function encodeBase64Url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += urlAlphabet[(v >>> 18) & 63] + urlAlphabet[(v >>> 12) & 63] + urlAlphabet[(v >>> 6) & 63] + urlAlphabet[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += urlAlphabet[(v >>> 18) & 63] + urlAlphabet[(v >>> 12) & 63];
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += urlAlphabet[(v >>> 18) & 63] + urlAlphabet[(v >>> 12) & 63] + urlAlphabet[(v >>> 6) & 63];
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON, as Go's encoding/json reads it.
//
// The parser keeps what a Go struct decode needs and JSON.parse loses: the literal text of
// numbers (Go refuses `1.0` or `1e3` for an int64 field) and objects without a prototype (a
// `__proto__` key is just a key). Syntax errors carry Go's scanner texts.

/** A JSON number, kept as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
  get value(): number {
    return Number(this.text);
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Go's limit on nesting (encoding/json maxNestingDepth). */
export const jsonNestingMax = 10_000;

/** How Go prints one byte in a scanner error: `'x'`, `'\t'`, `'\x01'`, `'Ç'`, `'\u0080'`. */
export function quoteByte(byte: number): string {
  if (byte === 0x27) return "'\\''";
  if (byte === 0x22) return "'\"'";
  switch (byte) {
    case 0x07:
      return "'\\a'";
    case 0x08:
      return "'\\b'";
    case 0x0c:
      return "'\\f'";
    case 0x0a:
      return "'\\n'";
    case 0x0d:
      return "'\\r'";
    case 0x09:
      return "'\\t'";
    case 0x0b:
      return "'\\v'";
    case 0x5c:
      return "'\\\\'";
  }
  // The byte is read as the code point of the same value (Go: string(rune(c))).
  if (byte < 0x20 || byte === 0x7f) return `'\\x${byte.toString(16).padStart(2, "0")}'`;
  // C1 controls, no-break space and soft hyphen are not printable for strconv.Quote.
  if ((byte >= 0x80 && byte < 0xa0) || byte === 0xa0 || byte === 0xad) return `'\\u${byte.toString(16).padStart(4, "0")}'`;
  return `'${String.fromCharCode(byte)}'`;
}

export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const hexValue = (b: number): number => (isDigit(b) ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1);

/**
 * Parses JSON bytes with Go's grammar and messages. Throws JsonSyntaxError; never anything
 * else (the nesting bound keeps the work iterative-safe: containers are parsed with an
 * explicit stack).
 */
export function parseJson(bytes: Uint8Array): JsonValue {
  const n = bytes.length;
  let pos = 0;
  // At the end of input Go feeds its scanner one space: inside a number or literal that
  // space is the offending character; elsewhere the input simply ended too soon.
  const byteAt = (i: number): number => (i < n ? bytes[i] : 0x20);
  const fail = (byte: number, context: string): never => {
    throw new JsonSyntaxError(`invalid character ${quoteByte(byte)} ${context}`);
  };
  const unexpectedEnd = (): never => {
    throw new JsonSyntaxError("unexpected end of JSON input");
  };
  const skipSpace = (): void => {
    while (pos < n && isSpace(bytes[pos])) pos++;
  };

  const parseLiteral = (word: string, value: JsonValue): JsonValue => {
    for (let i = 1; i < word.length; i++) {
      const b = byteAt(pos + i);
      if (b !== word.charCodeAt(i)) fail(b, `in literal ${word} (expecting '${word[i]}')`);
    }
    pos += word.length;
    return value;
  };

  const parseNumber = (): JsonNumber => {
    const start = pos;
    if (bytes[pos] === 0x2d) {
      pos++;
      if (!isDigit(byteAt(pos))) fail(byteAt(pos), "in numeric literal");
    }
    if (bytes[pos] === 0x30) pos++;
    else while (isDigit(byteAt(pos))) pos++;
    if (byteAt(pos) === 0x2e) {
      pos++;
      if (!isDigit(byteAt(pos))) fail(byteAt(pos), "after decimal point in numeric literal");
      while (isDigit(byteAt(pos))) pos++;
    }
    const e = byteAt(pos);
    if (e === 0x65 || e === 0x45) {
      pos++;
      const sign = byteAt(pos);
      if (sign === 0x2b || sign === 0x2d) pos++;
      if (!isDigit(byteAt(pos))) fail(byteAt(pos), "in exponent of numeric literal");
      while (isDigit(byteAt(pos))) pos++;
    }
    return new JsonNumber(String.fromCharCode(...bytes.subarray(start, pos)));
  };

  const parseString = (): string => {
    pos++; // opening quote
    let out = "";
    let runStart = pos;
    let pendingHigh = -1; // a \uD800-\uDBFF escape waiting for its low half
    const flushRun = (end: number): void => {
      if (end > runStart) {
        if (pendingHigh >= 0) {
          out += "\ufffd";
          pendingHigh = -1;
        }
        out += utf8.decode(bytes.subarray(runStart, end));
      }
    };
    for (;;) {
      if (pos >= n) unexpectedEnd();
      const b = bytes[pos];
      if (b === 0x22) {
        flushRun(pos);
        if (pendingHigh >= 0) out += "\ufffd";
        pos++;
        return out;
      }
      if (b < 0x20) fail(b, "in string literal");
      if (b !== 0x5c) {
        pos++;
        continue;
      }
      flushRun(pos);
      pos++;
      // Inside an escape, the end of input reads as the space Go appends.
      const esc = byteAt(pos++);
      let unit = -1;
      switch (esc) {
        case 0x22:
          unit = 0x22;
          break;
        case 0x5c:
          unit = 0x5c;
          break;
        case 0x2f:
          unit = 0x2f;
          break;
        case 0x62:
          unit = 0x08;
          break;
        case 0x66:
          unit = 0x0c;
          break;
        case 0x6e:
          unit = 0x0a;
          break;
        case 0x72:
          unit = 0x0d;
          break;
        case 0x74:
          unit = 0x09;
          break;
        case 0x75: {
          let v = 0;
          for (let i = 0; i < 4; i++) {
            const h = hexValue(byteAt(pos));
            if (h < 0) fail(byteAt(pos), "in \\u hexadecimal character escape");
            v = (v << 4) | h;
            pos++;
          }
          unit = v;
          break;
        }
        default:
          fail(esc, "in string escape code");
      }
      // Surrogates: a valid pair is one code point; a lone half becomes U+FFFD (as Go).
      if (unit >= 0xd800 && unit <= 0xdbff) {
        if (pendingHigh >= 0) out += "\ufffd";
        pendingHigh = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        if (pendingHigh >= 0) {
          out += String.fromCharCode(pendingHigh, unit);
          pendingHigh = -1;
        } else out += "\ufffd";
      } else {
        if (pendingHigh >= 0) {
          out += "\ufffd";
          pendingHigh = -1;
        }
        out += String.fromCharCode(unit);
      }
      runStart = pos;
    }
  };

  // Containers on an explicit stack: each frame is the array or object being filled and,
  // for objects, the key whose value comes next.
  type Frame = { array: JsonValue[]; object: null; key: string } | { array: null; object: JsonObject; key: string };
  const stack: Frame[] = [];
  let result: JsonValue = null;

  const parseValueStart = (context: string): { scalar: JsonValue; opened: boolean } => {
    skipSpace();
    if (pos >= n) unexpectedEnd();
    const b = bytes[pos];
    if (b === 0x7b || b === 0x5b) {
      if (stack.length >= jsonNestingMax) throw new JsonSyntaxError("exceeded max depth");
      pos++;
      if (b === 0x7b) stack.push({ array: null, object: Object.create(null) as JsonObject, key: "" });
      else stack.push({ array: [], object: null, key: "" });
      return { scalar: null, opened: true };
    }
    if (b === 0x22) return { scalar: parseString(), opened: false };
    if (b === 0x2d || isDigit(b)) return { scalar: parseNumber(), opened: false };
    if (b === 0x74) return { scalar: parseLiteral("true", true), opened: false };
    if (b === 0x66) return { scalar: parseLiteral("false", false), opened: false };
    if (b === 0x6e) return { scalar: parseLiteral("null", null), opened: false };
    return fail(b, context);
  };

  // Reads an object key (after `{` or `,`) and its colon.
  const parseKey = (frame: Frame): void => {
    skipSpace();
    if (pos >= n) unexpectedEnd();
    if (bytes[pos] !== 0x22) fail(bytes[pos], "looking for beginning of object key string");
    frame.key = parseString();
    skipSpace();
    if (pos >= n) unexpectedEnd();
    if (bytes[pos] !== 0x3a) fail(bytes[pos], "after object key");
    pos++;
  };

  let start = parseValueStart("looking for beginning of value");
  let pendingValue: JsonValue = start.scalar;
  let justOpened = start.opened;
  for (;;) {
    if (justOpened) {
      const frame = stack[stack.length - 1];
      skipSpace();
      if (pos >= n) unexpectedEnd();
      const closer = frame.array ? 0x5d : 0x7d;
      if (bytes[pos] === closer) {
        pos++;
        stack.pop();
        pendingValue = frame.array ?? frame.object;
        justOpened = false;
      } else {
        if (frame.object) parseKey(frame);
        start = parseValueStart("looking for beginning of value");
        pendingValue = start.scalar;
        justOpened = start.opened;
        continue;
      }
    }
    // A complete value is in pendingValue: store it in its container, or finish.
    if (stack.length === 0) {
      result = pendingValue;
      break;
    }
    const frame = stack[stack.length - 1];
    if (frame.array) frame.array.push(pendingValue);
    else frame.object[frame.key] = pendingValue;
    skipSpace();
    if (pos >= n) unexpectedEnd();
    const b = bytes[pos];
    if (b === 0x2c) {
      pos++;
      if (frame.object) parseKey(frame);
      start = parseValueStart("looking for beginning of value");
      pendingValue = start.scalar;
      justOpened = start.opened;
      continue;
    }
    if ((frame.array && b === 0x5d) || (frame.object && b === 0x7d)) {
      pos++;
      stack.pop();
      pendingValue = frame.array ?? frame.object;
      justOpened = false;
      continue;
    }
    fail(b, frame.array ? "after array element" : "after object key:value pair");
  }
  skipSpace();
  if (pos < n) fail(bytes[pos], "after top-level value");
  return result;
}

/** The bytes of a string as UTF-8 (Go strings are bytes). */
export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes to text, invalid sequences replaced (as Go does when a []byte becomes a JSON string). */
export function utf8Text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
