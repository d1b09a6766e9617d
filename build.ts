// Compiles the single executable for every release target with `bun build --compile`.
//   bun run build.ts              → dist/nats-bun-linux-x64 and dist/nats-bun-linux-arm64
//   bun run build.ts --host-only  → only the binary for this machine (what the tests start)
// Settings (see README "Build"): minify on, bytecode on — chosen by measured startup time.
import { $ } from "bun";
import { mkdirSync } from "node:fs";

const hostOnly = process.argv.includes("--host-only");
const targets = [
  { target: "bun-linux-x64", out: "dist/nats-bun-linux-x64", arch: "x64" },
  { target: "bun-linux-arm64", out: "dist/nats-bun-linux-arm64", arch: "arm64" },
].filter((t) => !hostOnly || t.arch === process.arch);

mkdirSync("dist", { recursive: true });
for (const t of targets) {
  const started = performance.now();
  const r = await $`bun build src/main.ts --compile --minify --bytecode --target=${t.target} --outfile ${t.out}`.quiet().nothrow();
  if (r.exitCode !== 0) {
    console.error(r.stderr.toString());
    process.exit(1);
  }
  const size = Bun.file(t.out).size;
  console.log(`built ${t.out} (${(size / 1048576).toFixed(1)} MiB) in ${Math.round(performance.now() - started)} ms`);
}
