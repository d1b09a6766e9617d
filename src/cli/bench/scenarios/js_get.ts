// `js get`: direct gets (`$JS.API.DIRECT.GET`) of stored messages by sequence, each client
// walking its share of the stream's sequences; latency per get. Streams without
// `allow_direct` are read through the stream API's message get instead (noted in the output).
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs } from "../clock.ts";
import { connectOfficial } from "../official/connect.ts";
import { shareOut, type BenchRun } from "../options.ts";
import { Sample, SampleGroup, type RunResult } from "../stats.ts";
import { formatCount } from "../units.ts";
import { closeAll, type ScenarioContext } from "./context.ts";
import { existingStream, manager } from "./js_setup.ts";

async function getShare(jsm: JetStreamManager, direct: boolean, run: BenchRun, sample: Sample, count: number, firstIndex: number, first: number, span: number, onDone: () => void): Promise<number> {
  let misses = 0;
  sample.startMs = nowMs();
  for (let index = 0; index < count; index += 1) {
    // Walk the stream's sequences, wrapping round when --msgs exceeds what it holds.
    const seq = first + ((firstIndex + index) % span);
    const started = nowMs();
    const msg = direct ? await jsm.direct.getMessage(run.stream, { seq }) : await jsm.streams.getMessage(run.stream, { seq });
    sample.latency.recordMs(nowMs() - started);
    if (msg === null) {
      misses += 1;
    } else {
      sample.msgs += 1;
      sample.bytes += msg.data.length;
    }
    onDone();
  }
  sample.endMs = nowMs();
  return misses;
}

export async function runJsGet(run: BenchRun, context: ScenarioContext): Promise<RunResult> {
  const notes: string[] = [];
  const group = new SampleGroup("getter");
  const connections: NatsConnection[] = [];
  let misses = 0;
  try {
    const setup = await connectOfficial(run.server, "nats-bun-bench-js-setup");
    connections.push(setup);
    const info = await existingStream(await manager(setup), run);
    const direct = info.config.allow_direct === true;
    if (!direct) notes.push(`Stream "${run.stream}" does not allow direct gets: used the stream API's message get`);
    if (info.state.messages === 0) throw new Error(`stream "${run.stream}" is empty: publish to it first`);
    const first = info.state.first_seq;
    const span = info.state.last_seq - first + 1;
    context.log(`Starting JetStream get benchmark [clients=${run.clients}, msgs=${formatCount(run.msgs)}, stream=${run.stream}, `
      + `sequences=${formatCount(first)}…${formatCount(info.state.last_seq)}, direct=${direct}]`);
    const managers: JetStreamManager[] = [];
    for (let index = 0; index < run.clients; index += 1) {
      const connection = await connectOfficial(run.server, `nats-bun-bench-js-get-${index}`);
      connections.push(connection);
      managers.push(await manager(connection));
    }
    context.progress.start(run.msgs, "getting   ");
    const shares = shareOut(run.msgs, run.clients);
    let firstIndex = 0;
    const results = await Promise.all(managers.map((jsm, index) => {
      const sample = new Sample(`S${index}`);
      group.add(sample);
      const start = firstIndex;
      firstIndex += shares[index];
      return getShare(jsm, direct, run, sample, shares[index], start, first, span, () => context.progress.add(1));
    }));
    misses = results.reduce((sum, value) => sum + value, 0);
    if (misses > 0) notes.push(`${formatCount(misses)} gets found no message (deleted sequences)`);
  } finally {
    context.progress.stop();
    await closeAll(connections.map((connection) => ({ close: () => connection.close() })));
  }
  return { run, title: "JetStream direct", groups: [group], openLoop: false, missing: 0, notes };
}
