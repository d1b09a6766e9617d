// The config lexer: every syntax form as tokens, and the error texts with their positions.
// Expected values were checked against nats-server v2.9.10's conf package where it agrees;
// the deliberate differences are marked.
import { describe, expect, test } from "bun:test";
import { ConfigError, lexConf, TokenKind as K, type Token } from "../../../src/config/conf_lexer.ts";

/** Tokens as compact `kind:text` strings, without the final End. */
function kinds(input: string): string[] {
  const out: string[] = [];
  for (const t of lexConf(input, "t.conf")) {
    if (t.kind === K.End) break;
    out.push(t.text === "" ? t.kind : `${t.kind}:${t.text}`);
  }
  return out;
}

function tokens(input: string): Token[] {
  return [...lexConf(input, "t.conf")];
}

/** The error message lexing `input` produces (fails the test if there is none). */
function lexError(input: string): string {
  try {
    for (const _ of lexConf(input, "t.conf")) {
      // drain
    }
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected a lex error for ${JSON.stringify(input)}`);
}

describe("key/value separators", () => {
  test("equals, colon and whitespace", () => {
    expect(kinds("a = 1\nb: 2\nc 3\nd=4\ne:5")).toEqual([
      "key:a", "integer:1", "key:b", "integer:2", "key:c", "integer:3", "key:d", "integer:4", "key:e", "integer:5",
    ]);
  });

  test("quoted keys keep spaces and take no escapes", () => {
    expect(kinds(`"a b" = 1\n'c d': 2\n"x\\ty" = 3`)).toEqual(["key:a b", "integer:1", "key:c d", "integer:2", "key:x\\ty", "integer:3"]);
  });

  test("values end at new lines, ';' and ','", () => {
    expect(kinds("a = x;b = y,c = z\nd = w;")).toEqual(["key:a", "string:x", "key:b", "string:y", "key:c", "string:z", "key:d", "string:w"]);
  });

  test("a value may follow its key on the next line when no separator is written (reference quirk)", () => {
    expect(kinds("port\n4222")).toEqual(["key:port", "integer:4222"]);
  });

  test("`a =` at the end of input is the empty string, as in the reference", () => {
    expect(kinds("a =")).toEqual(["key:a", "string"]);
  });
});

describe("maps and arrays", () => {
  test("maps with and without separator, entries separated by newline, ',' or ';'", () => {
    expect(kinds("m { a = 1, b: 2; c 3\n d 4 }\nn = {}\no: { }")).toEqual([
      "key:m", "{", "key:a", "integer:1", "key:b", "integer:2", "key:c", "integer:3", "key:d", "integer:4", "}",
      "key:n", "{", "}", "key:o", "{", "}",
    ]);
  });

  test("a value inside a map may start on the next line after the separator", () => {
    expect(kinds("m {\n a =\n   1\n}")).toEqual(["key:m", "{", "key:a", "integer:1", "}"]);
  });

  test("arrays with ',' or new lines, trailing comma, nesting and comments", () => {
    expect(kinds("a [1, 2,\n 3\n # c\n 4 // d\n x,]\nb = [[1], {k: v}]\nc=[]")).toEqual([
      "key:a", "[", "integer:1", "integer:2", "integer:3", "integer:4", "string:x", "]",
      "key:b", "[", "[", "integer:1", "]", "{", "key:k", "string:v", "}", "]", "key:c", "[", "]",
    ]);
  });

  test("the whole file may be wrapped in braces (JSON style)", () => {
    expect(kinds(`{\n "port": 4222,\n "debug": true\n}\n`)).toEqual(["key:port", "integer:4222", "key:debug", "bool:true"]);
  });

  test("difference: inside an array ']' ends a number (v2.9.10 rejects [1, 2, 3])", () => {
    expect(kinds("a = [1, 2, 3]\nb = [1k]")).toEqual(["key:a", "[", "integer:1", "integer:2", "integer:3", "]", "key:b", "[", "integer:1k", "]"]);
  });

  test("outside an array digits followed by ']' stay a word, as in the reference", () => {
    expect(kinds("k = 42]1")).toEqual(["key:k", "string:42]1"]);
  });
});

describe("comments", () => {
  test("# and // to the end of the line, anywhere a value may end", () => {
    expect(kinds("# top\n// top\na = 1 # after\nb = 2 // after\nm { # open\n c = 3 // in\n}\n")).toEqual([
      "key:a", "integer:1", "key:b", "integer:2", "key:m", "{", "key:c", "integer:3", "}",
    ]);
  });

  test("'#' inside a bare word is part of it", () => {
    expect(kinds("a = foo#bar")).toEqual(["key:a", "string:foo#bar"]);
  });
});

describe("strings", () => {
  test("double-quoted strings take \\t \\n \\r \\\" \\\\ and \\xHH", () => {
    const [, value] = tokens(`a = "t\\tn\\nr\\rq\\"b\\\\x\\x41\\x4a"`);
    expect(value!.text).toBe('t\tn\nr\rq"b\\xAJ');
  });

  test("\\x escapes are bytes: consecutive ones form UTF-8 characters", () => {
    expect(tokens(`a = "\\xe2\\x82\\xac"`)[1]!.text).toBe("€");
  });

  test("single-quoted strings are raw", () => {
    expect(tokens(`a = 'x\\ny "z"'`)[1]!.text).toBe('x\\ny "z"');
  });

  test("bare words may take escapes too, and then are plain strings", () => {
    expect(kinds("a = b\\tc\nd = tru\\x65")).toEqual(["key:a", "string:b\tc", "key:d", "string:true"]);
  });

  test("quoted values are never booleans or variables", () => {
    expect(kinds(`a = "true"\nb = '$X'`)).toEqual(["key:a", "string:true", "key:b", "string:$X"]);
  });

  test("URLs, paths and host:port are bare strings", () => {
    expect(kinds("a: nats://u:p@127.0.0.1:4222/x\nb: /var/lib/nats\nc: localhost:4222")).toEqual([
      "key:a", "string:nats://u:p@127.0.0.1:4222/x", "key:b", "string:/var/lib/nats", "key:c", "string:localhost:4222",
    ]);
  });

  test("block strings: raw text up to a ')' alone on its own line, keeping the last new line", () => {
    expect(tokens("a (\n  line1\n  line2 )\n)\nb = 1")[1]!.text).toBe("\n  line1\n  line2 )\n");
    expect(tokens("a = (x)\n)\n")[1]!.text).toBe("x)\n");
  });

  test("difference: a block closed at the very end of input does not keep the ')'", () => {
    // v2.9.10 returns "\nmulti\nline\n)" here (its EOF handling backs up one character too few).
    expect(tokens("a = (\nmulti\nline\n)")[1]!.text).toBe("\nmulti\nline\n");
  });
});

