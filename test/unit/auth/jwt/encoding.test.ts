// The byte-level decoders against Go's encoding/base64 and encoding/json: every expected
// value below is what Go 1.19 (the reference's build) answers for the same input.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeBase64, encodeBase64Url, JsonNumber, JsonSyntaxError, jsonNestingMax, parseJson, quoteByte } from "../../../../src/auth/jwt/encoding.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const base64 = (text: string, padded: boolean): string => {
  const r = decodeBase64(text, padded);
  return r.ok ? hex(r.bytes) : `ERR ${r.error}`;
};

// [input, Go's answer: hex bytes or "ERR <text>"]
const rawUrl: [string, string][] = [
  ["abc", "69b7"],
  ["a", "ERR illegal base64 data at input byte 0"],
  ["ab==", "ERR illegal base64 data at input byte 2"],
  ["a+b", "ERR illegal base64 data at input byte 1"],
  ["a\nb", "69"],
  ["ab\r\ncd", "69b71d"],
  ["!!!", "ERR illegal base64 data at input byte 0"],
  ["", ""],
  ["abcde", "ERR illegal base64 data at input byte 4"],
  ["YWJj", "616263"],
  ["YWI", "6162"],
  ["YW", "61"],
  ["eyJ0eXAiOiJKV1QifQ", "7b22747970223a224a5754227d"],
  ["YQ=", "ERR illegal base64 data at input byte 2"],
  ["YQ==", "ERR illegal base64 data at input byte 2"],
  ["Y===", "ERR illegal base64 data at input byte 1"],
  ["YWJjZA==x", "ERR illegal base64 data at input byte 6"],
  ["YWJj\nZA", "61626364"],
  ["YWJjZA==\n", "ERR illegal base64 data at input byte 6"],
  ["YW\n==", "ERR illegal base64 data at input byte 3"],
];
const std: [string, string][] = [
  ["abc", "ERR illegal base64 data at input byte 0"],
  ["a", "ERR illegal base64 data at input byte 0"],
  ["ab==", "69"],
  ["a+b", "ERR illegal base64 data at input byte 0"],
  ["a\nb", "ERR illegal base64 data at input byte 1"],
  ["ab\r\ncd", "69b71d"],
  ["!!!", "ERR illegal base64 data at input byte 0"],
  ["", ""],
  ["abcde", "ERR illegal base64 data at input byte 4"],
  ["YWJj", "616263"],
  ["YWI", "ERR illegal base64 data at input byte 0"],
  ["YW", "ERR illegal base64 data at input byte 0"],
  ["eyJ0eXAiOiJKV1QifQ", "ERR illegal base64 data at input byte 16"],
  ["YQ=", "ERR illegal base64 data at input byte 3"],
  ["YQ==", "61"],
  ["Y===", "ERR illegal base64 data at input byte 1"],
  ["YWJjZA==x", "ERR illegal base64 data at input byte 8"],
  ["YWJj\nZA", "ERR illegal base64 data at input byte 5"],
  ["YWJjZA==\n", "61626364"],
  ["YW\n==", "61"],
];
// [input, "" when Go accepts it, else "ERR <text>"]
const json: [string, string][] = [
  ["", "ERR unexpected end of JSON input"],
  ["{", "ERR unexpected end of JSON input"],
  ["{}x", "ERR invalid character 'x' after top-level value"],
  ["[1,]", "ERR invalid character ']' looking for beginning of value"],
  ["{\"a\" 1}", "ERR invalid character '1' after object key"],
  ["{\"a\":1 \"b\"}", "ERR invalid character '\"' after object key:value pair"],
  ["[1 2]", "ERR invalid character '2' after array element"],
  ["\"\\x\"", "ERR invalid character 'x' in string escape code"],
  ["\"\\u12g4\"", "ERR invalid character 'g' in \\u hexadecimal character escape"],
  ["-a", "ERR invalid character 'a' in numeric literal"],
  ["01", "ERR invalid character '1' after top-level value"],
  ["1.", "ERR invalid character ' ' after decimal point in numeric literal"],
  ["1.e", "ERR invalid character 'e' after decimal point in numeric literal"],
  ["1e", "ERR invalid character ' ' in exponent of numeric literal"],
  ["1e+", "ERR invalid character ' ' in exponent of numeric literal"],
  ["tru", "ERR invalid character ' ' in literal true (expecting 'e')"],
  ["trux", "ERR invalid character 'x' in literal true (expecting 'e')"],
  ["nul", "ERR invalid character ' ' in literal null (expecting 'l')"],
  ["fals", "ERR invalid character ' ' in literal false (expecting 'e')"],
  ["\"a\tb\"", "ERR invalid character '\\t' in string literal"],
  ["{,}", "ERR invalid character ',' looking for beginning of object key string"],
  [" ", "ERR unexpected end of JSON input"],
  ["1 2", "ERR invalid character '2' after top-level value"],
  ["\u00ff", "ERR invalid character '\u00c3' looking for beginning of value"],
  ["\"abc", "ERR unexpected end of JSON input"],
  ["-", "ERR invalid character ' ' in numeric literal"],
  ["[{\"a\":[1,{]}]", "ERR invalid character ']' looking for beginning of object key string"],
  ["\u0080", "ERR invalid character '\u00c2' looking for beginning of value"],
  ["\"\u0001\"", "ERR invalid character '\\x01' in string literal"],
  ["\u007f", "ERR invalid character '\\x7f' looking for beginning of value"],
  ["'x'", "ERR invalid character '\\'' looking for beginning of value"],
  ["\"\\", "ERR invalid character ' ' in string escape code"],
  ["{\"a\":\"\\u", "ERR invalid character ' ' in \\u hexadecimal character escape"],
  ["{\"a\":[1,2,{\"b\":null}],\"c\":-0.5e+3}", ""],
  ["\"\\ud83d\\ude00\"", ""],
  ["\"\\ud800x\"", ""],
];

