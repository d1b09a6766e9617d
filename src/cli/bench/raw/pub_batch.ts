// Pre-encoded PUB frames for the raw publisher: one reusable buffer holding up to
// `messagesMax` frames `PUB <subject> <#bytes>\r\n<payload>\r\n`, written to the socket in
// one call. Nothing is allocated per message: a fixed subject's frames are encoded once and
// only their timestamps are patched; with --multisubject the `.<n>` suffix is written as
// ASCII digits into the same buffer.
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
}

export class PubBatch {
  readonly buffer: Uint8Array;
  readonly #view: DataView;
  readonly messagesMax: number;
  readonly timestamps: boolean;
  readonly #options: PubBatchOptions;
  /** Fixed subject: every frame has this length. Multisubject: the longest possible frame. */
  readonly #frameBytes: number;
  /** Offset of each frame's payload in `buffer` after the last fill(). */
  readonly #payloadOffsets: Int32Array;
  /** `PUB <subject>.` (multisubject) — the part before the digits. */
  readonly #head: Uint8Array;
  /** ` <#bytes>\r\n` — the part after the digits. */
  readonly #sizeField: Uint8Array;
  readonly #payloadTemplate: Uint8Array;
  readonly #digits = new Uint8Array(16);

  constructor(options: PubBatchOptions) {
    this.#options = options;
    this.timestamps = options.timestamps && options.payloadBytes >= timestampBytes;
    const reply = options.reply ?? "";
    if (reply !== "" && options.multisubject) throw new Error("PubBatch: a reply subject cannot be combined with multisubject");
    this.#head = encoder.encode(options.multisubject ? `PUB ${options.subject}.` : reply !== "" ? `PUB ${options.subject} ${reply}` : `PUB ${options.subject}`);
    this.#sizeField = encoder.encode(` ${options.payloadBytes}\r\n`);
    this.#payloadTemplate = new Uint8Array(options.payloadBytes);
    if (this.timestamps) writeTimestampMagic(this.#payloadTemplate, 0);
    const suffixDigitsMax = options.multisubject ? String(Math.max(options.multisubjectMax - 1, 0)).length : 0;
    this.#frameBytes = this.#head.length + suffixDigitsMax + this.#sizeField.length + options.payloadBytes + 2;
    this.messagesMax = Math.max(1, Math.floor(batchBytesTarget / this.#frameBytes));
    this.buffer = new Uint8Array(this.messagesMax * this.#frameBytes);
    this.#view = new DataView(this.buffer.buffer);
    this.#payloadOffsets = new Int32Array(this.messagesMax);
    if (!options.multisubject) {
      // Encode every frame once; fill() only has to say how many of them to send.
      for (let index = 0; index < this.messagesMax; index += 1) {
        this.#payloadOffsets[index] = this.#encodeFrame(index * this.#frameBytes, -1);
      }
    }
  }

  /** Encodes `count` frames for sequences `firstSeq…`; returns how many bytes to write. */
  fill(count: number, firstSeq: number): number {
    if (count > this.messagesMax || count < 0) throw new Error(`PubBatch.fill: ${count} messages, at most ${this.messagesMax}`);
    if (!this.#options.multisubject) return count * this.#frameBytes;
    let at = 0;
    const max = this.#options.multisubjectMax;
    for (let index = 0; index < count; index += 1) {
      const payloadAt = this.#encodeFrame(at, (firstSeq + index) % max);
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

  /** Frame at `at`; suffix < 0 = no `.<n>`. Returns the payload's offset. */
  #encodeFrame(at: number, suffix: number): number {
    const buffer = this.buffer;
    buffer.set(this.#head, at);
    let position = at + this.#head.length;
    if (suffix >= 0) position = this.#writeDigits(position, suffix);
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
