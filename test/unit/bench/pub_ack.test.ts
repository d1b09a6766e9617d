import { describe, expect, test } from "bun:test";
import { inboxSequence, pubAckBytesMax, pubAckProblem } from "../../../src/cli/bench/raw/pub_ack.ts";

const encoder = new TextEncoder();

/** The ack as the parser hands it over: a capture buffer of pubAckBytesMax, a length, the full size. */
function check(ack: string, headerBytes = 0): string | null {
  const bytes = encoder.encode(ack);
  const capture = new Uint8Array(pubAckBytesMax);
  capture.set(bytes.subarray(0, pubAckBytesMax));
  return pubAckProblem(capture, Math.min(bytes.length, pubAckBytesMax), bytes.length, headerBytes);
}

describe("inboxSequence", () => {
  const subject = (text: string): [Uint8Array, number] => {
    const bytes = encoder.encode(text);
    return [bytes, bytes.length];
  };
  test("reads the digits after the inbox prefix", () => {
    expect(inboxSequence(...subject("_INBOX.abc.0"), 11)).toBe(0);
    expect(inboxSequence(...subject("_INBOX.abc.1234567"), 11)).toBe(1_234_567);
    expect(inboxSequence(...subject("_INBOX.abc.999999999999999"), 11)).toBe(999_999_999_999_999);
  });
  test("anything but digits, nothing, or too many digits is -1", () => {
    expect(inboxSequence(...subject("_INBOX.abc."), 11)).toBe(-1);
    expect(inboxSequence(...subject("_INBOX.abc.12x"), 11)).toBe(-1);
    expect(inboxSequence(...subject("_INBOX.abc.-1"), 11)).toBe(-1);
    expect(inboxSequence(...subject("_INBOX.abc.1234567890123456"), 11)).toBe(-1);
  });
});

describe("pubAckProblem", () => {
  test("success acks of both servers, with domain and duplicate flags", () => {
    expect(check('{"stream":"ORDERS", "seq":1}')).toBeNull();
    expect(check('{"stream":"ORDERS","seq":18446744}')).toBeNull();
    expect(check('{"stream":"S", "domain":"hub", "seq":7}')).toBeNull();
    expect(check('{"stream":"S", "seq":7,"duplicate": true}')).toBeNull();
    // Another field order still counts, through the JSON parse.
    expect(check('{"seq":3,"stream":"S"}')).toBeNull();
  });

  test("error acks name the server's error", () => {
    expect(check('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}'))
      .toBe("JetStream error 503 (err_code 10077): maximum messages exceeded");
    expect(check('{"stream":"S", "error":{"code":400,"description":"bad"}}')).toBe("JetStream error 400: bad");
  });

  test("no responders, other headers, junk, missing sequences and oversized acks are problems", () => {
    const status = "NATS/1.0 503\r\n\r\n";
    expect(check(status, status.length)).toBe("no responders (503): no stream listens on this subject");
    const other = "NATS/1.0 408 Request Timeout\r\n\r\n";
    expect(check(other, other.length)).toBe("a message with headers instead of a PubAck: NATS/1.0 408 Request Timeout");
    expect(check("hello")).toBe("not a PubAck: hello");
    expect(check("42")).toBe("not a PubAck: 42");
    expect(check('{"stream":"S"}')).toBe('a PubAck without a sequence: {"stream":"S"}');
    expect(check(`{"stream":"${"x".repeat(pubAckBytesMax)}", "seq":1}`)).toMatch(/^an ack of 2070 bytes, longer than any PubAck/);
  });
});
