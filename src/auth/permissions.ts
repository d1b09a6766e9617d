// Subject permissions of a user: publish and subscribe allow/deny lists, queue-group entries
// ("foo.* workers"), and the deny filter on delivery for wildcard subscriptions that reach
// denied subjects. Semantics are the reference's (client.go canSubscribe, pubAllowedFullCheck,
// checkDenySub): lists are matched like a sublist match, so a subscription subject's own
// wildcards are taken literally ("foo.*" is allowed by "foo.*" or "foo.>", not by "foo.bar");
// deny wins over allow; a missing allow list allows everything.
//
// A compiled Permissions is shared by every connection of the user; its verdict caches are
// per subject and bounded (cleared when full, off the common path). Per-connection state
// (allow_responses' reply subjects) lives with the connection.
import type { Permissions as PermissionsConfig, ResponsePermission, SubjectPermission } from "../config/options.ts";

/** Verdicts cached per subject, per direction; the cache is cleared beyond this. */
const VERDICT_CACHE_MAX = 1024;

interface Pattern {
  tokens: string[];
  /** Queue group of a subscribe entry "subject queue"; null for a plain entry. */
  queue: string | null;
}

/** Does the subject (its wildcards taken literally) match the pattern? */
function patternMatches(pattern: readonly string[], subject: readonly string[]): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i];
    if (p === ">" && i === n - 1) return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return subject.length === n;
}

/**
 * Is `subject` a subset of `test`: every subject `subject` matches is matched by `test`?
 * (The reference's subjectIsSubsetMatch, for deny entries inside wildcard subscriptions.)
 */
export function subjectIsSubsetMatch(subject: string, test: string): boolean {
  return patternMatches(test.split("."), subject.split("."));
}

/** One allow or deny list. */
export class SubjectList {
  readonly patterns: readonly Pattern[];
  readonly subjects: readonly string[];

  constructor(entries: readonly string[]) {
    const patterns: Pattern[] = [];
    const subjects: string[] = [];
    for (const entry of entries) {
      const parts = entry.trim().split(/[ \t]+/);
      const subject = parts[0] ?? "";
      if (subject === "") continue;
      subjects.push(subject);
      patterns.push({ tokens: subject.split("."), queue: parts.length > 1 ? parts[1] : null });
    }
    this.patterns = patterns;
    this.subjects = subjects;
  }

  /** Any plain (non-queue) entry matches. */
  matchesPlain(tokens: readonly string[]): boolean {
    for (const p of this.patterns) if (p.queue === null && patternMatches(p.tokens, tokens)) return true;
    return false;
  }

  /** Queue names of the queue entries matching the subject. */
  matchingQueues(tokens: readonly string[]): string[] {
    let out: string[] | null = null;
    for (const p of this.patterns) if (p.queue !== null && patternMatches(p.tokens, tokens)) (out ??= []).push(p.queue);
    return out ?? [];
  }
}

/** The reference's queueMatches: the queue is one of `names`, or matches a wildcard one. */
function queueMatches(queue: string, names: readonly string[]): boolean {
  if (names.length === 0) return true;
  const q = queue.split(".");
  for (const name of names) {
    if (queue === name) return true;
    if ((name.includes("*") || name.includes(">")) && patternMatches(name.split("."), q)) return true;
  }
  return false;
}

function compile(p: SubjectPermission | null): { allow: SubjectList | null; deny: SubjectList | null } {
  return {
    allow: p === null || p.allow === null ? null : new SubjectList(p.allow),
    deny: p === null || p.deny === null || p.deny.length === 0 ? null : new SubjectList(p.deny),
  };
}

export class Permissions {
  readonly pubAllow: SubjectList | null;
  readonly pubDeny: SubjectList | null;
  readonly subAllow: SubjectList | null;
  readonly subDeny: SubjectList | null;
  readonly response: ResponsePermission | null;
  /** There is something to check on publish. */
  readonly checksPublish: boolean;
  #pubCache = new Map<string, boolean>();
  #deliverCache = new Map<string, boolean>();

  constructor(config: PermissionsConfig) {
    const pub = compile(config.publish);
    const sub = compile(config.subscribe);
    this.pubAllow = pub.allow;
    this.pubDeny = pub.deny;
    this.subAllow = sub.allow;
    this.subDeny = sub.deny;
    this.response = config.response;
    this.checksPublish = this.pubAllow !== null || this.pubDeny !== null;
  }

