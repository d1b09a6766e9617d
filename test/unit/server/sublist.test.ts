// The subject trie and its match cache (src/server/sublist.ts) and the subject rules
// (src/server/subject.ts). The property tests compare `match` against a brute-force matcher
// written here, over random subscriptions and random insert/remove/match sequences, so that
// a cached result can never be stale without a test noticing.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { sublistCacheMax } from "../../../src/constants.ts";
import { isValidLiteralSubject, isValidSubject, subjectIsLiteral, subjectMatches } from "../../../src/server/subject.ts";
import { Sublist, Subscription, type SublistResult } from "../../../src/server/sublist.ts";

let nextSid = 1;
const conn = { cid: 1 };

function sub(subject: string, queue: string | null = null): Subscription {
  const sid = String(nextSid++);
  return new Subscription(conn, subject, queue, sid, new TextEncoder().encode(sid));
}

/** A result as plain data: plain subscribers' sids, and queue name → member sids (all sorted). */
function shape(r: SublistResult): { psubs: string[]; qsubs: Record<string, string[]> } {
  const qsubs: Record<string, string[]> = {};
  for (const group of r.qsubs) {
    expect(group.length).toBeGreaterThan(0);
    const name = group[0].queue!;
    // One array per queue name: every member of a group has the group's name.
    for (const s of group) expect(s.queue).toBe(name);
    expect(qsubs[name]).toBeUndefined();
    qsubs[name] = group.map((s) => s.sid).sort();
  }
  return { psubs: r.psubs.map((s) => s.sid).sort(), qsubs };
}

const sids = (...subs: Subscription[]): string[] => subs.map((s) => s.sid).sort();

/**
 * The brute-force matcher: the pattern's tokens against the published subject's, '*' for any
 * one token, '>' for one or more trailing ones. A published subject with an empty token
 * matches nothing. Written independently of subject.ts on purpose.
 */
function bruteMatches(subject: string, pattern: string): boolean {
  const st = subject.split(".");
  if (st.some((t) => t === "")) return false;
  const pt = pattern.split(".");
  for (let i = 0; i < pt.length; i++) {
    if (pt[i] === ">") return st.length > i;
    if (i >= st.length) return false;
    if (pt[i] !== "*" && pt[i] !== st[i]) return false;
  }
  return pt.length === st.length;
}

function bruteMatch(live: Iterable<Subscription>, subject: string): { psubs: string[]; qsubs: Record<string, string[]> } {
  const psubs: string[] = [];
  const qsubs: Record<string, string[]> = {};
  for (const s of live) {
    if (!bruteMatches(subject, s.subject)) continue;
    if (s.queue === null) psubs.push(s.sid);
    else (qsubs[s.queue] ??= []).push(s.sid);
  }
  for (const k of Object.keys(qsubs)) qsubs[k].sort();
  return { psubs: psubs.sort(), qsubs };
}

