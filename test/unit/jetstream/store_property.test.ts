// Property test: the memory store and the file store, given the same random sequence of
// operations (appends, removals, erases, every purge form, compact, skips, limit changes, time
// passing), return the same results and end in the same state — and so does the file store
// after a clean reopen, a crash (its directory copied at that instant) or a block compaction
// in the middle of the sequence. Byte accounting differs by design and is checked against each
// store's own formula; deleted() differs only in listing a deleted last sequence (file store).
import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { cpSync, rmSync } from "node:fs";
import { createMemoryStore, flushFileStores, openFileStore, StoreError, type StoreConfig, type StreamStore } from "../../../src/jetstream/store/store.ts";
import type { FileStore } from "../../../src/jetstream/store/filestore.ts";
import { FakeClock, HDR, bytes, config, msgSize, tempDir } from "./store_harness.ts";

const SUBJECTS = ["a", "b", "c.1", "c.2", "d.x.y"];
const FILTERS = ["", ">", "a", "c.*", "c.>", "*.x.*", "zz"];

type Op =
  | { op: "store"; subj: number; len: number; hdr: boolean; ttlMs: number }
  | { op: "remove"; seq: number }
  | { op: "erase"; seq: number }
  | { op: "purge"; subject: number; seq: number; keep: number }
  | { op: "compact"; seq: number }
  | { op: "skip" }
  | { op: "time"; ms: number }
  | { op: "limits"; maxMsgs: number; maxPer: number; maxAgeMs: number }
  | { op: "reopen"; crash: boolean }
  | { op: "blocks" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant("store" as const), subj: fc.nat(SUBJECTS.length - 1), len: fc.nat(40), hdr: fc.boolean(), ttlMs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3000 })) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("remove" as const), seq: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("erase" as const), seq: fc.nat(60) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("purge" as const), subject: fc.nat(FILTERS.length - 1), seq: fc.oneof(fc.constant(0), fc.nat(60)), keep: fc.oneof(fc.constant(0), fc.nat(5)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("compact" as const), seq: fc.nat(70) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("skip" as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("time" as const), ms: fc.integer({ min: 1, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("limits" as const), maxMsgs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })), maxPer: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })), maxAgeMs: fc.oneof(fc.constant(0), fc.integer({ min: 1000, max: 6000 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("reopen" as const), crash: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("blocks" as const) }) },
);

const cfgArb = fc.record({
  maxMsgs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 })),
  maxMsgsPerSubject: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
  maxAgeMs: fc.oneof(fc.constant(0), fc.integer({ min: 1000, max: 8000 })),
  discard: fc.constantFrom("old" as const, "new" as const),
  discardNewPerSubject: fc.boolean(),
  firstSeq: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 20 })),
});

