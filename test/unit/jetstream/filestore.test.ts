// File-store-only behaviour: everything survives a reopen; a crash (simulated by copying the
// directory at an arbitrary moment — exactly what the OS holds after kill -9 — or by a real
// SIGKILL of a child process) loses no acknowledged message; torn tails and damaged records
// are cut off with a warning; block indexes are rebuilt when missing or stale; empty blocks
// are removed and sparse ones rewritten without losing deletes; erase overwrites the bytes.
import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { flushFileStores, openFileStore, StoreError, type StreamStore } from "../../../src/jetstream/store/store.ts";
import { fileStoreMappedBlocksMax, type FileStore } from "../../../src/jetstream/store/filestore.ts";
import { RECORD_HEADER_BYTES } from "../../../src/jetstream/store/record.ts";
import { FakeClock, HDR, StoreBox, bytes, config, dump, tempDir, text } from "./store_harness.ts";

const boxes: StoreBox[] = [];
const dirs: string[] = [];
afterEach(() => {
  while (boxes.length > 0) boxes.pop()!.close();
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function openBox(overrides: Parameters<typeof config>[0] = {}, options: ConstructorParameters<typeof StoreBox>[2] = {}): StoreBox {
  const box = new StoreBox("file", config(overrides), options);
  boxes.push(box);
  return box;
}

/** What the OS holds right now, as another directory (a kill -9 at this instant leaves exactly this). */
function crashCopy(box: StoreBox): string {
  const copy = tempDir("nats-bun-crash-");
  dirs.push(copy);
  cpSync(box.dir!, copy, { recursive: true });
  return copy;
}

function openDir(dir: string, overrides: Parameters<typeof config>[0] = {}, warnings: string[] = [], options: { clock?: FakeClock; blockSizeBytes?: number } = {}): StreamStore {
  const s = openFileStore(dir, config(overrides), { warn: (t) => warnings.push(t), ...options });
  stores.push(s);
  return s;
}
const stores: StreamStore[] = [];
afterEach(() => {
  while (stores.length > 0) {
    try {
      stores.pop()!.stop();
    } catch {
      // stopped already
    }
  }
});

const msgsDir = (dir: string): string => join(dir, "msgs");
const blockFiles = (dir: string): string[] =>
  readdirSync(msgsDir(dir))
    .filter((n) => n.endsWith(".blk"))
    .sort((a, b) => parseInt(a) - parseInt(b));
const indexFiles = (dir: string): string[] =>
  readdirSync(msgsDir(dir))
    .filter((n) => n.endsWith(".idx"))
    .sort((a, b) => parseInt(a) - parseInt(b));
const lastBlock = (dir: string): string => join(msgsDir(dir), blockFiles(dir).at(-1)!);

/** Record length of a message without headers. */
const recLen = (subject: string, data: string): number => RECORD_HEADER_BYTES + subject.length + data.length;

describe("file store: reopen", () => {
  test("keeps messages, headers, timestamps, deletes and state across blocks", () => {
    const box = openBox({}, { blockSizeBytes: 512 });
    const s = box.store;
    for (let i = 1; i <= 60; i++) s.storeMsg(`a.${i % 4}`, i % 5 === 0 ? HDR : null, bytes(`msg-${i}`), undefined, BigInt(i) * 1000n);
    for (const q of [1, 2, 7, 30, 31, 59]) s.removeMsg(q);
    s.eraseMsg(40);
    expect(blockFiles(box.dir!).length).toBeGreaterThan(5);
    const before = { state: s.state(), dump: dump(s), deleted: s.deleted(), totals: s.subjectsTotals("") };
    const r = box.reopen();
    expect(r.state()).toEqual(before.state);
    expect(dump(r)).toEqual(before.dump);
    expect(r.deleted()).toEqual(before.deleted);
    expect(r.subjectsTotals("")).toEqual(before.totals);
    expect(r.loadMsg(5)!.hdr).toEqual(HDR);
    expect(r.loadMsg(5)!.ts).toBe(5000n);
    expect(r.loadLastMsg("a.3")!.seq).toBe(55);
    expect(r.storeMsg("a.1", null, bytes("next")).seq).toBe(61);
    expect(box.warnings).toEqual([]);
  });

  test("an emptied stream keeps first and last sequence (purge, compact past the end, skip, removing the last)", () => {
    const box = openBox();
    let s = box.store;
    for (let i = 0; i < 5; i++) s.storeMsg("a", null, bytes("x"), undefined, 77n + BigInt(i));
    s.purge();
    s = box.reopen();
    expect(s.state()).toMatchObject({ messages: 0, firstSeq: 6, lastSeq: 5, lastTs: 81n, numDeleted: 0 });
    s.compact(50);
    s = box.reopen();
    expect(s.state()).toMatchObject({ messages: 0, firstSeq: 50, lastSeq: 49, lastTs: 81n });
    expect(s.skipMsg()).toBe(50);
    s = box.reopen();
    expect(s.state()).toMatchObject({ messages: 0, firstSeq: 51, lastSeq: 50 });
    s.storeMsg("a", null, bytes("y"), undefined, 99n);
    s.storeMsg("a", null, bytes("z"), undefined, 100n);
    s.removeMsg(52);
    s = box.reopen();
    expect(s.state()).toMatchObject({ messages: 1, firstSeq: 51, lastSeq: 52, lastTs: 100n, numDeleted: 1 });
    expect(s.deleted()).toEqual([52]);
    s.removeMsg(51);
    s = box.reopen();
    expect(s.state()).toMatchObject({ messages: 0, firstSeq: 53, lastSeq: 52 });
    expect(s.storeMsg("a", null, bytes("w")).seq).toBe(53);
  });

  test("first_seq of an empty stream, and a stream purged down to it", () => {
    const box = openBox({ firstSeq: 500 });
    expect(box.reopen().state()).toMatchObject({ firstSeq: 500, lastSeq: 499 });
    box.store.storeMsg("a", null, bytes("x"));
    box.store.purge();
    expect(box.reopen().state()).toMatchObject({ messages: 0, firstSeq: 501, lastSeq: 500 });
  });

  test("per-message TTL and max_age apply after a restart", () => {
    const clock = new FakeClock();
    const box = openBox({ maxAgeMs: 10_000 }, { clock });
    const s = box.store;
    s.storeMsg("a", null, bytes("old"));
    clock.advanceMs(5_000);
    s.storeMsg("b", null, bytes("ttl"), 1_000);
    s.storeMsg("c", null, bytes("new"));
    s.stop();
    clock.advanceMs(2_000); // the TTL passed while stopped
    let r = box.reopen();
    expect(dump(r).map(([q]) => q)).toEqual([1, 3]);
    r.stop();
    clock.advanceMs(4_000); // max_age of the first passed
    r = box.reopen();
    expect(dump(r).map(([q]) => q)).toEqual([3]);
    expect(r.state()).toMatchObject({ firstSeq: 3, lastSeq: 3 });
  });

  test("expiry timers are armed again on open", async () => {
    const box = openBox({ maxAgeMs: 60_000 });
    box.store.storeMsg("a", null, bytes("keep"));
    box.store.storeMsg("b", null, bytes("short"), 40);
    const r = box.reopen();
    const gone = await new Promise<[number, string]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no TTL expiry within 2 s of reopening")), 2000);
      r.onRemove((seq, _subject, reason) => {
        clearTimeout(t);
        resolve([seq, reason]);
      });
    });
    expect(gone).toEqual([2, "ttl"]);
    expect(dump(r).map(([q]) => q)).toEqual([1]);
  });

  test("consumer state survives stop and reopen; sync makes updates durable", () => {
    const box = openBox();
    const c = box.store.consumerStore("dur/1");
    c.writeMeta({ name: "dur/1" });
    const st = { delivered: { consumerSeq: 3, streamSeq: 3 }, ackFloor: { consumerSeq: 1, streamSeq: 1 }, pending: new Map([[2, { consumerSeq: 2, tsMs: 5 }]]), redelivered: new Map([[2, 3]]) };
    c.update(st);
    // Coalesced: not written yet at this instant…
    const early = crashCopy(box);
    expect(existsSync(join(early, "obs", encodeURIComponent("dur/1"), "o.dat"))).toBe(false);
    // …but after sync() it is.
    c.sync();
    const synced = crashCopy(box);
    const s2 = openDir(synced);
    expect(s2.consumerNames()).toEqual(["dur/1"]);
    expect(s2.consumerStore("dur/1").state()).toEqual(st);
    expect(s2.consumerStore("dur/1").readMeta()).toEqual({ name: "dur/1" });
    st.delivered = { consumerSeq: 4, streamSeq: 4 };
    c.update(st);
    const r = box.reopen();
    expect(r.consumerStore("dur/1").state()!.delivered).toEqual({ consumerSeq: 4, streamSeq: 4 });
  });

  test("destroy removes the directory; leftover temporary files are removed on open", () => {
    const box = openBox({}, { blockSizeBytes: 256 });
    for (let i = 0; i < 20; i++) box.store.storeMsg("a", null, bytes("0123456789"));
    box.store.stop();
    writeFileSync(join(msgsDir(box.dir!), "1.blk.tmp"), "junk");
    writeFileSync(join(msgsDir(box.dir!), "999.idx"), "junk");
    const s = box.reopen();
    expect(readdirSync(msgsDir(box.dir!)).filter((n) => n.endsWith(".tmp") || n === "999.idx")).toEqual([]);
    expect(s.state().messages).toBe(20);
    s.destroy();
    expect(existsSync(box.dir!)).toBe(false);
  });

  test("sync: always", () => {
    const box = openBox({}, { syncAlways: true, blockSizeBytes: 300 });
    for (let i = 0; i < 10; i++) box.store.storeMsg("a", null, bytes(`v${i}`));
    box.store.removeMsg(3);
    expect(dump(box.reopen()).length).toBe(9);
  });
});

