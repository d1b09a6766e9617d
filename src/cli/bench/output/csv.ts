// `--csv FILE`: natscli's CSV, one row per client. Columns as natscli's stats.go: run id,
// client id (P… writers, S… readers, numbered per role), counts, rates, duration in seconds,
// then the client's latency in microseconds (per operation for writers, end to end for
// readers; empty when not measured).
import { rolePrefix, type RunResult } from "../stats.ts";

export const csvHeader =
  "#RunID, ClientID, MsgCount, MsgBytes, MsgsPerSec, BytesPerSec, DurationSecs, "
  + "MinLatencyMicroSecs, AvgLatencyMicroSecs, MaxLatencyMicroSecs, P50LatencyMicroSecs, P90LatencyMicroSecs, "
  + "P99LatencyMicroSecs, P99.9LatencyMicroSecs, StdDevLatencyMicroSecs";

export function csvRows(runId: string, result: RunResult): string[] {
  const rows: string[] = [];
  for (const group of result.groups) {
    group.samples.forEach((sample, index) => {
      const latency = sample.latency.summary();
      const latencyColumns = latency === null
        ? ",,,,,,,"
        : [latency.minUs, latency.meanUs, latency.maxUs, latency.p50Us, latency.p90Us, latency.p99Us, latency.p999Us, latency.stddevUs]
          .map((value) => value.toFixed(3)).join(",");
      rows.push([
        runId,
        `${rolePrefix[group.role]}${index}`,
        sample.msgs,
        sample.bytes,
        Math.round(sample.msgsPerSec),
        Math.round(sample.bytesPerSec),
        sample.durationSec.toFixed(6),
        latencyColumns,
      ].join(","));
    });
  }
  return rows;
}

export function formatCsv(runs: Array<{ runId: string; result: RunResult }>): string {
  return [csvHeader, ...runs.flatMap(({ runId, result }) => csvRows(runId, result))].join("\n") + "\n";
}
