// The shared StreamStore suite: every test runs against the memory store and the file store,
// which must behave identically except for byte accounting (each counts like the reference's
// store of its kind). Expected values follow the reference's memstore/filestore semantics
// (store.go, memstore.go, filestore.go of nats-server 2.9.10; purge per ADR-10).
import { afterEach, describe, expect, test } from "bun:test";
import { StoreError, type RemoveReason, type StreamStore } from "../../../src/jetstream/store/store.ts";
import { FakeClock, HDR, KINDS, StoreBox, bytes, config, dump, msgSize, text, type Kind } from "./store_harness.ts";

const boxes: StoreBox[] = [];
afterEach(() => {
  while (boxes.length > 0) boxes.pop()!.close();
});

function open(kind: Kind, overrides: Parameters<typeof config>[0] = {}, clock?: FakeClock): StoreBox {
  const box = new StoreBox(kind, config(overrides), clock === undefined ? {} : { clock });
  boxes.push(box);
  return box;
}

function fill(s: StreamStore, subjects: string[], n: number): void {
  for (let i = 0; i < n; i++) s.storeMsg(subjects[i % subjects.length], null, bytes(`m${i + 1}`));
}

function removals(s: StreamStore): Array<[number, string, RemoveReason]> {
  const out: Array<[number, string, RemoveReason]> = [];
  s.onRemove((seq, subject, reason) => out.push([seq, subject, reason]));
  return out;
}