describe("file store: crash consistency", () => {
  test("removals made by limits are reproduced when their records were not written yet", () => {
    const box = openBox({ maxMsgsPerSubject: 1, maxMsgs: 4 });
    const s = box.store;
    for (const subj of ["a", "b", "c", "a", "d", "e", "a"]) s.storeMsg(subj, null, bytes(subj));
    // Copy before the end of this task: deferred tombstones and floors are not written.
    const copy = crashCopy(box);
    const expected = dump(s);
    expect(expected.map(([q]) => q)).toEqual([3, 5, 6, 7]);
    const r = openDir(copy, { maxMsgsPerSubject: 1, maxMsgs: 4 });
    expect(dump(r)).toEqual(expected);
    expect(r.state()).toEqual(s.state());
  });

  test("removals a client asked for are written before the call returns", () => {
    const box = openBox();
    const s = box.store;
    for (let i = 0; i < 10; i++) s.storeMsg("a", null, bytes(`${i}`));
    s.removeMsg(1);
    s.removeMsg(5);
    s.purge({ subject: "a", keep: 7 }); // removes 2 and 3
    s.eraseMsg(9);
    const copy = crashCopy(box);
    const r = openDir(copy);
    expect(dump(r)).toEqual(dump(s));
    expect(r.state()).toEqual(s.state());
  });

  test("a crash at any moment of a run of operations recovers the state the store had then", () => {
    // The same operations, copying the directory after every one, then opening every copy.
    const box = openBox({ maxMsgsPerSubject: 3 }, { blockSizeBytes: 400 });
    const s = box.store;
    const snapshots: Array<{ dir: string; dump: ReturnType<typeof dump>; state: ReturnType<StreamStore["state"]> }> = [];
    for (let i = 1; i <= 40; i++) {
      s.storeMsg(`k.${i % 5}`, null, bytes(`v${i}`), undefined, BigInt(i));
      if (i % 6 === 0) s.removeMsg(i - 2);
      if (i % 13 === 0) s.purge({ subject: "k.1" });
      if (i === 33) s.compact(20);
      snapshots.push({ dir: crashCopy(box), dump: dump(s), state: s.state() });
    }
    for (const snap of snapshots) {
      const r = openDir(snap.dir, { maxMsgsPerSubject: 3 });
      expect(dump(r)).toEqual(snap.dump);
      expect(r.state()).toEqual(snap.state);
      r.stop();
    }
  });

  test("kill -9 of a process appending: every acknowledged message is there and intact", async () => {
    const dir = tempDir("nats-bun-kill-");
    dirs.push(dir);
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "append_child.ts"), dir, "65536"], { stdout: "pipe", stderr: "pipe" });
    const acked = new Map<number, number>();
    const deleted = new Set<number>();
    const tried = new Set<number>();
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    const deadline = Date.now() + 20_000;
    const take = (chunk: Uint8Array | undefined): void => {
      buffered += decoder.decode(chunk, { stream: chunk !== undefined });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [a, b] = line.split(" ");
        if (a === "del") deleted.add(Number(b));
        else if (a === "try") tried.add(Number(b));
        else acked.set(Number(a), Number(b));
      }
    };
    // Read acks until well past a few blocks, then kill in the middle of the run.
    while (acked.size < 4000) {
      if (Date.now() > deadline) throw new Error(`only ${acked.size} acks in 20 s`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`child exited early: ${await new Response(child.stderr).text()}`);
      take(value);
    }
    child.kill("SIGKILL");
    await child.exited;
    // Everything the child reported before it died is still in the pipe.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      take(value);
    }
    take(undefined);
    expect(child.signalCode).toBe("SIGKILL");
    const warnings: string[] = [];
    const s = openDir(dir, { name: "CRASH" }, warnings);
    const st = s.state();
    let maxAcked = 0;
    for (const [seq, hash] of acked) {
      if (seq > maxAcked) maxAcked = seq;
      const m = s.loadMsg(seq);
      if (deleted.has(seq)) {
        expect(m).toBeNull();
        continue;
      }
      if (tried.has(seq)) continue; // killed between "try" and the removal's return: either way
      if (m === null) throw new Error(`acked message ${seq} is missing; state ${JSON.stringify(st, (_k, v) => (typeof v === "bigint" ? String(v) : v))}; warnings ${warnings.join(" | ")}; deleted near: ${[...deleted].filter((d) => Math.abs(d - seq) < 300).join(",")}`);
      expect(Bun.hash.crc32(m!.subject + ":") ^ Bun.hash.crc32(m!.data)).toBe(hash);
    }
    expect(st.lastSeq).toBeGreaterThanOrEqual(maxAcked);
    expect(blockFiles(dir).length).toBeGreaterThan(3);
  }, 30_000);
});

