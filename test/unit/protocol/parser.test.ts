// The client protocol parser alone: bytes in, sink calls out. A recording sink turns every
// call into a decoded string (offsets differ between chunkings, decoded values must not), so
// that the same stream fed whole, split at every byte boundary, byte by byte and in random
// chunkings can be compared call for call.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Parser, type ParserSink, type PubArgs } from "../../../src/protocol/parser.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

const bytes = (s: string): Uint8Array => encoder.encode(s);
const text = (buf: Uint8Array, start: number, end: number): string => latin1.decode(buf.subarray(start, end));

/** Payloads longer than this are recorded by length and hash, not spelled out. */
const SPELL_OUT_MAX = 256;

interface RecorderOptions {
  /** Called from onConnect (the auth tests clear requireConnect there, as the server does). */
  onConnect?: (parser: Parser) => void;
  /** Called from every callback after recording it: lets a test stop or suspend the parser. */
  after?: (event: string, parser: Parser) => void;
}

/**
 * A ParserSink that records every call as one string. Error details that legitimately
 * depend on the chunking (the quoted snippet and the measured length of an over-long line)
 * are kept apart in `details`, so `events` compares equal across chunkings.
 */
class Recorder implements ParserSink {
  readonly events: string[] = [];
  readonly details: string[] = [];
  /** The payloads of onMsg, copied (the views are only valid during the call). */
  readonly payloads: Uint8Array[] = [];
  parser: Parser;

  constructor(maxControlLine = 4096, readonly opts: RecorderOptions = {}) {
    this.parser = new Parser(this, maxControlLine);
  }

  #push(event: string): void {
    this.events.push(event);
    this.opts.after?.(event, this.parser);
  }

  onAuthViolation(): void {
    this.#push("authViolation");
  }
  onParseError(detail: string): void {
    this.details.push(detail);
    this.#push("parseError");
  }
  onMaxControlLine(argLength: number, snippet: string): void {
    this.details.push(`${argLength} ${snippet}`);
    this.#push("maxControlLine");
  }
  onProtocolViolation(reason: string): void {
    this.#push(`violation ${reason}`);
  }
  onConnect(buf: Uint8Array, start: number, end: number): void {
    this.opts.onConnect?.(this.parser);
    this.#push(`connect ${text(buf, start, end)}`);
  }
  onInfo(buf: Uint8Array, start: number, end: number): void {
    this.#push(`info ${text(buf, start, end)}`);
  }
  onClientError(buf: Uint8Array, start: number, end: number): void {
    this.#push(`clientError ${text(buf, start, end)}`);
  }
  onPing(): void {
    this.#push("ping");
  }
  onPong(): void {
    this.#push("pong");
  }
  onSub(buf: Uint8Array, ss: number, se: number, qs: number, qe: number, sids: number, side: number): void {
    const queue = qs < 0 ? "-" : `q=${text(buf, qs, qe)}`;
    this.#push(`sub ${text(buf, ss, se)} ${queue} ${text(buf, sids, side)}`);
  }
  onUnsub(buf: Uint8Array, sids: number, side: number, max: number, hasMax: boolean): void {
    this.#push(`unsub ${text(buf, sids, side)} ${max} ${hasMax}`);
  }
  onPubLine(pa: PubArgs): void {
    this.#push(`pubLine ${describePub(pa)}`);
  }
  onMsg(pa: PubArgs, payload: Uint8Array, payloadStart: number): void {
    const body = payload.slice(payloadStart, payloadStart + pa.size);
    this.payloads.push(body);
    const shown = body.length <= SPELL_OUT_MAX ? JSON.stringify(latin1.decode(body)) : `#${body.length}:${Bun.hash(body).toString(16)}`;
    this.#push(`msg ${describePub(pa)} ${shown}`);
  }
}

/** Subject, reply, header size, total size and the client's own size digits. */
function describePub(pa: PubArgs): string {
  const reply = pa.replyEnd > pa.replyStart ? text(pa.buf, pa.replyStart, pa.replyEnd) : "-";
  const hdb = pa.hdbEnd > pa.hdbStart ? text(pa.buf, pa.hdbStart, pa.hdbEnd) : "-";
  return `${text(pa.buf, pa.subjectStart, pa.subjectEnd)} ${reply} hdr=${pa.hdr} size=${pa.size} sz=${text(pa.buf, pa.szStart, pa.szEnd)} hdb=${hdb}`;
}

interface Feed {
  maxControlLine?: number;
  headers?: boolean;
  requireConnect?: boolean;
  opts?: RecorderOptions;
}

