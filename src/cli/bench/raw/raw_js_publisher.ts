// JetStream publisher on the raw connection (`js pub sync|async|batch … --client raw`): the
// PUB frames are pre-encoded like the core publisher's (PubBatch), each with its own reply
// subject `<inbox>.<n>`, and one wildcard subscription `<inbox>.*` receives the PubAcks.
// Per ack the client copies the inbox suffix and the few bytes of the ack, checks them
// (pub_ack.ts: no JSON parse for a success) and frees the message's slot; after each read
// the freed slots are refilled at once, in one write — the pipe stays full instead of
// alternating between "send a window" and "wait for it". Nothing is allocated per message.
//
//   window   (async) at most `window` messages unacknowledged; sync is window 1
//   batch    `window` messages, then wait for every ack of them, then the next `window`
//
// Latency: per ack, from the write that carried the message to the read that carried its
// ack (window), or per batch, from its first write to its last ack (batch).
// The stream itself is set up with the official client (js_setup.ts) before this runs.
import { nowMs } from "../clock.ts";
import { IdleWatch } from "../core/idle_watch.ts";
import { Sample } from "../stats.ts";
import { PubBatch } from "./pub_batch.ts";
import { inboxSequence, pubAckBytesMax, pubAckProblem } from "./pub_ack.ts";
import { RawConnection } from "./raw_connection.ts";

/** Fill-and-stamp passes over the batch before timing starts, so short runs skip our JIT warm-up. */
const warmUpRounds = 50;
/** Slot not holding a message in flight. */
const slotFree = -1;

export interface RawJsPublisherOptions {
  subject: string;
  payloadBytes: number;
  multisubject: boolean;
  multisubjectMax: number;
  /** Most messages without an ack at any time (sync: 1). */
  window: number;
  /** "sliding": a slot is refilled as soon as its ack is in; "batch": only once the whole batch is acknowledged. */
  refill: "sliding" | "batch";
  /** Give up after this long without an ack. */
  idleTimeoutMs: number;
}

export interface JsPublishPlan {
  /** Messages this publisher sends. */
  count: number;
  /** Sequence of its first message (subject suffix with --multisubject, and the reply suffix). */
  firstSeq: number;
  /** Called with the number of messages just acknowledged. */
  onProgress: (messages: number) => void;
}

export class RawJsPublisherError extends Error {
  override name = "RawJsPublisherError";
}

export class RawJsPublisher {
  readonly sample: Sample;
  readonly #options: RawJsPublisherOptions;
  readonly #batch: PubBatch;
  readonly #inbox: string;
  /** `<inbox>.` — an ack's subject continues with the message's sequence. */
  readonly #inboxPrefixLength: number;
  #connection: RawConnection | null = null;

  // Per-run state (publish()): messages are numbered locally 0…count-1, the reply carries firstSeq + local.
  #plan: JsPublishPlan = { count: 0, firstSeq: 0, onProgress: () => {} };
  #sent = 0;
  #acked = 0;
  /** Batch refill: the current batch ends before this local index. */
  #batchEnd = 0;
  #batchStartMs = 0;
  /** Slot `local % window`: the local index in flight there (or slotFree), and when it was written. */
  readonly #slotIndex: Float64Array;
  readonly #slotSentMs: Float64Array;
  /** A write is queued behind the socket: the batch buffer must not be refilled until drain. */
  #awaitingDrain = false;
  #settled = true;
  #resolve: () => void = () => {};
  #reject: (error: Error) => void = () => {};
  #watch: IdleWatch | null = null;

