// The summary a person reads, in the style of natscli's internal/bench/stats.go:
//   NATS Core NATS publisher stats: 5,012,345 msgs/sec ~ 76 MiB/sec
// plus the lines natscli does not have: end-to-end latency percentiles from the HDR histogram.
import type { LatencySummary } from "../latency.ts";
import { rateSpread, type RunResult, type SampleGroup } from "../stats.ts";
import { formatBytes, formatCount } from "../units.ts";

/** Three significant figures or whole numbers, as HDR's precision warrants. */
function fixed(value: number): string {
  if (value >= 99.95) return formatCount(value);
  return value.toFixed(value >= 9.995 ? 1 : 2);
}

export function formatLatencyLine(label: string, latency: LatencySummary): string {
  return `${label} (${formatCount(latency.count)} samples, µs): min ${fixed(latency.minUs)} | avg ${fixed(latency.meanUs)}`
    + ` | P50 ${fixed(latency.p50Us)} | P90 ${fixed(latency.p90Us)} | P99 ${fixed(latency.p99Us)}`
    + ` | P99.9 ${fixed(latency.p999Us)} | P99.99 ${fixed(latency.p9999Us)} | max ${fixed(latency.maxUs)}`
    + ` | stddev ${fixed(latency.stddevUs)}`;
}

function groupLines(title: string, group: SampleGroup, openLoop: boolean): string[] {
  const lines: string[] = [];
  const name = `${title} ${group.role}`;
  const rate = `${formatCount(group.msgsPerSec)} msgs/sec ~ ${formatBytes(group.bytesPerSec)}/sec`;
  if (group.samples.length === 1) {
    lines.push(`NATS ${name} stats: ${rate} (${formatCount(group.msgs)} msgs in ${group.durationSec.toFixed(3)}s)`);
  } else {
    lines.push(`NATS ${name} aggregated stats: ${rate} (${formatCount(group.msgs)} msgs in ${group.durationSec.toFixed(3)}s)`);
    group.samples.forEach((sample, index) => {
      lines.push(` [${index + 1}] ${formatCount(sample.msgsPerSec)} msgs/sec ~ ${formatBytes(sample.bytesPerSec)}/sec (${formatCount(sample.msgs)} msgs)`);
    });
    const rates = rateSpread(group.samples);
    lines.push(` message rates min ${formatCount(rates.min)} | avg ${formatCount(rates.avg)} | max ${formatCount(rates.max)} | stddev ${formatCount(rates.stddev)} msgs`);
  }
  const latency = group.latency();
  if (latency !== null) {
    const label = group.latencyKind === "end-to-end"
      ? `End-to-end latency (publish→deliver${openLoop ? ", from intended send times" : ""})`
      : "Latency per operation";
    lines.push(` ${formatLatencyLine(label, latency)}`);
  }
  return lines;
}

export function formatReport(result: RunResult): string {
  const lines: string[] = [];
  for (const group of result.groups) {
    if (group.samples.length > 0) lines.push(...groupLines(result.title, group, result.openLoop));
  }
  if (result.missing > 0) lines.push(`WARNING: ${formatCount(result.missing)} expected messages were not received before the timeout`);
  for (const note of result.notes) lines.push(note);
  return lines.join("\n");
}

/** `HH:MM:SS` prefix of natscli's progress lines. */
export function clockPrefix(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}