function recorder(f: Feed = {}): Recorder {
  const r = new Recorder(f.maxControlLine ?? 4096, f.opts ?? {});
  r.parser.headers = f.headers ?? false;
  r.parser.requireConnect = f.requireConnect ?? false;
  return r;
}

/** Feeds the chunks in order (fresh copies: the parser may keep views of its input). */
function feed(chunks: Uint8Array[], f: Feed = {}): Recorder {
  const r = recorder(f);
  for (const c of chunks) r.parser.parse(c.slice());
  return r;
}

function run(stream: string | Uint8Array, f: Feed = {}): string[] {
  return feed([typeof stream === "string" ? bytes(stream) : stream], f).events;
}

/** Splits `buf` at the given (sorted, distinct, interior) cut points. */
function cut(buf: Uint8Array, points: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

function byteByByte(buf: Uint8Array): Uint8Array[] {
  return Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
}

const HDR = "NATS/1.0\r\nA: 1\r\nA: 2\r\n\r\n"; // 24 bytes

describe("operations", () => {
  test("CONNECT and INFO carry their JSON argument", () => {
    expect(run('CONNECT {"verbose":false}\r\nINFO {"a":1}\r\n')).toEqual(['connect {"verbose":false}', 'info {"a":1}']);
  });

  test("PUB with and without reply, zero-length payload, payload with CRLF inside", () => {
    expect(run("PUB foo 5\r\nhello\r\nPUB foo.bar _INBOX.1 2\r\nhi\r\nPUB e 0\r\n\r\nPUB crlf 4\r\n\r\n\r\n\r\n")).toEqual([
      "pubLine foo - hdr=-1 size=5 sz=5 hdb=-",
      'msg foo - hdr=-1 size=5 sz=5 hdb=- "hello"',
      "pubLine foo.bar _INBOX.1 hdr=-1 size=2 sz=2 hdb=-",
      'msg foo.bar _INBOX.1 hdr=-1 size=2 sz=2 hdb=- "hi"',
      "pubLine e - hdr=-1 size=0 sz=0 hdb=-",
      'msg e - hdr=-1 size=0 sz=0 hdb=- ""',
      "pubLine crlf - hdr=-1 size=4 sz=4 hdb=-",
      'msg crlf - hdr=-1 size=4 sz=4 hdb=- "\\r\\n\\r\\n"',
    ]);
  });

  test("HPUB with and without reply once headers are enabled", () => {
    const total = HDR.length + 2;
    expect(run(`HPUB foo ${HDR.length} ${total}\r\n${HDR}ok\r\nHPUB foo r.1 ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`, { headers: true })).toEqual([
      `pubLine foo - hdr=24 size=26 sz=26 hdb=24`,
      `msg foo - hdr=24 size=26 sz=26 hdb=24 ${JSON.stringify(HDR + "ok")}`,
      `pubLine foo r.1 hdr=24 size=24 sz=24 hdb=24`,
      `msg foo r.1 hdr=24 size=24 sz=24 hdb=24 ${JSON.stringify(HDR)}`,
    ]);
  });

  test("HPUB without header support is a protocol violation that stops the parser", () => {
    const r = feed([bytes(`HPUB foo 24 26\r\n${HDR}ok\r\nPING\r\n`)]);
    expect(r.events).toEqual(["violation message headers not supported"]);
    expect(r.parser.stopped).toBe(true);
  });

  test("SUB with and without queue; UNSUB with and without max", () => {
    expect(run("SUB foo 1\r\nSUB foo.* workers 22\r\nUNSUB 1\r\nUNSUB 22 10\r\nUNSUB 3 abc\r\n")).toEqual([
      "sub foo - 1",
      "sub foo.* q=workers 22",
      "unsub 1 -1 false",
      "unsub 22 10 true",
      "unsub 3 -1 true",
    ]);
  });

  test("PING, PONG; +OK from a client is accepted and ignored", () => {
    expect(run("PING\r\nPONG\r\n+OK\r\nPING\r\n")).toEqual(["ping", "pong", "ping"]);
  });

  test("-ERR from a client is reported and stops the parser", () => {
    const r = feed([bytes("-ERR 'boom'\r\nPING\r\n")]);
    expect(r.events).toEqual(["clientError 'boom'"]);
    expect(r.parser.stopped).toBe(true);
  });

  test("HMSG from a client: arguments ignored, an empty message follows", () => {
    expect(run("HMSG foo 1 2 3\r\n\r\nPING\r\n")).toEqual(["msg  - hdr=-1 size=0 sz= hdb=- \"\"", "ping"]);
    // Anything but "\r\n" after the HMSG line is a parse error.
    expect(run("HMSG foo 1 2 3\r\nxx\r\n")).toEqual(["parseError"]);
  });
});

describe("framing", () => {
  test("op names are case-insensitive", () => {
    expect(run("pub a 1\r\nx\r\nPuB b 1\r\ny\r\nsUb c 1\r\nunSUB 1\r\nping\r\nPiNg\r\npong\r\n+ok\r\nconnect {}\r\nInfo {}\r\n")).toEqual([
      "pubLine a - hdr=-1 size=1 sz=1 hdb=-",
      'msg a - hdr=-1 size=1 sz=1 hdb=- "x"',
      "pubLine b - hdr=-1 size=1 sz=1 hdb=-",
      'msg b - hdr=-1 size=1 sz=1 hdb=- "y"',
      "sub c - 1",
      "unsub 1 -1 false",
      "ping",
      "ping",
      "pong",
      "connect {}",
      "info {}",
    ]);
    expect(run(`hPuB h 24 24\r\n${HDR}\r\n-eRr x\r\n`, { headers: true })).toEqual([
      "pubLine h - hdr=24 size=24 sz=24 hdb=24",
      `msg h - hdr=24 size=24 sz=24 hdb=24 ${JSON.stringify(HDR)}`,
      "clientError x",
    ]);
  });

  test("tabs and runs of blanks separate fields", () => {
    expect(run("PUB\tfoo\t\t3\r\nabc\r\nSUB \t foo\t \tq\t9\r\nUNSUB\t9\t 2\r\nPUB  foo   r   1\r\nz\r\n")).toEqual([
      "pubLine foo - hdr=-1 size=3 sz=3 hdb=-",
      'msg foo - hdr=-1 size=3 sz=3 hdb=- "abc"',
      "sub foo q=q 9",
      "unsub 9 2 true",
      "pubLine foo r hdr=-1 size=1 sz=1 hdb=-",
      'msg foo r hdr=-1 size=1 sz=1 hdb=- "z"',
    ]);
  });

  test("a control line may end with a bare \\n (the payload still needs \\r\\n)", () => {
    expect(run("SUB foo 1\nPUB foo 2\nhi\r\nPING\nCONNECT {}\n")).toEqual([
      "sub foo - 1",
      "pubLine foo - hdr=-1 size=2 sz=2 hdb=-",
      'msg foo - hdr=-1 size=2 sz=2 hdb=- "hi"',
      "ping",
      "connect {}",
    ]);
    expect(run("PUB foo 2\nhi\nPING\n")).toEqual(["pubLine foo - hdr=-1 size=2 sz=2 hdb=-", "parseError"]);
  });

  test("the drop byte: a '\\r' inside the argument cuts the argument's last byte", () => {
    // "foo 12\r3": a '\r' was seen, so the byte before '\n' is dropped as if it were the '\r'.
    expect(run("SUB foo 12\r3\nPING\r\n")).toEqual(["sub foo - 12", "ping"]);
    // Without any '\r' nothing is dropped.
    expect(run("SUB foo 123\n")).toEqual(["sub foo - 123"]);
    // Two '\r' before '\n': one is dropped, the other separates nothing in SUB (split on \r too).
    expect(run("SUB foo 1\r\r\n")).toEqual(["sub foo - 1"]);
    // PUB splits on blanks only: the leftover '\r' stays in the size field, which then is bad.
    expect(run("PUB foo 1\r\r\nx\r\n")).toEqual(['violation processPub Bad or Missing Size: "foo 1\\r"']);
  });

  test("PING, PONG and +OK ignore everything up to the end of the line", () => {
    expect(run("PINGxyz\r\nPONG and more\r\n+OK whatever\nPING\t\tx\n")).toEqual(["ping", "pong", "ping"]);
  });

  test("CONNECT and INFO take their argument with or without a blank", () => {
    expect(run('CONNECT{"a":1}\r\nCONNECT\t\t{"b":2}\r\nINFO{}\r\n')).toEqual(['connect {"a":1}', 'connect {"b":2}', "info {}"]);
  });

  test("PUB, SUB, UNSUB, HPUB and -ERR need a blank after the name", () => {
    for (const s of ["PUBfoo 1\r\nx\r\n", "SUBfoo 1\r\n", "UNSUB1\r\n", "-ERRx\r\n"]) expect(run(s)).toEqual(["parseError"]);
    expect(run("HPUBfoo 1 1\r\n", { headers: true })).toEqual(["parseError"]);
  });

  test("PUB size digits are kept as sent: PUB foo 007", () => {
    const r = feed([bytes("PUB foo 007\r\nhello12\r\nHPUB h r 024 00026\r\n" + HDR + "ok\r\n")], { headers: true });
    expect(r.events).toEqual([
      "pubLine foo - hdr=-1 size=7 sz=007 hdb=-",
      'msg foo - hdr=-1 size=7 sz=007 hdb=- "hello12"',
      "pubLine h r hdr=24 size=26 sz=00026 hdb=024",
      `msg h r hdr=24 size=26 sz=00026 hdb=024 ${JSON.stringify(HDR + "ok")}`,
    ]);
  });

  test("pipelined commands in one chunk come out in order", () => {
    const parts: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      parts.push(`SUB s.${i} ${i}\r\nPUB s.${i} ${String(i).length}\r\n${i}\r\nUNSUB ${i}\r\n`);
      expected.push(`sub s.${i} - ${i}`, `pubLine s.${i} - hdr=-1 size=${String(i).length} sz=${String(i).length} hdb=-`);
      expected.push(`msg s.${i} - hdr=-1 size=${String(i).length} sz=${String(i).length} hdb=- "${i}"`, `unsub ${i} -1 false`);
    }
    parts.push("PING\r\n");
    expected.push("ping");
    expect(run(parts.join(""))).toEqual(expected);
  });

  test("an op name split after its first byte, following a line with a blank before its argument", () => {
    // The partial-line code must not reuse scan positions of the previous line: after
    // "CONNECT {}" (blank not required by the op, then skipped), "S" | "UB" must still be SUB.
    expect(feed([bytes("CONNECT {}\r\nS"), bytes("UB foo 1\r\n")]).events).toEqual(["connect {}", "sub foo - 1"]);
    expect(feed([bytes("INFO {}\r\nP"), bytes("ING\r\n")]).events).toEqual(["info {}", "ping"]);
    expect(feed([bytes("PUB  a 0\r\n\r\nP"), bytes("UB a 0\r\n\r\n")]).events).toEqual([
      "pubLine a - hdr=-1 size=0 sz=0 hdb=-",
      'msg a - hdr=-1 size=0 sz=0 hdb=- ""',
      "pubLine a - hdr=-1 size=0 sz=0 hdb=-",
      'msg a - hdr=-1 size=0 sz=0 hdb=- ""',
    ]);
  });

  test("returns the number of bytes consumed: all of them", () => {
    const r = recorder();
    const chunk = bytes("SUB a 1\r\nPUB a 3\r\nab");
    expect(r.parser.parse(chunk)).toBe(chunk.length);
    expect(r.parser.pendingBytes).toBeGreaterThan(0);
    expect(r.parser.parse(bytes("c\r\n"))).toBe(3);
    expect(r.parser.pendingBytes).toBe(0);
    expect(r.events.at(-1)).toBe('msg a - hdr=-1 size=3 sz=3 hdb=- "abc"');
  });
});