describe("numbers, booleans, datetimes", () => {
  test("integers, negatives, floats, size suffixes", () => {
    expect(kinds("a=1\nb=-3\nc=1.5\nd=-0.25\ne=1k\nf=2MB\ng=3Gi\nh=4kib\ni=-2k")).toEqual([
      "key:a", "integer:1", "key:b", "integer:-3", "key:c", "float:1.5", "key:d", "float:-0.25",
      "key:e", "integer:1k", "key:f", "integer:2MB", "key:g", "integer:3Gi", "key:h", "integer:4kib", "key:i", "integer:-2k",
    ]);
  });

  test("digits followed by other letters make a word (durations, tokens)", () => {
    expect(kinds("a = 10ms\nb = 3secret\nc = 1mo")).toEqual(["key:a", "string:10ms", "key:b", "string:3secret", "key:c", "string:1mo"]);
  });

  test("IP addresses with or without port are strings; one dot is a float", () => {
    expect(kinds("a = 127.0.0.1\nb = 10.0.0.1:4222\nc = 0.0.0.0:-1\nd = 1.25")).toEqual([
      "key:a", "string:127.0.0.1", "key:b", "string:10.0.0.1:4222", "key:c", "string:0.0.0.0:-1", "key:d", "float:1.25",
    ]);
  });

  test("booleans in any case: true/false/yes/no/on/off", () => {
    expect(kinds("a=TRUE\nb=No\nc=on\nd=OFF\ne=yes\nf=false")).toEqual([
      "key:a", "bool:TRUE", "key:b", "bool:No", "key:c", "bool:on", "key:d", "bool:OFF", "key:e", "bool:yes", "key:f", "bool:false",
    ]);
  });

  test("Zulu datetimes", () => {
    expect(kinds("a = 2023-01-02T03:04:05Z")).toEqual(["key:a", "datetime:2023-01-02T03:04:05Z"]);
  });
});

describe("variables and include", () => {
  test("$NAME is a variable; $2a$ hashes are variables for the parser to keep", () => {
    expect(kinds("a = $TOKEN\nb = $2a$11$abc")).toEqual(["key:a", "variable:TOKEN", "key:b", "variable:2a$11$abc"]);
  });

  test("include takes a bare, single- or double-quoted path, at top level and in maps", () => {
    expect(kinds(`include ./a.conf\ninclude 'b c.conf'\ninclude "d.conf"\nm { include e.conf }`)).toEqual([
      "include:./a.conf", "include:b c.conf", "include:d.conf", "key:m", "{", "include:e.conf", "}",
    ]);
  });

  test("`include:` with a separator is an ordinary key", () => {
    expect(kinds("include: x")).toEqual(["key:include", "string:x"]);
  });
});