describe("matching", () => {
  test("literal subjects match only themselves", () => {
    const sl = new Sublist();
    const a = sub("foo.bar");
    const b = sub("foo");
    sl.insert(a);
    sl.insert(b);
    expect(shape(sl.match("foo.bar")).psubs).toEqual(sids(a));
    expect(shape(sl.match("foo")).psubs).toEqual(sids(b));
    expect(sl.match("foo.baz").empty).toBe(true);
    expect(sl.match("foo.bar.baz").empty).toBe(true);
    expect(sl.match("bar").empty).toBe(true);
    expect(sl.count).toBe(2);
  });

  test("'*' matches exactly one token", () => {
    const sl = new Sublist();
    const mid = sub("foo.*.baz");
    const end = sub("foo.*");
    const only = sub("*");
    for (const s of [mid, end, only]) sl.insert(s);
    expect(shape(sl.match("foo.bar.baz")).psubs).toEqual(sids(mid));
    expect(shape(sl.match("foo.x")).psubs).toEqual(sids(end));
    expect(shape(sl.match("foo")).psubs).toEqual(sids(only));
    expect(sl.match("foo.bar.qux").empty).toBe(true);
    expect(sl.match("foo.baz.x.baz").empty).toBe(true);
  });

  test("'>' matches one or more trailing tokens, never zero", () => {
    const sl = new Sublist();
    const fooAll = sub("foo.>");
    const all = sub(">");
    sl.insert(fooAll);
    sl.insert(all);
    expect(shape(sl.match("foo.bar")).psubs).toEqual(sids(fooAll, all));
    expect(shape(sl.match("foo.bar.baz.qux")).psubs).toEqual(sids(fooAll, all));
    expect(shape(sl.match("foo")).psubs).toEqual(sids(all));
    expect(shape(sl.match("bar.foo")).psubs).toEqual(sids(all));
  });

  test("literal, '*' and '>' subscriptions on the same subject all match", () => {
    const sl = new Sublist();
    const subs = ["a.b.c", "a.*.c", "a.b.*", "*.*.*", "a.>", "a.b.>", ">", "*.b.>"].map((s) => sub(s));
    for (const s of subs) sl.insert(s);
    sl.insert(sub("a.b"));
    sl.insert(sub("a.b.c.d"));
    sl.insert(sub("a.b.c.>"));
    expect(shape(sl.match("a.b.c")).psubs).toEqual(sids(...subs));
  });

  test("tokens containing wildcard characters are literals", () => {
    const sl = new Sublist();
    const star = sub("foo.*bar");
    const gt = sub("foo.>bar");
    sl.insert(star);
    sl.insert(gt);
    expect(shape(sl.match("foo.*bar")).psubs).toEqual(sids(star));
    expect(shape(sl.match("foo.>bar")).psubs).toEqual(sids(gt));
    expect(sl.match("foo.xbar").empty).toBe(true);
  });

  test("a published subject with wildcards matches only wildcard subscriptions (non-pedantic PUB foo.*)", () => {
    const sl = new Sublist();
    const lit = sub("foo.bar");
    const pwc = sub("foo.*");
    const fwc = sub("foo.>");
    for (const s of [lit, pwc, fwc]) sl.insert(s);
    expect(shape(sl.match("foo.*")).psubs).toEqual(sids(pwc, fwc));
    expect(shape(sl.match("foo.>")).psubs).toEqual(sids(pwc, fwc));
  });

  test("subjects with empty tokens match nothing", () => {
    const sl = new Sublist();
    sl.insert(sub(">"));
    sl.insert(sub("*.*"));
    for (const s of ["", ".", "foo.", ".foo", "foo..bar"]) expect({ s, empty: sl.match(s).empty }).toEqual({ s, empty: true });
  });

  test("the same subscriber may hold several subscriptions on one subject", () => {
    const sl = new Sublist();
    const a = sub("x");
    const b = sub("x");
    sl.insert(a);
    sl.insert(b);
    expect(shape(sl.match("x")).psubs).toEqual(sids(a, b));
  });
});

describe("queue groups", () => {
  test("members are grouped by queue name, merged across literal and wildcard nodes", () => {
    const sl = new Sublist();
    const q1a = sub("foo.bar", "q1");
    const q1b = sub("foo.*", "q1");
    const q1c = sub(">", "q1");
    const q2 = sub("foo.>", "q2");
    const plain = sub("foo.bar");
    for (const s of [q1a, q1b, q1c, q2, plain]) sl.insert(s);
    expect(shape(sl.match("foo.bar"))).toEqual({ psubs: sids(plain), qsubs: { q1: sids(q1a, q1b, q1c), q2: sids(q2) } });
    expect(shape(sl.match("foo.baz"))).toEqual({ psubs: [], qsubs: { q1: sids(q1b, q1c), q2: sids(q2) } });
    expect(shape(sl.match("other"))).toEqual({ psubs: [], qsubs: { q1: sids(q1c) } });
  });

  test("removing the last member of a group removes the group", () => {
    const sl = new Sublist();
    const a = sub("foo", "q");
    const b = sub("foo", "q");
    sl.insert(a);
    sl.insert(b);
    expect(sl.remove(a)).toBe(true);
    expect(shape(sl.match("foo")).qsubs).toEqual({ q: sids(b) });
    expect(sl.remove(b)).toBe(true);
    expect(sl.match("foo").empty).toBe(true);
    expect(sl.match("foo").qsubs).toHaveLength(0);
  });

  test("a queue subscription is not a plain one and vice versa", () => {
    const sl = new Sublist();
    const q = sub("foo", "q");
    const p = sub("foo");
    sl.insert(q);
    sl.insert(p);
    expect(sl.remove(sub("foo"))).toBe(false);
    expect(shape(sl.match("foo"))).toEqual({ psubs: sids(p), qsubs: { q: sids(q) } });
  });
});

