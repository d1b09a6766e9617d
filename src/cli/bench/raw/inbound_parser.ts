// Parses what a server sends to the raw bench client, byte by byte: it counts MSG/HMSG
// deliveries without turning them into strings or copying payloads — only the first
// `timestampBytes` of each payload are copied, to read the end-to-end timestamp. Pure: no
// sockets, so tests can feed it any split of the stream.
import { readTimestamp, timestampBytes } from "../clock.ts";
import {
  char0, char9, charCR, charH, charI, charLF, charM, charMinus, charP, charPlus, charSpace, charTab,
  controlLineBytesMax,
} from "./protocol_bytes.ts";

export interface InboundHandlers {
  /** One delivery: its payload size (HMSG: headers + payload) and timestamp (NaN if none). */
  onMsg(totalBytes: number, timestampMs: number): void;
  onPing(): void;
  onPong(): void;
  onInfo(json: string): void;
  onErr(text: string): void;
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** What the parser copies out of each delivery besides counting it; everything off by default. */
export interface InboundParserOptions {
  /** Read the end-to-end timestamp at the start of each body (subscribers). */
  readTimestamps?: boolean;
  /** Keep each delivery's reply subject (see `replyBytes`), for responders. */
  captureReply?: boolean;
  /** Keep each delivery's subject (see `subjectBytes`), e.g. a JetStream ack's inbox. */
  captureSubject?: boolean;
  /**
   * Keep the first this-many bytes of each payload, headers included (see `payloadBytes`):
   * for small replies that must be read, like PubAcks. 0 = none.
   */
  payloadCaptureBytes?: number;
}

const stateControl = 0;
const statePayload = 1;
const upperCaseMask = 0xdf;
const decoder = new TextDecoder();

export class InboundParser {
  readonly #handlers: InboundHandlers;
  readonly #readTimestamps: boolean;
  #state = stateControl;
  /** A control line split over two reads is gathered here (bounded). */
  readonly #line = new Uint8Array(controlLineBytesMax);
  #lineLength = 0;
  /** Payload bytes still to skip, trailing CRLF included. */
  #payloadRemaining = 0;
  #payloadSize = 0;
  #payloadSeen = 0;
  /** First bytes of the current payload, where the timestamp lives. */
  readonly #prefix = new Uint8Array(timestampBytes);
  readonly #prefixView = new DataView(this.#prefix.buffer);
  /** The current delivery is an HMSG: its payload starts with `#headerBytes` of headers. */
  #isHmsg = false;
  #headerBytes = 0;

  /** Responders need each delivery's reply subject: copied here (bounded) when asked for. */
  readonly #captureReply: boolean;
  readonly #reply: Uint8Array;
  #replyLength = 0;

  /** The delivery's subject, copied here (bounded by the control line) when asked for. */
  readonly #captureSubject: boolean;
  readonly #subject: Uint8Array;
  #subjectLength = 0;

  /** The first `#payloadCapture.length` bytes of the payload, when asked for. */
  readonly #payloadCapture: Uint8Array;
  #payloadCaptureLength = 0;

  constructor(handlers: InboundHandlers, options: InboundParserOptions = {}) {
    this.#handlers = handlers;
    this.#readTimestamps = options.readTimestamps === true;
    this.#captureReply = options.captureReply === true;
    this.#reply = new Uint8Array(this.#captureReply ? controlLineBytesMax : 0);
    this.#captureSubject = options.captureSubject === true;
    this.#subject = new Uint8Array(this.#captureSubject ? controlLineBytesMax : 0);
    const payloadCaptureBytes = options.payloadCaptureBytes ?? 0;
    if (!Number.isInteger(payloadCaptureBytes) || payloadCaptureBytes < 0 || payloadCaptureBytes > controlLineBytesMax) {
      throw new Error(`InboundParser: payloadCaptureBytes must be an integer in 0…${controlLineBytesMax}, got ${payloadCaptureBytes}`);
    }
    this.#payloadCapture = new Uint8Array(payloadCaptureBytes);
  }

  /** Reply subject of the delivery being reported (valid during onMsg): `replyBytes[0, replyLength)`. */
  get replyBytes(): Uint8Array {
    return this.#reply;
  }

  get replyLength(): number {
    return this.#replyLength;
  }

  /** Subject of the delivery being reported (valid during onMsg): `subjectBytes[0, subjectLength)`. */
  get subjectBytes(): Uint8Array {
    return this.#subject;
  }