const dirs: string[] = [];
const open: StreamStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) {
    try {
      s.stop();
    } catch {
      // stopped already
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs one call on a store: its result, or the StoreError code it threw. */
function attempt<T>(f: () => T): T | string {
  try {
    return f();
  } catch (e) {
    if (e instanceof StoreError) return `error:${e.code}`;
    if (e instanceof RangeError) return "range";
    throw e;
  }
}

function observe(s: StreamStore, kind: "memory" | "file"): unknown {
  const st = s.state();
  const msgs: unknown[] = [];
  let bytesSum = 0;
  for (let q = st.firstSeq; q <= st.lastSeq; q++) {
    const m = s.loadMsg(q);
    if (m === null) continue;
    bytesSum += msgSize(kind, m.subject, m.hdr, m.data);
    msgs.push([m.seq, m.subject, m.hdr === null ? null : Array.from(m.hdr).length, Array.from(m.data), m.ts]);
  }
  expect(st.bytes).toBe(bytesSum);
  let deleted = s.deleted();
  if (kind === "file" && deleted.length > 0 && deleted[deleted.length - 1] === st.lastSeq) deleted = deleted.slice(0, -1);
  const queries: unknown[] = [];
  for (const f of FILTERS) {
    queries.push(s.loadLastMsg(f)?.seq ?? null, s.loadNextMsg(f, st.firstSeq + 2)?.seq ?? null, s.numPending(st.firstSeq + 1, f, false), s.numPending(st.firstSeq + 1, f, true), [...s.subjectsTotals(f)].sort());
  }
  return { state: { ...st, bytes: 0 }, msgs, deleted, queries };
}

describe("memory store and file store agree", () => {
  test("on random operation sequences, through reopens and crashes", () => {
    fc.assert(
      fc.property(cfgArb, fc.array(opArb, { minLength: 10, maxLength: 60, size: "max" }), fc.integer({ min: 200, max: 2000 }), fc.boolean(), (cfgParts, ops, blockSizeBytes, coalesceWrites) => {
        const clock = new FakeClock();
        let cfg: StoreConfig = config({ ...cfgParts });
        const mem = createMemoryStore({ ...cfg, storage: "memory" }, { clock });
        open.push(mem);
        let dir = tempDir("nats-bun-prop-");
        dirs.push(dir);
        const fileOptions = { clock, blockSizeBytes, coalesceWrites, warn: (t: string) => { throw new Error(`unexpected warning: ${t}`); } };
        let file = openFileStore(dir, cfg, fileOptions);
        open.push(file);
        for (const o of ops) {
          let a: unknown;
          let b: unknown;
          switch (o.op) {
            case "store": {
              const data = new Uint8Array(o.len).map((_, i) => (i * 7 + o.len) & 0xff);
              const hdr = o.hdr ? HDR : null;
              const ttl = o.ttlMs > 0 ? o.ttlMs : undefined;
              a = attempt(() => mem.storeMsg(SUBJECTS[o.subj], hdr, data, ttl));
              b = attempt(() => file.storeMsg(SUBJECTS[o.subj], hdr, data, ttl));
              break;
            }
            case "remove":
              a = mem.removeMsg(o.seq);
              b = file.removeMsg(o.seq);
              break;
            case "erase":
              a = mem.eraseMsg(o.seq);
              b = file.eraseMsg(o.seq);
              break;
            case "purge": {
              const opts = { subject: FILTERS[o.subject], seq: o.seq, keep: o.keep };
              a = attempt(() => mem.purge(opts));
              b = attempt(() => file.purge(opts));
              break;
            }
            case "compact":
              a = mem.compact(o.seq);
              b = file.compact(o.seq);
              break;
            case "skip":
              a = mem.skipMsg();
              b = file.skipMsg();
              break;
            case "time":
              clock.advanceMs(o.ms);
              // Expiry runs on a timer; updateConfig runs it now, in both.
              mem.updateConfig({ ...cfg, storage: "memory" });
              file.updateConfig(cfg);
              break;
            case "limits":
              cfg = { ...cfg, maxMsgs: o.maxMsgs, maxMsgsPerSubject: o.maxPer, maxAgeMs: o.maxAgeMs };
              mem.updateConfig({ ...cfg, storage: "memory" });
              file.updateConfig(cfg);
              break;
            case "reopen":
              if (o.crash) {
                // With coalesced writes the server flushes stores before any ack leaves.
                flushFileStores();
                const copy = tempDir("nats-bun-prop-");
                dirs.push(copy);
                cpSync(dir, copy, { recursive: true });
                file.stop();
                dir = copy;
              } else file.stop();
              file = openFileStore(dir, cfg, fileOptions);
              open.push(file);
              // Opening expires what is due; the memory store does it at its next chance.
              mem.updateConfig({ ...cfg, storage: "memory" });
              break;
            case "blocks":
              (file as FileStore).compactBlocks();
              break;
          }
          expect(b).toEqual(a);
          expect(observe(file, "file")).toEqual(observe(mem, "memory"));
        }
        // And once more from disk.
        file.stop();
        file = openFileStore(dir, cfg, fileOptions);
        open.push(file);
        mem.updateConfig({ ...cfg, storage: "memory" });
        expect(observe(file, "file")).toEqual(observe(mem, "memory"));
        for (const s of open.splice(0)) s.stop();
        for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 120), seed: process.env.PROP_SEED !== undefined ? Number(process.env.PROP_SEED) : 42 },
    );
  }, 60_000);
});
