// `js pub sync|async|batch`: publishing into a stream and waiting for its acks.
//   sync   one message, await its ack, next (latency = each ack's round trip)
//   async  a sliding window of at most --batch unacknowledged messages (latency per ack)
//   batch  --batch messages, then wait for all their acks, then the next batch (latency per
//          batch; the old natscli `--pubbatch` behaviour)
// Payloads carry the end-to-end timestamp like core publishes.
// `--client official` (default) publishes through nats.js; `--client raw` through our byte-level
// client (raw/raw_js_publisher.ts), which leaves the server as the bottleneck: nats.js
// saturates its own core at a few tens of thousands of acks per second. Either way the
// stream is set up through nats.js.
import { jetstream, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs, timestampBytes, writeTimestamp, writeTimestampMagic } from "../clock.ts";
import { InFlightWindow } from "../core/window.ts";
import { connectOfficial } from "../official/connect.ts";
import { shareOut, type BenchRun } from "../options.ts";
import { RawJsPublisher } from "../raw/raw_js_publisher.ts";
import { Sample, SampleGroup, type RunResult } from "../stats.ts";
import { formatBytes, formatCount } from "../units.ts";
import { closeAll, type ScenarioContext } from "./context.ts";
import { ensureStream, manager } from "./js_setup.ts";

function payload(sizeBytes: number): Uint8Array {
  const bytes = new Uint8Array(sizeBytes);
  if (sizeBytes >= timestampBytes) {
    writeTimestampMagic(bytes, 0);
    writeTimestamp(new DataView(bytes.buffer), 0, nowMs());
  }
  return bytes;
}

async function publishShare(js: JetStreamClient, run: BenchRun, sample: Sample, count: number, firstSeq: number, onDone: (count: number) => void): Promise<void> {
  const subjectFor = (index: number): string => run.multisubject ? `${run.subject}.${(firstSeq + index) % run.multisubjectMax}` : run.subject;
  const acked = (): void => {
    sample.msgs += 1;
    sample.bytes += run.sizeBytes;
  };
  sample.startMs = nowMs();
  if (run.jsPubMode === "sync") {
    for (let index = 0; index < count; index += 1) {
      const started = nowMs();
      await js.publish(subjectFor(index), payload(run.sizeBytes));
      sample.latency.recordMs(nowMs() - started);
      acked();
      onDone(1);
    }
  } else if (run.jsPubMode === "async") {
    const window = new InFlightWindow(run.batch);
    let failure: unknown = null;
    for (let index = 0; index < count && failure === null; index += 1) {
      await window.acquire();
      const started = nowMs();
      js.publish(subjectFor(index), payload(run.sizeBytes)).then(() => {
        sample.latency.recordMs(nowMs() - started);
        acked();
        onDone(1);
      }, (error: unknown) => {
        failure ??= error;
      }).finally(() => window.release());
    }
    await window.idle();
    if (failure !== null) throw failure;
  } else {
    for (let done = 0; done < count; ) {
      const size = Math.min(run.batch, count - done);
      const started = nowMs();
      const acks: Array<Promise<PubAck>> = [];
      for (let index = 0; index < size; index += 1) acks.push(js.publish(subjectFor(done + index), payload(run.sizeBytes)));
      await Promise.all(acks);
      sample.latency.recordMs(nowMs() - started);
      for (let index = 0; index < size; index += 1) acked();
      onDone(size);
      done += size;
    }
  }
  sample.endMs = nowMs();
}

/** Raw client: every publisher on its own connection, sharing out the messages. */
async function publishRaw(run: BenchRun, group: SampleGroup, context: ScenarioContext): Promise<void> {
  const publishers: RawJsPublisher[] = [];
  try {
    for (let index = 0; index < run.clients; index += 1) {
      const publisher = await RawJsPublisher.connect(run.server, `P${index}`, {
        subject: run.subject, payloadBytes: run.sizeBytes, multisubject: run.multisubject, multisubjectMax: run.multisubjectMax,
        window: run.jsPubMode === "sync" ? 1 : run.batch,
        refill: run.jsPubMode === "batch" ? "batch" : "sliding",
        idleTimeoutMs: run.idleTimeoutMs,
      });
      publishers.push(publisher);
      group.add(publisher.sample);
    }
    context.progress.start(run.msgs, "publishing");
    const shares = shareOut(run.msgs, run.clients);
    let firstSeq = 0;
    await Promise.all(publishers.map((publisher, index) => {
      const plan = { count: shares[index], firstSeq, onProgress: (count: number) => context.progress.add(count) };
      firstSeq += shares[index];
      return publisher.publish(plan);
    }));
  } finally {
    await closeAll(publishers);
  }
}

export async function runJsPub(run: BenchRun, context: ScenarioContext): Promise<RunResult> {
  context.log(`Starting JetStream ${run.jsPubMode} publisher benchmark [clients=${run.clients}, msg-size=${formatBytes(run.sizeBytes)}, `
    + `msgs=${formatCount(run.msgs)}, stream=${run.stream}, storage=${run.storage}, replicas=${run.replicas}, `
    + `batch=${run.jsPubMode === "sync" ? 1 : run.batch}, multi-subject=${run.multisubject}, purge=${run.purge}, client=${run.client}]`);
  const notes: string[] = [];
  const group = new SampleGroup("publisher");
  const connections: NatsConnection[] = [];
  try {
    const setup = await connectOfficial(run.server, "nats-bun-bench-js-setup");
    connections.push(setup);
    await ensureStream(await manager(setup), run, notes);
    if (run.client === "raw") {
      await publishRaw(run, group, context);
      return { run, title: `JetStream ${run.jsPubMode}`, groups: [group], openLoop: false, missing: 0, notes };
    }
    const clients: JetStreamClient[] = [];
    for (let index = 0; index < run.clients; index += 1) {
      const connection = await connectOfficial(run.server, `nats-bun-bench-js-pub-${index}`);
      connections.push(connection);
      clients.push(jetstream(connection));
    }
    context.progress.start(run.msgs, "publishing");
    const shares = shareOut(run.msgs, run.clients);
    let firstSeq = 0;
    await Promise.all(clients.map((js, index) => {
      const sample = new Sample(`P${index}`);
      group.add(sample);
      const start = firstSeq;
      firstSeq += shares[index];
      return publishShare(js, run, sample, shares[index], start, (count) => context.progress.add(count));
    }));
  } finally {
    context.progress.stop();
    await closeAll(connections.map((connection) => ({ close: () => connection.close() })));
  }
  return { run, title: `JetStream ${run.jsPubMode}`, groups: [group], openLoop: false, missing: 0, notes };
}
