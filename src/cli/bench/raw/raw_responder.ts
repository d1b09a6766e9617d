// Request/reply responder on the raw connection (`service … --client raw`): every request
// is answered with `PUB <reply> <#bytes>` carrying a payload of the request's size whose
// first bytes echo the request's timestamp, so open-loop requesters can match each reply to
// its intended send time. Replies to the requests of one read are coalesced into one write.
import { timestampBytes, writeTimestamp, writeTimestampMagic } from "../clock.ts";
import { IdleWatch } from "../core/idle_watch.ts";
import type { Expectation } from "../core/roles.ts";
import { Sample } from "../stats.ts";
import { char0 } from "./protocol_bytes.ts";
import { RawConnection } from "./raw_connection.ts";

export interface RespondOptions {
  url: string;
  id: string;
  subject: string;
  queue: string;
  /** Shared by the responders: done when they have answered this many requests together. */
  expectation: Expectation;
  idleTimeoutMs: number;
  onProgress: () => void;
}

const initialOutBytes = 64 * 1024;
const pubPrefix = new Uint8Array([0x50, 0x55, 0x42, 0x20]); // "PUB "

export class RawResponder {
  readonly sample: Sample;
  readonly finished: Promise<void>;
  #resolveFinished: () => void = () => {};
  readonly #watch: IdleWatch;
  #connection: RawConnection | null = null;
  /** Replies of the current read; replaced (not reused) when a write is still draining. */
  #out = new Uint8Array(initialOutBytes);
  #outView = new DataView(this.#out.buffer);
  #outLength = 0;
  readonly #digits = new Uint8Array(16);

  private constructor(options: RespondOptions) {
    this.sample = new Sample(options.id);
    this.finished = new Promise<void>((resolve) => {
      this.#resolveFinished = resolve;
    });
    this.#watch = new IdleWatch(options.idleTimeoutMs, () => this.#resolveFinished());
    void options.expectation.whenMet().then(() => this.#resolveFinished());
    void this.finished.then(() => this.#watch.stop());
  }

  static async start(options: RespondOptions): Promise<RawResponder> {
    const responder = new RawResponder(options);
    try {
      responder.#connection = await RawConnection.connect({
        url: options.url,
        name: `nats-bun-bench-${options.id}`,
        readTimestamps: true,
        captureReply: true,
        onMsg: (totalBytes, timestampMs, receivedMs) => responder.#onRequest(options, totalBytes, timestampMs, receivedMs),
        onReadEnd: () => responder.#flushReplies(),
        onFailure: () => responder.#resolveFinished(),
      });
      const queue = options.queue === "" ? "" : ` ${options.queue}`;
      responder.#connection.writeText(`SUB ${options.subject}${queue} 1\r\n`);
      await responder.#connection.flush();
    } catch (error) {
      await responder.close();
      throw error;
    }
    return responder;
  }

  #onRequest(options: RespondOptions, totalBytes: number, timestampMs: number, receivedMs: number): void {
    const connection = this.#connection;
    if (connection === null || connection.replyLength === 0) return;
    const sample = this.sample;
    if (sample.msgs === 0) sample.startMs = receivedMs;
    this.#appendReply(connection.replyBytes, connection.replyLength, totalBytes, timestampMs);
    sample.msgs += 1;
    sample.bytes += totalBytes;
    sample.endMs = receivedMs;
    this.#watch.touch(receivedMs);
    options.onProgress();
    options.expectation.countGroup();
  }

  /** `PUB <reply> <#bytes>\r\n<payload>\r\n` into the out buffer; grows it only when too small. */
  #appendReply(reply: Uint8Array, replyLength: number, payloadBytes: number, timestampMs: number): void {
    const frameMax = 4 + replyLength + 1 + 16 + 2 + payloadBytes + 2;
    if (this.#outLength + frameMax > this.#out.length) this.#grow(this.#outLength + frameMax);
    const out = this.#out;
    let at = this.#outLength;
    out.set(pubPrefix, at);
    at += 4;
    for (let index = 0; index < replyLength; index += 1) out[at + index] = reply[index];
    at += replyLength;
    out[at] = 32;
    at = this.#writeDigits(at + 1, payloadBytes);
    out[at] = 13;
    out[at + 1] = 10;
    at += 2;
    out.fill(0, at, at + payloadBytes);
    if (payloadBytes >= timestampBytes && timestampMs === timestampMs) {
      writeTimestampMagic(out, at);
      writeTimestamp(this.#outView, at, timestampMs);
    }
    at += payloadBytes;
    out[at] = 13;
    out[at + 1] = 10;
    this.#outLength = at + 2;
  }

  #writeDigits(at: number, value: number): number {
    let count = 0;
    let rest = value;
    do {
      this.#digits[count] = char0 + (rest % 10);
      rest = Math.floor(rest / 10);
      count += 1;
    } while (rest > 0);
    for (let index = 0; index < count; index += 1) this.#out[at + index] = this.#digits[count - 1 - index];
    return at + count;
  }

  #grow(needed: number): void {
    const bigger = new Uint8Array(Math.max(needed, this.#out.length * 2));
    bigger.set(this.#out.subarray(0, this.#outLength));
    this.#out = bigger;
    this.#outView = new DataView(bigger.buffer);
  }

  #flushReplies(): void {
    const connection = this.#connection;
    if (connection === null || this.#outLength === 0) return;
    const length = this.#outLength;
    this.#outLength = 0;
    if (connection.write(this.#out, 0, length) !== null) {
      // The socket keeps a reference to these bytes until drain: continue in a fresh buffer.
      this.#out = new Uint8Array(this.#out.length);
      this.#outView = new DataView(this.#out.buffer);
    }
  }

  async close(): Promise<void> {
    this.#watch.stop();
    this.#resolveFinished();
    this.#connection?.close();
  }
}