describe("removal and pruning", () => {
  test("remove returns true once, then false; count follows", () => {
    const sl = new Sublist();
    const a = sub("a.b.c");
    sl.insert(a);
    expect(sl.count).toBe(1);
    expect(sl.remove(a)).toBe(true);
    expect(sl.count).toBe(0);
    expect(sl.remove(a)).toBe(false);
    expect(sl.count).toBe(0);
    expect(sl.match("a.b.c").empty).toBe(true);
  });

  test("removing a subscription that was never inserted leaves everything as it was", () => {
    const sl = new Sublist();
    const a = sub("a.b");
    sl.insert(a);
    for (const s of ["a.b", "a", "a.b.c", "a.*", "a.>", "x.y.z"]) expect(sl.remove(sub(s))).toBe(false);
    expect(sl.count).toBe(1);
    expect(shape(sl.match("a.b")).psubs).toEqual(sids(a));
  });

  test("pruning a deep branch keeps its siblings and ancestors' subscriptions", () => {
    const sl = new Sublist();
    const deep = sub("a.b.c.d.e");
    const mid = sub("a.b");
    const sibling = sub("a.b.x");
    const wc = sub("a.*.c.>");
    for (const s of [deep, mid, sibling, wc]) sl.insert(s);
    expect(sl.remove(deep)).toBe(true);
    expect(shape(sl.match("a.b")).psubs).toEqual(sids(mid));
    expect(shape(sl.match("a.b.x")).psubs).toEqual(sids(sibling));
    expect(shape(sl.match("a.b.c.d.e")).psubs).toEqual(sids(wc));
    expect(sl.remove(wc)).toBe(true);
    expect(sl.match("a.b.c.d.e").empty).toBe(true);
    // The pruned path can be walked again: a second remove finds nothing, a new insert works.
    expect(sl.remove(deep)).toBe(false);
    const again = sub("a.b.c.d.e");
    sl.insert(again);
    expect(shape(sl.match("a.b.c.d.e")).psubs).toEqual(sids(again));
  });

  test("churn over many distinct subjects leaves an empty trie", () => {
    const sl = new Sublist();
    const subs: Subscription[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = sub(`t.${i % 7}.${i}.${i % 3 === 0 ? "*" : "x"}${i % 5 === 0 ? ".>" : ""}`, i % 4 === 0 ? `q${i % 3}` : null);
      subs.push(s);
      sl.insert(s);
      sl.match(`t.${i % 7}.${i}.x`);
    }
    expect(sl.count).toBe(2000);
    expect(sl.all()).toHaveLength(2000);
    for (const s of subs) expect(sl.remove(s)).toBe(true);
    expect(sl.count).toBe(0);
    expect(sl.all()).toEqual([]);
    for (let i = 0; i < 2000; i += 97) expect(sl.match(`t.${i % 7}.${i}.x`).empty).toBe(true);
  });

  test("a result being iterated is not disturbed by a removal (results are immutable)", () => {
    const sl = new Sublist();
    const subs = [sub("x"), sub("x"), sub("x")];
    for (const s of subs) sl.insert(s);
    const r = sl.match("x");
    const seen: string[] = [];
    for (const s of r.psubs) {
      seen.push(s.sid);
      sl.remove(subs[2]);
    }
    expect(seen.sort()).toEqual(sids(...subs));
    expect(shape(sl.match("x")).psubs).toEqual(sids(subs[0], subs[1]));
  });
});

