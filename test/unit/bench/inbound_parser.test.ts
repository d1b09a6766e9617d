import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { timestampBytes, writeTimestamp, writeTimestampMagic } from "../../../src/cli/bench/clock.ts";
import { InboundParser, ProtocolError, type InboundHandlers } from "../../../src/cli/bench/raw/inbound_parser.ts";

const encoder = new TextEncoder();

interface Seen {
  msgs: Array<{ size: number; timestamp: number }>;
  pings: number;
  pongs: number;
  infos: string[];
  errs: string[];
}

function recorder(): { seen: Seen; handlers: InboundHandlers } {
  const seen: Seen = { msgs: [], pings: 0, pongs: 0, infos: [], errs: [] };
  return {
    seen,
    handlers: {
      onMsg: (size, timestamp) => seen.msgs.push({ size, timestamp }),
      onPing: () => { seen.pings += 1; },
      onPong: () => { seen.pongs += 1; },
      onInfo: (json) => seen.infos.push(json),
      onErr: (text) => seen.errs.push(text),
    },
  };
}

function timestamped(size: number, epochMs: number): Uint8Array {
  const payload = new Uint8Array(size).fill(120);
  writeTimestampMagic(payload, 0);
  writeTimestamp(new DataView(payload.buffer), 0, epochMs);
  return payload;
}