describe("errors", () => {
  test("unknown operations are parse errors and stop the parser", () => {
    for (const s of ["XYZ\r\n", "PX\r\n", "PUX foo 1\r\n", "SUP foo 1\r\n", "UNSUX 1\r\n", "CONNEKT {}\r\n", "INFX {}\r\n", "+OX\r\n", "-EXR x\r\n", "HXUB\r\n", "HMSX\r\n", "\r\n", " PING\r\n", "MSG foo 1 1\r\nx\r\n", "RS+ foo\r\n", "A+ foo\r\n", "LS+ foo\r\n"]) {
      const r = feed([bytes(s + "PING\r\n")]);
      expect({ s, events: r.events }).toEqual({ s, events: ["parseError"] });
      expect(r.parser.stopped).toBe(true);
    }
  });

  test("the parse error quotes the stream from the failing byte", () => {
    const r = feed([bytes("PING\r\nPOX bad stuff\r\n")]);
    expect(r.events).toEqual(["ping", "parseError"]);
    expect(r.details).toEqual(['"X bad stuff\\r\\n"']);
  });

  test("a payload must be followed by exactly \\r\\n", () => {
    expect(run("PUB foo 5\r\nhelloXX\r\n")).toEqual(["pubLine foo - hdr=-1 size=5 sz=5 hdb=-", "parseError"]);
    expect(run("PUB foo 5\r\nhello\rX")).toEqual(["pubLine foo - hdr=-1 size=5 sz=5 hdb=-", "parseError"]);
    expect(run("PUB foo 5\r\nhello\n\r")).toEqual(["pubLine foo - hdr=-1 size=5 sz=5 hdb=-", "parseError"]);
    // A payload shorter than announced swallows what follows and then fails on its end.
    expect(run("PUB foo 10\r\nhello\r\nPING\r\n")).toEqual(["pubLine foo - hdr=-1 size=10 sz=10 hdb=-", "parseError"]);
  });

  test("a split payload fails as soon as the byte after it is not '\\r'", () => {
    const r = feed([bytes("PUB foo 5\r\nhel"), bytes("loX")]);
    expect(r.events).toEqual(["pubLine foo - hdr=-1 size=5 sz=5 hdb=-", "parseError"]);
    expect(r.parser.stopped).toBe(true);
    const r2 = feed([bytes("PUB foo 5\r\nhello\r"), bytes("X")]);
    expect(r2.events).toEqual(["pubLine foo - hdr=-1 size=5 sz=5 hdb=-", "parseError"]);
  });

  test("malformed PUB/HPUB/SUB/UNSUB arguments are protocol violations", () => {
    const cases: [string, string][] = [
      ["PUB foo\r\n", 'violation processPub Parse Error: "foo"'],
      ["PUB foo bar baz 1\r\n", 'violation processPub Parse Error: "foo bar baz 1"'],
      ["PUB foo abc\r\n", 'violation processPub Bad or Missing Size: "foo abc"'],
      ["PUB foo -1\r\n", 'violation processPub Bad or Missing Size: "foo -1"'],
      ["PUB foo 1234567890\r\n", 'violation processPub Bad or Missing Size: "foo 1234567890"'],
      ["HPUB foo 1\r\n", 'violation processHeaderPub Parse Error: "foo 1"'],
      ["HPUB foo x 5\r\n", 'violation processHeaderPub Bad or Missing Header Size: "foo x 5"'],
      ["HPUB foo 5 x\r\n", 'violation processHeaderPub Bad or Missing Total Size: "foo 5 x"'],
      ["HPUB foo 10 5\r\n", 'violation processHeaderPub Header Size larger then TotalSize: "foo 10 5"'],
      ["HPUB a b c d e\r\n", 'violation processHeaderPub Parse Error: "a b c d e"'],
      ["SUB foo\r\n", 'violation processSub Parse Error: "foo"'],
      ["SUB a b c d\r\n", 'violation processSub Parse Error: "a b c d"'],
      ["UNSUB 1 2 3\r\n", 'violation processUnsub Parse Error: "1 2 3"'],
    ];
    for (const [input, event] of cases) {
      const r = feed([bytes(input + "PING\r\n")], { headers: true });
      expect({ input, events: r.events }).toEqual({ input, events: [event] });
      expect(r.parser.stopped).toBe(true);
    }
  });

  test("a nine-digit size parses; the size check itself is the sink's business", () => {
    expect(run("PUB foo 999999999\r\n")).toEqual(["pubLine foo - hdr=-1 size=999999999 sz=999999999 hdb=-"]);
  });

  test("stop() from a callback ends parsing; later chunks are ignored", () => {
    const r = recorder({ opts: { after: (e, p) => (e.startsWith("sub") ? p.stop() : undefined) } });
    const chunk = bytes("PING\r\nSUB a 1\r\nPING\r\n");
    expect(r.parser.parse(chunk)).toBe(chunk.length);
    expect(r.parser.parse(bytes("PING\r\n"))).toBe(0);
    expect(r.events).toEqual(["ping", "sub a - 1"]);
  });
});

