// The engine both stores share: sequence and limit bookkeeping, per-subject state, expiry
// (max_age and per-message TTL), purge/compact semantics, scans by filter, and the removal
// callback. A subclass says only where message bytes live (memory, or block files) through a
// few hooks, so the two stores cannot drift apart in behaviour — the shared test suite and the
// property test check that they do not.
//
// Every stored message has an in-memory entry (sequence, subject, timestamp, accounted size and
// whatever the subclass needs to find its bytes). Entries are kept in a SeqMap (seq_map.ts: an
// array window over the live sequences); scans walk sequences in order, skipping holes.

import type {
  ConsumerStore,
  RemoveReason,
  StorageType,
  StoreConfig,
  StoredMessage,
  StreamState,
  StreamStore,
} from "./store.ts";
import { StoreError } from "./store_error.ts";
import { compileFilter, type SubjectFilter } from "./subject_filter.ts";
import { SeqMap } from "./seq_map.ts";

export interface EntryBase {
  seq: number;
  subject: string;
  ts: bigint;
  /** Bytes accounted for this message in state.bytes (the reference's per-store formula). */
  size: number;
  /** Per-message TTL deadline in ns since the epoch, 0n when none. */
  expiresNs: bigint;
}

/** Per-subject state: count and first/last sequence (first may be stale-low, see firstFor). */
interface SubjectState {
  msgs: number;
  first: number;
  last: number;
}

type RemoveCallback = (seq: number, subject: string, reason: RemoveReason) => void;

/** Injected time so tests and simulations can drive expiry; defaults to the wall clock. */
export interface Clock {
  nowNs(): bigint;
}

// Wall-clock nanoseconds with a monotonic fine part: the epoch offset is taken once.
const epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export const wallClock: Clock = {
  nowNs: () => epochOffsetNs + process.hrtime.bigint(),
};

const NS_PER_MS = 1_000_000n;

/** A binary min-heap of (deadline, seq) for per-message TTLs; removed messages are skipped lazily. */
class DeadlineHeap {
  #at: bigint[] = [];
  #seq: number[] = [];
  get size(): number {
    return this.#at.length;
  }
  clear(): void {
    this.#at = [];
    this.#seq = [];
  }
  peekAt(): bigint {
    return this.#at[0];
  }
  peekSeq(): number {
    return this.#seq[0];
  }
  push(at: bigint, seq: number): void {
    const a = this.#at;
    const s = this.#seq;
    let i = a.length;
    a.push(at);
    s.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= at) break;
      a[i] = a[p];
      s[i] = s[p];
      i = p;
    }
    a[i] = at;
    s[i] = seq;
  }
  pop(): void {
    const a = this.#at;
    const s = this.#seq;
    const lastAt = a.pop()!;
    const lastSeq = s.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1] < a[c]) c++;
      if (a[c] >= lastAt) break;
      a[i] = a[c];
      s[i] = s[c];
      i = c;
    }
    a[i] = lastAt;
    s[i] = lastSeq;
  }
}

export abstract class StoreCore<E extends EntryBase> implements StreamStore {
  abstract readonly type: StorageType;

  protected config: StoreConfig;
  protected readonly clock: Clock;
  protected readonly msgs = new SeqMap<E>();
  protected readonly subjects = new Map<string, SubjectState>();
  protected count = 0;
  protected bytes = 0;
  protected firstSeq: number;
  protected firstTs = 0n;
  protected lastSeq: number;
  protected lastTs = 0n;
  protected closed = false;

  #consumerCount = 0;
  #onRemove: RemoveCallback | null = null;
  #ttl = new DeadlineHeap();
  /** Messages stored with "Nats-TTL: never" (exempt from max_age). */
  #neverCount = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAtMs = 0;

