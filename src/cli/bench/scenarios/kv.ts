// `kv put` / `kv get` on a KV bucket (--bucket, created on `put` when missing): each client
// does its share of operations on keys `k<n>`; --randomize N picks n at random below N,
// otherwise n walks 0…msgs-1 so that `kv get` after `kv put` finds every key.
import { jetstream, StorageType } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { nowMs } from "../clock.ts";
import { connectOfficial } from "../official/connect.ts";
import { shareOut, type BenchRun } from "../options.ts";
import { Sample, SampleGroup, type RunResult } from "../stats.ts";
import { formatBytes, formatCount } from "../units.ts";
import { closeAll, type ScenarioContext } from "./context.ts";
import { manager } from "./js_setup.ts";

function keyFor(run: BenchRun, index: number): string {
  return run.randomize > 0 ? `k${Math.floor(Math.random() * run.randomize)}` : `k${index}`;
}

async function openBucket(connection: NatsConnection, run: BenchRun, notes: string[]): Promise<KV> {
  const kvm = new Kvm(jetstream(connection));
  if (run.kind === "kv-get") return await kvm.open(run.bucket);
  const jsm = await manager(connection);
  const exists = await jsm.streams.info(`KV_${run.bucket}`).then(() => true, () => false);
  if (!exists) {
    notes.push(`Created bucket "${run.bucket}" (${run.storage}, replicas=${run.replicas}, history=${run.history})`);
  } else if (run.purge) {
    await jsm.streams.purge(`KV_${run.bucket}`);
    notes.push(`Purged bucket "${run.bucket}"`);
  }
  return await kvm.create(run.bucket, {
    storage: run.storage === "memory" ? StorageType.Memory : StorageType.File,
    replicas: run.replicas,
    history: run.history,
    max_bytes: run.maxBytes,
  });
}

async function runShare(kv: KV, run: BenchRun, sample: Sample, count: number, firstIndex: number, onDone: () => void): Promise<number> {
  const value = new Uint8Array(run.sizeBytes);
  let misses = 0;
  sample.startMs = nowMs();
  for (let index = 0; index < count; index += 1) {
    const key = keyFor(run, firstIndex + index);
    const started = nowMs();
    if (run.kind === "kv-put") {
      await kv.put(key, value);
      sample.msgs += 1;
      sample.bytes += value.length;
    } else {
      const entry = await kv.get(key);
      if (entry === null) {
        misses += 1;
      } else {
        sample.msgs += 1;
        sample.bytes += entry.value.length;
      }
    }
    sample.latency.recordMs(nowMs() - started);
    onDone();
  }
  sample.endMs = nowMs();
  return misses;
}

export async function runKv(run: BenchRun, context: ScenarioContext): Promise<RunResult> {
  const verb = run.kind === "kv-put" ? "put" : "get";
  context.log(`Starting KV ${verb} benchmark [clients=${run.clients}, msg-size=${formatBytes(run.sizeBytes)}, msgs=${formatCount(run.msgs)}, `
    + `bucket=${run.bucket}, storage=${run.storage}, history=${run.history}, randomize=${run.randomize}]`);
  const notes: string[] = [];
  const group = new SampleGroup(run.kind === "kv-put" ? "publisher" : "getter");
  const connections: NatsConnection[] = [];
  try {
    const setup = await connectOfficial(run.server, "nats-bun-bench-kv-setup");
    connections.push(setup);
    await openBucket(setup, run, notes);
    const buckets: KV[] = [];
    for (let index = 0; index < run.clients; index += 1) {
      const connection = await connectOfficial(run.server, `nats-bun-bench-kv-${verb}-${index}`);
      connections.push(connection);
      buckets.push(await new Kvm(jetstream(connection)).open(run.bucket));
    }
    context.progress.start(run.msgs, verb === "put" ? "putting   " : "getting   ");
    const shares = shareOut(run.msgs, run.clients);
    let firstIndex = 0;
    const misses = await Promise.all(buckets.map((kv, index) => {
      const sample = new Sample(`${verb === "put" ? "P" : "S"}${index}`);
      group.add(sample);
      const start = firstIndex;
      firstIndex += shares[index];
      return runShare(kv, run, sample, shares[index], start, () => context.progress.add(1));
    }));
    const missed = misses.reduce((sum, value) => sum + value, 0);
    if (missed > 0) notes.push(`${formatCount(missed)} gets found no value for their key`);
  } finally {
    context.progress.stop();
    await closeAll(connections.map((connection) => ({ close: () => connection.close() })));
  }
  return { run, title: "KV", groups: [group], openLoop: false, missing: 0, notes };
}