describe("max_control_line", () => {
  const limit = 16;
  const argOf = (n: number): string => "s".repeat(n - 2) + " 1"; // a SUB argument of n bytes

  test("a complete line at the limit passes, one byte over fails and stops", () => {
    expect(run(`SUB ${argOf(limit)}\r\nPING\r\n`, { maxControlLine: limit })).toEqual([`sub ${"s".repeat(limit - 2)} - 1`, "ping"]);
    const r = feed([bytes(`SUB ${argOf(limit + 1)}\r\nPING\r\n`)], { maxControlLine: limit });
    expect(r.events).toEqual(["maxControlLine"]);
    expect(r.details[0]).toStartWith(`${limit + 1} `);
    expect(r.parser.stopped).toBe(true);
  });

  test("the op name, blanks after it and the line end do not count", () => {
    expect(run(`SUB    ${argOf(limit)}\r\n`, { maxControlLine: limit })).toEqual([`sub ${"s".repeat(limit - 2)} - 1`]);
    expect(run(`PUB ${"p".repeat(limit - 2)} 0\r\n\r\n`, { maxControlLine: limit })).toEqual([
      `pubLine ${"p".repeat(limit - 2)} - hdr=-1 size=0 sz=0 hdb=-`,
      `msg ${"p".repeat(limit - 2)} - hdr=-1 size=0 sz=0 hdb=- ""`,
    ]);
  });

  test("every argument-carrying op is limited", () => {
    for (const op of ["PUB", "HPUB", "SUB", "UNSUB", "CONNECT", "INFO", "-ERR"]) {
      expect({ op, events: run(`${op} ${"x".repeat(limit + 1)}\r\n`, { maxControlLine: limit, headers: true }) }).toEqual({ op, events: ["maxControlLine"] });
    }
  });

  test("PING/PONG/+OK lines are not limited (their rest is skipped)", () => {
    expect(run(`PING ${"x".repeat(limit * 10)}\r\nPONG ${"y".repeat(limit * 10)}\r\n`, { maxControlLine: limit })).toEqual(["ping", "pong"]);
  });

  test("a partial line fails as soon as it exceeds the limit, before its end arrives", () => {
    const r = recorder({ maxControlLine: limit });
    r.parser.parse(bytes(`SUB ${"s".repeat(limit)}`));
    expect(r.events).toEqual([]);
    r.parser.parse(bytes("s"));
    expect(r.events).toEqual(["maxControlLine"]);
    expect(r.parser.stopped).toBe(true);
  });

  test("a partial line longer than the limit in its first chunk fails at once", () => {
    const r = feed([bytes(`PUB ${"p".repeat(limit * 4)}`)], { maxControlLine: limit });
    expect(r.events).toEqual(["maxControlLine"]);
  });

  test("a partial line at the limit whose last byte is '\\r' is not over it", () => {
    // "foo 12345678901\r" is 17 bytes; the '\r' will be dropped, so it is 16 and fits.
    const r = recorder({ maxControlLine: limit });
    r.parser.parse(bytes("SUB foo 12345678901\r"));
    expect(r.events).toEqual([]);
    r.parser.parse(bytes("\n"));
    expect(r.events).toEqual(["sub foo - 12345678901"]);
  });

  test("the limit can be changed between chunks (config reload)", () => {
    const r = recorder({ maxControlLine: 4096 });
    r.parser.parse(bytes(`SUB ${argOf(32)}\r\n`));
    r.parser.maxControlLine = 16;
    r.parser.parse(bytes(`SUB ${argOf(32)}\r\n`));
    expect(r.events).toEqual([`sub ${"s".repeat(30)} - 1`, "maxControlLine"]);
  });
});