  /**
   * How the reference compares, under discard new at the per-subject limit, the size of the
   * subject's oldest message with the new payload: memstore refuses when oldest < new,
   * filestore when oldest <= new (memstore.go / filestore.go storeRawMsg).
   */
  protected abstract readonly refuseWhenOldestEqual: boolean;
  /**
   * Whether deleted() lists deleted sequences up to and including the last sequence: the
   * reference's file store does ([3,4,7,8] after deleting 1,3,4,7,8 of 1..8), its memory store
   * stops before it ([3,4,7]); num_deleted is 4 in both (checked against nats-server 2.9.10).
   */
  protected readonly deletedThroughLast: boolean = false;

  constructor(config: StoreConfig, clock: Clock) {
    this.config = { ...config };
    this.clock = clock;
    const first = config.firstSeq !== undefined && config.firstSeq > 0 ? config.firstSeq : 1;
    this.firstSeq = first;
    this.lastSeq = first - 1;
  }

  // ---- hooks for the subclass ------------------------------------------------------------

  /** Bytes accounted for one message (the reference's memStoreMsgSize / fileStoreMsgSize). */
  protected abstract msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number;
  /** Persist a message and return its entry. May throw StoreError("io"). */
  protected abstract writeMsg(seq: number, subject: string, hdr: Uint8Array | null, data: Uint8Array, ts: bigint, expiresNs: bigint): E;
  protected abstract readMsg(entry: E): { hdr: Uint8Array | null; data: Uint8Array };
  /**
   * One message removed out of order (not the first), or erased: persist the delete. `reason`
   * lets the file store defer what recovery can reproduce (limits, max_age, ttl).
   */
  protected abstract writeTombstone(entry: E, erase: boolean, reason: RemoveReason): void;
  /** Everything below `firstSeq` is gone and the last sequence is `lastSeq`: persist that. */
  protected abstract writeFloor(firstSeq: number, lastSeq: number, reason: RemoveReason): void;
  /** A sequence was reserved without a message. */
  protected abstract writeSkip(seq: number, ts: bigint): void;
  /** An entry left the index (any reason): the subclass updates its own accounting. */
  protected abstract entryDropped(entry: E): void;
  /** A batch of removals finished: the subclass may reclaim space. */
  protected abstract afterRemovals(): void;
  protected abstract closeStorage(): void;
  protected abstract destroyStorage(): void;
  abstract consumerStore(name: string): ConsumerStore;
  abstract consumerNames(): string[];
  abstract sync(): void;

  // ---- appends ---------------------------------------------------------------------------

