// Request/reply: `service serve` (responders in a queue group, answering each request with
// a payload of its size), `service request` (requesters timing each round trip) and
// `service both` (the two in one process), through the official client or, with
// `--client raw`, our byte-level client (less client time in each round trip). Closed loop
// by default: each requester waits for its reply before the next request. With --rate the
// requests leave on an open-loop schedule and each round trip is measured from its intended
// send time (coordinated-omission correction).
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs, OpenLoopSchedule } from "../clock.ts";
import { IdleWatch } from "../core/idle_watch.ts";
import { waitUntil } from "../core/pacing.ts";
import { Expectation } from "../core/roles.ts";
import { InFlightWindow } from "../core/window.ts";
import { connectOfficial } from "../official/connect.ts";
import { shareOut, type BenchRun } from "../options.ts";
import { RawRequester } from "../raw/raw_requester.ts";
import { RawResponder } from "../raw/raw_responder.ts";
import { Sample, SampleGroup, type RunResult } from "../stats.ts";
import { formatBytes, formatCount } from "../units.ts";
import { closeAll, type ScenarioContext } from "./context.ts";

/** Open loop: at most this many requests in flight per requester, so memory stays bounded. */
const outstandingRequestsMax = 10_000;
const requestTimeoutMs = 10_000;

interface Responders {
  group: SampleGroup;
  /** Resolves when `expected` requests were answered, or after the idle timeout. */
  finished: Promise<void>;
  closables: Array<{ close(): Promise<void> }>;
}

async function startRawResponders(run: BenchRun, count: number, expected: number, onServed: () => void): Promise<Responders> {
  const group = new SampleGroup("responder");
  const expectation = new Expectation(expected, true);
  const responders: RawResponder[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      const responder = await RawResponder.start({
        url: run.server, id: `S${index}`, subject: run.subject, queue: run.queue, expectation, idleTimeoutMs: run.idleTimeoutMs, onProgress: onServed,
      });
      responders.push(responder);
      group.add(responder.sample);
    }
  } catch (error) {
    await closeAll(responders);
    throw error;
  }
  // All finish together when the group is done; each also gives up on its own when idle.
  return { group, finished: Promise.all(responders.map((responder) => responder.finished)).then(() => {}), closables: responders };
}

async function startOfficialResponders(run: BenchRun, count: number, expected: number, onServed: () => void): Promise<Responders> {
  const group = new SampleGroup("responder");
  const connections: NatsConnection[] = [];
  let served = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const watch = new IdleWatch(run.idleTimeoutMs, () => finish());
  void finished.then(() => watch.stop());
  for (let index = 0; index < count; index += 1) {
    const connection = await connectOfficial(run.server, `nats-bun-bench-responder-${index}`);
    connections.push(connection);
    const sample = new Sample(`S${index}`);
    group.add(sample);
    connection.subscribe(run.subject, {
      queue: run.queue === "" ? undefined : run.queue,
      callback: (error, msg) => {
        if (error !== null) return;
        const now = nowMs();
        if (sample.msgs === 0) sample.startMs = now;
        msg.respond(msg.data);
        sample.msgs += 1;
        sample.bytes += msg.data.length;
        sample.endMs = now;
        watch.touch(now);
        onServed();
        served += 1;
        if (served >= expected) finish();
      },
    });
    await connection.flush();
  }
  return { group, finished, closables: connections.map((connection) => ({ close: () => connection.close() })) };
}