describe("requireConnect (authentication pending)", () => {
  const clearOnConnect: Feed = { requireConnect: true, opts: { onConnect: (p) => (p.requireConnect = false) } };

  test("anything but CONNECT first is an auth violation that stops the parser", () => {
    for (const s of ["PING\r\n", "SUB foo 1\r\n", "PUB foo 0\r\n\r\n", "XYZ\r\n", "INFO {}\r\n", "+OK\r\n"]) {
      const r = feed([bytes(s)], { requireConnect: true });
      expect({ s, events: r.events }).toEqual({ s, events: ["authViolation"] });
      expect(r.parser.stopped).toBe(true);
    }
  });

  test("CONNECT (any case, split or not) is let through; what follows is parsed normally", () => {
    expect(run('connect {"user":"a"}\r\nPING\r\n', clearOnConnect)).toEqual(['connect {"user":"a"}', "ping"]);
    const stream = bytes('CONNECT {"user":"a"}\r\nSUB x 1\r\nPING\r\n');
    expect(feed(byteByByte(stream), clearOnConnect).events).toEqual(['connect {"user":"a"}', "sub x - 1", "ping"]);
  });

  test("while authentication stays pending, the next op is a violation too", () => {
    expect(run("CONNECT {}\r\nPING\r\n", { requireConnect: true })).toEqual(["connect {}", "authViolation"]);
  });

  test("only the first byte is checked: 'c' followed by garbage is a parse error", () => {
    expect(run("CXYZ\r\n", { requireConnect: true })).toEqual(["parseError"]);
  });
});