  storeMsg(subject: string, hdr: Uint8Array | null, data: Uint8Array, ttlMs?: number, ts?: bigint): { seq: number; ts: bigint } {
    this.#checkOpen();
    if (hdr !== null && hdr.length === 0) hdr = null;
    const cfg = this.config;
    const maxPer = cfg.maxMsgsPerSubject;
    const ss = this.subjects.get(subject);
    const atSubjectLimit = maxPer > 0 && ss !== undefined && ss.msgs >= maxPer;
    if (cfg.discard === "new") {
      if (atSubjectLimit && cfg.discardNewPerSubject) {
        throw new StoreError("max_msgs_per_subject", `maximum messages per subject exceeded`);
      }
      if (cfg.maxMsgs > 0 && this.count >= cfg.maxMsgs && !atSubjectLimit) {
        throw new StoreError("max_msgs", "maximum messages exceeded");
      }
      // The reference compares stored bytes plus the raw header+payload length (no overhead)
      // and refuses at equality; at the per-subject limit the oldest message of the subject
      // is replaced, so it is enough room when that one is big enough.
      const rawLen = data.length + (hdr === null ? 0 : hdr.length);
      if (cfg.maxBytes > 0 && this.bytes + rawLen >= cfg.maxBytes) {
        if (!atSubjectLimit) throw new StoreError("max_bytes", "maximum bytes exceeded");
        const oldest = this.msgs.get(this.#firstForSubject(subject, ss!));
        const oldestSize = oldest === undefined ? 0 : oldest.size;
        if (oldestSize < rawLen || (this.refuseWhenOldestEqual && oldestSize === rawLen)) {
          throw new StoreError("max_bytes", "maximum bytes exceeded");
        }
      }
    }

    const seq = this.lastSeq + 1;
    const stamp = ts ?? this.clock.nowNs();
    // ttlMs -1: "Nats-TTL: never" — exempt from max_age too (ADR-43); kept as expiresNs -1.
    const expiresNs = ttlMs === -1 ? -1n : ttlMs !== undefined && ttlMs > 0 ? stamp + BigInt(Math.floor(ttlMs)) * NS_PER_MS : 0n;
    const entry = this.writeMsg(seq, subject, hdr, data, stamp, expiresNs);
    this.#index(entry);
    if (expiresNs > 0n) this.#ttl.push(expiresNs, seq);
    else if (expiresNs < 0n) this.#neverCount++;

    if (ss !== undefined && maxPer > 0 && ss.msgs > maxPer) this.#enforcePerSubject(subject, ss, maxPer);
    this.#enforceMsgsAndBytes();
    this.afterRemovals();
    this.#armTimer();
    return { seq, ts: stamp };
  }

  /** Adds an entry to the index (appends and recovery). */
  protected indexEntry(entry: E): void {
    this.#index(entry);
    if (entry.expiresNs > 0n) this.#ttl.push(entry.expiresNs, entry.seq);
    else if (entry.expiresNs < 0n) this.#neverCount++;
  }

  #index(entry: E): void {
    const seq = entry.seq;
    this.msgs.set(seq, entry);
    if (this.count === 0) {
      this.firstSeq = seq;
      this.firstTs = entry.ts;
    }
    this.count++;
    this.bytes += entry.size;
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.lastTs = entry.ts;
    }
    const ss = this.subjects.get(entry.subject);
    if (ss === undefined) this.subjects.set(entry.subject, { msgs: 1, first: seq, last: seq });
    else {
      ss.msgs++;
      ss.last = seq;
    }
  }

  skipMsg(): number {
    this.#checkOpen();
    const seq = this.lastSeq + 1;
    const now = this.clock.nowNs();
    this.writeSkip(seq, now);
    this.lastSeq = seq;
    this.lastTs = now;
    if (this.count === 0) {
      this.firstSeq = seq + 1;
      this.firstTs = 0n;
    }
    return seq;
  }

  /** Recovery: a sequence seen without a live message (skip, tombstone) still moves last. */
  protected noteSequence(seq: number, ts: bigint): void {
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.lastTs = ts;
      if (this.count === 0) {
        this.firstSeq = seq + 1;
        this.firstTs = 0n;
      }
    }
  }

  // ---- loads -----------------------------------------------------------------------------

  loadMsg(seq: number): StoredMessage | null {
    this.#checkOpen();
    const e = this.msgs.get(seq);
    return e === undefined ? null : this.#toMessage(e);
  }

  #toMessage(e: E): StoredMessage {
    const { hdr, data } = this.readMsg(e);
    return { seq: e.seq, subject: e.subject, hdr, data, ts: e.ts };
  }

  loadLastMsg(filter: string): StoredMessage | null {
    this.#checkOpen();
    const f = compileFilter(filter);
    if (f.all) return this.count === 0 ? null : this.loadMsg(this.lastSeq);
    if (f.literal) {
      const ss = this.subjects.get(f.text);
      return ss === undefined ? null : this.loadMsg(ss.last);
    }
    let best = 0;
    for (const [subject, ss] of this.subjects) if (ss.last > best && f.matches(subject)) best = ss.last;
    return best === 0 ? null : this.loadMsg(best);
  }

  loadNextMsg(filter: string, start: number): StoredMessage | null {
    this.#checkOpen();
    const seq = this.#nextSeq(compileFilter(filter), start);
    return seq === 0 ? null : this.#toMessage(this.msgs.get(seq)!);
  }

  /** The first live sequence >= start matching f, or 0. */
  #nextSeq(f: SubjectFilter, start: number): number {
    if (this.count === 0) return 0;
    let from = start < this.firstSeq ? this.firstSeq : start;
    let to = this.lastSeq;
    if (f.literal) {
      const ss = this.subjects.get(f.text);
      if (ss === undefined) return 0;
      if (from < ss.first) from = ss.first;
      to = ss.last;
    } else if (!f.all && from > this.firstSeq) {
      // A wildcard scan far from the start: narrow it with the per-subject ranges.
      let lo = Infinity;
      let hi = 0;
      for (const [subject, ss] of this.subjects) {
        if (ss.last < from || !f.matches(subject)) continue;
        if (ss.first < lo) lo = ss.first;
        if (ss.last > hi) hi = ss.last;
      }
      if (hi === 0) return 0;
      if (lo > from) from = lo;
      to = hi;
    }
    for (let seq = from; seq <= to; seq++) {
      const e = this.msgs.get(seq);
      if (e !== undefined && (f.all || f.matches(e.subject))) return seq;
    }
    return 0;
  }

  // ---- removals --------------------------------------------------------------------------

  removeMsg(seq: number): boolean {
    return this.#removeOne(seq, false);
  }

  eraseMsg(seq: number): boolean {
    return this.#removeOne(seq, true);
  }

  #removeOne(seq: number, erase: boolean): boolean {
    this.#checkOpen();
    const e = this.msgs.get(seq);
    if (e === undefined) return false;
    this.#remove(e, "remove", erase);
    this.afterRemovals();
    return true;
  }

  /**
   * Drops one entry and persists the fact: the first message moves the floor (one record
   * covers it), any other one is a tombstone.
   */
  #remove(e: E, reason: RemoveReason, erase: boolean): void {
    const wasFirst = e.seq === this.firstSeq;
    this.#drop(e);
    if (wasFirst && !erase) this.writeFloor(this.firstSeq, this.lastSeq, reason);
    else this.writeTombstone(e, erase, reason);
    this.#onRemove?.(e.seq, e.subject, reason);
  }

  /** Removes an entry from the index and every count; no persistence, no callback. */
  #drop(e: E): void {
    const seq = e.seq;
    if (e.expiresNs < 0n) this.#neverCount--;
    this.msgs.delete(seq);
    this.count--;
    this.bytes -= e.size;
    const ss = this.subjects.get(e.subject)!;
    if (ss.msgs === 1) this.subjects.delete(e.subject);
    else {
      ss.msgs--;
      // First is found lazily (#firstForSubject); last must be exact for loadLastMsg.
      if (seq === ss.last) {
        let s = seq - 1;
        while (s >= ss.first) {
          const m = this.msgs.get(s);
          if (m !== undefined && m.subject === e.subject) break;
          s--;
        }
        ss.last = s;
      }
      if (seq === ss.first) ss.first = seq + 1;
    }
    if (seq === this.firstSeq) this.#advanceFirst();
    this.entryDropped(e);
  }

  #advanceFirst(): void {
    if (this.count === 0) {
      this.firstSeq = this.lastSeq + 1;
      this.firstTs = 0n;
      return;
    }
    let s = this.firstSeq + 1;
    while (!this.msgs.has(s)) s++;
    this.firstSeq = s;
    this.firstTs = this.msgs.get(s)!.ts;
  }

  /** The subject's first live sequence (kept as a lower bound, tightened on demand). */
  #firstForSubject(subject: string, ss: SubjectState): number {
    let s = ss.first;
    for (;;) {
      const m = this.msgs.get(s);
      if (m !== undefined && m.subject === subject) break;
      s++;
    }
    ss.first = s;
    return s;
  }

  #enforcePerSubject(subject: string, ss: SubjectState, maxPer: number): void {
    while (ss.msgs > maxPer) {
      const seq = this.#firstForSubject(subject, ss);
      this.#remove(this.msgs.get(seq)!, "limits", false);
    }
  }

  #enforceMsgsAndBytes(): void {
    const { maxMsgs, maxBytes } = this.config;
    if (maxMsgs > 0) while (this.count > maxMsgs) this.#remove(this.msgs.get(this.firstSeq)!, "limits", false);
    if (maxBytes > 0) while (this.bytes > maxBytes && this.count > 0) this.#remove(this.msgs.get(this.firstSeq)!, "limits", false);
  }

  purge(opts?: { subject?: string; seq?: number; keep?: number }): number {
    this.#checkOpen();
    const subject = opts?.subject ?? "";
    const seq = opts?.seq ?? 0;
    const keep = opts?.keep ?? 0;
    // The API layer answers this combination with a bad-request error before calling us.
    if (seq > 1 && keep > 0) throw new RangeError("purge: seq and keep are exclusive");
    let purged = 0;
    if (subject === "" || subject === ">") {
      if (keep === 0 && seq <= 1) purged = this.#removeBelow(this.lastSeq + 1, "purge");
      else if (seq > 1) purged = this.#removeBelow(seq, "purge");
      else if (keep < this.count) purged = this.#removeBelow(this.lastSeq - keep + 1, "purge");
    } else {
      const f = compileFilter(subject);
      let matching = 0;
      let first = 0;
      let last = 0;
      for (const [subj, ss] of this.subjects) {
        if (!f.matches(subj)) continue;
        matching += ss.msgs;
        const sf = this.#firstForSubject(subj, ss);
        if (first === 0 || sf < first) first = sf;
        if (ss.last > last) last = ss.last;
      }
      if (matching > 0 && !(keep > 0 && keep >= matching)) {
        const toPurge = keep > 0 ? matching - keep : matching;
        if (seq > 1) last = seq - 1;
        for (let s = first; s <= last && purged < toPurge; s++) {
          const e = this.msgs.get(s);
          if (e === undefined || !f.matches(e.subject)) continue;
          this.#remove(e, "purge", false);
          purged++;
        }
      }
    }
    this.afterRemovals();
    return purged;
  }

  compact(seq: number): number {
    this.#checkOpen();
    const n = this.#removeBelow(seq <= 0 ? this.lastSeq + 1 : seq, "compact");
    this.afterRemovals();
    return n;
  }

  /** Removes every message below seq; seq beyond the end moves both first and last. */
  #removeBelow(seq: number, reason: RemoveReason): number {
    let removed = 0;
    const cb = this.#onRemove;
    const end = seq - 1 < this.lastSeq ? seq - 1 : this.lastSeq;
    if (this.count > 0) {
      for (let s = this.firstSeq; s <= end && this.count > 0; s++) {
        const e = this.msgs.get(s);
        if (e === undefined) continue;
        this.#drop(e);
        removed++;
        cb?.(e.seq, e.subject, reason);
      }
    }
    if (seq > this.lastSeq + 1) {
      this.lastSeq = seq - 1;
      // The reference keeps the last timestamp when compacting past the end.
    }
    if (this.count === 0) {
      this.firstSeq = this.lastSeq + 1;
      this.firstTs = 0n;
    }
    this.writeFloor(this.firstSeq, this.lastSeq, reason);
    return removed;
  }

  // ---- state and queries -----------------------------------------------------------------

  /** state().bytes without building the state (per-publish storage checks). */
  bytesStored(): number {
    return this.bytes;
  }

  state(): StreamState {
    this.#checkOpen();
    return {
      messages: this.count,
      bytes: this.bytes,
      firstSeq: this.firstSeq,
      firstTs: this.firstTs,
      lastSeq: this.lastSeq,
      lastTs: this.lastTs,
      numSubjects: this.subjects.size,
      numDeleted: this.#numDeleted(),
      consumerCount: this.#consumerCount,
    };
  }

  #numDeleted(): number {
    return this.lastSeq > this.firstSeq ? this.lastSeq - this.firstSeq + 1 - this.count : 0;
  }

  deleted(): number[] {
    this.#checkOpen();
    const out: number[] = [];
    if (this.#numDeleted() === 0) return out;
    const end = this.deletedThroughLast ? this.lastSeq : this.lastSeq - 1;
    for (let s = this.firstSeq + 1; s <= end; s++) if (!this.msgs.has(s)) out.push(s);
    return out;
  }

  subjectsTotals(filter: string): Map<string, number> {
    this.#checkOpen();
    const f = compileFilter(filter);
    const out = new Map<string, number>();
    if (f.literal) {
      const ss = this.subjects.get(f.text);
      if (ss !== undefined) out.set(f.text, ss.msgs);
      return out;
    }
    for (const [subject, ss] of this.subjects) if (f.matches(subject)) out.set(subject, ss.msgs);
    return out;
  }

  numPending(startSeq: number, filter: string, lastPerSubject: boolean): number {
    this.#checkOpen();
    if (this.count === 0) return 0;
    const f = compileFilter(filter);
    const start = startSeq < this.firstSeq ? this.firstSeq : startSeq;
    if (start > this.lastSeq) return 0;
    if (lastPerSubject) {
      let n = 0;
      if (f.literal) {
        const ss = this.subjects.get(f.text);
        return ss !== undefined && ss.last >= start ? 1 : 0;
      }
      for (const [subject, ss] of this.subjects) if (ss.last >= start && f.matches(subject)) n++;
      return n;
    }
    if (start === this.firstSeq) {
      if (f.all) return this.count;
      if (f.literal) return this.subjects.get(f.text)?.msgs ?? 0;
      let n = 0;
      for (const [subject, ss] of this.subjects) if (f.matches(subject)) n += ss.msgs;
      return n;
    }
    // Scan whichever side of start is shorter.
    let n = 0;
    if (start - this.firstSeq < this.lastSeq - start) {
      for (let s = this.firstSeq; s < start; s++) {
        const e = this.msgs.get(s);
        if (e !== undefined && (f.all || f.matches(e.subject))) n++;
      }
      return this.numPending(this.firstSeq, filter, false) - n;
    }
    for (let s = start; s <= this.lastSeq; s++) {
      const e = this.msgs.get(s);
      if (e !== undefined && (f.all || f.matches(e.subject))) n++;
    }
    return n;
  }

  // ---- configuration, expiry -------------------------------------------------------------

  updateConfig(config: StoreConfig): void {
    this.#checkOpen();
    const oldPer = this.config.maxMsgsPerSubject;
    this.config = { ...config };
    const maxPer = config.maxMsgsPerSubject;
    if (maxPer > 0 && (oldPer <= 0 || maxPer < oldPer)) {
      for (const [subject, ss] of [...this.subjects]) if (ss.msgs > maxPer) this.#enforcePerSubject(subject, ss, maxPer);
    }
    this.#enforceMsgsAndBytes();
    this.#disarmTimer();
    this.#expire();
    this.afterRemovals();
    this.#armTimer();
  }

  /** Removes messages past max_age or their TTL; returns how many. */
  #expire(): number {
    const now = this.clock.nowNs();
    let n = 0;
    const maxAgeMs = this.config.maxAgeMs;
    if (maxAgeMs > 0) {
      const cutoff = now - BigInt(Math.floor(maxAgeMs)) * NS_PER_MS;
      if (this.#neverCount === 0) {
        while (this.count > 0 && this.firstTs <= cutoff) {
          this.#remove(this.msgs.get(this.firstSeq)!, "max_age", false);
          n++;
        }
      } else {
        // Messages marked "never" stay: walk past them.
        for (let seq = this.firstSeq; seq <= this.lastSeq && this.count > 0; seq++) {
          const e = this.msgs.get(seq);
          if (e === undefined) continue;
          if (e.ts > cutoff) break;
          if (e.expiresNs < 0n) continue;
          this.#remove(e, "max_age", false);
          n++;
        }
      }
    }
    const heap = this.#ttl;
    while (heap.size > 0 && heap.peekAt() <= now) {
      const seq = heap.peekSeq();
      heap.pop();
      const e = this.msgs.get(seq);
      if (e === undefined || e.expiresNs <= 0n) continue;
      this.#remove(e, "ttl", false);
      n++;
    }
    return n;
  }

  /** One unref'd timer for the earliest deadline (oldest message's age or a TTL). */
  #armTimer(): void {
    if (this.closed) return;
    let dueNs = 0n;
    if (this.config.maxAgeMs > 0 && this.count > 0) {
      let oldestTs = this.firstTs;
      if (this.#neverCount > 0) {
        // The oldest message max_age applies to (none when all are "never").
        oldestTs = -1n;
        for (let seq = this.firstSeq; seq <= this.lastSeq; seq++) {
          const e = this.msgs.get(seq);
          if (e !== undefined && e.expiresNs >= 0n) {
            oldestTs = e.ts;
            break;
          }
        }
      }
      if (oldestTs >= 0n) dueNs = oldestTs + BigInt(Math.floor(this.config.maxAgeMs)) * NS_PER_MS;
    }
    // Drop TTL entries of messages already gone so that the heap top is live.
    const heap = this.#ttl;
    while (heap.size > 0 && !this.msgs.has(heap.peekSeq())) heap.pop();
    if (heap.size > 0 && (dueNs === 0n || heap.peekAt() < dueNs)) dueNs = heap.peekAt();
    if (dueNs === 0n) return;
    const dueMs = Number(dueNs / NS_PER_MS) + 1;
    if (this.#timer !== null) {
      if (this.#timerAtMs <= dueMs) return;
      clearTimeout(this.#timer);
    }
    const delayMs = Math.max(0, dueMs - Number(this.clock.nowNs() / NS_PER_MS));
    this.#timerAtMs = dueMs;
    const t = setTimeout(() => this.#onTimer(), delayMs);
    (t as { unref?: () => void }).unref?.();
    this.#timer = t;
  }

  #disarmTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #onTimer(): void {
    this.#timer = null;
    if (this.closed) return;
    if (this.#expire() > 0) this.afterRemovals();
    this.#armTimer();
  }

  /**
   * Recovery: apply max_msgs_per_subject, max_msgs and max_bytes to what was recovered (the
   * file store defers persisting removals that this reproduces).
   */
  protected enforceLimits(): void {
    const maxPer = this.config.maxMsgsPerSubject;
    if (maxPer > 0) {
      for (const [subject, ss] of [...this.subjects]) if (ss.msgs > maxPer) this.#enforcePerSubject(subject, ss, maxPer);
    }
    this.#enforceMsgsAndBytes();
  }

  /** Recovery finished: expire what is already due and arm the timer. */
  protected startExpiry(): void {
    if (this.#expire() > 0) this.afterRemovals();
    this.#armTimer();
  }

  onRemove(callback: RemoveCallback | null): void {
    this.#onRemove = callback;
  }

  setConsumerCount(count: number): void {
    this.#consumerCount = count;
  }

  stop(): void {
    if (this.closed) return;
    this.#disarmTimer();
    this.closed = true;
    this.closeStorage();
  }

  destroy(): void {
    this.#disarmTimer();
    this.closed = true;
    this.msgs.clear();
    this.subjects.clear();
    this.#ttl.clear();
    this.destroyStorage();
  }

  #checkOpen(): void {
    if (this.closed) throw new StoreError("store_closed", `stream store "${this.config.name}" is closed`);
  }

  /** For subclasses' recovery: forget a message that a later record deleted. */
  protected forget(seq: number): E | undefined {
    const e = this.msgs.get(seq);
    if (e !== undefined) this.#drop(e);
    return e;
  }

  /** For subclasses' recovery: a floor record (everything below firstSeq is gone). */
  protected applyFloor(firstSeq: number, lastSeq: number, ts: bigint): void {
    if (lastSeq > this.lastSeq) {
      this.lastSeq = lastSeq;
      this.lastTs = ts;
    }
    for (let s = this.firstSeq; s < firstSeq && this.count > 0; s++) this.forget(s);
    if (this.count === 0 && firstSeq > this.firstSeq) this.firstSeq = firstSeq;
    if (this.count === 0 && this.firstSeq <= this.lastSeq) this.firstSeq = this.lastSeq + 1;
  }
}
