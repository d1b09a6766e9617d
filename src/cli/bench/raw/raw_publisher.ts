// Core publisher on the raw connection: pre-encoded PUB batches (PubBatch) written straight
// to the socket, waiting on `drain` when the socket pushes back, and a PING/PONG flush at the
// end so the clock stops only once the server has read every message.
import { nowMs, OpenLoopSchedule } from "../clock.ts";
import type { CorePublisher, PublishPlan } from "../core/roles.ts";
import { waitUntil, yieldToLoop } from "../core/pacing.ts";
import { Sample } from "../stats.ts";
import { PubBatch, type PubBatchOptions } from "./pub_batch.ts";
import { RawConnection } from "./raw_connection.ts";

/** Written this much without the socket pushing back? Give the event loop a turn anyway. */
const bytesBetweenYields = 256 * 1024;
/** Encode-and-stamp passes over the batch before timing starts (a few ms at most). */
const warmUpRounds = 200;

export class RawPublisher implements CorePublisher {
  readonly sample: Sample;
  readonly #connection: RawConnection;
  readonly #batch: PubBatch;
  readonly #payloadBytes: number;

  private constructor(id: string, connection: RawConnection, batch: PubBatch, payloadBytes: number) {
    this.sample = new Sample(id);
    this.#connection = connection;
    this.#batch = batch;
    this.#payloadBytes = payloadBytes;
  }

  static async connect(url: string, id: string, batchOptions: PubBatchOptions): Promise<RawPublisher> {
    const connection = await RawConnection.connect({ url, name: `nats-bun-bench-${id}` });
    const maxPayload = Number(connection.serverInfo.max_payload ?? Number.POSITIVE_INFINITY);
    if (batchOptions.payloadBytes > maxPayload) {
      connection.close();
      throw new Error(`--size ${batchOptions.payloadBytes} is above the server's max_payload ${maxPayload}`);
    }
    const batch = new PubBatch(batchOptions);
    // Get the per-write code JIT-compiled before the clock starts, so that a short run does
    // not measure our warm-up (it touches only our buffer, never the server).
    for (let round = 0; round < warmUpRounds; round += 1) {
      batch.fill(batch.messagesMax, round);
      batch.stampAll(batch.messagesMax, round);
    }
    return new RawPublisher(id, connection, batch, batchOptions.payloadBytes);
  }

  async publish(plan: PublishPlan): Promise<void> {
    const batch = this.#batch;
    const connection = this.#connection;
    const schedule = plan.ratePerSec > 0 ? new OpenLoopSchedule(nowMs(), plan.ratePerSec) : null;
    this.sample.startMs = nowMs();
    let sent = 0;
    let bytesSinceYield = 0;
    while (sent < plan.count) {
      let count = Math.min(batch.messagesMax, plan.count - sent);
      if (schedule !== null) {
        // Send whatever is due now (all of it if we are behind), each with its intended time.
        const intended = schedule.intendedMs(sent);
        if (intended > nowMs()) await waitUntil(intended);
        count = Math.min(count, Math.max(1, schedule.dueBy(nowMs()) - sent));
      }
      const length = batch.fill(count, plan.firstSeq + sent);
      if (schedule !== null) {
        for (let index = 0; index < count; index += 1) batch.stamp(index, schedule.intendedMs(sent + index));
      } else {
        batch.stampAll(count, nowMs());
      }
      const pushedBack = connection.write(batch.buffer, 0, length);
      sent += count;
      this.sample.msgs += count;
      this.sample.bytes += count * this.#payloadBytes;
      plan.onProgress(count);
      if (pushedBack !== null) {
        await pushedBack;
        bytesSinceYield = 0;
      } else {
        bytesSinceYield += length;
        if (bytesSinceYield >= bytesBetweenYields) {
          bytesSinceYield = 0;
          await yieldToLoop();
        }
      }
    }
    await connection.flush();
    this.sample.endMs = nowMs();
    if (connection.failure !== null) throw connection.failure;
  }

  async close(): Promise<void> {
    this.#connection.close();
  }
}
