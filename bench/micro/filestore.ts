// Micro benchmark of the stream stores without a server: appends per second for 16 B and
// 128 B payloads in the memory store and the file store (default block size, sync_interval
// policy, i.e. one pwrite per append and fsync in the background), with coalesced writes
// (one pwrite per 64 appends, as a server read batch would give), appends with
// `sync: always`, loads of sealed (mapped) and active messages, and the time to open —
// recover — a store of 1,000,000 messages: after a clean stop (block indexes present) and
// with every index deleted (each block scanned and its records' checksums verified).
// Run: bun bench/micro/filestore.ts [messagesToRecover]
import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryStore, flushFileStores, openFileStore, type StoreConfig, type StreamStore } from "../../src/jetstream/store/store.ts";

const recoverCount = Number(process.argv[2] ?? 1_000_000);
const cfg: StoreConfig = { name: "BENCH", storage: "file", maxMsgs: 0, maxBytes: 0, maxAgeMs: 0, maxMsgsPerSubject: 0, discard: "old", discardNewPerSubject: false };
const dirs: string[] = [];
const newDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "nats-bun-bench-fs-"));
  dirs.push(d);
  return d;
};

function rate(n: number, ns: number): string {
  return `${((n / ns) * 1e9).toFixed(0).padStart(9)} msgs/s  ${(ns / n).toFixed(0).padStart(6)} ns/msg`;
}

/** Best of `reps` runs of n appends into a fresh store each time; batch > 0: flushFileStores() after every `batch` appends (coalesced writes). */
function appends(name: string, make: () => StreamStore, payload: number, n: number, reps = 5, batch = 0): void {
  const data = new Uint8Array(payload).fill(120);
  const subjects = Array.from({ length: 16 }, (_, i) => `bench.orders.${i}`);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const s = make();
    const t0 = Bun.nanoseconds();
    if (batch === 0) for (let i = 0; i < n; i++) s.storeMsg(subjects[i & 15], null, data);
    else
      for (let i = 0; i < n; i++) {
        s.storeMsg(subjects[i & 15], null, data);
        if (i % batch === batch - 1) flushFileStores();
      }
    flushFileStores();
    const dt = Bun.nanoseconds() - t0;
    best = Math.min(best, dt);
    s.destroy();
  }
  console.log(`${name.padEnd(40)} ${rate(n, best)}`);
}

console.log(`appends (best of 5, fresh store each)`);
for (const payload of [16, 128]) {
  appends(`memory  ${payload} B`, () => createMemoryStore({ ...cfg, storage: "memory" }), payload, 500_000);
  appends(`file    ${payload} B`, () => openFileStore(newDir(), cfg), payload, 500_000);
}
appends(`file    16 B, coalesced, 64 per write`, () => openFileStore(newDir(), cfg, { coalesceWrites: true }), 16, 500_000, 5, 64);
appends(`file    128 B, coalesced, 64 per write`, () => openFileStore(newDir(), cfg, { coalesceWrites: true }), 128, 500_000, 5, 64);
appends(`file    128 B, sync: always`, () => openFileStore(newDir(), cfg, { syncAlways: true }), 128, 2_000, 3);
appends(`file    128 B, sync: always, 64 per sync`, () => openFileStore(newDir(), cfg, { syncAlways: true, coalesceWrites: true }), 128, 64_000, 3, 64);

// Loads: a store with sealed blocks and an active one.
{
  const s = openFileStore(newDir(), cfg);
  const data = new Uint8Array(128).fill(1);
  const n = 200_000;
  for (let i = 0; i < n; i++) s.storeMsg(`bench.orders.${i & 15}`, null, data);
  for (let round = 0; round < 2; round++) {
    let t0 = Bun.nanoseconds();
    for (let q = 1; q <= 100_000; q++) s.loadMsg(q);
    const sealed = Bun.nanoseconds() - t0;
    t0 = Bun.nanoseconds();
    for (let q = n - 9_999; q <= n; q++) s.loadMsg(q);
    const active = Bun.nanoseconds() - t0;
    if (round === 1) {
      console.log(`${"file    load 128 B, sealed (mmap)".padEnd(40)} ${rate(100_000, sealed)}`);
      console.log(`${"file    load 128 B, active block".padEnd(40)} ${rate(10_000, active)}`);
    }
  }
  s.destroy();
}

// Recovery of a big store.
{
  const dir = newDir();
  const s = openFileStore(dir, cfg);
  const data = new Uint8Array(16).fill(7);
  let t0 = Bun.nanoseconds();
  for (let i = 0; i < recoverCount; i++) s.storeMsg(`bench.orders.${i & 15}`, null, data);
  const filled = Bun.nanoseconds() - t0;
  s.stop();
  const msgs = join(dir, "msgs");
  const blocks = readdirSync(msgs).filter((f) => f.endsWith(".blk"));
  const size = blocks.reduce((n, f) => n + statSync(join(msgs, f)).size, 0);
  console.log(`\nrecovery: ${recoverCount} messages of 16 B, ${blocks.length} blocks, ${(size / 1048576).toFixed(1)} MiB (filled in ${(filled / 1e6).toFixed(0)} ms)`);
  for (const withIndexes of [true, false]) {
    if (!withIndexes) for (const f of readdirSync(msgs)) if (f.endsWith(".idx")) unlinkSync(join(msgs, f));
    Bun.gc(true);
    t0 = Bun.nanoseconds();
    const r = openFileStore(dir, cfg);
    const opened = Bun.nanoseconds() - t0;
    const st = r.state();
    if (st.messages !== recoverCount) throw new Error(`recovered ${st.messages} of ${recoverCount}`);
    console.log(`${(withIndexes ? "open with block indexes" : "open, indexes deleted (scan + CRC)").padEnd(40)} ${(opened / 1e6).toFixed(0).padStart(6)} ms  (${rate(recoverCount, opened).trim()})`);
    r.stop();
  }
}

for (const d of dirs) rmSync(d, { recursive: true, force: true });