  get subjectLength(): number {
    return this.#subjectLength;
  }

  /**
   * Start of the payload of the delivery being reported (valid during onMsg), headers
   * included: `payloadBytes[0, payloadLength)`; `payloadLength` is less than the payload's
   * size when the payload was longer than `payloadCaptureBytes`.
   */
  get payloadBytes(): Uint8Array {
    return this.#payloadCapture;
  }

  get payloadLength(): number {
    return this.#payloadCaptureLength;
  }

  /** Header bytes at the start of the payload being reported (HMSG), 0 for MSG. */
  get headerBytes(): number {
    return this.#headerBytes;
  }

  push(chunk: Uint8Array): void {
    const length = chunk.length;
    let at = 0;
    while (at < length) {
      if (this.#state === statePayload) {
        at = this.#consumePayload(chunk, at, length);
        continue;
      }
      const lineFeed = chunk.indexOf(charLF, at);
      if (lineFeed < 0) {
        this.#appendLine(chunk, at, length);
        return;
      }
      if (this.#lineLength === 0) {
        this.#onLine(chunk, at, lineFeed);
      } else {
        this.#appendLine(chunk, at, lineFeed);
        const lineLength = this.#lineLength;
        this.#lineLength = 0;
        this.#onLine(this.#line, 0, lineLength);
      }
      at = lineFeed + 1;
    }
  }

  #appendLine(chunk: Uint8Array, from: number, to: number): void {
    if (this.#lineLength + (to - from) > controlLineBytesMax) {
      throw new ProtocolError(`control line longer than ${controlLineBytesMax} bytes`);
    }
    // Split lines are rare (once per read at most): the subarray view is acceptable here.
    this.#line.set(chunk.subarray(from, to), this.#lineLength);
    this.#lineLength += to - from;
  }