describe("positions", () => {
  test("every token has its 1-based line and column", () => {
    const ts = tokens("a = 1\n  bb: [x,\n    y]\n");
    expect(ts.map((t) => [t.kind, t.line, t.col])).toEqual([
      [K.Key, 1, 1], [K.Integer, 1, 5], [K.Key, 2, 3], [K.ArrayStart, 2, 7], [K.String, 2, 8], [K.String, 3, 5],
      [K.ArrayEnd, 3, 6], [K.End, 4, 1],
    ]);
  });
});

describe("errors name file:line:col and the reference's text", () => {
  const cases: [string, string][] = [
    ["port 4222 x\n", `t.conf:1:11: Expected a top-level value to end with a new line, comment or EOF, but got 'x' instead.`],
    ["a { b = 1\n", "t.conf:2:1: Unexpected EOF processing map."],
    [`a = "x\\qy"`, `t.conf:1:8: Invalid escape character 'q'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\", \\\\.`],
    [`a = "\\xzz"`, `t.conf:1:8: Expected two hexadecimal digits after '\\x', but got 'zz'`],
    [`a = "unterminated`, "t.conf:1:18: Unexpected EOF."],
    ["a = 'unterminated", "t.conf:1:18: Unexpected EOF."],
    ["a = -foo", "t.conf:1:6: Expected a digit but got 'f'."],
    ["a = -.5", "t.conf:1:6: Floats must start with a digit, not '.'."],
    ["a = .5", "t.conf:1:5: Floats must start with a digit"],
    ["a = 1.", "t.conf:1:7: Floats must have a digit after the '.', but got 'EOF' instead."],
    ["a = 12-3", "t.conf:1:7: All ISO8601 dates must be in full Zulu form."],
    ["a = 2023-01-02 x", "t.conf:1:15: Expected 'T' in ISO8601 datetime, but found ' ' instead."],
    ["a = 4222-x", "t.conf:1:10: Expected digit in ISO8601 datetime, but found 'x' instead."],
    ["a = 1k2", "t.conf:1:7: Expected a top-level value to end with a new line, comment or EOF, but got '2' instead."],
    ["x = 1e3", "t.conf:1:7: Expected a top-level value to end with a new line, comment or EOF, but got '3' instead."],
    ["a=[,]", "t.conf:1:4: Unexpected array value terminator ','."],
    ["a = [1 2]", `t.conf:1:8: Expected an array value terminator "," or an array terminator "]", but got '2' instead.`],
    ["m { a = 1 b = 2 }", `t.conf:1:11: Expected a map value terminator "," or a map terminator "}", but got 'b' instead.`],
    ["m { a = ,}", `t.conf:1:9: Unexpected map value terminator ",".`],
    ["m { = 1 }", "t.conf:1:5: Unexpected key separator '='."],
    ["= 1", "t.conf:1:1: Unexpected key separator '='"],
    ["m { ] }", "t.conf:1:5: Unexpected array end ']' processing map."],
    ["a = (\nno end", "t.conf:2:7: Unexpected EOF processing block."],
    ["a =\n1", "t.conf:1:4: Expected value but found new line"],
    ["include [x]", "t.conf:1:9: Expected include value but found start of an array"],
    ["include 'x", "t.conf:1:11: Unexpected EOF in quoted include"],
    [`m { "k`, "t.conf:1:7: Unexpected EOF processing double quoted map key."],
    ["m { k", "t.conf:1:6: Unexpected EOF processing map key."],
    ["a = [1", "t.conf:1:7: Unexpected EOF processing array."],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      expect(lexError(input)).toBe(message);
    });
  }

  test("difference: a key without a value is an error (the reference drops it silently)", () => {
    expect(lexError("port: 4222\ndebug")).toBe("t.conf:2:1: Expected a value for key 'debug'.");
    expect(lexError("m { a }")).toBe("t.conf:1:5: Expected a value for key 'a'.");
  });

  test("difference: a lone '/' is an error, not skipped", () => {
    expect(lexError("/ a = 1")).toBe("t.conf:1:1: Unexpected '/': comments start with '#' or '//'.");
  });

  test("errors surface lazily, in file order", () => {
    const it = lexConf("a = 1\nb = [", "t.conf");
    expect(it.next().value).toMatchObject({ kind: K.Key, text: "a" });
    expect(it.next().value).toMatchObject({ kind: K.Integer, text: "1" });
    expect(it.next().value).toMatchObject({ kind: K.Key, text: "b" });
    expect(it.next().value).toMatchObject({ kind: K.ArrayStart });
    expect(() => it.next()).toThrow("t.conf:2:6: Unexpected EOF processing array.");
  });
});
