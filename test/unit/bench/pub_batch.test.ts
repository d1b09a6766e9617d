import { describe, expect, test } from "bun:test";
import { readTimestamp, timestampBytes } from "../../../src/cli/bench/clock.ts";
import { PubBatch } from "../../../src/cli/bench/raw/pub_batch.ts";

const decoder = new TextDecoder();

/** Splits `PUB <subject> <n>\r\n<payload>\r\n…` frames; checks the framing as it goes. */
function frames(bytes: Uint8Array): Array<{ subject: string; payload: Uint8Array }> {
  const out: Array<{ subject: string; payload: Uint8Array }> = [];
  let at = 0;
  while (at < bytes.length) {
    const lineEnd = bytes.indexOf(10, at);
    const line = decoder.decode(bytes.subarray(at, lineEnd - 1));
    const [op, subject, size] = line.split(" ");
    expect(op).toBe("PUB");
    const length = Number(size);
    const payload = bytes.subarray(lineEnd + 1, lineEnd + 1 + length);
    expect(bytes[lineEnd + 1 + length]).toBe(13);
    expect(bytes[lineEnd + 2 + length]).toBe(10);
    out.push({ subject, payload });
    at = lineEnd + 3 + length;
  }
  return out;
}

function stampOf(payload: Uint8Array): number {
  return readTimestamp(payload, new DataView(payload.buffer, payload.byteOffset, payload.byteLength), 0);
}

describe("PubBatch", () => {
  test("fixed subject: pre-encoded frames, timestamps patched", () => {
    const batch = new PubBatch({ subject: "foo.bar", payloadBytes: 16, multisubject: false, multisubjectMax: 0, timestamps: true });
    expect(batch.messagesMax).toBeGreaterThan(500);
    const length = batch.fill(3, 0);
    batch.stampAll(3, 1234.5);
    const sent = frames(batch.buffer.subarray(0, length));
    expect(sent).toHaveLength(3);
    for (const frame of sent) {
      expect(frame.subject).toBe("foo.bar");
      expect(frame.payload.length).toBe(16);
      expect(stampOf(frame.payload)).toBe(1234.5);
    }
    batch.stamp(1, 99);
    expect(stampOf(frames(batch.buffer.subarray(0, length))[1].payload)).toBe(99);
  });

  test("multisubject appends the sequence modulo the maximum", () => {
    const batch = new PubBatch({ subject: "m", payloadBytes: 32, multisubject: true, multisubjectMax: 100, timestamps: true });
    const length = batch.fill(5, 97);
    batch.stampAll(5, 7);
    const sent = frames(batch.buffer.subarray(0, length));
    expect(sent.map((frame) => frame.subject)).toEqual(["m.97", "m.98", "m.99", "m.0", "m.1"]);
    for (const frame of sent) expect(stampOf(frame.payload)).toBe(7);
  });

  test("payloads too small for a timestamp carry none; huge payloads get one frame per batch", () => {
    const small = new PubBatch({ subject: "s", payloadBytes: timestampBytes - 1, multisubject: false, multisubjectMax: 0, timestamps: true });
    expect(small.timestamps).toBe(false);
    const length = small.fill(2, 0);
    small.stampAll(2, 5);
    for (const frame of frames(small.buffer.subarray(0, length))) expect(frame.payload.every((byte) => byte === 0)).toBe(true);
    const empty = new PubBatch({ subject: "e", payloadBytes: 0, multisubject: false, multisubjectMax: 0, timestamps: true });
    expect(frames(empty.buffer.subarray(0, empty.fill(2, 0)))).toHaveLength(2);
    const huge = new PubBatch({ subject: "h", payloadBytes: 1024 * 1024, multisubject: false, multisubjectMax: 0, timestamps: true });
    expect(huge.messagesMax).toBe(1);
    expect(() => huge.fill(2, 0)).toThrow();
  });
  test("a reply inbox gives each frame the reply <inbox>.<sequence>, with or without multisubject", () => {
    const lines = (bytes: Uint8Array): string[][] => {
      const out: string[][] = [];
      let at = 0;
      while (at < bytes.length) {
        const lineEnd = bytes.indexOf(10, at);
        const fields = decoder.decode(bytes.subarray(at, lineEnd - 1)).split(" ");
        const length = Number(fields.at(-1));
        expect(decoder.decode(bytes.subarray(lineEnd + 1 + length, lineEnd + 3 + length))).toBe("\r\n");
        out.push(fields);
        at = lineEnd + 3 + length;
      }
      return out;
    };
    const batch = new PubBatch({ subject: "js.a", payloadBytes: 20, multisubject: false, multisubjectMax: 0, timestamps: true, replyInbox: "_INBOX.x" });
    const length = batch.fill(3, 98);
    batch.stampAll(3, 11);
    expect(lines(batch.buffer.subarray(0, length))).toEqual([
      ["PUB", "js.a", "_INBOX.x.98", "20"], ["PUB", "js.a", "_INBOX.x.99", "20"], ["PUB", "js.a", "_INBOX.x.100", "20"],
    ]);
    const full = batch.fill(batch.messagesMax, Number.MAX_SAFE_INTEGER - batch.messagesMax);
    expect(full).toBeLessThanOrEqual(batch.buffer.length);
    expect(lines(batch.buffer.subarray(0, full)).at(-1)).toEqual(["PUB", "js.a", `_INBOX.x.${Number.MAX_SAFE_INTEGER - 1}`, "20"]);
    expect(() => batch.fill(1, Number.MAX_SAFE_INTEGER)).toThrow(/out of range/);
    const multi = new PubBatch({ subject: "m", payloadBytes: 0, multisubject: true, multisubjectMax: 10, timestamps: false, replyInbox: "i" });
    expect(lines(multi.buffer.subarray(0, multi.fill(2, 9)))).toEqual([["PUB", "m.9", "i.9", "0"], ["PUB", "m.0", "i.10", "0"]]);
    expect(() => new PubBatch({ subject: "s", payloadBytes: 0, multisubject: false, multisubjectMax: 0, timestamps: false, reply: "r", replyInbox: "i" })).toThrow();
  });
});
