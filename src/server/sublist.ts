// The subject trie of one account: which subscriptions does a published subject reach?
//
// Levels hold literal tokens in a Map plus one '*' and one '>' child, as in the reference's
// sublist. Match results are cached per subject (bounded, oldest evicted first) and the
// cache is invalidated precisely on insert/remove: a literal subscription drops one entry, a
// wildcard one drops the entries it matches. Every change bumps `generation`, which lets a
// connection keep its own one-entry cache of the last subject it published to.
//
// Results are immutable once built: a subscription removed while a result is being iterated
// (auto-unsubscribe, a slow consumer cut mid-delivery) does not disturb that iteration.
import { sublistCacheMax, sublistCacheSweepTo } from "../constants.ts";
import { subjectIsLiteral, subjectMatches } from "./subject.ts";

/** What the sublist needs of a subscriber; the connection implements it. */
export interface Subscriber {
  readonly cid: number;
}

/**
 * Receives a message for an internal subscription, synchronously, inside the publisher's
 * delivery. `hdr` and `data` are views into the publisher's read buffer: valid only during the
 * call (copy what must be kept). Subject and reply are byte strings.
 */
export type InternalHandler = (subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array) => void;

export class Subscription {
  /** Auto-unsubscribe after this many deliveries (0 = never). */
  max = 0;
  /** Messages delivered so far. */
  delivered = 0;
  closed = false;
  /**
   * Set for subscriptions of in-process clients (JetStream, $SYS): the message is handed to
   * this function instead of being written to a socket (see internal_client.ts).
   */
  handler: InternalHandler | null = null;
  /**
   * An internal subscription wiring a cross-account import (server/imports.ts). Messages that
   * an import itself carries into an account skip these, so that imports never loop.
   */
  crossAccount = false;

  constructor(
    readonly conn: Subscriber,
    readonly subject: string,
    readonly queue: string | null,
    readonly sid: string,
    /** The sid as bytes, ready to copy into MSG lines. */
    readonly sidBytes: Uint8Array,
  ) {}
}

export class SublistResult {
  constructor(
    /** Plain subscriptions: each receives the message. */
    readonly psubs: readonly Subscription[],
    /** Queue groups (one array per queue name): one member of each receives it. */
    readonly qsubs: readonly (readonly Subscription[])[],
  ) {}

  get empty(): boolean {
    return this.psubs.length === 0 && this.qsubs.length === 0;
  }
}

export const emptyResult = new SublistResult([], []);

class SublistNode {
  next: SublistLevel | null = null;
  psubs: Set<Subscription> | null = null;
  qsubs: Map<string, Set<Subscription>> | null = null;

  isEmpty(): boolean {
    return (this.psubs === null || this.psubs.size === 0) && (this.qsubs === null || this.qsubs.size === 0) && (this.next === null || this.next.isEmpty());
  }
}

class SublistLevel {
  nodes: Map<string, SublistNode> = new Map();
  pwc: SublistNode | null = null;
  fwc: SublistNode | null = null;

  isEmpty(): boolean {
    return this.nodes.size === 0 && this.pwc === null && this.fwc === null;
  }
}

/** Results being collected: plain subs, and queue groups merged by name across nodes. */
class Collector {
  psubs: Subscription[] = [];
  qsubs: Subscription[][] = [];
  qnames: string[] = [];

  addNode(n: SublistNode): void {
    if (n.psubs !== null) for (const s of n.psubs) this.psubs.push(s);
    if (n.qsubs !== null) {
      for (const [name, members] of n.qsubs) {
        let idx = this.qnames.indexOf(name);
        if (idx < 0) {
          idx = this.qnames.length;
          this.qnames.push(name);
          this.qsubs.push([]);
        }
        const group = this.qsubs[idx];
        for (const s of members) group.push(s);
      }
    }
  }
}

export class Sublist {
  /** Bumped on every insert/remove. */
  generation = 0;
  /** Called after every insert (JetStream watches for interest on push consumers' deliver subjects). */
  onInsert: ((sub: Subscription) => void) | null = null;
  count = 0;
  matches = 0;
  cacheHits = 0;
  inserts = 0;
  removes = 0;

  #root = new SublistLevel();
  #cache: Map<string, SublistResult> | null;
  /**
   * JetStream ack subjects (`$JS.ACK.<stream>.<consumer>.<5 numbers>`) are unique per message,
   * but while no subscription looks at their tokens past the consumer (#ackSensitive === 0)
   * they all match alike: results are cached by `<first four tokens>|<token count>` for one
   * sublist generation.
   */
  #ackCache = new Map<string, SublistResult>();
  #ackCacheGeneration = -1;
  #ackSensitive = 0;

