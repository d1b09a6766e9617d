// Pre-encoded PUB frames for the raw publisher: one reusable buffer holding up to
// `messagesMax` frames `PUB <subject> [reply] <#bytes>\r\n<payload>\r\n`, written to the
// socket in one call. Nothing is allocated per message: a fixed subject's frames are encoded
// once and only their timestamps are patched; with --multisubject the `.<n>` suffix of the
// subject, and with a reply inbox the `.<n>` suffix of the reply, are written as ASCII
// digits into the same buffer.
import { timestampBytes, writeTimestamp, writeTimestampMagic } from "../clock.ts";
import { char0, encoder } from "./protocol_bytes.ts";

/**
 * Aim for writes of about this size: large enough to amortise the syscall, small enough to
 * interleave. 32 KiB is nats.go's write buffer too; against a pinned reference server it gave
 * the steadiest rates of 16/32/64/256 KiB (bench/README.md).
 */
export const batchBytesTarget = 32 * 1024;

export interface PubBatchOptions {
  subject: string;
  payloadBytes: number;
  /** Append `.<n>` to the subject, n = sequence modulo `multisubjectMax`. */
  multisubject: boolean;
  multisubjectMax: number;
  /** Put end-to-end timestamps in payloads (when they are large enough to hold one). */
  timestamps: boolean;
  /** Requests: `PUB <subject> <reply> <#bytes>` (not with multisubject). */
  reply?: string;
  /**
   * One reply subject per message, `<replyInbox>.<n>` with n the message's sequence (as
   * given to fill()): JetStream publishes match each ack to its message by the inbox suffix.
   */
  replyInbox?: string;
}

/** Digits of the largest sequence a reply inbox suffix can carry (Number.MAX_SAFE_INTEGER). */
const sequenceDigitsMax = 16;

export class PubBatch {
  readonly buffer: Uint8Array;
  readonly #view: DataView;
  readonly messagesMax: number;
  readonly timestamps: boolean;
  readonly #options: PubBatchOptions;
  /** Same frame for every message: its length. Frames with suffixes: the longest possible frame. */
  readonly #frameBytes: number;
  /** Offset of each frame's payload in `buffer` after the last fill(). */
  readonly #payloadOffsets: Int32Array;
  /** `PUB <subject>` (`PUB <subject>.` with multisubject) — the part before the subject's digits. */
  readonly #head: Uint8Array;
  /** ` <reply>`, ` <replyInbox>.` or nothing — the part between the subject and the reply's digits. */
  readonly #replyField: Uint8Array;
  /** ` <#bytes>\r\n` — the part after the digits. */
  readonly #sizeField: Uint8Array;
  /** Frames differ per message (subject or reply suffix): encoded by each fill(). */
  readonly #perMessage: boolean;
  readonly #payloadTemplate: Uint8Array;
  readonly #digits = new Uint8Array(16);