function concat(parts: Array<Uint8Array | string>): Uint8Array {
  const bytes = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(bytes.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of bytes) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A server stream with every operation the raw client must handle. */
function sampleStream(): Uint8Array {
  const payload = timestamped(16, 1_700_000_000_123.25);
  const header = "NATS/1.0\r\nA: b\r\n\r\n";
  return concat([
    'INFO {"server_id":"x","max_payload":1048576}\r\n',
    "PING\r\n",
    "+OK\r\n",
    "MSG foo 1 16\r\n", payload, "\r\n",
    "msg foo.bar 22 _INBOX.x 5\r\nhello\r\n",
    "MSG empty 1 0\r\n\r\n",
    `HMSG foo 1 ${header.length} ${header.length + 16}\r\n`, header, timestamped(16, 42.5), "\r\n",
    "MSG crlf 1 4\r\n\r\n\r\n\r\n",
    "PONG\r\n",
    "-ERR 'Permissions Violation for Publish to \"x\"'\r\n",
  ]);
}

function checkSample(seen: Seen): void {
  expect(seen.infos).toEqual(['{"server_id":"x","max_payload":1048576}']);
  expect(seen.pings).toBe(1);
  expect(seen.pongs).toBe(1);
  expect(seen.msgs.map((msg) => msg.size)).toEqual([16, 5, 0, 18 + 16, 4]);
  expect(seen.msgs[0].timestamp).toBe(1_700_000_000_123.25);
  expect(Number.isNaN(seen.msgs[1].timestamp)).toBe(true);
  expect(Number.isNaN(seen.msgs[2].timestamp)).toBe(true);
  expect(seen.msgs[3].timestamp).toBe(42.5);
  expect(Number.isNaN(seen.msgs[4].timestamp)).toBe(true);
  expect(seen.errs).toEqual(['Permissions Violation for Publish to "x"']);
}

describe("InboundParser", () => {
  test("whole stream in one read", () => {
    const { seen, handlers } = recorder();
    new InboundParser(handlers, { readTimestamps: true }).push(sampleStream());
    checkSample(seen);
  });

  test("byte by byte", () => {
    const { seen, handlers } = recorder();
    const parser = new InboundParser(handlers, { readTimestamps: true });
    const stream = sampleStream();
    for (let index = 0; index < stream.length; index += 1) parser.push(stream.subarray(index, index + 1));
    checkSample(seen);
  });

  test("any split of the stream gives the same operations", () => {
    const stream = sampleStream();
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const { seen, handlers } = recorder();
        const parser = new InboundParser(handlers, { readTimestamps: true });
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          parser.push(stream.subarray(from, cut));
          from = cut;
        }
        parser.push(stream.subarray(from));
        checkSample(seen);
      }),
      { numRuns: 300 },
    );
  });

  test("timestamps are only read when asked for and when the payload holds one", () => {
    const { seen, handlers } = recorder();
    new InboundParser(handlers).push(concat(["MSG a 1 16\r\n", timestamped(16, 5), "\r\n"]));
    expect(Number.isNaN(seen.msgs[0].timestamp)).toBe(true);
    const other = recorder();
    const short = timestamped(timestampBytes, 7);
    new InboundParser(other.handlers, { readTimestamps: true }).push(concat(["MSG a 1 11\r\n", short.subarray(0, 11), "\r\n", "MSG a 1 12\r\n", short, "\r\n"]));
    expect(Number.isNaN(other.seen.msgs[0].timestamp)).toBe(true);
    expect(other.seen.msgs[1].timestamp).toBe(7);
  });

  test("garbage is a protocol error", () => {
    const { handlers } = recorder();
    expect(() => new InboundParser(handlers, { readTimestamps: true }).push(encoder.encode("WHAT\r\n"))).toThrow(ProtocolError);
    expect(() => new InboundParser(handlers, { readTimestamps: true }).push(encoder.encode("MSG foo 1\r\n"))).toThrow(ProtocolError);
  });

  test("an endless control line is cut at the bound", () => {
    const { handlers } = recorder();
    const parser = new InboundParser(handlers, { readTimestamps: true });
    const chunk = new Uint8Array(8192).fill(65);
    expect(() => {
      for (let index = 0; index < 16; index += 1) parser.push(chunk);
    }).toThrow(/control line/);
  });

  test("reply subjects are captured for responders, under any split", () => {
    const stream = concat([
      "MSG svc 1 _INBOX.abc.1 16\r\n", timestamped(16, 3), "\r\n",
      "MSG svc 1 5\r\nhello\r\n",
      "HMSG svc 9 _INBOX.hdr 12 28\r\nNATS/1.0\r\n\r\n", timestamped(16, 4), "\r\n",
      "MSG a.b.c 22  reply.to\t0\r\n\r\n",
    ]);
    const expected = [["_INBOX.abc.1", 3], ["", Number.NaN], ["_INBOX.hdr", 4], ["reply.to", Number.NaN]];
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 8 }), (cuts) => {
        const replies: Array<[string, number]> = [];
        let parser: InboundParser | null = null;
        const { handlers } = recorder();
        parser = new InboundParser({
          ...handlers,
          onMsg: (_size, timestamp) => {
            const current = parser as InboundParser;
            replies.push([new TextDecoder().decode(current.replyBytes.subarray(0, current.replyLength)), timestamp]);
          },
        }, { readTimestamps: true, captureReply: true });
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          parser.push(stream.subarray(from, cut));
          from = cut;
        }
        parser.push(stream.subarray(from));
        expect(replies).toEqual(expected as Array<[string, number]>);
      }),
      { numRuns: 200 },
    );
  });
  test("subjects and payload prefixes are captured for ack readers, under any split", () => {
    const ack = '{"stream":"S", "seq":12}';
    const long = "x".repeat(40);
    const status = "NATS/1.0 503\r\n\r\n";
    const stream = concat([
      `MSG _INBOX.p.7 1 ${ack.length}\r\n${ack}\r\n`,
      `MSG  tab.sub\t2 reply 40\r\n${long}\r\n`,
      `HMSG _INBOX.p.8 1 ${status.length} ${status.length}\r\n${status}\r\n`,
      "MSG e 1 0\r\n\r\n",
    ]);
    const expected = [
      { subject: "_INBOX.p.7", payload: ack, size: ack.length, headers: 0 },
      { subject: "tab.sub", payload: long.slice(0, 32), size: 40, headers: 0 },
      { subject: "_INBOX.p.8", payload: status, size: status.length, headers: status.length },
      { subject: "e", payload: "", size: 0, headers: 0 },
    ];
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 8 }), (cuts) => {
        const seen: typeof expected = [];
        let parser: InboundParser | null = null;
        const { handlers } = recorder();
        parser = new InboundParser({
          ...handlers,
          onMsg: (size) => {
            const current = parser as InboundParser;
            seen.push({
              subject: new TextDecoder().decode(current.subjectBytes.subarray(0, current.subjectLength)),
              payload: new TextDecoder().decode(current.payloadBytes.subarray(0, current.payloadLength)),
              size,
              headers: current.headerBytes,
            });
          },
        }, { captureSubject: true, payloadCaptureBytes: 32 });
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          parser.push(stream.subarray(from, cut));
          from = cut;
        }
        parser.push(stream.subarray(from));
        expect(seen).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    expect(() => new InboundParser(recorder().handlers, { payloadCaptureBytes: -1 })).toThrow(/payloadCaptureBytes/);
  });
});
