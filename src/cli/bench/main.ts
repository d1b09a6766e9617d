// `nats-bun bench …`: parses the command line, runs each scenario, prints the natscli-style
// summary (or JSON with --json) and writes the CSV. Returns the process exit code:
// 0 ok, 1 a run failed or lost messages, 2 bad command line.
import { writeFileSync } from "node:fs";
import { benchUsage, BenchUsageError, parseBenchArgs } from "./args.ts";
import type { BenchRun, ScenarioKind } from "./options.ts";
import { formatCsv } from "./output/csv.ts";
import { jsonSummary } from "./output/json.ts";
import { createProgress } from "./output/progress.ts";
import { clockPrefix, formatReport } from "./output/report.ts";
import { runCorePubSub } from "./scenarios/core_pubsub.ts";
import type { Scenario, ScenarioContext } from "./scenarios/context.ts";
import type { RunResult } from "./stats.ts";

/** Scenarios are loaded on demand: `bench pub` need not load the JetStream client. */
async function scenarioFor(kind: ScenarioKind): Promise<Scenario> {
  switch (kind) {
    case "pub":
    case "sub":
    case "pubsub":
      return runCorePubSub;
    case "service-serve":
    case "service-request":
    case "service-both":
      return (await import("./scenarios/service.ts")).runService;
    case "js-pub":
      return (await import("./scenarios/js_pub.ts")).runJsPub;
    case "js-consume":
    case "js-fetch":
    case "js-ordered":
      return (await import("./scenarios/js_consume.ts")).runJsConsume;
    case "js-get":
      return (await import("./scenarios/js_get.ts")).runJsGet;
    case "kv-put":
    case "kv-get":
      return (await import("./scenarios/kv.ts")).runKv;
  }
}

function newRunId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 22);
}

export async function runBench(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`nats-bun bench: ${error.message} (see nats-bun bench --help)\n`);
    return 2;
  }
  if (command === null) {
    process.stdout.write(benchUsage);
    return 0;
  }
  // With --json, stdout carries only the JSON document; everything for people goes to stderr.
  const say = (text: string): void => {
    (command.json ? process.stderr : process.stdout).write(`${text}\n`);
  };
  const context: ScenarioContext = {
    log: (line) => say(`${clockPrefix()} ${line}`),
    progress: createProgress(command.progress),
  };
  for (const warning of command.warnings) process.stderr.write(`nats-bun bench: ${warning}\n`);

  const startedAt = new Date();
  const results: Array<{ runId: string; result: RunResult }> = [];
  let exitCode = 0;
  for (const run of command.runs) {
    let result: RunResult;
    try {
      const scenario = await scenarioFor(run.kind);
      const cpuBefore = process.cpuUsage();
      result = await scenario(run, context);
      const cpu = process.cpuUsage(cpuBefore);
      result.cpuSec = (cpu.user + cpu.system) / 1e6;
    } catch (error) {
      process.stderr.write(`nats-bun bench: ${describe(run, error)}\n`);
      exitCode = 1;
      break;
    }
    results.push({ runId: newRunId(), result });
    say(formatReport(result));
    if (result.missing > 0) exitCode = 1;
  }
  if (command.csvFile !== "" && results.length > 0) {
    writeFileSync(command.csvFile, formatCsv(results));
    say(`Saved metric data in csv file ${command.csvFile}`);
  }
  if (command.json) process.stdout.write(`${JSON.stringify(jsonSummary(startedAt, results), null, 2)}\n`);
  return exitCode;
}

function describe(run: BenchRun, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${run.kind.replace("-", " ")} on ${run.server} failed: ${message}`;
}
