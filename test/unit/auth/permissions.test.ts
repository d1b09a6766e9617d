// Permission lists as the reference matches them: allow/deny (deny wins), subscription
// wildcards taken literally, queue entries, the delivery deny filter and allow_responses.
import { describe, expect, test } from "bun:test";
import { Permissions, ResponseTracker, subjectIsSubsetMatch } from "../../../src/auth/permissions.ts";

const perms = (publish: { allow?: string[]; deny?: string[] } | null, subscribe: { allow?: string[]; deny?: string[] } | null): Permissions =>
  new Permissions({
    publish: publish === null ? null : { allow: publish.allow ?? null, deny: publish.deny ?? null },
    subscribe: subscribe === null ? null : { allow: subscribe.allow ?? null, deny: subscribe.deny ?? null },
    response: null,
  });

describe("publish", () => {
  const p = perms({ allow: ["a.>", "b.*", "c"], deny: ["a.secret", "b.x"] }, null);
  test.each([
    ["a.x", true], ["a.x.y", true], ["a", false], ["a.secret", false], ["b.y", true], ["b.x", false], ["b.y.z", false], ["c", true], ["c.d", false],
    // A published wildcard is a literal token to the lists.
    ["a.*", true], ["b.*", true], [">", false],
  ])("%s → %p", (subject, allowed) => {
    expect(p.canPublish(subject as string)).toBe(allowed as boolean);
    // Cached verdicts are the same.
    expect(p.canPublish(subject as string)).toBe(allowed as boolean);
  });

  test("no allow list allows all but the deny list; an empty allow list allows nothing", () => {
    expect(perms({ deny: [">"] }, null).canPublish("x")).toBe(false);
    expect(perms({ deny: ["x"] }, null).canPublish("y")).toBe(true);
    expect(perms({ allow: [] }, null).canPublish("y")).toBe(false);
    expect(perms(null, null).checksPublish).toBe(false);
  });
});

describe("subscribe", () => {
  const p = perms(null, { allow: ["a.>", "q.* grp", "w.* wq.*"], deny: ["a.hidden", "q.x bad"] });
  test.each([
    ["a.x", null, true], ["a.hidden", null, false], ["a.*", null, true], ["a.>", null, true], [">", null, false], ["b", null, false],
    ["q.x", null, false], ["q.x", "grp", true], ["q.x", "other", false], ["q.y", "grp", true], ["q.x", "bad", false],
    ["w.a", "wq.1", true], ["w.a", "wq.1.2", false], ["a.x", "anything", true],
  ])("%s (queue %p) → %p", (subject, queue, allowed) => {
    expect(p.canSubscribe(subject as string, queue as string | null)).toBe(allowed as boolean);
  });

  test("wildcard subscriptions reaching denied subjects need the delivery filter", () => {
    expect(p.needsDeliveryFilter("a.*")).toBe(true);
    expect(p.needsDeliveryFilter("a.>")).toBe(true);
    expect(p.needsDeliveryFilter("a.x")).toBe(false);
    expect(p.needsDeliveryFilter("b.*")).toBe(false);
    expect(p.deliveryAllowed("a.hidden")).toBe(false);
    expect(p.deliveryAllowed("a.shown")).toBe(true);
  });

  test("subset matching", () => {
    expect(subjectIsSubsetMatch("a.b", "a.*")).toBe(true);
    expect(subjectIsSubsetMatch("a.>", ">")).toBe(true);
    expect(subjectIsSubsetMatch("a.*", "a.b")).toBe(false);
    expect(subjectIsSubsetMatch("a.b.c", "a.*")).toBe(false);
  });
});

describe("allow_responses", () => {
  test("max responses per request, then refused", () => {
    const t = new ResponseTracker({ maxMsgs: 2, expiresMs: 0 });
    expect(t.allow("_INBOX.1", 0)).toBe(false);
    t.record("_INBOX.1", 0);
    expect([t.allow("_INBOX.1", 1), t.allow("_INBOX.1", 2), t.allow("_INBOX.1", 3)]).toEqual([true, true, false]);
    expect(t.size).toBe(0);
  });

  test("expiry", () => {
    const t = new ResponseTracker({ maxMsgs: 0, expiresMs: 100 });
    t.record("r", 1000);
    expect(t.allow("r", 1050)).toBe(true);
    expect(t.allow("r", 1101)).toBe(false);
  });

  test("the tracked set is bounded", () => {
    const t = new ResponseTracker({ maxMsgs: 0, expiresMs: 0 });
    for (let i = 0; i < 10_000; i++) t.record(`r.${i}`, i);
    expect(t.size).toBeLessThanOrEqual(4096);
    expect(t.allow("r.9999", 10_000)).toBe(true);
  });
});