  #consumePayload(chunk: Uint8Array, at: number, length: number): number {
    const take = Math.min(this.#payloadRemaining, length - at);
    const capture = this.#payloadCapture;
    if (this.#payloadCaptureLength < capture.length && this.#payloadSeen < this.#payloadSize) {
      const copy = Math.min(take, capture.length - this.#payloadCaptureLength, this.#payloadSize - this.#payloadSeen);
      for (let index = 0; index < copy; index += 1) capture[this.#payloadCaptureLength + index] = chunk[at + index];
      this.#payloadCaptureLength += copy;
    }
    // The timestamp is at the start of the body, which follows the HMSG header block.
    const bodyStart = this.#isHmsg ? this.#headerBytes : 0;
    if (this.#readTimestamps && this.#payloadSeen < bodyStart + timestampBytes) {
      for (let index = 0; index < take; index += 1) {
        const position = this.#payloadSeen + index - bodyStart;
        if (position >= timestampBytes) break;
        if (position >= 0 && this.#payloadSeen + index < this.#payloadSize) this.#prefix[position] = chunk[at + index];
      }
    }
    this.#payloadSeen += take;
    this.#payloadRemaining -= take;
    if (this.#payloadRemaining === 0) {
      this.#state = stateControl;
      const bodyBytes = this.#payloadSize - (this.#isHmsg ? this.#headerBytes : 0);
      const timestamp = this.#readTimestamps && bodyBytes >= timestampBytes
        ? readTimestamp(this.#prefix, this.#prefixView, 0)
        : Number.NaN;
      this.#handlers.onMsg(this.#payloadSize, timestamp);
    }
    return at + take;
  }

  /** `buffer[start, lineFeed)` is one control line (the CR, if any, still in it). */
  #onLine(buffer: Uint8Array, start: number, lineFeed: number): void {
    let end = lineFeed;
    if (end > start && buffer[end - 1] === charCR) end -= 1;
    if (end === start) return;
    const first = buffer[start];
    // Letters compare case-insensitively; `+` and `-` must be compared unmasked.
    const op = first === charPlus || first === charMinus ? first : first & upperCaseMask;
    if (op === charM || op === charH) {
      this.#isHmsg = op === charH;
      this.#startPayload(buffer, start, end);
    } else if (op === charP) {
      const second = buffer[start + 1] & upperCaseMask;
      if (second === charI) this.#handlers.onPing();
      else this.#handlers.onPong();
    } else if (op === charI) {
      this.#handlers.onInfo(decoder.decode(buffer.subarray(start + 5, end)));
    } else if (op === charPlus) {
      // +OK: only sent with verbose, which we switch off; nothing to do.
    } else if (op === charMinus) {
      this.#handlers.onErr(decoder.decode(buffer.subarray(start + 5, end)).replace(/^'|'$/g, ""));
    } else {
      throw new ProtocolError(`unexpected operation: ${decoder.decode(buffer.subarray(start, Math.min(end, start + 32)))}`);
    }
  }

  /**
   * The token starting at `lastTokenStart` is the reply when two more tokens (subject and
   * sid) stand between it and the op: `MSG <subject> <sid> <reply> <#bytes>`.
   */
  #copyReply(buffer: Uint8Array, start: number, lastTokenStart: number): void {
    const sidStart = skipBackwards(buffer, start, lastTokenStart);
    const subjectStart = skipBackwards(buffer, start, sidStart);
    if (subjectStart <= start) {
      this.#replyLength = 0;
      return;
    }
    const replyEnd = tokenEnd(buffer, lastTokenStart, buffer.length);
    this.#replyLength = replyEnd - lastTokenStart;
    for (let index = 0; index < this.#replyLength; index += 1) this.#reply[index] = buffer[lastTokenStart + index];
  }

  /** The first token at or after `from`: the subject, after `MSG `/`HMSG `. */
  #copySubject(buffer: Uint8Array, from: number, end: number): void {
    let at = from;
    while (at < end && (buffer[at] === charSpace || buffer[at] === charTab)) at += 1;
    const subjectEnd = tokenEnd(buffer, at, end);
    this.#subjectLength = subjectEnd - at;
    for (let index = 0; index < this.#subjectLength; index += 1) this.#subject[index] = buffer[at + index];
  }

  /** MSG <subject> <sid> [reply] <#bytes> / HMSG … <#header bytes> <#total bytes>. */
  #startPayload(buffer: Uint8Array, start: number, end: number): void {
    let at = end;
    const total = readNumberBackwards(buffer, start, at);
    at = skipBackwards(buffer, start, at);
    this.#headerBytes = 0;
    if (this.#isHmsg) {
      this.#headerBytes = readNumberBackwards(buffer, start, at);
      at = skipBackwards(buffer, start, at);
    }
    // What is left must still hold `MSG <subject> <sid>`: drop the sid (or reply) and
    // check a subject remains after the op. Cheap: only one short token is scanned.
    const lastTokenStart = skipBackwards(buffer, start, at);
    const opLength = this.#isHmsg ? 5 : 4;
    if (total < 0 || this.#headerBytes < 0 || lastTokenStart <= start + opLength) {
      throw new ProtocolError(`malformed ${this.#isHmsg ? "HMSG" : "MSG"}: ${decoder.decode(buffer.subarray(start, Math.min(end, start + 64)))}`);
    }
    if (this.#captureReply) this.#copyReply(buffer, start, lastTokenStart);
    if (this.#captureSubject) this.#copySubject(buffer, start + opLength, end);
    this.#payloadCaptureLength = 0;
    this.#payloadSize = total;
    this.#payloadSeen = 0;
    this.#payloadRemaining = total + 2;
    this.#prefix.fill(0);
    this.#state = statePayload;
  }
}

/** The first index at or after `from` that is a blank (or `end`). */
function tokenEnd(buffer: Uint8Array, from: number, end: number): number {
  let at = from;
  while (at < end && buffer[at] !== charSpace && buffer[at] !== charTab && buffer[at] !== charCR) at += 1;
  return at;
}

/** The decimal number that ends at `end` (after trailing blanks); -1 if there is none. */
function readNumberBackwards(buffer: Uint8Array, start: number, end: number): number {
  let at = end;
  while (at > start && (buffer[at - 1] === charSpace || buffer[at - 1] === charTab)) at -= 1;
  let value = 0;
  let scale = 1;
  let digits = 0;
  while (at > start && buffer[at - 1] >= char0 && buffer[at - 1] <= char9) {
    value += (buffer[at - 1] - char0) * scale;
    scale *= 10;
    digits += 1;
    at -= 1;
  }
  if (digits === 0 || digits > 15) return -1;
  return value;
}

/** Position just before the last token of `buffer[start, end)` (i.e. drops the last field). */
function skipBackwards(buffer: Uint8Array, start: number, end: number): number {
  let at = end;
  while (at > start && (buffer[at - 1] === charSpace || buffer[at - 1] === charTab)) at -= 1;
  while (at > start && buffer[at - 1] !== charSpace && buffer[at - 1] !== charTab) at -= 1;
  return at;
}