  /** May the user publish to `subject` (responses aside)? Cached. */
  canPublish(subject: string): boolean {
    const cached = this.#pubCache.get(subject);
    if (cached !== undefined) return cached;
    const tokens = subject.split(".");
    let allowed = this.pubAllow === null || this.pubAllow.matchesPlain(tokens);
    if (allowed && this.pubDeny !== null) allowed = !this.pubDeny.matchesPlain(tokens);
    if (this.#pubCache.size >= VERDICT_CACHE_MAX) this.#pubCache.clear();
    this.#pubCache.set(subject, allowed);
    return allowed;
  }

  /** May the user subscribe to `subject` (in `queue`, or null)? */
  canSubscribe(subject: string, queue: string | null): boolean {
    const tokens = subject.split(".");
    let allowed = true;
    if (this.subAllow !== null) {
      allowed = this.subAllow.matchesPlain(tokens);
      if (queue !== null) {
        const queues = this.subAllow.matchingQueues(tokens);
        // A matching queue entry allows the subscription if its queue matches.
        if (queues.length > 0) allowed = queueMatches(queue, queues);
      }
    }
    if (allowed && this.subDeny !== null) {
      allowed = !this.subDeny.matchesPlain(tokens);
      if (queue !== null) {
        const queues = this.subDeny.matchingQueues(tokens);
        if (queues.length > 0) allowed = !queueMatches(queue, queues);
      }
    }
    return allowed;
  }

  /**
   * Does the (allowed) wildcard subscription `subject` reach subjects of the deny list? Then
   * messages to it must be filtered on delivery (see deliveryAllowed).
   */
  needsDeliveryFilter(subject: string): boolean {
    if (this.subDeny === null) return false;
    if (!subject.split(".").some((t) => t === "*" || t === ">")) return false;
    for (const denied of this.subDeny.subjects) if (subjectIsSubsetMatch(denied, subject)) return true;
    return false;
  }

  /** May a message on the literal `subject` be delivered (deny filter)? Cached. */
  deliveryAllowed(subject: string): boolean {
    const cached = this.#deliverCache.get(subject);
    if (cached !== undefined) return cached;
    const allowed = this.subDeny === null || !this.subDeny.matchesPlain(subject.split("."));
    if (this.#deliverCache.size >= VERDICT_CACHE_MAX) this.#deliverCache.clear();
    this.#deliverCache.set(subject, allowed);
    return allowed;
  }
}

/** Reply subjects a connection with allow_responses may answer (the reference's c.replies). */
export class ResponseTracker {
  /** Reply subject → [time received ms, responses sent]. */
  readonly #replies = new Map<string, [number, number]>();
  readonly #limit: ResponsePermission;

  constructor(limit: ResponsePermission) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#replies.size;
  }

  /** A request with this reply subject was delivered to the connection. */
  record(reply: string, nowMs: number): void {
    if (this.#replies.size >= RESPONSE_TRACK_MAX) this.#prune(nowMs);
    this.#replies.set(reply, [nowMs, 0]);
  }

  /** May the connection publish this response now? Counts it. */
  allow(subject: string, nowMs: number): boolean {
    const entry = this.#replies.get(subject);
    if (entry === undefined) return false;
    entry[1]++;
    const { maxMsgs, expiresMs } = this.#limit;
    if ((maxMsgs > 0 && entry[1] > maxMsgs) || (expiresMs > 0 && nowMs - entry[0] > expiresMs)) {
      this.#replies.delete(subject);
      return false;
    }
    return true;
  }

  #prune(nowMs: number): void {
    const { maxMsgs, expiresMs } = this.#limit;
    for (const [reply, [t, n]] of this.#replies) {
      if ((maxMsgs > 0 && n >= maxMsgs) || (expiresMs > 0 && nowMs - t > expiresMs)) this.#replies.delete(reply);
    }
    // Still full (no limits, or all fresh): drop the oldest half.
    if (this.#replies.size >= RESPONSE_TRACK_MAX) {
      let excess = this.#replies.size / 2;
      for (const reply of this.#replies.keys()) {
        if (excess-- <= 0) break;
        this.#replies.delete(reply);
      }
    }
  }
}

/** Reply subjects tracked per connection for allow_responses (reference replyPermLimit). */
const RESPONSE_TRACK_MAX = 4096;