describe("suspend and resume", () => {
  test("suspend() in a callback returns how far the parser got; the rest is fed again after resume()", () => {
    const r = recorder({ opts: { after: (e, p) => (e.startsWith("connect") ? p.suspend() : undefined) } });
    const head = 'CONNECT {"pass":"x"}\r\n';
    const chunk = bytes(head + "SUB a 1\r\nPUB a 2\r\nhi\r\n");
    const consumed = r.parser.parse(chunk);
    expect(consumed).toBe(head.length);
    expect(r.events).toEqual(['connect {"pass":"x"}']);
    // While suspended nothing is consumed.
    expect(r.parser.parse(chunk.subarray(consumed))).toBe(0);
    expect(r.events).toHaveLength(1);
    r.parser.resume();
    expect(r.parser.parse(chunk.subarray(consumed))).toBe(chunk.length - consumed);
    expect(r.events).toEqual(['connect {"pass":"x"}', "sub a - 1", "pubLine a - hdr=-1 size=2 sz=2 hdb=-", 'msg a - hdr=-1 size=2 sz=2 hdb=- "hi"']);
  });

  test("suspension after a CONNECT that arrived split over chunks", () => {
    const r = recorder({ opts: { after: (e, p) => (e.startsWith("connect") ? p.suspend() : undefined) } });
    expect(r.parser.parse(bytes("CONN"))).toBe(4);
    const second = bytes("ECT {}\r\nPING\r\n");
    const consumed = r.parser.parse(second);
    expect(consumed).toBe("ECT {}\r\n".length);
    r.parser.resume();
    r.parser.parse(second.subarray(consumed));
    expect(r.events).toEqual(["connect {}", "ping"]);
  });
});