describe("base64 as Go decodes it", () => {
  test("RawURLEncoding (JWT segments)", () => {
    for (const [input, go] of rawUrl) expect({ input, out: base64(input, false) }).toEqual({ input, out: go });
  });
  test("StdEncoding (nonce signatures from some clients)", () => {
    for (const [input, go] of std) expect({ input, out: base64(input, true) }).toEqual({ input, out: go });
  });
  test("offsets count UTF-8 bytes", () => {
    expect(base64("\u00e9", false)).toBe("ERR illegal base64 data at input byte 0");
    expect(base64("ab\u00e9", false)).toBe("ERR illegal base64 data at input byte 2");
  });
  test("encodeBase64Url round-trips any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        const back = decodeBase64(text, false);
        expect(back.ok && hex(back.bytes)).toBe(hex(bytes));
      }),
      { numRuns: 500 },
    );
  });
});

describe("JSON as Go reads it", () => {
  const parse = (text: string): string => {
    try {
      parseJson(new TextEncoder().encode(text));
      return "";
    } catch (e) {
      expect(e).toBeInstanceOf(JsonSyntaxError);
      return `ERR ${(e as Error).message}`;
    }
  };
  test("syntax errors carry Go's scanner texts", () => {
    for (const [input, go] of json) expect({ input, out: parse(input) }).toEqual({ input, out: go });
  });
  test("values: numbers keep their literal, objects have no prototype, surrogates pair", () => {
    const v = parseJson(new TextEncoder().encode('{"a":1.50,"__proto__":{"x":true},"s":"\\ud83d\\ude00\\ud800","n":null,"l":[1e3]}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(v.a).toBeInstanceOf(JsonNumber);
    expect((v.a as JsonNumber).text).toBe("1.50");
    expect(Object.keys(v)).toEqual(["a", "__proto__", "s", "n", "l"]);
    expect(v.s).toBe("\u{1f600}\ufffd");
    expect(v.n).toBeNull();
    expect(((v.l as JsonNumber[])[0]).text).toBe("1e3");
  });
  test("nesting beyond Go's limit is refused, deep nesting below it parses without recursion", () => {
    const deep = (n: number): Uint8Array => new TextEncoder().encode("[".repeat(n) + "]".repeat(n));
    expect(() => parseJson(deep(jsonNestingMax))).not.toThrow();
    expect(() => parseJson(deep(jsonNestingMax + 1))).toThrow("exceeded max depth");
  });
  test("quoteByte prints bytes as Go's quoteChar", () => {
    expect([0x27, 0x22, 0x5c, 0x09, 0x00, 0x7f, 0x80, 0xa0, 0xad, 0xc7, 0x41].map(quoteByte)).toEqual(["'\\''", "'\"'", "'\\\\'", "'\\t'", "'\\x00'", "'\\x7f'", "'\\u0080'", "'\\u00a0'", "'\\u00ad'", "'\u00c7'", "'A'"]);
  });
  test("never throws anything but JsonSyntaxError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 40 }), (bytes, text) => {
        for (const input of [bytes, new TextEncoder().encode(text)]) {
          try {
            parseJson(input);
          } catch (e) {
            expect(e).toBeInstanceOf(JsonSyntaxError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