  constructor(options: PubBatchOptions) {
    this.#options = options;
    this.timestamps = options.timestamps && options.payloadBytes >= timestampBytes;
    const reply = options.reply ?? "";
    const replyInbox = options.replyInbox ?? "";
    if (reply !== "" && options.multisubject) throw new Error("PubBatch: a reply subject cannot be combined with multisubject");
    if (reply !== "" && replyInbox !== "") throw new Error("PubBatch: reply and replyInbox exclude each other");
    this.#head = encoder.encode(options.multisubject ? `PUB ${options.subject}.` : `PUB ${options.subject}`);
    this.#replyField = encoder.encode(replyInbox !== "" ? ` ${replyInbox}.` : reply !== "" ? ` ${reply}` : "");
    this.#sizeField = encoder.encode(` ${options.payloadBytes}\r\n`);
    this.#perMessage = options.multisubject || replyInbox !== "";
    this.#payloadTemplate = new Uint8Array(options.payloadBytes);
    if (this.timestamps) writeTimestampMagic(this.#payloadTemplate, 0);
    const subjectDigitsMax = options.multisubject ? String(Math.max(options.multisubjectMax - 1, 0)).length : 0;
    const replyDigitsMax = replyInbox !== "" ? sequenceDigitsMax : 0;
    this.#frameBytes = this.#head.length + subjectDigitsMax + this.#replyField.length + replyDigitsMax + this.#sizeField.length + options.payloadBytes + 2;
    this.messagesMax = Math.max(1, Math.floor(batchBytesTarget / this.#frameBytes));
    this.buffer = new Uint8Array(this.messagesMax * this.#frameBytes);
    this.#view = new DataView(this.buffer.buffer);
    this.#payloadOffsets = new Int32Array(this.messagesMax);
    if (!this.#perMessage) {
      // Encode every frame once; fill() only has to say how many of them to send.
      for (let index = 0; index < this.messagesMax; index += 1) {
        this.#payloadOffsets[index] = this.#encodeFrame(index * this.#frameBytes, -1, -1);
      }
    }
  }

  /** Encodes `count` frames for sequences `firstSeq…`; returns how many bytes to write. */
  fill(count: number, firstSeq: number): number {
    if (count > this.messagesMax || count < 0) throw new Error(`PubBatch.fill: ${count} messages, at most ${this.messagesMax}`);
    if (!this.#perMessage) return count * this.#frameBytes;
    if (!Number.isSafeInteger(firstSeq + count) || firstSeq < 0) throw new Error(`PubBatch.fill: sequence ${firstSeq} out of range`);
    let at = 0;
    const multisubject = this.#options.multisubject;
    const max = this.#options.multisubjectMax;
    const replySuffix = this.#options.replyInbox !== undefined && this.#options.replyInbox !== "";
    for (let index = 0; index < count; index += 1) {
      const seq = firstSeq + index;
      const payloadAt = this.#encodeFrame(at, multisubject ? seq % max : -1, replySuffix ? seq : -1);
      this.#payloadOffsets[index] = payloadAt;
      at = payloadAt + this.#options.payloadBytes + 2;
    }
    return at;
  }

  /** Writes the same send time into the first `count` frames (closed loop: one clock read per write). */
  stampAll(count: number, epochMs: number): void {
    if (!this.timestamps) return;
    for (let index = 0; index < count; index += 1) writeTimestamp(this.#view, this.#payloadOffsets[index], epochMs);
  }

  /** Writes the send time of frame `index` (open loop: each message its intended time). */
  stamp(index: number, epochMs: number): void {
    if (this.timestamps) writeTimestamp(this.#view, this.#payloadOffsets[index], epochMs);
  }

  /** Frame at `at`; a suffix < 0 = no `.<n>` there. Returns the payload's offset. */
  #encodeFrame(at: number, subjectSuffix: number, replySuffix: number): number {
    const buffer = this.buffer;
    buffer.set(this.#head, at);
    let position = at + this.#head.length;
    if (subjectSuffix >= 0) position = this.#writeDigits(position, subjectSuffix);
    buffer.set(this.#replyField, position);
    position += this.#replyField.length;
    if (replySuffix >= 0) position = this.#writeDigits(position, replySuffix);
    buffer.set(this.#sizeField, position);
    position += this.#sizeField.length;
    buffer.set(this.#payloadTemplate, position);
    const payloadAt = position;
    position += this.#payloadTemplate.length;
    buffer[position] = 13;
    buffer[position + 1] = 10;
    return payloadAt;
  }

  #writeDigits(at: number, value: number): number {
    let count = 0;
    let rest = value;
    do {
      this.#digits[count] = char0 + (rest % 10);
      rest = Math.floor(rest / 10);
      count += 1;
    } while (rest > 0);
    for (let index = 0; index < count; index += 1) this.buffer[at + index] = this.#digits[count - 1 - index];
    return at + count;
  }
}