  private constructor(id: string, options: RawJsPublisherOptions) {
    if (!Number.isInteger(options.window) || options.window < 1) throw new RawJsPublisherError(`window must be a positive integer, got ${options.window}`);
    this.sample = new Sample(id);
    this.#options = options;
    this.#inbox = `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
    this.#inboxPrefixLength = this.#inbox.length + 1;
    this.#batch = new PubBatch({
      subject: options.subject, payloadBytes: options.payloadBytes, multisubject: options.multisubject,
      multisubjectMax: options.multisubjectMax, timestamps: true, replyInbox: this.#inbox,
    });
    this.#slotIndex = new Float64Array(options.window).fill(slotFree);
    this.#slotSentMs = new Float64Array(options.window);
  }

  static async connect(url: string, id: string, options: RawJsPublisherOptions): Promise<RawJsPublisher> {
    const publisher = new RawJsPublisher(id, options);
    const connection = await RawConnection.connect({
      url,
      name: `nats-bun-bench-${id}`,
      captureSubject: true,
      payloadCaptureBytes: pubAckBytesMax,
      onMsg: (totalBytes, _timestampMs, receivedMs) => publisher.#onAck(totalBytes, receivedMs),
      onReadEnd: () => publisher.#pump(),
      onFailure: (error) => publisher.#fail(error),
    });
    publisher.#connection = connection;
    const maxPayload = Number(connection.serverInfo.max_payload ?? Number.POSITIVE_INFINITY);
    if (options.payloadBytes > maxPayload) {
      connection.close();
      throw new RawJsPublisherError(`--size ${options.payloadBytes} is above the server's max_payload ${maxPayload}`);
    }
    connection.writeText(`SUB ${publisher.#inbox}.* 1\r\n`);
    await connection.flush();
    const batch = publisher.#batch;
    for (let round = 0; round < warmUpRounds; round += 1) {
      batch.fill(batch.messagesMax, round);
      batch.stampAll(batch.messagesMax, round);
    }
    return publisher;
  }

  /** Publishes the plan; resolves once every message is acknowledged, rejects on the first failed ack. */
  publish(plan: JsPublishPlan): Promise<void> {
    if (!this.#settled) throw new RawJsPublisherError("publish() is already running");
    if (plan.count === 0) return Promise.resolve();
    this.#plan = plan;
    this.#sent = 0;
    this.#acked = 0;
    this.#batchEnd = 0;
    this.#slotIndex.fill(slotFree);
    this.#settled = false;
    const done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // close() during a run rejects it; a caller that already stopped waiting (another
    // publisher of the run failed first) must not turn that into an unhandled rejection.
    done.catch(() => {});
    const timeoutMs = this.#options.idleTimeoutMs;
    this.#watch = new IdleWatch(timeoutMs, () => {
      this.#fail(new RawJsPublisherError(`${this.#sent - this.#acked} of ${this.#sent} published messages got no ack within ${timeoutMs} ms`
        + ` (${this.#acked} of ${plan.count} acknowledged)`));
    });
    this.sample.startMs = nowMs();
    this.#pump();
    return done;
  }

  /** Writes as many frames as the window has room for (called at the start, after each read and after a drain). */
  #pump(): void {
    if (this.#settled || this.#awaitingDrain) return;
    const connection = this.#connection as RawConnection;
    const batch = this.#batch;
    const window = this.#options.window;
    const count = this.#plan.count;
    const slotIndex = this.#slotIndex;
    const slotSentMs = this.#slotSentMs;
    while (this.#sent < count) {
      let room: number;
      if (this.#options.refill === "batch") {
        if (this.#sent === this.#batchEnd) {
          if (this.#acked < this.#sent) return;
          this.#batchEnd = Math.min(this.#sent + window, count);
          this.#batchStartMs = nowMs();
        }
        room = this.#batchEnd - this.#sent;
      } else {
        room = window - (this.#sent - this.#acked);
      }
      let messages = Math.min(room, batch.messagesMax, count - this.#sent);
      // Acks of one stream come back in order, so the next slots are free; should one not be
      // (an ack overtaken by a later one), wait for it rather than overwrite its send time.
      for (let index = 0; index < messages; index += 1) {
        if (slotIndex[(this.#sent + index) % window] !== slotFree) {
          messages = index;
          break;
        }
      }
      if (messages <= 0) return;
      const length = batch.fill(messages, this.#plan.firstSeq + this.#sent);
      const sentMs = nowMs();
      batch.stampAll(messages, sentMs);
      for (let index = 0; index < messages; index += 1) {
        const local = this.#sent + index;
        slotIndex[local % window] = local;
        slotSentMs[local % window] = sentMs;
      }
      this.#sent += messages;
      let pushedBack: Promise<void> | null;
      try {
        pushedBack = connection.write(batch.buffer, 0, length);
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      if (pushedBack !== null) {
        this.#awaitingDrain = true;
        void pushedBack.then(() => {
          this.#awaitingDrain = false;
          this.#pump();
        });
        return;
      }
    }
  }

  #onAck(totalBytes: number, receivedMs: number): void {
    if (this.#settled) return;
    const connection = this.#connection as RawConnection;
    const window = this.#options.window;
    const sequence = inboxSequence(connection.subjectBytes, connection.subjectLength, this.#inboxPrefixLength);
    const local = sequence - this.#plan.firstSeq;
    const slot = local % window;
    if (sequence < 0 || local < 0 || local >= this.#sent || this.#slotIndex[slot] !== local) {
      const subject = new TextDecoder().decode(connection.subjectBytes.subarray(0, connection.subjectLength));
      this.#fail(new RawJsPublisherError(`an ack on "${subject}" answers no message in flight`));
      return;
    }
    const problem = pubAckProblem(connection.payloadBytes, connection.payloadLength, totalBytes, connection.headerBytes);
    if (problem !== null) {
      this.#fail(new RawJsPublisherError(`publish to "${this.#options.subject}" (message ${sequence}) failed: ${problem}`));
      return;
    }
    this.#slotIndex[slot] = slotFree;
    this.#acked += 1;
    const sample = this.sample;
    sample.msgs += 1;
    sample.bytes += this.#options.payloadBytes;
    if (this.#options.refill === "sliding") {
      sample.latency.recordMs(receivedMs - this.#slotSentMs[slot]);
    } else if (this.#acked === this.#batchEnd) {
      sample.latency.recordMs(receivedMs - this.#batchStartMs);
    }
    this.#watch?.touch(receivedMs);
    this.#plan.onProgress(1);
    if (this.#acked === this.#plan.count) {
      sample.endMs = receivedMs;
      this.#settle(null);
    }
  }

  #fail(error: Error): void {
    this.#settle(error);
  }

  #settle(error: Error | null): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#watch?.stop();
    this.#watch = null;
    if (error === null) this.#resolve();
    else this.#reject(error);
  }

  async close(): Promise<void> {
    this.#settle(new RawJsPublisherError("publisher closed"));
    this.#connection?.close();
  }
}