describe("file store: coalesced writes", () => {
  test("appends wait for flushFileStores (or the end of the task), then are in the files", async () => {
    for (const syncAlways of [false, true]) {
      const box = openBox({}, { coalesceWrites: true, syncAlways, blockSizeBytes: 1024 });
      const s = box.store;
      for (let i = 1; i <= 3; i++) s.storeMsg("a", null, bytes(`m${i}`));
      expect(dump(s).length).toBe(3); // readable at once, from memory
      expect(openDir(crashCopy(box)).state().messages).toBe(0);
      flushFileStores();
      expect(dump(openDir(crashCopy(box)))).toEqual(dump(s));
      for (let i = 4; i <= 40; i++) s.storeMsg("a", null, bytes(`m${i}`)); // crosses blocks
      s.removeMsg(2); // a removal is written at once, with the appends before it
      s.storeMsg("a", null, bytes("m41"));
      expect(openDir(crashCopy(box)).state()).toMatchObject({ messages: 39, lastSeq: 40 });
      await Promise.resolve(); // the microtask that bounds the wait
      expect(dump(openDir(crashCopy(box)))).toEqual(dump(s));
      expect(dump(box.reopen()).length).toBe(40);
    }
  });
});

describe("file store: damaged files", () => {
  function storeN(box: StoreBox, n: number): string[] {
    const payloads: string[] = [];
    for (let i = 1; i <= n; i++) {
      const p = `payload-${i}-${"x".repeat(i % 13)}`;
      payloads.push(p);
      box.store.storeMsg(`t.${i % 3}`, null, bytes(p));
    }
    return payloads;
  }

  test("a torn tail (the last record cut short) is cut off with a warning", () => {
    const box = openBox();
    const payloads = storeN(box, 20);
    box.store.stop();
    const file = lastBlock(box.dir!);
    const full = statSync(file).size;
    for (const cut of [1, 7, RECORD_HEADER_BYTES - 1, RECORD_HEADER_BYTES + 3, recLen("t.2", payloads[19]) - 1]) {
      // Restore the full file, then tear it.
      const s0 = box.reopen();
      expect(s0.state().messages).toBe(20);
      s0.stop();
      truncateSync(file, full - cut);
      box.warnings.length = 0;
      const s = box.reopen();
      expect(box.warnings.length).toBe(1);
      expect(box.warnings[0]).toMatch(/torn record at offset \d+/);
      expect(s.state()).toMatchObject({ messages: 19, lastSeq: 19 });
      expect(text(s.loadMsg(19)!.data)).toBe(payloads[18]);
      expect(statSync(file).size).toBe(full - recLen("t.2", payloads[19]));
      // Store the 20th again so the next round starts from the full file.
      s.storeMsg("t.2", null, bytes(payloads[19]));
      s.stop();
      expect(statSync(file).size).toBe(full);
    }
  });

  test("zeros or garbage after the last record are cut off", () => {
    const box = openBox();
    storeN(box, 5);
    box.store.stop();
    const file = lastBlock(box.dir!);
    const full = statSync(file).size;
    appendFileSync(file, new Uint8Array(4096));
    let s = box.reopen();
    expect(s.state().messages).toBe(5);
    expect(statSync(file).size).toBe(full);
    expect(box.warnings.length).toBe(1);
    s.stop();
    appendFileSync(file, bytes("garbage that is long enough to look like a header: 0123456789abcdef"));
    s = box.reopen();
    expect(s.state().messages).toBe(5);
    expect(statSync(file).size).toBe(full);
    expect(s.storeMsg("t.0", null, bytes("after")).seq).toBe(6);
  });

  test("a damaged byte anywhere in the active block: every record before it is recovered intact", () => {
    const box = openBox();
    const payloads = storeN(box, 40);
    box.store.stop();
    const file = lastBlock(box.dir!);
    const original = readFileSync(file);
    // Record boundaries, to know which message a damaged offset belongs to.
    const ends: number[] = [];
    let end = 0;
    for (let i = 1; i <= 40; i++) ends.push((end += recLen(`t.${i % 3}`, payloads[i - 1])));
    expect(end).toBe(original.length);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), (offset, xor) => {
        const damaged = Uint8Array.from(original);
        damaged[offset] ^= xor;
        writeFileSync(file, damaged);
        box.warnings.length = 0;
        const s = box.reopen();
        // Messages whose records end at or before the damaged record's start are intact.
        const hit = ends.findIndex((e) => offset < e); // 0-based index of the damaged record
        expect(s.state().messages).toBe(hit);
        expect(s.state().lastSeq).toBe(hit);
        for (let q = 1; q <= hit; q++) expect(text(s.loadMsg(q)!.data)).toBe(payloads[q - 1]);
        expect(box.warnings.length).toBe(1);
        expect(statSync(file).size).toBe(hit === 0 ? 0 : ends[hit - 1]);
        s.stop();
      }),
      { numRuns: 40, seed: 20261207 },
    );
  });

  test("a damaged sealed block without its index: cut at the damage, later blocks kept", () => {
    const box = openBox({}, { blockSizeBytes: 400 });
    const payloads = storeN(box, 60);
    box.store.stop();
    const files = blockFiles(box.dir!);
    expect(files.length).toBeGreaterThan(4);
    // Damage the second block's third record and remove its index.
    const second = join(msgsDir(box.dir!), files[1]);
    const buf = readFileSync(second);
    const dv = new DataView(buf.buffer, buf.byteOffset);
    const firstSeqInBlock = Number(dv.getUint32(16, true));
    let off = 0;
    for (let i = 0; i < 2; i++) off += dv.getUint32(off, true);
    buf[off + RECORD_HEADER_BYTES + 1] ^= 0x55; // a subject byte of record 3
    writeFileSync(second, buf);
    rmSync(join(msgsDir(box.dir!), files[1].replace(".blk", ".idx")));
    const s = box.reopen();
    expect(box.warnings.length).toBe(1);
    expect(box.warnings[0]).toMatch(/bad record \(checksum\)/);
    const secondBlock = blockFiles(box.dir!)[1];
    expect(secondBlock).toBe(files[1]);
    const lost = new Set<number>();
    const blockEnd = (() => {
      // The rest of block 2 is gone: from the damaged record to the first message of block 3.
      const third = readFileSync(join(msgsDir(box.dir!), files[2]));
      return new DataView(third.buffer, third.byteOffset).getUint32(16, true);
    })();
    for (let q = firstSeqInBlock + 2; q < blockEnd; q++) lost.add(q);
    expect(lost.size).toBeGreaterThan(0);
    for (let q = 1; q <= 60; q++) {
      const m = s.loadMsg(q);
      if (lost.has(q)) expect(m).toBeNull();
      else expect(text(m!.data)).toBe(payloads[q - 1]);
    }
    expect(s.state().lastSeq).toBe(60);
    expect(indexFiles(box.dir!)).toContain(files[1].replace(".blk", ".idx"));
  });

  test("a damaged record in a sealed block with a current index is caught when read", () => {
    const box = openBox({}, { blockSizeBytes: 400 });
    const payloads = storeN(box, 30);
    box.store.stop();
    const first = join(msgsDir(box.dir!), blockFiles(box.dir!)[0]);
    const buf = readFileSync(first);
    buf[buf.length - 2] ^= 1; // payload of the block's last record (the index still matches)
    writeFileSync(first, buf);
    const s = box.reopen();
    const dv = new DataView(buf.buffer, buf.byteOffset);
    let off = 0;
    let lastSeq = 0;
    while (off < buf.length) {
      lastSeq = dv.getUint32(off + 16, true);
      off += dv.getUint32(off, true);
    }
    expect(() => s.loadMsg(lastSeq)).toThrow(StoreError);
    expect(() => s.loadMsg(lastSeq)).toThrow(/damaged/);
    expect(text(s.loadMsg(lastSeq - 1)!.data)).toBe(payloads[lastSeq - 2]);
    expect(text(s.loadMsg(lastSeq + 1)!.data)).toBe(payloads[lastSeq]);
  });
});

