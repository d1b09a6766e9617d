// Reading JetStream PubAcks off the raw connection, without a JSON parse per ack on the
// success path. A stream answers a publish with a reply:
//   success  {"stream":"S", "seq":N}            (both servers write it from a template; may
//            also carry "domain" and "duplicate": true)
//   failure  {"error":{"code":…,"err_code":…,"description":"…"}, …}
//   nobody   HMSG with the status header `NATS/1.0 503` and no body (no stream listens on the
//            subject; the client asked for no_responders in CONNECT)
// and the raw JetStream publisher sends each message with reply `<inbox>.<n>`, so the ack's
// subject says which message it answers.
import { char0, char9 } from "./protocol_bytes.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The start of every success ack both servers write. */
const successStart = encoder.encode('{"stream":');
/** Present in every failure ack, never in a success ack (a quote inside a name is escaped). */
const errorKey = encoder.encode('"error"');
/** Present in every success ack. */
const seqKey = encoder.encode('"seq":');

/** Longest ack read in full; success acks are well under 200 bytes. */
export const pubAckBytesMax = 2048;

/**
 * The message index `n` of an ack on `<inbox>.<n>`: the decimal digits after the first
 * `prefixLength` bytes (which the subscription `<inbox>.*` already matched). -1 when they
 * are not all digits or there are none.
 */
export function inboxSequence(subject: Uint8Array, subjectLength: number, prefixLength: number): number {
  if (subjectLength <= prefixLength || subjectLength - prefixLength > 15) return -1;
  let value = 0;
  for (let at = prefixLength; at < subjectLength; at += 1) {
    const byte = subject[at];
    if (byte < char0 || byte > char9) return -1;
    value = value * 10 + (byte - char0);
  }
  return value;
}

function startsWith(bytes: Uint8Array, length: number, prefix: Uint8Array): boolean {
  if (length < prefix.length) return false;
  for (let index = 0; index < prefix.length; index += 1) if (bytes[index] !== prefix[index]) return false;
  return true;
}

function contains(bytes: Uint8Array, length: number, needle: Uint8Array): boolean {
  const last = length - needle.length;
  outer: for (let at = 0; at <= last; at += 1) {
    for (let index = 0; index < needle.length; index += 1) if (bytes[at + index] !== needle[index]) continue outer;
    return true;
  }
  return false;
}

/**
 * Checks one ack: null when it is a PubAck with a sequence, else a description of what came
 * back instead (the error the server sent, a status, or bytes that are no ack at all).
 * `payload[0, payloadLength)` is the start of the payload, `totalBytes` its full size and
 * `headerBytes` the size of its header block (HMSG).
 */
export function pubAckProblem(payload: Uint8Array, payloadLength: number, totalBytes: number, headerBytes: number): string | null {
  if (headerBytes > 0) {
    const headers = decoder.decode(payload.subarray(0, Math.min(headerBytes, payloadLength)));
    const statusLine = headers.split("\r\n")[0].trim();
    if (/^NATS\/1\.0 503/.test(statusLine)) return "no responders (503): no stream listens on this subject";
    return `a message with headers instead of a PubAck: ${statusLine}`;
  }
  if (totalBytes > payloadLength) return `an ack of ${totalBytes} bytes, longer than any PubAck: ${decoder.decode(payload.subarray(0, Math.min(payloadLength, 200)))}…`;
  // The fast path: a prefix compare and two scans of a few dozen bytes, nothing allocated.
  if (startsWith(payload, payloadLength, successStart) && contains(payload, payloadLength, seqKey) && !contains(payload, payloadLength, errorKey)) return null;
  const text = decoder.decode(payload.subarray(0, payloadLength));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `not a PubAck: ${text.slice(0, 200)}`;
  }
  if (typeof parsed !== "object" || parsed === null) return `not a PubAck: ${text.slice(0, 200)}`;
  const ack = parsed as { error?: { code?: number; err_code?: number; description?: string }; seq?: unknown };
  if (ack.error !== undefined) {
    return `JetStream error ${ack.error.code ?? "?"}${ack.error.err_code === undefined ? "" : ` (err_code ${ack.error.err_code})`}: ${ack.error.description ?? JSON.stringify(ack.error)}`;
  }
  if (typeof ack.seq !== "number") return `a PubAck without a sequence: ${text.slice(0, 200)}`;
  return null;
}
