// What every scenario gets from main.ts: where to log, and the progress bar.
import type { Progress } from "../output/progress.ts";
import type { BenchRun } from "../options.ts";
import type { RunResult } from "../stats.ts";

export interface ScenarioContext {
  /** natscli-style `HH:MM:SS …` lines for a person (stderr when --json owns stdout). */
  log(line: string): void;
  progress: Progress;
}

export type Scenario = (run: BenchRun, context: ScenarioContext) => Promise<RunResult>;

/** Closes everything a scenario opened, even when it failed half-way; errors on close are secondary. */
export async function closeAll(closables: Array<{ close(): Promise<void> }>): Promise<void> {
  await Promise.allSettled(closables.map((closable) => closable.close()));
}
