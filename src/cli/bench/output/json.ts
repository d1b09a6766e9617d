// `--json`: the machine-readable summary printed on stdout (and nothing else there). One
// object for the whole command; `runs` has one entry per scenario run (the legacy spelling
// can map to two, e.g. a JetStream publish followed by a consume).
import type { LatencySummary } from "../latency.ts";
import { rateSpread, type RunResult } from "../stats.ts";

export interface JsonClient {
  id: string;
  msgs: number;
  bytes: number;
  durationSec: number;
  msgsPerSec: number;
  bytesPerSec: number;
  latency: LatencySummary | null;
}

export interface JsonGroup {
  role: string;
  /** "end-to-end" for readers (payload timestamps), "operation" for writers. */
  latencyKind: "end-to-end" | "operation";
  clients: number;
  msgs: number;
  bytes: number;
  durationSec: number;
  msgsPerSec: number;
  bytesPerSec: number;
  clientRates: { min: number; avg: number; max: number; stddev: number };
  latency: LatencySummary | null;
  perClient: JsonClient[];
}

export interface JsonRun {
  runId: string;
  scenario: string;
  title: string;
  config: Record<string, unknown>;
  openLoop: boolean;
  missing: number;
  notes: string[];
  /** CPU seconds of the load process during the run (setup included); null when not measured. */
  cpuSec: number | null;
  groups: JsonGroup[];
}

export interface JsonSummary {
  tool: "nats-bun bench";
  startedAt: string;
  runs: JsonRun[];
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

export function jsonRun(runId: string, result: RunResult): JsonRun {
  const { run } = result;
  return {
    runId,
    scenario: run.kind,
    title: result.title,
    config: {
      subject: run.subject, server: run.server, client: run.client, clients: run.clients,
      subscribers: run.subscribers, responders: run.responders, msgs: run.msgs, sizeBytes: run.sizeBytes,
      multisubject: run.multisubject, queue: run.queue, ratePerSec: run.ratePerSec,
      ...(run.kind.startsWith("js") || run.kind.startsWith("kv")
        ? { jsPubMode: run.jsPubMode, stream: run.stream, storage: run.storage, replicas: run.replicas, batch: run.batch, acks: run.acks, consumer: run.consumer, bucket: run.bucket, purge: run.purge }
        : {}),
    },
    openLoop: result.openLoop,
    missing: result.missing,
    notes: result.notes,
    cpuSec: result.cpuSec === undefined ? null : round(result.cpuSec, 3),
    groups: result.groups.filter((group) => group.samples.length > 0).map((group) => {
      const rates = rateSpread(group.samples);
      return {
        role: group.role,
        latencyKind: group.latencyKind,
        clients: group.samples.length,
        msgs: group.msgs,
        bytes: group.bytes,
        durationSec: round(group.durationSec, 6),
        msgsPerSec: round(group.msgsPerSec, 1),
        bytesPerSec: round(group.bytesPerSec, 1),
        clientRates: { min: round(rates.min, 1), avg: round(rates.avg, 1), max: round(rates.max, 1), stddev: round(rates.stddev, 1) },
        latency: group.latency(),
        perClient: group.samples.map((sample) => ({
          id: sample.id,
          msgs: sample.msgs,
          bytes: sample.bytes,
          durationSec: round(sample.durationSec, 6),
          msgsPerSec: round(sample.msgsPerSec, 1),
          bytesPerSec: round(sample.bytesPerSec, 1),
          latency: sample.latency.summary(),
        })),
      };
    }),
  };
}

export function jsonSummary(startedAt: Date, runs: Array<{ runId: string; result: RunResult }>): JsonSummary {
  return { tool: "nats-bun bench", startedAt: startedAt.toISOString(), runs: runs.map(({ runId, result }) => jsonRun(runId, result)) };
}
