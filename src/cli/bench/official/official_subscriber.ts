// Core subscriber through the official client, for `--client official`.
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs, readTimestamp, timestampBytes } from "../clock.ts";
import { IdleWatch } from "../core/idle_watch.ts";
import type { CoreSubscriber, Expectation } from "../core/roles.ts";
import type { LatencyRecorder } from "../latency.ts";
import { Sample } from "../stats.ts";
import { connectOfficial } from "./connect.ts";
import type { SubscribeOptions } from "../raw/raw_subscriber.ts";

export class OfficialSubscriber implements CoreSubscriber {
  readonly sample: Sample;
  readonly finished: Promise<void>;

  get e2e(): LatencyRecorder {
    return this.sample.latency;
  }
  #resolveFinished: () => void = () => {};
  readonly #watch: IdleWatch;
  #connection: NatsConnection | null = null;

  private constructor(options: SubscribeOptions) {
    this.sample = new Sample(options.id);
    this.finished = new Promise<void>((resolve) => {
      this.#resolveFinished = resolve;
    });
    this.#watch = new IdleWatch(options.idleTimeoutMs, () => this.#resolveFinished());
    if (options.expectation.shared) void options.expectation.whenMet().then(() => this.#resolveFinished());
    void this.finished.then(() => this.#watch.stop());
  }

  static async subscribe(options: SubscribeOptions): Promise<OfficialSubscriber> {
    const subscriber = new OfficialSubscriber(options);
    const connection = await connectOfficial(options.url, `nats-bun-bench-${options.id}`);
    subscriber.#connection = connection;
    void connection.closed().then(() => subscriber.#resolveFinished());
    const { sample, e2e } = subscriber;
    const expectation: Expectation = options.expectation;
    connection.subscribe(options.subject, {
      queue: options.queue === "" ? undefined : options.queue,
      callback: (error, msg) => {
        if (error !== null) return;
        const receivedMs = nowMs();
        if (sample.msgs === 0) sample.startMs = receivedMs;
        sample.msgs += 1;
        sample.bytes += msg.data.length;
        sample.endMs = receivedMs;
        if (msg.data.length >= timestampBytes) {
          const data = msg.data;
          const sent = readTimestamp(data, new DataView(data.buffer, data.byteOffset, data.byteLength), 0);
          if (sent === sent) e2e.recordMs(receivedMs - sent);
        }
        subscriber.#watch.touch(receivedMs);
        options.onProgress(1);
        const groupDone = expectation.countGroup();
        if (expectation.shared ? groupDone : sample.msgs >= expectation.expected) subscriber.#resolveFinished();
      },
    });
    await connection.flush();
    return subscriber;
  }

  async close(): Promise<void> {
    this.#watch.stop();
    this.#resolveFinished();
    await this.#connection?.close();
  }
}