  constructor(useCache = true) {
    this.#cache = useCache ? new Map() : null;
  }

  get cacheSize(): number {
    return this.#cache === null ? 0 : this.#cache.size;
  }

  /** Adds a subscription. Its subject must already be valid (see subject.ts). */
  insert(sub: Subscription): void {
    const tokens = sub.subject.split(".");
    let level = this.#root;
    let node: SublistNode | null = null;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === "*") node = level.pwc ??= new SublistNode();
      else if (t === ">") node = level.fwc ??= new SublistNode();
      else {
        node = level.nodes.get(t) ?? null;
        if (node === null) {
          node = new SublistNode();
          level.nodes.set(t, node);
        }
      }
      if (i < tokens.length - 1) level = node.next ??= new SublistLevel();
    }
    const n = node!;
    if (sub.queue === null) (n.psubs ??= new Set()).add(sub);
    else {
      const qsubs = (n.qsubs ??= new Map());
      let group = qsubs.get(sub.queue);
      if (group === undefined) {
        group = new Set();
        qsubs.set(sub.queue, group);
      }
      group.add(sub);
    }
    this.count++;
    this.inserts++;
    if (isAckSensitive(tokens)) this.#ackSensitive++;
    this.#invalidate(sub.subject);
    if (this.onInsert !== null) this.onInsert(sub);
  }

  /** Removes a subscription; false if it was not there. */
  remove(sub: Subscription): boolean {
    const tokens = sub.subject.split(".");
    const path: { level: SublistLevel; node: SublistNode; token: string }[] = [];
    let level: SublistLevel | null = this.#root;
    let node: SublistNode | null = null;
    for (let i = 0; i < tokens.length; i++) {
      if (level === null) return false;
      const t = tokens[i];
      node = t === "*" ? level.pwc : t === ">" ? level.fwc : (level.nodes.get(t) ?? null);
      if (node === null) return false;
      path.push({ level, node, token: t });
      level = node.next;
    }
    const n = node!;
    let removed = false;
    if (sub.queue === null) removed = n.psubs?.delete(sub) ?? false;
    else {
      const group = n.qsubs?.get(sub.queue);
      if (group !== undefined) {
        removed = group.delete(sub);
        if (group.size === 0) n.qsubs!.delete(sub.queue);
      }
    }
    if (!removed) return false;
    // Prune empty nodes bottom-up so the trie does not grow without bound under churn.
    for (let i = path.length - 1; i >= 0; i--) {
      const { level: l, node: nd, token } = path[i];
      if (nd.next !== null && nd.next.isEmpty()) nd.next = null;
      if (!nd.isEmpty()) break;
      if (token === "*") l.pwc = null;
      else if (token === ">") l.fwc = null;
      else l.nodes.delete(token);
    }
    this.count--;
    this.removes++;
    if (isAckSensitive(tokens)) this.#ackSensitive--;
    this.#invalidate(sub.subject);
    return true;
  }

  /** The subscriptions a message published on `subject` reaches. */
  match(subject: string): SublistResult {
    this.matches++;
    if (this.#ackSensitive === 0 && subject.charCodeAt(0) === 36 /* $ */ && subject.startsWith("$JS.ACK.")) {
      const key = ackCacheKey(subject);
      if (key !== null) {
        if (this.#ackCacheGeneration !== this.generation) {
          this.#ackCache.clear();
          this.#ackCacheGeneration = this.generation;
        }
        let r = this.#ackCache.get(key);
        if (r === undefined) {
          r = this.#matchTokens(subject.split("."));
          if (this.#ackCache.size > 1024) this.#ackCache.clear();
          this.#ackCache.set(key, r);
        }
        return r;
      }
    }
    const cache = this.#cache;
    if (cache !== null) {
      const hit = cache.get(subject);
      if (hit !== undefined) {
        this.cacheHits++;
        return hit;
      }
    }
    const result = this.#matchTokens(subject.split("."));
    // Subjects used once by construction (JetStream ack replies) would only push useful
    // entries out of the cache: they are matched but not cached.
    if (cache !== null && !isOneShotSubject(subject)) {
      cache.set(subject, result);
      if (cache.size > sublistCacheMax) this.#sweep(cache);
    }
    return result;
  }

  #matchTokens(tokens: string[]): SublistResult {
    // Empty tokens never match (the reference returns an empty result).
    if (tokens.some((t) => t.length === 0)) return emptyResult;
    const c = new Collector();
    matchLevel(this.#root, tokens, 0, c);
    return c.psubs.length === 0 && c.qsubs.length === 0 ? emptyResult : new SublistResult(c.psubs, c.qsubs);
  }

  /** A match that never enters the cache (subjects used once: a reply to one request). */
  matchOnce(subject: string): SublistResult {
    this.matches++;
    const hit = this.#cache?.get(subject);
    if (hit !== undefined) {
      this.cacheHits++;
      return hit;
    }
    return this.#matchTokens(subject.split("."));
  }

  /** Drops the oldest entries (Map iteration is insertion order). */
  #sweep(cache: Map<string, SublistResult>): void {
    let excess = cache.size - sublistCacheSweepTo;
    for (const key of cache.keys()) {
      if (excess-- <= 0) break;
      cache.delete(key);
    }
  }

  #invalidate(subject: string): void {
    this.generation++;
    const cache = this.#cache;
    if (cache === null || cache.size === 0) return;
    if (subjectIsLiteral(subject)) {
      cache.delete(subject);
      return;
    }
    for (const key of cache.keys()) if (subjectMatches(key, subject)) cache.delete(key);
  }

  /**
   * Fan-out of the cached results (monitoring: /subsz `max_fanout`, `avg_fanout`): each
   * entry counts its plain subscriptions plus one per queue group.
   */
  cacheFanout(): { entries: number; total: number; max: number } {
    let total = 0;
    let max = 0;
    const cache = this.#cache;
    if (cache === null) return { entries: 0, total: 0, max: 0 };
    for (const r of cache.values()) {
      const n = r.psubs.length + r.qsubs.length;
      total += n;
      if (n > max) max = n;
    }
    return { entries: cache.size, total, max };
  }

  /** All subscriptions (for monitoring and tests). */
  all(): Subscription[] {
    const out: Subscription[] = [];
    const walk = (l: SublistLevel): void => {
      const visit = (n: SublistNode): void => {
        if (n.psubs !== null) for (const s of n.psubs) out.push(s);
        if (n.qsubs !== null) for (const g of n.qsubs.values()) for (const s of g) out.push(s);
        if (n.next !== null) walk(n.next);
      };
      for (const n of l.nodes.values()) visit(n);
      if (l.pwc !== null) visit(l.pwc);
      if (l.fwc !== null) visit(l.fwc);
    };
    walk(this.#root);
    return out;
  }
}