describe("cache", () => {
  test("a repeated match is served from the cache", () => {
    const sl = new Sublist();
    sl.insert(sub("foo"));
    const first = sl.match("foo");
    const hits = sl.cacheHits;
    expect(sl.match("foo")).toBe(first);
    expect(sl.cacheHits).toBe(hits + 1);
    expect(sl.cacheSize).toBe(1);
  });

  test("inserting a literal subscription invalidates its subject only", () => {
    const sl = new Sublist();
    sl.insert(sub("other"));
    sl.match("foo");
    const other = sl.match("other");
    const a = sub("foo");
    sl.insert(a);
    expect(shape(sl.match("foo")).psubs).toEqual(sids(a));
    // The unrelated entry survived: the next match is a hit returning the same object.
    const hits = sl.cacheHits;
    expect(sl.match("other")).toBe(other);
    expect(sl.cacheHits).toBe(hits + 1);
  });

  test("inserting a wildcard subscription invalidates every cached subject it matches, and only those", () => {
    const sl = new Sublist();
    const subjects = ["foo.a", "foo.b", "foo.a.b", "bar.a", "foo"];
    for (const s of subjects) sl.match(s);
    expect(sl.cacheSize).toBe(subjects.length);
    const pwc = sub("foo.*");
    sl.insert(pwc);
    expect(shape(sl.match("foo.a")).psubs).toEqual(sids(pwc));
    expect(shape(sl.match("foo.b")).psubs).toEqual(sids(pwc));
    const hits = sl.cacheHits;
    for (const s of ["foo.a.b", "bar.a", "foo"]) expect(sl.match(s).empty).toBe(true);
    expect(sl.cacheHits).toBe(hits + 3);
    const fwc = sub("foo.>");
    sl.insert(fwc);
    expect(shape(sl.match("foo.a.b")).psubs).toEqual(sids(fwc));
    expect(shape(sl.match("foo.a")).psubs).toEqual(sids(pwc, fwc));
    expect(sl.match("foo").empty).toBe(true);
  });

  test("removing a subscription invalidates cached results that contained it", () => {
    const sl = new Sublist();
    const lit = sub("foo.bar");
    const pwc = sub("*.bar");
    const fwc = sub(">");
    for (const s of [lit, pwc, fwc]) sl.insert(s);
    expect(shape(sl.match("foo.bar")).psubs).toEqual(sids(lit, pwc, fwc));
    sl.remove(lit);
    expect(shape(sl.match("foo.bar")).psubs).toEqual(sids(pwc, fwc));
    sl.remove(fwc);
    expect(shape(sl.match("foo.bar")).psubs).toEqual(sids(pwc));
    sl.remove(pwc);
    expect(sl.match("foo.bar").empty).toBe(true);
  });

  test("queue members added or removed are seen at once", () => {
    const sl = new Sublist();
    const a = sub("svc.>", "workers");
    sl.insert(a);
    expect(shape(sl.match("svc.x")).qsubs).toEqual({ workers: sids(a) });
    const b = sub("svc.x", "workers");
    sl.insert(b);
    expect(shape(sl.match("svc.x")).qsubs).toEqual({ workers: sids(a, b) });
    sl.remove(a);
    expect(shape(sl.match("svc.x")).qsubs).toEqual({ workers: sids(b) });
  });

  test("the cache is bounded", () => {
    const sl = new Sublist();
    sl.insert(sub("c.>"));
    for (let i = 0; i < sublistCacheMax * 3; i++) {
      sl.match(`c.${i}`);
      expect(sl.cacheSize).toBeLessThanOrEqual(sublistCacheMax);
    }
    expect(sl.match(`c.${sublistCacheMax * 3 - 1}`).psubs).toHaveLength(1);
  });

  test("without a cache, results are the same and nothing is cached", () => {
    const sl = new Sublist(false);
    const a = sub("foo.*");
    sl.insert(a);
    expect(shape(sl.match("foo.x")).psubs).toEqual(sids(a));
    expect(sl.cacheSize).toBe(0);
    expect(sl.cacheHits).toBe(0);
    sl.remove(a);
    expect(sl.match("foo.x").empty).toBe(true);
  });
});

describe("generation", () => {
  test("every insert and every successful remove bumps it; matches and failed removes do not", () => {
    const sl = new Sublist();
    const g0 = sl.generation;
    const a = sub("a");
    sl.insert(a);
    expect(sl.generation).toBeGreaterThan(g0);
    const g1 = sl.generation;
    sl.match("a");
    sl.match("b");
    expect(sl.generation).toBe(g1);
    expect(sl.remove(sub("a"))).toBe(false);
    expect(sl.generation).toBe(g1);
    sl.insert(sub("unrelated.*"));
    const g2 = sl.generation;
    expect(g2).toBeGreaterThan(g1);
    sl.remove(a);
    expect(sl.generation).toBeGreaterThan(g2);
    expect(sl.inserts).toBe(2);
    expect(sl.removes).toBe(1);
  });
});