describe("split payloads of 1 MB", () => {
  const size = 1024 * 1024;
  const payload = new Uint8Array(size);
  // Deterministic bytes including many '\r' and '\n' so that nothing may be taken for a line end.
  for (let i = 0; i < size; i++) payload[i] = (i * 2654435761) >>> 24;
  for (let i = 0; i < size; i += 1000) payload[i] = 13, payload[i + 1] = 10;
  const stream = concat(bytes(`PUB big _INBOX.r ${size}\r\n`), payload, bytes(`\r\nHPUB hbig 24 ${size + 24}\r\n${HDR}`), payload, bytes("\r\nPING\r\n"));

  const check = (r: Recorder): void => {
    expect(r.events.filter((e) => e.startsWith("msg")).length).toBe(2);
    expect(r.events.at(-1)).toBe("ping");
    expect(r.payloads[0].length).toBe(size);
    expect(Buffer.compare(r.payloads[0], payload)).toBe(0);
    expect(Buffer.compare(r.payloads[1].subarray(24), payload)).toBe(0);
    expect(latin1.decode(r.payloads[1].subarray(0, 24))).toBe(HDR);
    expect(r.parser.pendingBytes).toBe(0);
  };

  test("whole, and in fixed chunk sizes from 1 byte to 256 KiB", () => {
    const whole = feed([stream], { headers: true });
    check(whole);
    for (const chunkSize of [7, 1000, 4096, 65536, 65537, 262144]) {
      const points: number[] = [];
      for (let p = chunkSize; p < stream.length; p += chunkSize) points.push(p);
      const r = feed(cut(stream, points), { headers: true });
      check(r);
      expect(r.events).toEqual(whole.events);
    }
  });

  test("split right around the control line, the payload end and the CRLF", () => {
    const whole = feed([stream], { headers: true }).events;
    const lineEnd = `PUB big _INBOX.r ${size}\r\n`.length;
    for (const p of [1, lineEnd - 1, lineEnd, lineEnd + 1, lineEnd + size - 1, lineEnd + size, lineEnd + size + 1, lineEnd + size + 2]) {
      const r = feed(cut(stream, [p]), { headers: true });
      check(r);
      expect(r.events).toEqual(whole);
    }
  });

  test("random chunkings", () => {
    const whole = feed([stream], { headers: true }).events;
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (points) => {
        const r = feed(cut(stream, points.sort((a, b) => a - b)), { headers: true });
        check(r);
        expect(r.events).toEqual(whole);
      }),
      { numRuns: 30 },
    );
  });

  test("while a payload is pending the parser holds exactly its bytes", () => {
    const r = recorder();
    r.parser.parse(bytes(`PUB big ${size}\r\n`));
    r.parser.parse(payload.subarray(0, 1000));
    expect(r.parser.pendingBytes).toBe(1000);
    r.parser.parse(payload.subarray(1000));
    expect(r.parser.pendingBytes).toBe(size);
    r.parser.parse(bytes("\r\n"));
    expect(r.parser.pendingBytes).toBe(0);
    expect(Buffer.compare(r.payloads[0], payload)).toBe(0);
  });
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- The same stream under every chunking ------------------------------------------------

