// SeqMap (src/jetstream/store/seq_map.ts) against a Map, on random operation sequences that
// include the cases the array window must get right: removal from the front, holes, removal of
// the last entry, emptying, re-use after emptying, sequences far ahead (sparse mode) and behind.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { SeqMap } from "../../../src/jetstream/store/seq_map.ts";

type Op = { op: "append"; gap: number } | { op: "set"; seq: number } | { op: "delete"; seq: number } | { op: "deleteFirst" } | { op: "clear" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant("append" as const), gap: fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 60_000, max: 200_000 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("set" as const), seq: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("delete" as const), seq: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("deleteFirst" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
);

describe("SeqMap", () => {
  test("behaves like a Map", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const a = new SeqMap<string>();
        const b = new Map<number, string>();
        let last = 0;
        for (const o of ops) {
          switch (o.op) {
            case "append":
              last += o.gap;
              a.set(last, `v${last}`);
              b.set(last, `v${last}`);
              break;
            case "set":
              a.set(o.seq, `s${o.seq}`);
              b.set(o.seq, `s${o.seq}`);
              if (o.seq > last) last = o.seq;
              break;
            case "delete":
              expect(a.delete(o.seq)).toBe(b.delete(o.seq));
              break;
            case "deleteFirst": {
              const first = [...b.keys()].sort((x, y) => x - y)[0];
              if (first !== undefined) expect(a.delete(first)).toBe(b.delete(first));
              break;
            }
            case "clear":
              a.clear();
              b.clear();
              break;
          }
          expect(a.size).toBe(b.size);
        }
        for (const [k, v] of b) expect(a.get(k)).toBe(v);
        for (let k = 0; k <= 310; k++) expect(a.has(k)).toBe(b.has(k));
        expect(a.get(last + 1)).toBeUndefined();
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  test("a long run of appends and front removals stays small", () => {
    const m = new SeqMap<number>();
    for (let s = 1; s <= 200_000; s++) {
      m.set(s, s);
      if (s > 100) expect(m.delete(s - 100)).toBe(true);
    }
    expect(m.size).toBe(100);
    expect(m.get(199_901)).toBe(199_901);
    expect(m.get(199_900)).toBeUndefined();
  });
});