describe("against a brute-force matcher", () => {
  // Small alphabets so that random subscriptions and subjects collide often.
  const literalToken = fc.constantFrom("a", "b", "c", "a*", ">b");
  const patternToken = fc.constantFrom("a", "b", "c", "a*", "*", "*", "*");
  const pattern = fc
    .tuple(fc.array(patternToken, { minLength: 0, maxLength: 3 }), fc.boolean())
    .filter(([tokens, fwc]) => tokens.length > 0 || fwc)
    .map(([tokens, fwc]) => (fwc ? [...tokens, ">"] : tokens).join("."));
  const publish = fc.oneof(
    { weight: 8, arbitrary: fc.array(literalToken, { minLength: 1, maxLength: 4 }).map((t) => t.join(".")) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom("a", "b", "*", ">"), { minLength: 1, maxLength: 3 }).map((t) => t.join(".")) },
    { weight: 1, arbitrary: fc.constantFrom("a..b", "a.", ".a", "") },
  );
  const queue = fc.option(fc.constantFrom("q1", "q2"), { nil: null, freq: 2 });
  const op = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("insert" as const), subject: pattern, queue }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), index: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("match" as const), subject: publish }) },
  );

  for (const useCache of [true, false]) {
    test(`random insert/remove/match sequences (cache ${useCache ? "on" : "off"})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), fc.array(publish, { minLength: 1, maxLength: 10 }), (ops, probes) => {
          const sl = new Sublist(useCache);
          const live: Subscription[] = [];
          const removed: Subscription[] = [];
          // Results handed out earlier must stay as they were (immutability).
          const handedOut: { r: SublistResult; snapshot: ReturnType<typeof shape> }[] = [];
          const check = (subject: string): void => {
            const r = sl.match(subject);
            const snapshot = shape(r);
            expect({ subject, result: snapshot }).toEqual({ subject, result: bruteMatch(live, subject) });
            handedOut.push({ r, snapshot });
          };
          for (const o of ops) {
            if (o.kind === "insert") {
              const s = sub(o.subject, o.queue);
              sl.insert(s);
              live.push(s);
            } else if (o.kind === "remove") {
              if (live.length > 0 && o.index % 4 !== 3) {
                const [s] = live.splice(o.index % live.length, 1);
                expect(sl.remove(s)).toBe(true);
                removed.push(s);
              } else if (removed.length > 0) {
                expect(sl.remove(removed[o.index % removed.length])).toBe(false);
              }
            } else check(o.subject);
            expect(sl.count).toBe(live.length);
          }
          for (const p of probes) check(p);
          for (const { r, snapshot } of handedOut) expect(shape(r)).toEqual(snapshot);
          expect(sl.all().map((s) => s.sid).sort()).toEqual(sids(...live));
        }),
        { numRuns: 400 },
      );
    });
  }

  test("subjectMatches agrees with the brute-force matcher for literal subjects", () => {
    fc.assert(
      fc.property(fc.array(literalToken, { minLength: 1, maxLength: 4 }), pattern, (tokens, p) => {
        const s = tokens.join(".");
        expect(subjectMatches(s, p)).toBe(bruteMatches(s, p));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("subject rules (reference sublist.go and its tests)", () => {
  test("subjectMatches on the reference's matchLiteral cases", () => {
    const cases: [string, string, boolean][] = [
      ["foo", "foo", true], ["foo", "bar", false], ["foo", "*", true], ["foo", ">", true],
      ["foo.bar", ">", true], ["foo.bar", "foo.>", true], ["foo.bar", "bar.>", false],
      ["stats.test.22", "stats.>", true], ["stats.test.22", "stats.*.*", true], ["foo.bar", "foo", false],
      ["stats.test.foos", "stats.test.foos", true], ["stats.test.foos", "stats.test.foo", false],
      ["stats.test", "stats.test.*", false], ["stats.test.foos", "stats.*", false],
      ["stats.test.foos", "stats.*.*.foos", false], ["foo", "foo.>", false],
    ];
    for (const [literal, p, want] of cases) expect({ literal, p, got: subjectMatches(literal, p) }).toEqual({ literal, p, got: want });
  });

  test("isValidLiteralSubject: the reference's table", () => {
    const valid = ["foo", "foo*", "foo**", "foo.**", "foo*bar", "foo.*bar", "foo*.bar", "*bar", "foo>", "foo>>", "foo.>>", "foo>bar", "foo.>bar", "foo>.bar", ">bar"];
    const invalid = [".foo", "foo.", "foo..bar", "foo.bar.*", "foo.bar.>", "*", ">", ""];
    for (const s of valid) expect({ s, ok: isValidLiteralSubject(s) }).toEqual({ s, ok: true });
    for (const s of invalid) expect({ s, ok: isValidLiteralSubject(s) }).toEqual({ s, ok: false });
    // Whitespace is not checked here (the reference does not either).
    expect(isValidLiteralSubject("foo bar")).toBe(true);
  });

  test("isValidSubject: the reference's table", () => {
    const valid = ["foo", "foo.bar.*", "foo.bar.>", "*", ">", "foo*", "foo**", "foo.**", "foo*bar", "foo.*bar", "foo*.bar", "*bar", "foo>", "foo.>>", "foo>bar", "foo.>bar", "foo>.bar", ">bar", "*.>", "*.*"];
    const invalid = ["", ".", ".foo", "foo.", "foo..bar", ">.bar", "foo.>.bar", "foo. bar", "foo bar", " ", "\t", "a.\n", "a\f.b", "a\r"];
    for (const s of valid) expect({ s, ok: isValidSubject(s) }).toEqual({ s, ok: true });
    for (const s of invalid) expect({ s, ok: isValidSubject(s) }).toEqual({ s, ok: false });
  });

  test("isValidSubject and isValidLiteralSubject against their specification on random strings", () => {
    const spec = (s: string): boolean => {
      if (s === "" || /[\t\n\f\r ]/.test(s)) return false;
      const t = s.split(".");
      return t.every((x, i) => x !== "" && (x !== ">" || i === t.length - 1));
    };
    const literalSpec = (s: string): boolean => s.split(".").every((x) => x !== "" && x !== "*" && x !== ">");
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", ".", "*", ">", " ", "\t", "\n", "\r", "\f", "é"), { maxLength: 8 }), (chars) => {
        const s = chars.join("");
        expect({ s, valid: isValidSubject(s), literal: isValidLiteralSubject(s) }).toEqual({ s, valid: spec(s), literal: literalSpec(s) });
      }),
      { numRuns: 3000 },
    );
  });

  test("subjectIsLiteral", () => {
    expect(subjectIsLiteral("foo.bar")).toBe(true);
    expect(subjectIsLiteral("foo.*bar")).toBe(true);
    expect(subjectIsLiteral("foo.*")).toBe(false);
    expect(subjectIsLiteral(">")).toBe(false);
    expect(subjectIsLiteral("a.>.b")).toBe(false);
  });
});

describe("JetStream ack subjects (cached by stream and consumer while nothing looks past them)", () => {
  const ack = (n: number): string => `$JS.ACK.S.C.1.${n}.${n}.1765075000000000000.0`;

  test("every ack subject of a consumer reaches its ack subscription and the wide wildcards", () => {
    const s = new Sublist(true);
    const mine = sub("$JS.ACK.S.C.>");
    const all = sub(">");
    const other = sub("$JS.ACK.S.D.>");
    for (const x of [mine, all, other]) s.insert(x);
    for (let n = 1; n <= 50; n++) expect(shape(s.match(ack(n))).psubs).toEqual(sids(mine, all));
    expect(s.cacheSize).toBe(0); // one-shot subjects stay out of the main cache
  });

  test("a subscription that looks past the consumer name is honoured (the shortcut turns off)", () => {
    const s = new Sublist(true);
    const mine = sub("$JS.ACK.S.C.>");
    s.insert(mine);
    expect(shape(s.match(ack(7))).psubs).toEqual(sids(mine));
    const picky = sub("$JS.ACK.S.C.1.7.>");
    s.insert(picky);
    expect(shape(s.match(ack(7))).psubs).toEqual(sids(mine, picky));
    expect(shape(s.match(ack(8))).psubs).toEqual(sids(mine));
    const star = sub("*.ACK.*.*.*.9.*.*.*");
    s.insert(star);
    expect(shape(s.match(ack(9))).psubs).toEqual(sids(mine, star));
    s.remove(picky);
    s.remove(star);
    expect(shape(s.match(ack(7))).psubs).toEqual(sids(mine));
    expect(shape(s.match(ack(9))).psubs).toEqual(sids(mine));
  });

  test("empty tokens never match, cached or not", () => {
    const s = new Sublist(true);
    const mine = sub("$JS.ACK.S.C.>");
    s.insert(mine);
    expect(shape(s.match(ack(1))).psubs).toEqual(sids(mine));
    expect(shape(s.match("$JS.ACK.S.C.1..2")).psubs).toEqual([]);
    expect(shape(s.match("$JS.ACK.S.C.1.")).psubs).toEqual([]);
  });
});