function matchLevel(start: SublistLevel, tokens: string[], from: number, c: Collector): void {
  let level: SublistLevel | null = start;
  let pwc: SublistNode | null = null;
  let node: SublistNode | null = null;
  for (let i = from; i < tokens.length; i++) {
    if (level === null) return;
    if (level.fwc !== null) c.addNode(level.fwc);
    pwc = level.pwc;
    if (pwc !== null && pwc.next !== null) matchLevel(pwc.next, tokens, i + 1, c);
    node = level.nodes.get(tokens[i]) ?? null;
    level = node === null ? null : node.next;
  }
  if (node !== null) c.addNode(node);
  if (pwc !== null) c.addNode(pwc);
}

/** `$JS.ACK.…` subjects: unique per delivered message. (Inboxes are not: a pull request's reply takes a whole batch.) */
function isOneShotSubject(subject: string): boolean {
  return subject.charCodeAt(0) === 36 /* $ */ && subject.startsWith("$JS.ACK.");
}

/**
 * Could this subscription (tokens) tell two ack subjects of one consumer apart? Only if it can
 * match `$JS.ACK.…` at all and has a token other than a final `>` past the consumer name.
 */
function isAckSensitive(tokens: string[]): boolean {
  if (tokens.length <= 4) return false;
  const t0 = tokens[0];
  const t1 = tokens[1];
  if (t0 === ">" || (t0 !== "$JS" && t0 !== "*")) return false;
  if (t1 === ">") return false;
  if (t1 !== "ACK" && t1 !== "*") return false;
  if (tokens[2] === ">" || tokens[3] === ">") return false;
  return tokens[4] !== ">";
}

/** `$JS.ACK.<stream>.<consumer>|<token count>`, or null when it has fewer than five tokens. */
function ackCacheKey(subject: string): string | null {
  let dots = 0;
  let cut = -1;
  let last = -1;
  for (let i = 0; i < subject.length; i++) {
    if (subject.charCodeAt(i) === 46) {
      if (i === last + 1) return null; // an empty token: the full match says no
      last = i;
      dots++;
      if (dots === 4) cut = i;
    }
  }
  if (cut < 0 || last === subject.length - 1) return null;
  return `${subject.slice(0, cut)}|${dots + 1}`;
}