describe("file store: block indexes", () => {
  function build(): { box: StoreBox; expected: ReturnType<typeof dump>; state: ReturnType<StreamStore["state"]> } {
    const box = openBox({}, { blockSizeBytes: 600 });
    for (let i = 1; i <= 80; i++) box.store.storeMsg(`i.${i % 9}`, i % 4 === 0 ? HDR : null, bytes(`value ${i}`));
    for (let i = 3; i <= 80; i += 11) box.store.removeMsg(i);
    const expected = dump(box.store);
    const state = box.store.state();
    box.store.stop();
    return { box, expected, state };
  }

  test("sealed blocks have an index; the active one does not", () => {
    const { box } = build();
    const blocks = blockFiles(box.dir!);
    expect(indexFiles(box.dir!)).toEqual(blocks.slice(0, -1).map((b) => b.replace(".blk", ".idx")));
  });

  test("missing indexes are rebuilt", () => {
    const { box, expected, state } = build();
    for (const f of indexFiles(box.dir!)) rmSync(join(msgsDir(box.dir!), f));
    const s = box.reopen();
    expect(dump(s)).toEqual(expected);
    expect(s.state()).toEqual(state);
    const blocks = blockFiles(box.dir!);
    expect(indexFiles(box.dir!)).toEqual(blocks.slice(0, -1).map((b) => b.replace(".blk", ".idx")));
    expect(box.warnings).toEqual([]);
  });

  test("stale or damaged indexes are rebuilt", () => {
    const { box, expected, state } = build();
    const idx = indexFiles(box.dir!);
    const dir = msgsDir(box.dir!);
    // Index 1 describes block 2; index 3 has a flipped bit; index 4 is empty.
    cpSync(join(dir, idx[1]), join(dir, idx[0]));
    const third = readFileSync(join(dir, idx[2]));
    third[third.length >> 1] ^= 4;
    writeFileSync(join(dir, idx[2]), third);
    writeFileSync(join(dir, idx[3]), new Uint8Array(0));
    const s = box.reopen();
    expect(dump(s)).toEqual(expected);
    expect(s.state()).toEqual(state);
    // Rebuilt: the same bytes as an index written at sealing.
    const rebuilt = readFileSync(join(dir, idx[0]));
    rmSync(join(dir, idx[0]));
    box.reopen();
    expect(readFileSync(join(dir, idx[0]))).toEqual(rebuilt);
  });

  test("a block changed after its index was written (grown) is scanned instead", () => {
    const { box, expected } = build();
    const dir = msgsDir(box.dir!);
    const firstBlock = join(dir, blockFiles(box.dir!)[0]);
    const size = statSync(firstBlock).size;
    appendFileSync(firstBlock, new Uint8Array(10));
    const s = box.reopen();
    expect(dump(s)).toEqual(expected);
    expect(statSync(firstBlock).size).toBe(size);
    expect(box.warnings.length).toBe(1);
  });
});

