// Core subscriber on the raw connection: counts MSGs as InboundParser finds them and records
// the end-to-end latency of timestamped payloads. Its clock runs from the first delivery to
// the last, as natscli's subscribers do.
import { IdleWatch } from "../core/idle_watch.ts";
import type { CoreSubscriber, Expectation } from "../core/roles.ts";
import type { LatencyRecorder } from "../latency.ts";
import { Sample } from "../stats.ts";
import { RawConnection } from "./raw_connection.ts";

export interface SubscribeOptions {
  url: string;
  id: string;
  subject: string;
  queue: string;
  expectation: Expectation;
  idleTimeoutMs: number;
  onProgress: (messages: number) => void;
}

export class RawSubscriber implements CoreSubscriber {
  readonly sample: Sample;
  readonly finished: Promise<void>;

  get e2e(): LatencyRecorder {
    return this.sample.latency;
  }
  #resolveFinished: () => void = () => {};
  readonly #watch: IdleWatch;
  #connection: RawConnection | null = null;

  private constructor(options: SubscribeOptions) {
    this.sample = new Sample(options.id);
    this.finished = new Promise<void>((resolve) => {
      this.#resolveFinished = resolve;
    });
    this.#watch = new IdleWatch(options.idleTimeoutMs, () => this.#resolveFinished());
    // Queue-group members finish together, whoever saw the last message.
    if (options.expectation.shared) void options.expectation.whenMet().then(() => this.#resolveFinished());
    void this.finished.then(() => this.#watch.stop());
  }

  /** Connects, subscribes and flushes: once this resolves the server routes to us. */
  static async subscribe(options: SubscribeOptions): Promise<RawSubscriber> {
    const subscriber = new RawSubscriber(options);
    try {
      subscriber.#connection = await RawConnection.connect({
        url: options.url,
        name: `nats-bun-bench-${options.id}`,
        onMsg: subscriber.#onMsgHandler(options),
        readTimestamps: true,
        // A dropped subscriber (e.g. cut as a slow consumer) stops waiting; the run reports it.
        onFailure: () => subscriber.#resolveFinished(),
      });
      const queue = options.queue === "" ? "" : ` ${options.queue}`;
      subscriber.#connection.writeText(`SUB ${options.subject}${queue} 1\r\n`);
      await subscriber.#connection.flush();
    } catch (error) {
      await subscriber.close();
      throw error;
    }
    return subscriber;
  }

  /** The hot path: one call per delivery, no allocation. */
  #onMsgHandler(options: SubscribeOptions): (totalBytes: number, timestampMs: number, receivedMs: number) => void {
    const sample = this.sample;
    const e2e = this.e2e;
    const watch = this.#watch;
    const expectation = options.expectation;
    const onProgress = options.onProgress;
    return (totalBytes, timestampMs, receivedMs) => {
      if (sample.msgs === 0) sample.startMs = receivedMs;
      sample.msgs += 1;
      sample.bytes += totalBytes;
      sample.endMs = receivedMs;
      // NaN (no timestamp in this payload) is the only value not equal to itself.
      if (timestampMs === timestampMs) e2e.recordMs(receivedMs - timestampMs);
      watch.touch(receivedMs);
      onProgress(1);
      const groupDone = expectation.countGroup();
      if (expectation.shared ? groupDone : sample.msgs >= expectation.expected) this.#resolveFinished();
    };
  }

  /** The error that broke the connection, if one did. */
  get failure(): Error | null {
    return this.#connection?.failure ?? null;
  }

  async close(): Promise<void> {
    this.#watch.stop();
    this.#resolveFinished();
    this.#connection?.close();
  }
}