for (const kind of KINDS) {
  describe(`${kind} store`, () => {
    test("empty store state", () => {
      const s = open(kind).store;
      expect(s.type).toBe(kind);
      expect(s.state()).toEqual({
        messages: 0,
        bytes: 0,
        firstSeq: 1,
        firstTs: 0n,
        lastSeq: 0,
        lastTs: 0n,
        numSubjects: 0,
        numDeleted: 0,
        consumerCount: 0,
      });
      expect(s.loadMsg(1)).toBeNull();
      expect(s.loadLastMsg("")).toBeNull();
      expect(s.loadNextMsg(">", 1)).toBeNull();
      expect(s.deleted()).toEqual([]);
      expect(s.numPending(1, "", false)).toBe(0);
    });

    test("store and load: sequences, timestamps, headers, bytes", () => {
      const clock = new FakeClock();
      const s = open(kind, {}, clock).store;
      const a = s.storeMsg("foo", null, bytes("hello"));
      clock.advanceMs(1);
      const b = s.storeMsg("bar.baz", HDR, bytes("world"));
      const c = s.storeMsg("foo", null, new Uint8Array(0), undefined, 42n);
      expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
      expect(a.ts).toBe(clock.ns - 1_000_000n);
      expect(b.ts).toBe(clock.ns);
      expect(c.ts).toBe(42n);
      const m2 = s.loadMsg(2)!;
      expect(m2.subject).toBe("bar.baz");
      expect(text(m2.hdr!)).toBe(text(HDR));
      expect(text(m2.data)).toBe("world");
      expect(m2.ts).toBe(b.ts);
      const m3 = s.loadMsg(3)!;
      expect(m3.hdr).toBeNull();
      expect(m3.data.length).toBe(0);
      // An empty header block is stored as none.
      s.storeMsg("foo", new Uint8Array(0), bytes("x"));
      expect(s.loadMsg(4)!.hdr).toBeNull();
      const st = s.state();
      expect(st.messages).toBe(4);
      expect(st.bytes).toBe(
        msgSize(kind, "foo", null, bytes("hello")) + msgSize(kind, "bar.baz", HDR, bytes("world")) + msgSize(kind, "foo", null, new Uint8Array(0)) + msgSize(kind, "foo", null, bytes("x")),
      );
      expect([st.firstSeq, st.lastSeq, st.firstTs, st.lastTs]).toEqual([1, 4, a.ts, clock.ns]);
      expect(st.numSubjects).toBe(2);
    });

    test("byte accounting is the reference's for the store kind", () => {
      // nats-server 2.9.10 STREAM.INFO state.bytes after publishing to subject "file.a"/"memory.a".
      const s = open(kind).store;
      const subj = kind === "file" ? "file.a" : "memory.a";
      s.storeMsg(subj, null, new Uint8Array(0));
      expect(s.state().bytes).toBe(kind === "file" ? 36 : 24);
      s.storeMsg(subj, null, new Uint8Array(100));
      expect(s.state().bytes).toBe(kind === "file" ? 172 : 148);
      s.storeMsg(subj, bytes("NATS/1.0\r\nX: y\r\n\r\n"), new Uint8Array(10));
      expect(s.state().bytes).toBe(kind === "file" ? 240 : 200);
    });

    test("loaded messages are copies the caller owns", () => {
      const s = open(kind).store;
      const data = bytes("abc");
      s.storeMsg("foo", null, data);
      data[0] = 120;
      const m = s.loadMsg(1)!;
      expect(text(m.data)).toBe("abc");
      m.data[0] = 121;
      expect(text(s.loadMsg(1)!.data)).toBe("abc");
    });

    test("subjects are byte strings: distinct bytes stay distinct", () => {
      const s = open(kind).store;
      const a = "sub.\u00e9"; // one byte 0xe9
      const b = "sub.\u00c3\u00a9"; // the UTF-8 bytes of é
      s.storeMsg(a, null, bytes("1"));
      s.storeMsg(b, null, bytes("2"));
      expect(s.loadLastMsg(a)!.seq).toBe(1);
      expect(s.loadLastMsg(b)!.seq).toBe(2);
      expect(s.loadMsg(1)!.subject).toBe(a);
      expect(s.subjectsTotals("sub.*")).toEqual(new Map([[a, 1], [b, 1]]));
    });

    test("loadLastMsg and loadNextMsg by filter", () => {
      const s = open(kind).store;
      for (const subj of ["a.1", "b.1", "a.2", "b.2", "a.1", "c"]) s.storeMsg(subj, null, bytes(subj));
      expect(s.loadLastMsg("")!.seq).toBe(6);
      expect(s.loadLastMsg(">")!.seq).toBe(6);
      expect(s.loadLastMsg("a.1")!.seq).toBe(5);
      expect(s.loadLastMsg("a.*")!.seq).toBe(5);
      expect(s.loadLastMsg("b.>")!.seq).toBe(4);
      expect(s.loadLastMsg("d")).toBeNull();
      expect(s.loadNextMsg("", 0)!.seq).toBe(1);
      expect(s.loadNextMsg("b.*", 1)!.seq).toBe(2);
      expect(s.loadNextMsg("b.*", 3)!.seq).toBe(4);
      expect(s.loadNextMsg("a.1", 2)!.seq).toBe(5);
      expect(s.loadNextMsg("a.>", 6)).toBeNull();
      expect(s.loadNextMsg("c", 1)!.seq).toBe(6);
      expect(s.loadNextMsg(">", 7)).toBeNull();
      s.removeMsg(5);
      expect(s.loadLastMsg("a.1")!.seq).toBe(1);
      expect(s.loadNextMsg("a.1", 2)).toBeNull();
      // As the reference: with no filter, the last sequence itself (gone now: not found).
      s.removeMsg(6);
      expect(s.loadLastMsg("")).toBeNull();
      expect(s.loadLastMsg(">")).toBeNull();
      expect(s.loadLastMsg("b.*")!.seq).toBe(4);
    });

    test("removeMsg: first moves first_seq, interior ones are deleted sequences", () => {
      const s = open(kind).store;
      fill(s, ["foo", "bar"], 6);
      const seen = removals(s);
      expect(s.removeMsg(3)).toBe(true);
      expect(s.removeMsg(3)).toBe(false);
      expect(s.removeMsg(99)).toBe(false);
      expect(s.removeMsg(5)).toBe(true);
      expect(s.deleted()).toEqual([3, 5]);
      expect(s.state().numDeleted).toBe(2);
      expect(s.removeMsg(1)).toBe(true);
      expect(s.removeMsg(2)).toBe(true);
      // first moves to 4, past the deleted 3.
      const st = s.state();
      expect([st.messages, st.firstSeq, st.lastSeq, st.numDeleted]).toEqual([2, 4, 6, 1]);
      expect(s.deleted()).toEqual([5]);
      expect(seen).toEqual([
        [3, "foo", "remove"],
        [5, "foo", "remove"],
        [1, "foo", "remove"],
        [2, "bar", "remove"],
      ]);
      // Removing the last message keeps last_seq.
      s.removeMsg(6);
      s.removeMsg(4);
      expect(s.state()).toMatchObject({ messages: 0, bytes: 0, firstSeq: 7, lastSeq: 6, numDeleted: 0, numSubjects: 0 });
      expect(s.storeMsg("foo", null, bytes("x")).seq).toBe(7);
    });

    test("eraseMsg removes like removeMsg", () => {
      const s = open(kind).store;
      fill(s, ["foo"], 3);
      expect(s.eraseMsg(2)).toBe(true);
      expect(s.eraseMsg(2)).toBe(false);
      expect(s.loadMsg(2)).toBeNull();
      expect(s.deleted()).toEqual([2]);
      expect(s.eraseMsg(1)).toBe(true);
      expect(s.state()).toMatchObject({ messages: 1, firstSeq: 3, lastSeq: 3 });
      expect(text(s.loadMsg(3)!.data)).toBe("m3");
    });

    test("purge everything keeps the last sequence", () => {
      const s = open(kind).store;
      fill(s, ["a", "b"], 5);
      const seen = removals(s);
      expect(s.purge()).toBe(5);
      expect(seen.map(([seq, , r]) => [seq, r])).toEqual([1, 2, 3, 4, 5].map((n) => [n, "purge"]));
      expect(s.state()).toMatchObject({ messages: 0, bytes: 0, firstSeq: 6, firstTs: 0n, lastSeq: 5, numSubjects: 0, numDeleted: 0 });
      expect(s.purge()).toBe(0);
      expect(s.storeMsg("a", null, bytes("x")).seq).toBe(6);
    });

    test("purge by subject, with keep, with seq", () => {
      const s = open(kind).store;
      // 1 a, 2 b, 3 a, 4 b, 5 a, 6 b, 7 a, 8 c
      for (const subj of ["a", "b", "a", "b", "a", "b", "a", "c"]) s.storeMsg(subj, null, bytes(subj));
      expect(s.purge({ subject: "a", keep: 2 })).toBe(2);
      expect(dump(s).map(([seq]) => seq)).toEqual([2, 4, 5, 6, 7, 8]);
      expect(s.purge({ subject: "a", keep: 2 })).toBe(0);
      expect(s.purge({ subject: "a", keep: 5 })).toBe(0);
      // seq: only below it.
      expect(s.purge({ subject: "b", seq: 6 })).toBe(2);
      expect(dump(s).map(([seq]) => seq)).toEqual([5, 6, 7, 8]);
      expect(s.state()).toMatchObject({ firstSeq: 5, lastSeq: 8, messages: 4 });
      // Wildcards.
      expect(s.purge({ subject: "*" , keep: 1 })).toBe(3);
      expect(dump(s).map(([seq]) => seq)).toEqual([8]);
      expect(s.purge({ subject: "zzz" })).toBe(0);
      expect(s.purge({ subject: "c" })).toBe(1);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 9, lastSeq: 8 });
    });

    test("purge with keep or seq and no subject", () => {
      const s = open(kind).store;
      fill(s, ["a", "b"], 10);
      s.removeMsg(8);
      // keep counts sequences from the end (the reference compacts to last - keep + 1).
      expect(s.purge({ keep: 3 })).toBe(7);
      expect(dump(s).map(([seq]) => seq)).toEqual([9, 10]);
      expect(s.purge({ keep: 5 })).toBe(0);
      expect(s.purge({ seq: 10 })).toBe(1);
      expect(s.state()).toMatchObject({ messages: 1, firstSeq: 10, lastSeq: 10 });
      expect(() => s.purge({ seq: 5, keep: 1 })).toThrow(RangeError);
      // seq 1 with no keep is a full purge.
      expect(s.purge({ seq: 1 })).toBe(1);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 11, lastSeq: 10 });
    });

    test("purge by subject with interior deletes and a filter on '>'", () => {
      const s = open(kind).store;
      for (const subj of ["x.1", "x.2", "y", "x.1", "x.2"]) s.storeMsg(subj, null, bytes(subj));
      s.removeMsg(2);
      expect(s.purge({ subject: "x.>" })).toBe(3);
      expect(dump(s)).toEqual([[3, "y", "y"]]);
      expect(s.state()).toMatchObject({ firstSeq: 3, lastSeq: 5, messages: 1, numDeleted: 2 });
      expect(s.deleted()).toEqual(kind === "file" ? [4, 5] : [4]);
    });

    test("compact", () => {
      const s = open(kind).store;
      fill(s, ["a"], 5);
      const seen = removals(s);
      expect(s.compact(3)).toBe(2);
      expect(seen.map(([q, , r]) => [q, r])).toEqual([
        [1, "compact"],
        [2, "compact"],
      ]);
      expect(s.state()).toMatchObject({ messages: 3, firstSeq: 3, lastSeq: 5 });
      expect(s.compact(2)).toBe(0);
      // Exactly one past the end: empty, first = last + 1.
      expect(s.compact(6)).toBe(3);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 6, lastSeq: 5 });
      // Past the end: the next message gets that sequence.
      const lastTs = s.state().lastTs;
      expect(s.compact(100)).toBe(0);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 100, lastSeq: 99, lastTs });
      expect(s.storeMsg("a", null, bytes("x")).seq).toBe(100);
      expect(s.state()).toMatchObject({ messages: 1, firstSeq: 100, lastSeq: 100 });
    });

    test("skipMsg reserves sequences", () => {
      const s = open(kind).store;
      expect(s.skipMsg()).toBe(1);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 2, lastSeq: 1 });
      s.storeMsg("a", null, bytes("x"));
      expect(s.skipMsg()).toBe(3);
      s.storeMsg("a", null, bytes("y"));
      expect(s.state()).toMatchObject({ messages: 2, firstSeq: 2, lastSeq: 4, numDeleted: 1 });
      expect(s.deleted()).toEqual([3]);
    });

    test("first_seq of an empty stream", () => {
      const s = open(kind, { firstSeq: 1000 }).store;
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 1000, lastSeq: 999 });
      expect(s.storeMsg("a", null, bytes("x")).seq).toBe(1000);
      expect(s.state()).toMatchObject({ messages: 1, firstSeq: 1000, lastSeq: 1000 });
    });

    test("max_msgs with discard old removes the oldest", () => {
      const s = open(kind, { maxMsgs: 3 }).store;
      const seen = removals(s);
      fill(s, ["a", "b"], 5);
      expect(dump(s).map(([q]) => q)).toEqual([3, 4, 5]);
      expect(seen).toEqual([
        [1, "a", "limits"],
        [2, "b", "limits"],
      ]);
      expect(s.state()).toMatchObject({ messages: 3, firstSeq: 3, lastSeq: 5, numSubjects: 2 });
    });

    test("max_bytes with discard old removes the oldest until it fits", () => {
      const one = msgSize(kind, "a", null, bytes("m1"));
      const s = open(kind, { maxBytes: one * 3 + 1 }).store;
      fill(s, ["a"], 6);
      expect(dump(s).map(([q]) => q)).toEqual([4, 5, 6]);
      expect(s.state().bytes).toBe(one * 3);
      // A message bigger than everything clears the stream but itself stays.
      s.storeMsg("a", null, new Uint8Array(one * 4));
      expect(dump(s).map(([q]) => q)).toEqual([]);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 8, lastSeq: 7 });
    });

    test("max_msgs_per_subject keeps the newest of each subject", () => {
      const s = open(kind, { maxMsgsPerSubject: 2 }).store;
      const seen = removals(s);
      for (const subj of ["a", "b", "a", "a", "b", "a", "b"]) s.storeMsg(subj, null, bytes(subj));
      expect(dump(s).map(([q, subj]) => `${q}${subj}`)).toEqual(["4a", "5b", "6a", "7b"]);
      expect(seen.map(([q, , r]) => [q, r])).toEqual([
        [1, "limits"],
        [3, "limits"],
        [2, "limits"],
      ]);
      expect(s.state()).toMatchObject({ messages: 4, firstSeq: 4, lastSeq: 7, numDeleted: 0 });
      expect(s.subjectsTotals("")).toEqual(
        new Map([
          ["a", 2],
          ["b", 2],
        ]),
      );
    });

    test("discard new refuses at max_msgs and max_bytes", () => {
      const s = open(kind, { maxMsgs: 2, discard: "new" }).store;
      fill(s, ["a"], 2);
      expect(() => s.storeMsg("a", null, bytes("x"))).toThrow(StoreError);
      try {
        s.storeMsg("a", null, bytes("x"));
      } catch (e) {
        expect((e as StoreError).code).toBe("max_msgs");
      }
      expect(s.state()).toMatchObject({ messages: 2, lastSeq: 2 });
      s.removeMsg(1);
      expect(s.storeMsg("a", null, bytes("x")).seq).toBe(3);

      // max_bytes: stored bytes plus header+payload, refused at equality.
      const b = open(kind, { maxBytes: 100, discard: "new" }).store;
      const size = msgSize(kind, "a", null, new Uint8Array(20));
      b.storeMsg("a", null, new Uint8Array(20));
      expect(b.state().bytes).toBe(size);
      const room = 100 - size; // the next payload must be smaller than this
      expect(() => b.storeMsg("a", null, new Uint8Array(room))).toThrow(/maximum bytes exceeded/);
      // Accepted, and then (as the reference does, whatever the discard policy) the oldest
      // goes because the accounted bytes are over the limit.
      expect(b.storeMsg("a", null, new Uint8Array(room - 1)).seq).toBe(2);
      expect(b.state()).toMatchObject({ messages: 1, firstSeq: 2, lastSeq: 2, bytes: 79 });
    });

    test("discard new per subject", () => {
      const s = open(kind, { maxMsgsPerSubject: 1, discard: "new", discardNewPerSubject: true }).store;
      s.storeMsg("a", null, bytes("1"));
      s.storeMsg("b", null, bytes("2"));
      let code = "";
      try {
        s.storeMsg("a", null, bytes("3"));
      } catch (e) {
        code = (e as StoreError).code;
      }
      expect(code).toBe("max_msgs_per_subject");
      // Without the per-subject flag, discard new still replaces within a subject.
      const t = open(kind, { maxMsgsPerSubject: 1, maxMsgs: 2, discard: "new" }).store;
      t.storeMsg("a", null, bytes("1"));
      t.storeMsg("b", null, bytes("2"));
      expect(() => t.storeMsg("c", null, bytes("3"))).toThrow(/maximum messages exceeded/);
      expect(t.storeMsg("a", null, bytes("4")).seq).toBe(3);
      expect(dump(t).map(([q]) => q)).toEqual([2, 3]);
    });

    test("updateConfig applies lower limits at once", () => {
      const s = open(kind).store;
      for (const subj of ["a", "b", "a", "a", "b", "c"]) s.storeMsg(subj, null, bytes(subj));
      s.updateConfig(config({ storage: kind, maxMsgsPerSubject: 1 }));
      expect(dump(s).map(([q]) => q)).toEqual([4, 5, 6]);
      s.updateConfig(config({ storage: kind, maxMsgsPerSubject: 1, maxMsgs: 2 }));
      expect(dump(s).map(([q]) => q)).toEqual([5, 6]);
    });

    test("max_age expires old messages on the store's timer", async () => {
      const s = open(kind, { maxAgeMs: 40 }).store;
      const gone: number[] = [];
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      s.onRemove((seq, _subj, reason) => {
        expect(reason).toBe("max_age");
        gone.push(seq);
        if (gone.length === 2) resolve();
      });
      fill(s, ["a"], 2);
      await Promise.race([done, Bun.sleep(2000).then(() => Promise.reject(new Error("max_age expiry did not happen in 2 s")))]);
      expect(gone).toEqual([1, 2]);
      expect(s.state()).toMatchObject({ messages: 0, firstSeq: 3, lastSeq: 2 });
    });

    test("max_age with a fake clock expires on updateConfig", () => {
      const clock = new FakeClock();
      const s = open(kind, { maxAgeMs: 1000 }, clock).store;
      s.storeMsg("a", null, bytes("1"));
      clock.advanceMs(600);
      s.storeMsg("a", null, bytes("2"));
      clock.advanceMs(500);
      s.updateConfig(config({ storage: kind, maxAgeMs: 1000 }));
      expect(dump(s).map(([q]) => q)).toEqual([2]);
    });

    test("Nats-TTL never (ttl -1) is exempt from max_age, also after a reopen", () => {
      const clock = new FakeClock();
      const box = open(kind, { maxAgeMs: 1000 }, clock);
      let s = box.store;
      s.storeMsg("a", null, bytes("1"), -1);
      s.storeMsg("b", null, bytes("2"));
      s.storeMsg("c", null, bytes("3"), -1);
      clock.advanceMs(600);
      s.storeMsg("d", null, bytes("4"));
      clock.advanceMs(500);
      s.updateConfig(config({ storage: kind, maxAgeMs: 1000 }));
      expect(dump(s).map(([q]) => q)).toEqual([1, 3, 4]);
      if (kind === "file") {
        s = box.reopen(config({ storage: kind, maxAgeMs: 1000 }));
        clock.advanceMs(1000);
        s.updateConfig(config({ storage: kind, maxAgeMs: 1000 }));
        expect(dump(s).map(([q]) => q)).toEqual([1, 3]);
      }
    });

    test("per-message TTL", async () => {
      const s = open(kind).store;
      s.storeMsg("a", null, bytes("1"));
      s.storeMsg("b", null, bytes("2"), 30);
      s.storeMsg("c", null, bytes("3"));
      const seen = removals(s);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("ttl expiry did not happen in 2 s")), 2000);
        s.onRemove((seq, subject, reason) => {
          seen.push([seq, subject, reason]);
          clearTimeout(t);
          resolve();
        });
      });
      expect(seen).toEqual([[2, "b", "ttl"]]);
      expect(s.deleted()).toEqual([2]);
    });

    test("subjectsTotals and numPending", () => {
      const s = open(kind).store;
      for (const subj of ["a.1", "a.2", "b.1", "a.1", "b.2", "a.1"]) s.storeMsg(subj, null, bytes(subj));
      expect(s.subjectsTotals("")).toEqual(
        new Map([
          ["a.1", 3],
          ["a.2", 1],
          ["b.1", 1],
          ["b.2", 1],
        ]),
      );
      expect(s.subjectsTotals("a.*")).toEqual(
        new Map([
          ["a.1", 3],
          ["a.2", 1],
        ]),
      );
      expect(s.subjectsTotals("b.1")).toEqual(new Map([["b.1", 1]]));
      expect(s.subjectsTotals("nope")).toEqual(new Map());
      expect(s.numPending(1, "", false)).toBe(6);
      expect(s.numPending(3, "", false)).toBe(4);
      expect(s.numPending(5, ">", false)).toBe(2);
      expect(s.numPending(1, "a.1", false)).toBe(3);
      expect(s.numPending(2, "a.1", false)).toBe(2);
      expect(s.numPending(2, "a.*", false)).toBe(3);
      expect(s.numPending(6, "b.*", false)).toBe(0);
      expect(s.numPending(7, "", false)).toBe(0);
      // Last per subject: subjects whose last message is at or after start.
      expect(s.numPending(1, "", true)).toBe(4);
      expect(s.numPending(4, "", true)).toBe(2);
      expect(s.numPending(1, "a.1", true)).toBe(1);
      expect(s.numPending(1, "b.*", true)).toBe(2);
      s.removeMsg(4);
      expect(s.numPending(2, "a.1", false)).toBe(1);
      expect(s.numPending(1, "", false)).toBe(5);
    });

    test("deleted() lists interior deletes only", () => {
      const s = open(kind).store;
      fill(s, ["a"], 8);
      for (const q of [1, 3, 4, 7, 8]) s.removeMsg(q);
      // nats-server 2.9.10 STREAM.INFO deleted_details: the file store lists the deleted last
      // sequence too, the memory store does not; both count 4.
      expect(s.deleted()).toEqual(kind === "file" ? [3, 4, 7, 8] : [3, 4, 7]);
      expect(s.state()).toMatchObject({ firstSeq: 2, lastSeq: 8, messages: 3, numDeleted: 4 });
    });

    test("setConsumerCount shows in state", () => {
      const s = open(kind).store;
      s.setConsumerCount(3);
      expect(s.state().consumerCount).toBe(3);
    });

    test("stop closes the store; destroy removes it", () => {
      const box = open(kind);
      box.store.storeMsg("a", null, bytes("x"));
      box.store.stop();
      expect(() => box.store.storeMsg("a", null, bytes("y"))).toThrow(StoreError);
      expect(() => box.store.state()).toThrow(/closed/);
      box.store.destroy();
    });

    test("consumer stores keep meta and state", () => {
      const s = open(kind).store;
      const c = s.consumerStore("dur");
      expect(c.readMeta()).toBeNull();
      expect(c.state()).toBeNull();
      c.writeMeta({ durable_name: "dur", ack_policy: "explicit" });
      const state = {
        delivered: { consumerSeq: 5, streamSeq: 9 },
        ackFloor: { consumerSeq: 2, streamSeq: 4 },
        pending: new Map([
          [7, { consumerSeq: 3, tsMs: 1000 }],
          [9, { consumerSeq: 5, tsMs: 2000 }],
        ]),
        redelivered: new Map([[7, 2]]),
      };
      c.update(state);
      state.pending.clear(); // the store kept its own copy
      expect(c.state()!.pending.size).toBe(2);
      expect(c.readMeta()).toEqual({ durable_name: "dur", ack_policy: "explicit" });
      expect(s.consumerStore("dur")).toBe(c);
      expect(s.consumerNames()).toEqual(["dur"]);
      c.sync();
      expect(c.state()).toEqual({
        delivered: { consumerSeq: 5, streamSeq: 9 },
        ackFloor: { consumerSeq: 2, streamSeq: 4 },
        pending: new Map([
          [7, { consumerSeq: 3, tsMs: 1000 }],
          [9, { consumerSeq: 5, tsMs: 2000 }],
        ]),
        redelivered: new Map([[7, 2]]),
      });
      c.destroy();
      expect(s.consumerNames()).toEqual([]);
      expect(s.consumerStore("dur").state()).toBeNull();
    });

    test("many messages across blocks", () => {
      const s = open(kind).store;
      const n = 5000;
      for (let i = 1; i <= n; i++) s.storeMsg(`s.${i % 7}`, i % 3 === 0 ? HDR : null, bytes(`payload-${i}`));
      for (let i = 2; i <= n; i += 5) s.removeMsg(i);
      const st = s.state();
      expect(st.messages).toBe(n - n / 5);
      expect(st.lastSeq).toBe(n);
      for (let i = 1; i <= n; i += 97) {
        const m = s.loadMsg(i);
        if ((i - 2) % 5 === 0) expect(m).toBeNull();
        else expect(text(m!.data)).toBe(`payload-${i}`);
      }
      expect(s.numPending(1, "s.3", false)).toBe(s.subjectsTotals("s.3").get("s.3")!);
    });
  });
}
