// Request/reply requester on the raw connection (`service … --client raw`): requests are
// PUB frames with this requester's inbox as reply subject, pre-encoded like the publisher's.
// Closed loop: one request at a time, the round trip timed locally. Open loop (--rate): the
// requests leave on schedule without waiting, each carrying its intended send time, which
// the responder echoes — the latency of each reply is measured from that time.
import { nowMs, OpenLoopSchedule, timestampBytes } from "../clock.ts";
import { waitUntil, yieldToLoop } from "../core/pacing.ts";
import { IdleWatch } from "../core/idle_watch.ts";
import { Sample } from "../stats.ts";
import { PubBatch } from "./pub_batch.ts";
import { RawConnection } from "./raw_connection.ts";

export class RawRequester {
  readonly sample: Sample;
  readonly #connection: RawConnection;
  readonly #batch: PubBatch;
  readonly #sizeBytes: number;
  /** Closed loop: resolves the request in flight. */
  #replyWaiter: ((receivedMs: number) => void) | null = null;
  /** Open loop: replies counted so far, and the resolver of "all replies are in". */
  #replies = 0;
  #repliesExpected = 0;
  #allReplies: (() => void) | null = null;
  #openLoop = false;
  #watch: IdleWatch | null = null;

  private constructor(id: string, connection: RawConnection, batch: PubBatch, sizeBytes: number) {
    this.sample = new Sample(id);
    this.#connection = connection;
    this.#batch = batch;
    this.#sizeBytes = sizeBytes;
  }

  static async connect(url: string, id: string, subject: string, sizeBytes: number): Promise<RawRequester> {
    const inbox = `_INBOX.bench.${crypto.randomUUID().replaceAll("-", "")}`;
    let requester: RawRequester | null = null;
    const connection = await RawConnection.connect({
      url,
      name: `nats-bun-bench-${id}`,
      readTimestamps: true,
      // No reply can arrive before the first request, which `requester` sends: it is set by then.
      onMsg: (_totalBytes, timestampMs, receivedMs) => {
        if (requester !== null) requester.#onReply(timestampMs, receivedMs);
      },
    });
    connection.writeText(`SUB ${inbox} 1\r\n`);
    await connection.flush();
    const batch = new PubBatch({ subject, payloadBytes: sizeBytes, multisubject: false, multisubjectMax: 0, timestamps: true, reply: inbox });
    requester = new RawRequester(id, connection, batch, sizeBytes);
    return requester;
  }

  #onReply(timestampMs: number, receivedMs: number): void {
    const sample = this.sample;
    if (!this.#openLoop) {
      const waiter = this.#replyWaiter;
      this.#replyWaiter = null;
      waiter?.(receivedMs);
      return;
    }
    // From the intended send time the responder echoed back.
    if (timestampMs === timestampMs) sample.latency.recordMs(receivedMs - timestampMs);
    sample.msgs += 1;
    sample.bytes += this.#sizeBytes;
    this.#watch?.touch(receivedMs);
    this.#replies += 1;
    if (this.#replies >= this.#repliesExpected) this.#allReplies?.();
  }

  /** Sends `count` requests; resolves when all replies are in (or, open loop, the idle timeout fired). */
  async run(count: number, ratePerSec: number, idleTimeoutMs: number, onDone: (count: number) => void): Promise<void> {
    const connection = this.#connection;
    const batch = this.#batch;
    const sample = this.sample;
    sample.startMs = nowMs();
    if (ratePerSec <= 0) {
      const frameBytes = batch.fill(1, 0);
      let failWaiter: (error: Error) => void = () => {};
      this.#watch = new IdleWatch(idleTimeoutMs, () => failWaiter(new Error(`no reply within ${idleTimeoutMs} ms`)));
      for (let index = 0; index < count; index += 1) {
        const replied = new Promise<number>((resolve, reject) => {
          this.#replyWaiter = resolve;
          failWaiter = reject;
        });
        const sentMs = nowMs();
        batch.stampAll(1, sentMs);
        const pushedBack = connection.write(batch.buffer, 0, frameBytes);
        if (pushedBack !== null) await pushedBack;
        const receivedMs = await replied;
        this.#watch.touch(receivedMs);
        sample.latency.recordMs(receivedMs - sentMs);
        sample.msgs += 1;
        sample.bytes += this.#sizeBytes;
        onDone(1);
      }
      this.#watch.stop();
      if (connection.failure !== null) throw connection.failure;
    } else {
      if (this.#sizeBytes < timestampBytes) throw new Error(`open-loop raw requests need --size of at least ${timestampBytes} bytes to carry their send time`);
      this.#openLoop = true;
      this.#repliesExpected = count;
      const allReplies = new Promise<void>((resolve) => {
        this.#allReplies = resolve;
      });
      const schedule = new OpenLoopSchedule(nowMs(), ratePerSec);
      let sent = 0;
      while (sent < count) {
        const intended = schedule.intendedMs(sent);
        if (intended > nowMs()) await waitUntil(intended);
        const due = Math.min(batch.messagesMax, count - sent, Math.max(1, schedule.dueBy(nowMs()) - sent));
        const length = batch.fill(due, sent);
        for (let index = 0; index < due; index += 1) batch.stamp(index, schedule.intendedMs(sent + index));
        const pushedBack = connection.write(batch.buffer, 0, length);
        sent += due;
        onDone(due);
        if (pushedBack !== null) await pushedBack;
        else await yieldToLoop();
      }
      this.#watch = new IdleWatch(idleTimeoutMs, () => this.#allReplies?.());
      await allReplies;
      this.#watch.stop();
      if (this.#replies < count) throw new Error(`${count - this.#replies} of ${count} requests got no reply within ${idleTimeoutMs} ms`);
    }
    sample.endMs = nowMs();
  }

  async close(): Promise<void> {
    this.#watch?.stop();
    this.#connection.close();
  }
}
