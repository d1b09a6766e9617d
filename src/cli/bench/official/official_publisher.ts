// Core publisher through the official client, for `--client official`: what a user of
// nats.js would get. Each payload is a fresh buffer because the client queues payloads by
// reference until its next flush.
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs, OpenLoopSchedule, timestampBytes, writeTimestamp, writeTimestampMagic } from "../clock.ts";
import type { CorePublisher, PublishPlan } from "../core/roles.ts";
import { waitUntil, yieldToLoop } from "../core/pacing.ts";
import { Sample } from "../stats.ts";
import { connectOfficial } from "./connect.ts";

/** Let the client's socket writes happen at least this often… */
const bytesBetweenYields = 256 * 1024;
/** …and wait for the server to catch up (PING/PONG) this often, so memory stays bounded. */
const bytesBetweenFlushes = 8 * 1024 * 1024;

export interface OfficialPublisherOptions {
  subject: string;
  payloadBytes: number;
  multisubject: boolean;
  multisubjectMax: number;
}

export class OfficialPublisher implements CorePublisher {
  readonly sample: Sample;
  readonly #connection: NatsConnection;
  readonly #options: OfficialPublisherOptions;

  private constructor(id: string, connection: NatsConnection, options: OfficialPublisherOptions) {
    this.sample = new Sample(id);
    this.#connection = connection;
    this.#options = options;
  }

  static async connect(url: string, id: string, options: OfficialPublisherOptions): Promise<OfficialPublisher> {
    return new OfficialPublisher(id, await connectOfficial(url, `nats-bun-bench-${id}`), options);
  }

  async publish(plan: PublishPlan): Promise<void> {
    const { subject, payloadBytes, multisubject, multisubjectMax } = this.#options;
    const connection = this.#connection;
    const timestamps = payloadBytes >= timestampBytes;
    const schedule = plan.ratePerSec > 0 ? new OpenLoopSchedule(nowMs(), plan.ratePerSec) : null;
    this.sample.startMs = nowMs();
    let sinceYield = 0;
    let sinceFlush = 0;
    for (let index = 0; index < plan.count; index += 1) {
      if (schedule !== null) {
        const intended = schedule.intendedMs(index);
        if (intended > nowMs()) await waitUntil(intended);
      }
      const payload = new Uint8Array(payloadBytes);
      if (timestamps) {
        writeTimestampMagic(payload, 0);
        writeTimestamp(new DataView(payload.buffer), 0, schedule === null ? nowMs() : schedule.intendedMs(index));
      }
      const target = multisubject ? `${subject}.${(plan.firstSeq + index) % multisubjectMax}` : subject;
      connection.publish(target, payload);
      this.sample.msgs += 1;
      this.sample.bytes += payloadBytes;
      plan.onProgress(1);
      sinceYield += payloadBytes + subject.length + 16;
      sinceFlush += payloadBytes + subject.length + 16;
      if (sinceFlush >= bytesBetweenFlushes) {
        sinceFlush = 0;
        sinceYield = 0;
        await connection.flush();
      } else if (sinceYield >= bytesBetweenYields) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
    await connection.flush();
    this.sample.endMs = nowMs();
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}
