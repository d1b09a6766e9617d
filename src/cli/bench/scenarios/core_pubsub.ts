// Core NATS scenarios `pub`, `sub` and `pubsub`: publishers, subscribers, or both in one
// process (subscribers are subscribed and flushed before the first publish). Subscribers
// measure end-to-end latency from the timestamps publishers write into payloads.
import { Expectation, type CorePublisher, type CoreSubscriber } from "../core/roles.ts";
import { OfficialPublisher } from "../official/official_publisher.ts";
import { OfficialSubscriber } from "../official/official_subscriber.ts";
import { shareOut, type BenchRun } from "../options.ts";
import { RawPublisher } from "../raw/raw_publisher.ts";
import { RawSubscriber, type SubscribeOptions } from "../raw/raw_subscriber.ts";
import { SampleGroup, type RunResult } from "../stats.ts";
import { formatBytes, formatCount } from "../units.ts";
import { closeAll, type ScenarioContext } from "./context.ts";

function publisherCount(run: BenchRun): number {
  return run.kind === "sub" ? 0 : run.clients;
}

function subscriberCount(run: BenchRun): number {
  if (run.kind === "pub") return 0;
  return run.kind === "sub" ? run.clients : run.subscribers;
}

async function connectPublisher(run: BenchRun, id: string): Promise<CorePublisher> {
  const options = { subject: run.subject, payloadBytes: run.sizeBytes, multisubject: run.multisubject, multisubjectMax: run.multisubjectMax };
  return run.client === "raw"
    ? await RawPublisher.connect(run.server, id, { ...options, timestamps: true })
    : await OfficialPublisher.connect(run.server, id, options);
}

async function subscribe(run: BenchRun, options: SubscribeOptions): Promise<CoreSubscriber> {
  return run.client === "raw" ? await RawSubscriber.subscribe(options) : await OfficialSubscriber.subscribe(options);
}

export async function runCorePubSub(run: BenchRun, context: ScenarioContext): Promise<RunResult> {
  const publishers = publisherCount(run);
  const subscribers = subscriberCount(run);
  const what = publishers > 0 && subscribers > 0 ? "publish-subscribe" : publishers > 0 ? "publisher" : "subscriber";
  context.log(`Starting Core NATS ${what} benchmark [pubs=${publishers}, subs=${subscribers}, msg-size=${formatBytes(run.sizeBytes)}, `
    + `msgs=${formatCount(run.msgs)}, multi-subject=${run.multisubject}, queue=${run.queue === "" ? "none" : run.queue}, `
    + `client=${run.client}, rate=${run.ratePerSec > 0 ? `${formatCount(run.ratePerSec)}/s` : "max"}]`);

  const publisherGroup = new SampleGroup("publisher");
  const subscriberGroup = new SampleGroup("subscriber");
  // Every subscriber expects every message, except in a queue group where they share them.
  const expectation = new Expectation(run.msgs, run.queue !== "");
  const opened: Array<{ close(): Promise<void> }> = [];
  const subs: CoreSubscriber[] = [];
  const pubs: CorePublisher[] = [];
  // One bar: publishes when we publish, else deliveries.
  const progressPublishes = publishers > 0;
  try {
    const subSubject = run.multisubject ? `${run.subject}.>` : run.subject;
    for (let index = 0; index < subscribers; index += 1) {
      const subscriber = await subscribe(run, {
        url: run.server, id: `S${index}`, subject: subSubject, queue: run.queue, expectation,
        idleTimeoutMs: run.idleTimeoutMs,
        onProgress: progressPublishes ? () => {} : (count) => context.progress.add(count),
      });
      opened.push(subscriber);
      subs.push(subscriber);
      subscriberGroup.add(subscriber.sample);
    }
    for (let index = 0; index < publishers; index += 1) {
      const publisher = await connectPublisher(run, `P${index}`);
      opened.push(publisher);
      pubs.push(publisher);
      publisherGroup.add(publisher.sample);
    }
    const expectedDeliveries = run.queue !== "" ? run.msgs : run.msgs * subscribers;
    context.progress.start(progressPublishes ? run.msgs : expectedDeliveries, progressPublishes ? "publishing" : "receiving ");
    if (subscribers > 0 && publishers === 0) context.log(`Waiting for ${formatCount(run.msgs)} messages on "${subSubject}" (gives up after ${run.idleTimeoutMs / 1000}s without one)`);
    const shares = shareOut(run.msgs, Math.max(publishers, 1));
    let firstSeq = 0;
    const publishing = pubs.map((publisher, index) => {
      const plan = {
        count: shares[index], firstSeq, ratePerSec: run.ratePerSec / publishers,
        onProgress: (count: number) => context.progress.add(count),
      };
      firstSeq += shares[index];
      return publisher.publish(plan);
    });
    await Promise.all(publishing);
    await Promise.all(subs.map((subscriber) => subscriber.finished));
  } finally {
    context.progress.stop();
    await closeAll(opened);
  }
  const missing = run.queue !== ""
    ? Math.max(0, run.msgs - expectation.received) * (subscribers > 0 ? 1 : 0)
    : subs.reduce((sum, subscriber) => sum + Math.max(0, run.msgs - subscriber.sample.msgs), 0);
  return {
    run,
    title: "Core NATS",
    groups: [publisherGroup, subscriberGroup],
    openLoop: run.ratePerSec > 0,
    missing,
    notes: [],
  };
}