/** Streams of valid operations, and streams that end in each kind of error. */
const STREAMS: { name: string; stream: string; feed?: Feed }[] = [
  {
    name: "every operation",
    stream:
      'CONNECT {"verbose":false,"pedantic":true,"headers":true}\r\nINFO {}\r\nSUB foo 1\r\nsub foo.* q 2\r\nPUB foo 5\r\nhello\r\n' +
      `PUB foo r.1 0\r\n\r\nHPUB foo 24 26\r\n${HDR}ok\r\nHPUB foo _I.x 024 024\r\n${HDR}\r\nPUB crlf 4\r\n\r\n\r\n\r\n` +
      "UNSUB 1\r\nUNSUB 2 5\r\nPING\r\nPONG\r\n+OK\r\nPINGjunk\r\nPUB foo 007\r\nhello12\r\nHMSG x 1 2 3\r\n\r\n",
    feed: { headers: true },
  },
  {
    name: "blanks, tabs, \\n-only lines and the drop byte",
    stream: "PUB\t foo \t 3\nabc\r\nSUB  a\tq\t 7\nSUB foo 12\r3\nCONNECT{}\nconnect\t{}\r\nunsub 7\t\t2\nPING\nPONG x y\n",
  },
  { name: "ends in a parse error", stream: "SUB a 1\r\nPUB a 1\r\nx\r\nPIXG\r\nPING\r\n" },
  { name: "payload not followed by CRLF", stream: "PUB a 3\r\nabcdPING\r\n" },
  { name: "ends in a protocol violation", stream: "SUB a 1\r\nPUB a b c d\r\nPING\r\n" },
  { name: "client -ERR", stream: "PING\r\n-ERR 'oops'\r\nPING\r\n" },
  { name: "control line over the limit", stream: `SUB a 1\r\nPUB ${"x".repeat(40)} 1\r\ny\r\n`, feed: { maxControlLine: 32 } },
  { name: "control line at the limit", stream: `SUB ${"x".repeat(30)} 1\r\nPUB ${"x".repeat(30)} 1\r\ny\r\nPING\r\n`, feed: { maxControlLine: 32 } },
  {
    name: "authentication pending",
    stream: 'CONNECT {"user":"a","pass":"b"}\r\nSUB a 1\r\nPING\r\n',
    feed: { requireConnect: true, opts: { onConnect: (p) => (p.requireConnect = false) } },
  },
  { name: "auth violation", stream: "PING\r\nCONNECT {}\r\n", feed: { requireConnect: true } },
];

describe("the same stream under every chunking yields the same sink calls", () => {
  for (const { name, stream, feed: f } of STREAMS) {
    const buf = bytes(stream);
    const whole = (): string[] => feed([buf], f).events;

    test(`${name}: split at every byte boundary`, () => {
      const expected = whole();
      expect(expected.length).toBeGreaterThan(0);
      for (let p = 1; p < buf.length; p++) expect({ p, events: feed(cut(buf, [p]), f).events }).toEqual({ p, events: expected });
    });

    test(`${name}: byte by byte`, () => {
      expect(feed(byteByByte(buf), f).events).toEqual(whole());
    });

    test(`${name}: random chunkings`, () => {
      const expected = whole();
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: buf.length - 1 }), { maxLength: buf.length }), (points) => {
          expect(feed(cut(buf, points.sort((a, b) => a - b)), f).events).toEqual(expected);
        }),
        { numRuns: 200 },
      );
    });
  }

  test("random streams of valid and invalid pieces, randomly chunked", () => {
    const piece = fc.constantFrom(
      "PUB a 1\r\nx\r\n", "PUB a.b r 0\r\n\r\n", "pub\tz 3\nabc\r\n", "PUB a 007\r\n1234567\r\n", `HPUB h 24 25\r\n${HDR}!\r\n`,
      "SUB a 1\r\n", "SUB a.* q 2\n", "UNSUB 1\r\n", "UNSUB 2 3\r\n", "PING\r\n", "PONGxx\n", "+OK\r\n", "CONNECT{}\r\n",
      "INFO {}\r\n", "SUB foo 12\r3\n", "PUB a 2\r\nxyz", "PUB a\r\n", "SUB a\r\n", "ZZZ\r\n", "-ERR x\r\n", "HMSG a\r\n\r\n",
      `SUB ${"l".repeat(20)} 1\r\n`, `PUB ${"m".repeat(19)} 1\r\n`, "\r", "\n", " ", "\t",
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (pieces, rawPoints) => {
        const buf = bytes(pieces.join(""));
        const f: Feed = { maxControlLine: 22, headers: true };
        const expected = feed([buf], f).events;
        const points = [...new Set(rawPoints.map((p) => 1 + (p % Math.max(1, buf.length - 1))))].filter((p) => p < buf.length).sort((a, b) => a - b);
        expect(feed(cut(buf, points), f).events).toEqual(expected);
        expect(feed(byteByByte(buf), f).events).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
