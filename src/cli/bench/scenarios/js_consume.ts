// Reading a stream: `js consume` (durable, callback consume), `js fetch` (durable, fetch
// loops of --batch) and `js ordered` (an ordered ephemeral consumer per client). The durable
// is recreated at the start so every run reads from the stream's first message; its clients
// share the messages. Ordered consumers each read everything, like core subscribers.
// Readers stop at --msgs (capped at what the stream holds) or after the idle timeout.
import { jetstream, type Consumer, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs } from "../clock.ts";
import { IdleWatch } from "../core/idle_watch.ts";
import { Expectation } from "../core/roles.ts";
import { connectOfficial } from "../official/connect.ts";
import type { BenchRun } from "../options.ts";
import { Sample, SampleGroup, type RunResult } from "../stats.ts";
import { formatCount } from "../units.ts";
import { closeAll, type ScenarioContext } from "./context.ts";
import { deleteDurable, existingStream, manager, recreateDurable } from "./js_setup.ts";

/** Fetch requests expire after this; the server's minimum is 1 s. */
const fetchExpiresMs = 2_000;

interface Reader {
  sample: Sample;
  /** Resolves when the reader's (or the group's) expectation is met or it went idle. */
  finished: Promise<void>;
  stop(): Promise<void>;
}

function makeCounter(run: BenchRun, sample: Sample, expectation: Expectation, onProgress: () => void, finish: () => void, watch: IdleWatch): (msg: JsMsg) => void {
  return (msg) => {
    // Messages already buffered when the run's count was reached are left unacknowledged.
    if (expectation.shared ? expectation.received >= expectation.expected : sample.msgs >= expectation.expected) return;
    const now = nowMs();
    if (sample.msgs === 0) sample.startMs = now;
    sample.msgs += 1;
    sample.bytes += msg.data.length;
    sample.endMs = now;
    watch.touch(now);
    // --acks all: one ack per batch covers everything before it.
    if (run.kind !== "js-ordered") {
      if (run.acks === "explicit" || (run.acks === "all" && (sample.msgs % run.batch === 0 || sample.msgs === expectation.expected))) msg.ack();
    }
    onProgress();
    const groupDone = expectation.countGroup();
    if (expectation.shared ? groupDone : sample.msgs >= expectation.expected) finish();
  };
}

async function startReader(run: BenchRun, consumer: Consumer, id: string, expectation: Expectation, onProgress: () => void): Promise<Reader> {
  const sample = new Sample(id);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const watch = new IdleWatch(run.idleTimeoutMs, () => finish());
  void finished.then(() => watch.stop());
  if (expectation.shared) void expectation.whenMet().then(() => finish());
  const onMsg = makeCounter(run, sample, expectation, onProgress, finish, watch);
  let stopped = false;
  if (run.kind === "js-fetch") {
    // The fetch in progress: stopped when the clients together have read everything, so a
    // fetch that asked for more than was left does not sit until it expires.
    let current: ConsumerMessages | null = null;
    const loop = (async () => {
      while (!stopped) {
        // Ask only for what is still missing: a fetch for more than the stream has left
        // would sit until it expires and add that wait to the run.
        const remaining = expectation.shared ? expectation.expected - expectation.received : expectation.expected - sample.msgs;
        if (remaining <= 0) break;
        const started = nowMs();
        const batch = await consumer.fetch({ max_messages: Math.min(run.batch, remaining), expires: fetchExpiresMs });
        current = batch;
        for await (const msg of batch) onMsg(msg);
        current = null;
        // Latency per fetch: from request to the end of its batch.
        sample.latency.recordMs(nowMs() - started);
      }
    })();
    void loop.catch(() => finish());
    const stop = async (): Promise<void> => {
      stopped = true;
      current?.stop();
      await loop.catch(() => {});
    };
    return { sample, finished, stop };
  }
  const messages = await consumer.consume({ max_messages: run.batch, callback: onMsg });
  return { sample, finished, stop: async () => { await messages.close(); } };
}

export async function runJsConsume(run: BenchRun, context: ScenarioContext): Promise<RunResult> {
  const what = run.kind === "js-fetch" ? "fetch" : run.kind === "js-ordered" ? "ordered" : "consume";
  const notes: string[] = [];
  // Consumers usually read what was stored earlier: a payload timestamp gives its age, not a
  // delivery latency. Fetch records the time per fetch request instead.
  const group = new SampleGroup("consumer", "operation");
  const connections: NatsConnection[] = [];
  const readers: Reader[] = [];
  let expectation = new Expectation(run.msgs, run.kind !== "js-ordered");
  try {
    const setup = await connectOfficial(run.server, "nats-bun-bench-js-setup");
    connections.push(setup);
    const jsm = await manager(setup);
    const info = await existingStream(jsm, run);
    let expected = run.msgs;
    if (info.state.messages < run.msgs) {
      expected = info.state.messages;
      notes.push(`Stream "${run.stream}" holds ${formatCount(info.state.messages)} messages: reading those instead of --msgs ${formatCount(run.msgs)}`);
    }
    expectation = new Expectation(expected, run.kind !== "js-ordered");
    context.log(`Starting JetStream ${what} benchmark [clients=${run.clients}, msgs=${formatCount(expected)}, stream=${run.stream}, `
      + `${run.kind === "js-ordered" ? "" : `consumer=${run.consumer}, acks=${run.acks}, `}batch=${run.batch}]`);
    if (expected === 0) return { run, title: `JetStream ${what}`, groups: [group], openLoop: false, missing: 0, notes };
    if (run.kind !== "js-ordered") await recreateDurable(jsm, run);
    context.progress.start(run.kind === "js-ordered" ? expected * run.clients : expected, "consuming ");
    for (let index = 0; index < run.clients; index += 1) {
      const connection = await connectOfficial(run.server, `nats-bun-bench-js-${what}-${index}`);
      connections.push(connection);
      const js = jetstream(connection);
      const consumer = run.kind === "js-ordered" ? await js.consumers.get(run.stream) : await js.consumers.get(run.stream, run.consumer);
      const reader = await startReader(run, consumer, `S${index}`, expectation, () => context.progress.add(1));
      readers.push(reader);
      group.add(reader.sample);
    }
    await Promise.all(readers.map((reader) => reader.finished));
    await Promise.all(readers.map((reader) => reader.stop()));
    if (run.kind !== "js-ordered") await deleteDurable(jsm, run);
  } finally {
    context.progress.stop();
    await closeAll(connections.map((connection) => ({ close: () => connection.close() })));
  }
  const missing = expectation.shared
    ? Math.max(0, expectation.expected - expectation.received)
    : readers.reduce((sum, reader) => sum + Math.max(0, expectation.expected - reader.sample.msgs), 0);
  return { run, title: `JetStream ${what}`, groups: [group], openLoop: false, missing, notes };
}
