// Summarises a V8/JSC `.cpuprofile` (what `bun --cpu-prof --cpu-prof-dir DIR …` writes on
// exit): the functions with the most self time, and with the most inclusive time (the
// function or anything it called was running), each as a share of the samples and as ms.
//
// Bun's profiler takes no samples while the thread sleeps in the event loop, so the time
// between two samples can span an idle gap; charging it to a sample would make whatever ran
// last before an idle second look expensive. Every sample counts as one sampling interval
// instead (the median gap between samples, ~1 ms by default).
//
//   bun bench/cpuprofile.ts PROFILE.cpuprofile [--top N] [--idle] [--exclude TEXT]…
//
// Samples in the idle/program/GC pseudo-nodes are counted in the total but shown apart;
// `--idle` keeps them in the table. `--exclude TEXT` drops every sample with a frame whose
// name or file contains TEXT (e.g. `--exclude require` for module loading at start-up, or
// the publish path when only a consumer's share is wanted). Used for the profile evidence in
// bench/README.md (bench/profile.ts runs it).
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const pseudoFunctions = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function label(node: ProfileNode): string {
  const frame = node.callFrame;
  const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  if (frame.url === "") return name;
  const file = frame.url.startsWith("/") ? relative(process.cwd(), frame.url) : frame.url;
  return `${name}  ${file}:${frame.lineNumber + 1}`;
}

function main(argv: string[]): number {
  const path = argv.find((argument, index) => !argument.startsWith("--") && !["--top", "--exclude"].includes(argv[index - 1]));
  if (path === undefined) {
    console.error("usage: bun bench/cpuprofile.ts PROFILE.cpuprofile [--top N] [--idle] [--exclude TEXT]…");
    return 2;
  }
  const topIndex = argv.indexOf("--top");
  const top = topIndex >= 0 ? Number(argv[topIndex + 1]) : 25;
  const showIdle = argv.includes("--idle");
  const excluded = argv.flatMap((argument, index) => (argument === "--exclude" && argv[index + 1] !== undefined ? [argv[index + 1]] : []));
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfUs = new Map<string, number>();
  /** Per self-time entry: time by calling function, to place natives and anonymous functions. */
  const callers = new Map<string, Map<string, number>>();
  const inclusiveUs = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  let excludedSamples = 0;
  const gaps = profile.timeDeltas.slice(1).sort((a, b) => a - b);
  const intervalUs = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : 1000;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const deltaUs = intervalUs;
    const node = byId.get(profile.samples[index]);
    if (node === undefined) continue;
    if (excluded.length > 0) {
      let drop = false;
      for (let id: number | undefined = node.id; id !== undefined && !drop; id = parent.get(id)) {
        const frame = label(byId.get(id) as ProfileNode);
        drop = excluded.some((text) => frame.includes(text));
      }
      if (drop) {
        excludedSamples += 1;
        continue;
      }
    }
    totalUs += deltaUs;
    const self = label(node);
    if (pseudoFunctions.has(node.callFrame.functionName)) idleUs += deltaUs;
    selfUs.set(self, (selfUs.get(self) ?? 0) + deltaUs);
    const callerId = parent.get(node.id);
    const caller = callerId === undefined ? "(none)" : label(byId.get(callerId) as ProfileNode);
    const byCaller = callers.get(self) ?? new Map<string, number>();
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + deltaUs);
    callers.set(self, byCaller);
    const onStack = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id) as ProfileNode;
      if (frame.callFrame.functionName === "(root)") continue;
      onStack.add(label(frame));
    }
    for (const name of onStack) inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + deltaUs);
  }

  const print = (title: string, table: Map<string, number>, withCallers: boolean): void => {
    console.log(`\n${title}`);
    const rows = [...table.entries()]
      .filter(([name]) => showIdle || !pseudoFunctions.has(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [name, us] of rows) {
      console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${name}`);
      if (!withCallers) continue;
      const main = [...(callers.get(name) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]).slice(0, 2);
      console.log(`${" ".repeat(21)}← ${main.map(([caller, callerUs]) => `${caller} (${Math.round((100 * callerUs) / us)} %)`).join(", ")}`);
    }
  };
  console.log(`${path}: ${profile.samples.length} samples of ~${intervalUs} µs`
    + `${excluded.length > 0 ? `, ${excludedSamples} dropped (--exclude ${excluded.join(", ")})` : ""}; `
    + `${profile.samples.length - excludedSamples} kept (≈ ${(totalUs / 1e6).toFixed(2)} s busy), of which idle/program/GC ${((100 * idleUs) / Math.max(totalUs, 1)).toFixed(1)} %`);
  print("Self time (← the callers it was sampled under)", selfUs, true);
  print("Inclusive time", inclusiveUs, false);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