async function runOfficialRequester(connection: NatsConnection, run: BenchRun, sample: Sample, count: number, ratePerSec: number, onDone: () => void): Promise<void> {
  const payload = new Uint8Array(run.sizeBytes);
  sample.startMs = nowMs();
  if (ratePerSec <= 0) {
    for (let index = 0; index < count; index += 1) {
      const sent = nowMs();
      const reply = await connection.request(run.subject, payload, { timeout: requestTimeoutMs });
      const now = nowMs();
      sample.latency.recordMs(now - sent);
      sample.msgs += 1;
      sample.bytes += reply.data.length;
      onDone();
    }
  } else {
    const schedule = new OpenLoopSchedule(nowMs(), ratePerSec);
    const window = new InFlightWindow(outstandingRequestsMax);
    let failure: unknown = null;
    for (let index = 0; index < count && failure === null; index += 1) {
      const intended = schedule.intendedMs(index);
      if (intended > nowMs()) await waitUntil(intended);
      await window.acquire();
      connection.request(run.subject, payload, { timeout: requestTimeoutMs }).then((reply) => {
        // From the intended send time: a request that left late is charged the wait.
        sample.latency.recordMs(nowMs() - intended);
        sample.msgs += 1;
        sample.bytes += reply.data.length;
        onDone();
      }, (error: unknown) => {
        failure ??= error;
      }).finally(() => window.release());
    }
    await window.idle();
    if (failure !== null) throw failure;
  }
  sample.endMs = nowMs();
}

export async function runService(run: BenchRun, context: ScenarioContext): Promise<RunResult> {
  const requesters = run.kind === "service-serve" ? 0 : run.clients;
  const responders = run.kind === "service-request" ? 0 : run.kind === "service-serve" ? run.clients : run.responders;
  context.log(`Starting service benchmark [requesters=${requesters}, responders=${responders}, msg-size=${formatBytes(run.sizeBytes)}, `
    + `msgs=${formatCount(run.msgs)}, queue=${run.queue}, client=${run.client}, rate=${run.ratePerSec > 0 ? `${formatCount(run.ratePerSec)}/s` : "max"}]`);
  const requesterGroup = new SampleGroup("requester");
  let responderGroup = new SampleGroup("responder");
  const closables: Array<{ close(): Promise<void> }> = [];
  let missing = 0;
  try {
    let respondersDone: Promise<void> = Promise.resolve();
    if (responders > 0) {
      const start = run.client === "raw" ? startRawResponders : startOfficialResponders;
      const started = await start(run, responders, run.msgs, requesters === 0 ? () => context.progress.add(1) : () => {});
      responderGroup = started.group;
      closables.push(...started.closables);
      respondersDone = started.finished;
    }
    const shares = shareOut(run.msgs, Math.max(requesters, 1));
    const onDone = (count: number): void => context.progress.add(count);
    const requesting: Array<() => Promise<void>> = [];
    for (let index = 0; index < requesters; index += 1) {
      const sample = new Sample(`P${index}`);
      const ratePerSec = run.ratePerSec / requesters;
      if (run.client === "raw") {
        const requester = await RawRequester.connect(run.server, `P${index}`, run.subject, run.sizeBytes);
        closables.push(requester);
        requesterGroup.add(requester.sample);
        requesting.push(() => requester.run(shares[index], ratePerSec, run.idleTimeoutMs, onDone));
      } else {
        const connection = await connectOfficial(run.server, `nats-bun-bench-requester-${index}`);
        closables.push({ close: () => connection.close() });
        requesterGroup.add(sample);
        requesting.push(() => runOfficialRequester(connection, run, sample, shares[index], ratePerSec, () => onDone(1)));
      }
    }
    context.progress.start(run.msgs, requesters > 0 ? "requesting" : "serving   ");
    if (requesters === 0) context.log(`Serving ${formatCount(run.msgs)} requests on "${run.subject}" (gives up after ${run.idleTimeoutMs / 1000}s without one)`);
    await Promise.all(requesting.map((start) => start()));
    if (requesters === 0) {
      await respondersDone;
      missing = Math.max(0, run.msgs - responderGroup.msgs);
    }
  } finally {
    context.progress.stop();
    await closeAll(closables);
  }
  return {
    run,
    title: "Service",
    groups: [requesterGroup, responderGroup],
    openLoop: run.ratePerSec > 0,
    missing,
    notes: [],
  };
}