describe("file store: space", () => {
  test("blocks whose messages are all gone are removed; the deletes they held survive", () => {
    // 4 records of 60 bytes per block.
    const box = openBox({}, { blockSizeBytes: 4 * recLen("s", "0123456789") });
    const s = box.store as FileStore;
    for (let i = 1; i <= 4; i++) s.storeMsg("s", null, bytes("0123456789"));
    s.storeMsg("s", null, bytes("0123456789")); // 5: block 2
    s.removeMsg(2); // tombstone for a block-1 message, written in block 2
    for (let i = 6; i <= 12; i++) s.storeMsg("s", null, bytes("0123456789"));
    expect(blockFiles(box.dir!).length).toBeGreaterThanOrEqual(3);
    // Empty the blocks after block 1: block 2 goes, and with it the tombstone of 2.
    for (let q = 5; q <= 9; q++) s.removeMsg(q);
    const before = blockFiles(box.dir!);
    s.compactBlocks();
    const after = blockFiles(box.dir!);
    expect(after.length).toBeLessThan(before.length);
    expect(after[0]).toBe("1.blk");
    expect(after).not.toContain("2.blk");
    const expected = dump(s);
    const state = s.state();
    const r = box.reopen();
    expect(dump(r)).toEqual(expected);
    expect(r.state()).toEqual(state);
    expect(r.loadMsg(2)).toBeNull();
    expect(r.deleted()).toEqual([2, 5, 6, 7, 8, 9]);
  });

  test("a sparse sealed block is rewritten with its live messages only", () => {
    const box = openBox({}, { blockSizeBytes: 2048 });
    const s = box.store as FileStore;
    const payload = "p".repeat(80);
    for (let i = 1; i <= 60; i++) s.storeMsg(`k.${i % 10}`, null, bytes(`${i}:${payload}`));
    const first = join(msgsDir(box.dir!), "1.blk");
    const size = statSync(first).size;
    const perBlock = Math.floor(2048 / recLen("k.1", `10:${payload}`));
    // Remove all but two messages of block 1 (not its first).
    for (let q = 2; q < perBlock; q++) s.removeMsg(q);
    s.compactBlocks();
    expect(statSync(first).size).toBe(recLen("k.1", `1:${payload}`) + recLen("k.1", `${perBlock}:${payload}`));
    expect(statSync(first).size).toBeLessThan(size);
    expect(text(s.loadMsg(1)!.data)).toBe(`1:${payload}`);
    expect(text(s.loadMsg(perBlock)!.data)).toBe(`${perBlock}:${payload}`);
    const expected = dump(s);
    const r = box.reopen();
    expect(dump(r)).toEqual(expected);
    expect(r.deleted().length).toBe(perBlock - 2);
    expect(box.warnings).toEqual([]);
  });

  test("compaction runs by itself after removals, and a purge frees the disk", async () => {
    const box = openBox({}, { blockSizeBytes: 1024 });
    const s = box.store;
    for (let i = 0; i < 200; i++) s.storeMsg("a", null, new Uint8Array(100));
    expect(blockFiles(box.dir!).length).toBeGreaterThan(20);
    s.purge();
    const { waitFor } = await import("./store_harness.ts");
    await waitFor(() => blockFiles(box.dir!).length <= 2, 2000, "blocks to be removed");
    const total = blockFiles(box.dir!).reduce((n, f) => n + statSync(join(msgsDir(box.dir!), f)).size, 0);
    expect(total).toBeLessThan(1024);
    expect(box.reopen().state()).toMatchObject({ messages: 0, firstSeq: 201, lastSeq: 200 });
  });

  test("a stream at max_msgs keeps a bounded number of blocks", async () => {
    const box = openBox({ maxMsgs: 100 }, { blockSizeBytes: 2048 });
    const s = box.store as FileStore;
    for (let i = 0; i < 1000; i++) {
      s.storeMsg(`a.${i % 3}`, null, new Uint8Array(50));
      if (i % 100 === 0) s.compactBlocks();
    }
    s.compactBlocks();
    const size = blockFiles(box.dir!).reduce((n, f) => n + statSync(join(msgsDir(box.dir!), f)).size, 0);
    expect(size).toBeLessThan(3 * 100 * recLen("a.1", "x".repeat(50)));
    const state = s.state();
    expect(state).toMatchObject({ messages: 100, firstSeq: 901, lastSeq: 1000 });
    expect(box.reopen().state()).toEqual(state);
  });

  test("reads through many sealed blocks keep a bounded number of them mapped", () => {
    const box = openBox({}, { blockSizeBytes: 256 });
    const s = box.store;
    for (let i = 1; i <= 600; i++) s.storeMsg("r", null, bytes(`record ${i} `.padEnd(100, ".")));
    expect(blockFiles(box.dir!).length).toBeGreaterThan(fileStoreMappedBlocksMax * 2);
    for (let round = 0; round < 2; round++) for (let q = 1; q <= 600; q++) expect(text(s.loadMsg(q)!.data)).toStartWith(`record ${q} `);
    expect((s as FileStore).mappedBlocks).toBe(fileStoreMappedBlocksMax);
  });

  test("erase overwrites the message's bytes on disk", () => {
    const box = openBox({}, { blockSizeBytes: 300 });
    const s = box.store;
    const secret = "TOP-SECRET-PAYLOAD";
    for (let i = 0; i < 12; i++) s.storeMsg("a", null, bytes(i === 2 || i === 11 ? secret : `plain ${i}`));
    const onDisk = (): boolean => blockFiles(box.dir!).some((f) => readFileSync(join(msgsDir(box.dir!), f)).includes(Buffer.from(secret)));
    expect(onDisk()).toBe(true);
    s.eraseMsg(3); // in a sealed block
    s.eraseMsg(12); // the last one, in the active block
    expect(onDisk()).toBe(false);
    const r = box.reopen();
    expect(r.loadMsg(3)).toBeNull();
    expect(r.loadMsg(12)).toBeNull();
    expect(r.state()).toMatchObject({ messages: 10, lastSeq: 12 });
    expect(r.deleted()).toEqual([3, 12]);
    expect(onDisk()).toBe(false);
  });
});
