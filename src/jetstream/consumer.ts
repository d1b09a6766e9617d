// A consumer: a cursor over its stream with delivery and acknowledgement state. Push
// consumers deliver to `deliver_subject` while someone listens there; pull consumers deliver
// to the reply subjects of waiting `MSG.NEXT` requests. Every delivery carries the ack reply
// `$JS.ACK.<stream>.<consumer>.<delivery count>.<stream seq>.<consumer seq>.<ts>.<pending>`;
// acks, naks, progress and terms arrive on that subject. Unacknowledged messages are
// redelivered after ack_wait (or the backoff schedule) up to max_deliver times.
//
// Everything runs on the event loop: deliveries happen synchronously when a message is stored,
// a pull request arrives or an ack frees room, and timers drive ack-wait expiry, pull request
// expiry, heartbeats and the inactivity clean-up.
import { buildHeaders } from "../protocol/headers.ts";
import type { Subscription } from "../server/sublist.ts";
import { subjectMatches } from "../server/subject.ts";
import { byteStringToText, encodeUtf8, textToByteString } from "../util/bytes.ts";
import {
  encodeConsumerConfig,
  filtersOf,
  isPull,
  parsePullRequest,
  type ConsumerConfig,
  type PullRequest,
} from "./consumer_config.ts";
import { goJson, nsToDecimal, nsToRfc3339, rfc3339ToNs, ZERO_TIME } from "./json.ts";
import { isSubsetMatch, subjectsCollide } from "./subjects.ts";
import type { Stream } from "./stream.ts";
import { mergeHeaders, parseGoDuration } from "./stream.ts";
import type { ConsumerState, ConsumerStore, StoredMessage } from "./store/store.ts";

interface PendingEntry {
  /** Consumer sequence of the latest delivery. */
  dseq: number;
  /** Wall-clock ms of the latest delivery. */
  ts: number;
  /** When it is due for redelivery (ms). */
  deadline: number;
}

interface WaitingRequest {
  reply: string;
  batch: number;
  /** Remaining bytes (0: no limit). */
  maxBytes: number;
  noWait: boolean;
  /** no_wait with expires and nothing to deliver when it came: waits (up to expires) for a first message. */
  waitForFirst: boolean;
  delivered: number;
  expiresTimer: ReturnType<typeof setTimeout> | null;
  hbTimer: ReturnType<typeof setTimeout> | null;
  /** The request's idle_heartbeat (ms; 0: none). */
  hbMs: number;
  /** When something (a message or a heartbeat) was last sent to this request (ms). */
  lastSentMs: number;
  done: boolean;
  /** Sublist generation at which interest in `reply` was last confirmed (-1: never). */
  interestGen: number;
}

const EMPTY = new Uint8Array(0);
/** How often a changed consumer state is written to the file store. */
const stateFlushMs = 250;

export class Consumer {
  config: ConsumerConfig;
  readonly name: string;
  readonly created: string;
  readonly stream: Stream;
  readonly durable: boolean;
  closed = false;

  /** Next stream sequence to look at. */
  #sseq = 1;
  /** Highest consumer sequence used (delivered.consumer_seq). */
  #dseq = 0;
  /** Highest stream sequence delivered (delivered.stream_seq). */
  #deliveredSseq = 0;
  #ackFloor = { c: 0, s: 0 };
  #pending = new Map<number, PendingEntry>();
  /** Delivery counts above 1. */
  #rdc = new Map<number, number>();
  /** Stream sequences due for redelivery, in order of becoming due. */
  #rdq: number[] = [];
  #rdqSet = new Set<number>();
  /** Last-per-subject start: sequences delivered before the cursor continues. */
  #lps: number[] = [];
  /** Messages matching the filter not yet delivered (num_pending), kept incrementally. */
  #npc = 0;
  #filters: string[];
  #waiting: WaitingRequest[] = [];
  #lastDeliveredMs = 0;
  #lastAckMs = 0;
  #lastActivityMs = Date.now();
  #pushActive = false;
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  #ackTimerAt = 0;
  #hbTimer: ReturnType<typeof setTimeout> | null = null;
  /** Push: when a message or heartbeat last went to the deliver subject (ms). */
  #lastPushSendMs = 0;
  #inactiveTimer: ReturnType<typeof setTimeout> | null = null;
  #holdTimer: ReturnType<typeof setTimeout> | null = null;
  #nextAllowedMs = 0;
  #lastReplayTs = 0n;
  #lastReplayAt = 0;
  /** Flow control: the reply subject of the outstanding request, and bytes sent since. */
  #fcReply = "";
  #fcBytes = 0;
  /** Bytes pending when the outstanding flow control request went out (its reply releases them). */
  #fcSentBytes = 0;
  #fcSeq = 0;
  #ackSub: Subscription | null = null;
  #fcSub: Subscription | null = null;
  #store: ConsumerStore | null;
  #stateDirty = false;
  /** `$JS.ACK.<stream>.<consumer>.` as a byte string. */
  #ackPrefix: string;
  #stateTimer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #pausedUntilMs = 0;
  #pauseTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(stream: Stream, name: string, config: ConsumerConfig, created: string, store: ConsumerStore | null, state: ConsumerState | null) {
    this.stream = stream;
    this.name = name;
    this.config = config;
    this.created = created;
    this.durable = config.durable_name !== "";
    this.#store = store;
    this.#filters = filtersOf(config).map(textToByteString);
    this.#ackPrefix = `$JS.ACK.${textToByteString(stream.name)}.${textToByteString(name)}.`;
    if (state !== null) this.#restore(state);
    else this.#initCursor();
    this.#npc = this.#countPending();
    this.#applyPause();
  }

  get isPull(): boolean {
    return isPull(this.config);
  }

  // ---- Start / stop ------------------------------------------------------------------------

  start(): void {
    const client = this.stream.client;
    const prefix = `$JS.ACK.${textToByteString(this.stream.name)}.${textToByteString(this.name)}`;
    this.#ackSub = client.subscribe(`${prefix}.>`, (subject, reply, _hdr, data) => this.#onAck(subject.slice(prefix.length + 1), reply, data));
    if (!this.isPull) {
      if (this.config.flow_control) {
        const fcPrefix = `$JS.FC.${textToByteString(this.stream.name)}.${textToByteString(this.name)}`;
        this.#fcSub = client.subscribe(`${fcPrefix}.>`, (subject) => this.#onFlowControlReply(subject));
      }
      this.#pushActive = this.#hasPushInterest();
      this.#lastPushSendMs = Date.now();
      if (this.config.idle_heartbeat > 0) this.#armPushHeartbeat(this.config.idle_heartbeat / 1e6);
    }
    this.#scheduleInactiveCheck();
    if (this.#pending.size > 0) this.#armAckTimer();
    this.run();
  }

  /** Stops timers and subscriptions; pull requests waiting get 409 Consumer Deleted when `deleted`. */
  stop(deleted: boolean): void {
    if (this.closed) return;
    this.closed = true;
    const client = this.stream.client;
    if (this.#ackSub !== null) client.unsubscribe(this.#ackSub);
    if (this.#fcSub !== null) client.unsubscribe(this.#fcSub);
    for (const t of [this.#ackTimer, this.#inactiveTimer, this.#holdTimer, this.#pauseTimer, this.#stateTimer]) if (t !== null) clearTimeout(t);
    if (this.#hbTimer !== null) clearTimeout(this.#hbTimer);
    for (const w of this.#waiting) {
      if (deleted) this.#sendStatus(w.reply, "409 Consumer Deleted", []);
      this.#finishRequest(w);
    }
    this.#waiting = [];
    if (!deleted) this.#flushState(true);
  }

  // ---- State ---------------------------------------------------------------------------------

  #initCursor(): void {
    const store = this.stream.store;
    const st = store.state();
    const c = this.config;
    const first = Math.max(st.firstSeq, 1);
    switch (c.deliver_policy) {
      case "all":
        this.#sseq = first;
        break;
      case "last": {
        let last = 0;
        for (const f of this.#filtersOrAll()) {
          const m = store.loadLastMsg(f);
          if (m !== null && m.seq > last) last = m.seq;
        }
        this.#sseq = last > 0 ? last : st.lastSeq + 1;
        break;
      }
      case "new":
        this.#sseq = st.lastSeq + 1;
        break;
      case "by_start_sequence":
        // Clamped to the stream: at most one past its last message (the reference).
        this.#sseq = Math.min(Math.max(c.opt_start_seq, first), st.lastSeq + 1);
        break;
      case "by_start_time": {
        const t = rfc3339ToNs(c.opt_start_time ?? "") ?? 0n;
        let seq = st.lastSeq + 1;
        for (let s = first; s <= st.lastSeq; ) {
          const m = this.#loadNext(s);
          if (m === null) break;
          if (m.ts >= t) {
            seq = m.seq;
            break;
          }
          s = m.seq + 1;
        }
        this.#sseq = seq;
        break;
      }
      case "last_per_subject": {
        const seqs: number[] = [];
        for (const f of this.#filtersOrAll()) {
          for (const subject of store.subjectsTotals(f).keys()) {
            const m = store.loadLastMsg(subject);
            if (m !== null) seqs.push(m.seq);
          }
        }
        seqs.sort((a, b) => a - b);
        this.#lps = seqs;
        this.#sseq = st.lastSeq + 1;
        break;
      }
    }
    // delivered.stream_seq starts just below the first message to deliver; the ack floor
    // starts at zero whatever the policy (the reference's info right after a create).
    this.#deliveredSseq = this.#lps.length > 0 ? this.#lps[0] - 1 : this.#sseq - 1;
    this.#ackFloor = { c: 0, s: 0 };
  }

  #restore(s: ConsumerState): void {
    this.#dseq = s.delivered.consumerSeq;
    this.#deliveredSseq = s.delivered.streamSeq;
    this.#sseq = s.delivered.streamSeq + 1;
    this.#ackFloor = { c: s.ackFloor.consumerSeq, s: s.ackFloor.streamSeq };
    const ackWaitMs = this.config.ack_wait / 1e6;
    for (const [seq, p] of s.pending) this.#pending.set(seq, { dseq: p.consumerSeq, ts: p.tsMs, deadline: p.tsMs + ackWaitMs });
    for (const [seq, n] of s.redelivered) this.#rdc.set(seq, n);
  }

  /**
   * Consumer state is written at most every stateFlushMs (and on stop): a crash can make the
   * last acks of that window be redelivered (at-least-once), never lose an unacked message.
   */
  #markDirty(): void {
    if (this.#store === null || this.#stateDirty) return;
    this.#stateDirty = true;
    this.#stateTimer = setTimeout(() => {
      this.#stateTimer = null;
      this.#flushState(false);
    }, stateFlushMs);
  }

  #flushState(force: boolean): void {
    if (this.#store === null || (!this.#stateDirty && !force)) return;
    this.#stateDirty = false;
    const pending = new Map<number, { consumerSeq: number; tsMs: number }>();
    for (const [seq, p] of this.#pending) pending.set(seq, { consumerSeq: p.dseq, tsMs: p.ts });
    try {
      this.#store.update({
        delivered: { consumerSeq: this.#dseq, streamSeq: this.#deliveredSseq },
        ackFloor: { consumerSeq: this.#ackFloor.c, streamSeq: this.#ackFloor.s },
        pending,
        redelivered: new Map(this.#rdc),
      });
      if (force) this.#store.sync();
    } catch (e) {
      this.stream.warn(`JetStream consumer '${this.stream.name} > ${this.name}': could not save state: ${(e as Error).message}`);
    }
  }

  // ---- Filters and pending counts -------------------------------------------------------------

  #filtersOrAll(): string[] {
    return this.#filters.length === 0 ? [""] : this.#filters;
  }

  /** Does the consumer's filter take `subject` (byte string)? */
  matches(subject: string): boolean {
    if (this.#filters.length === 0) return true;
    for (const f of this.#filters) if (subjectMatches(subject, f)) return true;
    return false;
  }

  #loadNext(start: number): StoredMessage | null {
    const store = this.stream.store;
    if (this.#filters.length <= 1) return store.loadNextMsg(this.#filters.length === 0 ? "" : this.#filters[0], start);
    let best: StoredMessage | null = null;
    for (const f of this.#filters) {
      const m = store.loadNextMsg(f, start);
      if (m !== null && (best === null || m.seq < best.seq)) best = m;
    }
    return best;
  }

  #countPending(): number {
    const store = this.stream.store;
    let n = this.#lps.length;
    for (const f of this.#filtersOrAll()) n += store.numPending(this.#sseq, f, false);
    return n;
  }

  /** Store hook: message `seq` is gone (limits, age, TTL, delete, purge, interest). */
  onMessageRemoved(seq: number, subject: string): void {
    if (!this.matches(subject)) return;
    if (seq >= this.#sseq) this.#npc = Math.max(0, this.#npc - 1);
    else if (this.#lps.length > 0) {
      const i = this.#lps.indexOf(seq);
      if (i >= 0) {
        this.#lps.splice(i, 1);
        this.#npc = Math.max(0, this.#npc - 1);
      }
    }
    this.#rdc.delete(seq);
    if (this.#pending.has(seq)) {
      // A pending message that is gone counts as acknowledged: the ack floor may move (the reference).
      this.#pending.delete(seq);
      if (this.#rdqSet.delete(seq)) this.#rdq.splice(this.#rdq.indexOf(seq), 1);
      this.#updateAckFloor();
      this.#markDirty();
    }
  }

  /**
   * After messages went (a delete or roll-up, no argument) or a STREAM.PURGE (`purge`, its
   * subject as a byte string when filtered). As the reference's consumer purge: a purge of the
   * whole stream (or up to a sequence, or keeping some) moves every consumer up to the new
   * first sequence; a subject purge moves a consumer whose filters lie inside the purged
   * subject to the first message left on it (past the end if none), and a consumer whose
   * filter is wider up to the new first sequence; other consumers are not touched. (2.9.10
   * also moved wider consumers to the purged subject's first message, skipping others; newer
   * servers fixed that, as here.)
   */
  onStreamPurged(purge?: { subject?: string }): void {
    const store = this.stream.store;
    const st = store.state();
    if (purge === undefined) {
      if (st.messages === 0 || this.#sseq < st.firstSeq) {
        if (this.#sseq < st.firstSeq) this.#sseq = st.firstSeq;
        if (this.#ackFloor.s < st.firstSeq - 1) this.#ackFloor.s = st.firstSeq - 1;
        if (this.#deliveredSseq < st.firstSeq - 1) this.#deliveredSseq = st.firstSeq - 1;
      }
    } else if (purge.subject === undefined) this.#purgeTo(st.firstSeq);
    else {
      const subject = purge.subject;
      const f = this.#filters;
      if (f.length > 0 && f.every((x) => x === subject || isSubsetMatch(x, subject))) {
        const next = store.loadNextMsg(subject, Math.max(st.firstSeq, 1));
        this.#purgeTo(next === null ? st.lastSeq + 1 : next.seq);
      } else if (f.length === 0 || f.some((x) => subjectsCollide(x, subject))) this.#purgeTo(st.firstSeq);
      else return;
    }
    this.#updateAckFloor();
    this.#markDirty();
  }

  /** Moves the cursor, delivered and ack floors up to `seq` (never back). */
  #purgeTo(seq: number): void {
    if (this.#sseq < seq) {
      this.#sseq = seq;
      this.#lps = this.#lps.filter((s) => s >= seq);
    }
    if (this.#deliveredSseq < seq - 1) this.#deliveredSseq = seq - 1;
    if (this.#ackFloor.s < seq - 1) {
      this.#ackFloor.s = seq - 1;
      for (const [s, p] of [...this.#pending]) {
        if (s >= seq) continue;
        if (p.dseq > this.#ackFloor.c) this.#ackFloor.c = p.dseq;
        this.#pending.delete(s);
        this.#rdc.delete(s);
        if (this.#rdqSet.delete(s)) this.#rdq.splice(this.#rdq.indexOf(s), 1);
      }
      if (this.#ackFloor.c > this.#dseq) this.#dseq = this.#ackFloor.c;
    }
    this.#npc = this.#countPending();
  }

  /** Stream hook: a message was stored. */
  onStreamMessage(seq: number, subject: string): void {
    if (seq < this.#sseq || !this.matches(subject)) return;
    this.#npc++;
    if (this.#pushActive || this.#waiting.length > 0) this.run();
  }

  /** Interest retention: does this consumer still need message `seq` on `subject`? */
  needs(seq: number, subject: string): boolean {
    if (!this.matches(subject)) return false;
    if (seq >= this.#sseq) return true;
    if (this.#lps.includes(seq)) return true;
    return this.#pending.has(seq);
  }

  // ---- Delivery --------------------------------------------------------------------------------

  /** Delivers as much as the consumer's demand and limits allow. */
  run(): void {
    if (this.closed || this.#running) return;
    if (this.#pausedUntilMs > Date.now()) return;
    this.#running = true;
    try {
      this.#deliverLoop();
    } finally {
      this.#running = false;
    }
  }

  #deliverLoop(): void {
    const cfg = this.config;
    const ackNone = cfg.ack_policy === "none";
    // Push: the deliver subject's interest may have gone since the last run (nothing is sent
    // to nobody; the reference's consumer turns inactive). Subscriptions cannot change within
    // one run, so once per run is enough.
    if (!this.isPull) this.#pushActive = this.#hasPushInterest();
    for (;;) {
      if (this.closed) return;
      let target: WaitingRequest | null = null;
      if (this.isPull) {
        target = this.#nextWaiting();
        if (target === null) return;
      } else {
        if (!this.#pushActive) return;
        if (this.#fcReply !== "" && this.#fcBytes >= this.#fcWindow() * 2) return; // stalled on flow control
      }
      if (!ackNone && cfg.max_ack_pending > 0 && this.#pending.size >= cfg.max_ack_pending && this.#rdq.length === 0) {
        // At max ack pending: only redeliveries may go out.
        this.#endNoWaitRequests();
        return;
      }
      const now = Date.now();
      if (this.#nextAllowedMs > now) {
        this.#hold(this.#nextAllowedMs - now);
        return;
      }
      const next = this.#nextMessage();
      if (next === null) {
        this.#endNoWaitRequests();
        return;
      }
      const { msg, dc } = next;
      if (cfg.replay_policy === "original" && dc === 1 && this.#lastReplayTs !== 0n) {
        const wantMs = Number(msg.ts - this.#lastReplayTs) / 1e6 - (now - this.#lastReplayAt);
        if (wantMs > 1) {
          this.#unget(next);
          this.#hold(wantMs);
          return;
        }
      }
      const size = msg.subject.length + (msg.hdr?.length ?? 0) + msg.data.length;
      if (target !== null && target.maxBytes > 0) {
        const ackReplyLen = this.#ackReply(dc, msg.seq, this.#dseq + 1, msg.ts, 0).length + String(this.#npc).length - 1;
        if (size + ackReplyLen > target.maxBytes) {
          this.#unget(next);
          this.#sendStatus(target.reply, "409 Message Size Exceeds MaxBytes", [
            ["Nats-Pending-Messages", String(target.batch)],
            ["Nats-Pending-Bytes", String(target.maxBytes)],
          ]);
          this.#finishRequest(target);
          continue;
        }
      }
      this.#deliver(msg, dc, target);
      if (cfg.rate_limit_bps > 0) this.#nextAllowedMs = Date.now() + (size * 8 * 1000) / cfg.rate_limit_bps;
    }
  }

  /**
   * Wraps a timer callback: timers run outside any client's read batch, so what they publish
   * (deliveries, statuses, heartbeats, advisories) is written to the sockets right away
   * instead of waiting for the next housekeeping tick.
   */
  #timed(fn: () => void): () => void {
    return () => {
      try {
        fn();
      } finally {
        this.stream.client.flush();
      }
    };
  }

  /** Flow control: a request goes out past 1 MiB pending, delivery stalls at 2 MiB (the reference's sizes). */
  #fcWindow(): number {
    return 1024 * 1024;
  }

  #hold(ms: number): void {
    if (this.#holdTimer !== null) return;
    this.#holdTimer = setTimeout(
      this.#timed(() => {
        this.#holdTimer = null;
        this.run();
      }),
      Math.max(1, Math.ceil(ms)),
    );
  }

  /** The next message to deliver: redeliveries first, then last-per-subject starts, then the cursor. */
  #nextMessage(): { msg: StoredMessage; dc: number; from: "rdq" | "lps" | "cursor" } | null {
    const store = this.stream.store;
    while (this.#rdq.length > 0) {
      const seq = this.#rdq.shift()!;
      this.#rdqSet.delete(seq);
      if (!this.#pending.has(seq)) continue;
      const msg = store.loadMsg(seq);
      if (msg === null) {
        this.#pending.delete(seq);
        this.#rdc.delete(seq);
        this.#updateAckFloor();
        continue;
      }
      const dc = (this.#rdc.get(seq) ?? 1) + 1;
      if (this.config.max_deliver > 0 && dc > this.config.max_deliver) {
        this.#dropMaxDelivered(seq, dc);
        continue;
      }
      return { msg, dc, from: "rdq" };
    }
    while (this.#lps.length > 0) {
      const seq = this.#lps.shift()!;
      const msg = store.loadMsg(seq);
      if (msg !== null) return { msg, dc: 1, from: "lps" };
      this.#npc = Math.max(0, this.#npc - 1);
    }
    const msg = this.#loadNext(this.#sseq);
    if (msg === null) {
      // The reference's cursor (delivered.stream_seq) moves to the end of the stream when a
      // scan for more finds nothing matching the filter.
      const last = store.state().lastSeq;
      if (this.#sseq <= last) this.#sseq = last + 1;
      if (last > this.#deliveredSseq) this.#deliveredSseq = last;
      return null;
    }
    this.#sseq = msg.seq + 1;
    return { msg, dc: 1, from: "cursor" };
  }

  /** Puts a message taken by #nextMessage back (not delivered after all). */
  #unget(next: { msg: StoredMessage; from: "rdq" | "lps" | "cursor" }): void {
    if (next.from === "rdq") {
      this.#rdq.unshift(next.msg.seq);
      this.#rdqSet.add(next.msg.seq);
    } else if (next.from === "lps") this.#lps.unshift(next.msg.seq);
    else this.#sseq = next.msg.seq;
  }

  #ackReply(dc: number, sseq: number, dseq: number, ts: bigint, pending: number): string {
    return `${this.#ackPrefix}${dc}.${sseq}.${dseq}.${nsToDecimal(ts)}.${pending}`;
  }

  #deliver(msg: StoredMessage, dc: number, target: WaitingRequest | null): void {
    const cfg = this.config;
    const now = Date.now();
    const dseq = ++this.#dseq;
    if (dc === 1) {
      this.#npc = Math.max(0, this.#npc - 1);
      if (msg.seq > this.#deliveredSseq) this.#deliveredSseq = msg.seq;
    } else this.#rdc.set(msg.seq, dc);
    const reply = this.#ackReply(dc, msg.seq, dseq, msg.ts, this.#npc);
    if (cfg.ack_policy !== "none") {
      // A redelivery keeps the first delivery's consumer sequence (the reference's pending
      // record; the ack floor is computed from it).
      const first = this.#pending.get(msg.seq);
      const deadline = now + this.#ackWaitMs(dc);
      this.#pending.set(msg.seq, { dseq: first?.dseq ?? dseq, ts: now, deadline });
      this.#armAckTimer(deadline);
    } else if (this.#pending.size === 0) {
      this.#ackFloor = { c: dseq, s: this.#deliveredSseq };
    }
    let hdr = msg.hdr;
    let data = msg.data;
    if (cfg.headers_only) {
      hdr = mergeHeaders(hdr, [["Nats-Msg-Size", String(data.length)]]);
      data = EMPTY;
    }
    const dest = target !== null ? target.reply : cfg.deliver_subject;
    this.stream.client.publish(dest, reply, hdr, data, msg.subject);
    this.#lastDeliveredMs = now;
    this.#lastActivityMs = now;
    this.#lastPushSendMs = now;
    if (cfg.replay_policy === "original") {
      this.#lastReplayTs = msg.ts;
      this.#lastReplayAt = now;
    }
    const size = msg.subject.length + (hdr?.length ?? 0) + data.length;
    if (target !== null) {
      target.batch--;
      target.delivered++;
      target.lastSentMs = now;
      if (target.maxBytes > 0) target.maxBytes = Math.max(0, target.maxBytes - size - reply.length);
      if (target.batch <= 0) this.#finishRequest(target);
    } else if (cfg.flow_control) {
      this.#fcBytes += size;
      if (this.#fcReply === "" && this.#fcBytes > this.#fcWindow()) this.#sendFlowControl();
    }
    if (cfg.ack_policy === "none") this.stream.onConsumerAck(msg.seq, msg.subject);
    this.#markDirty();
  }

  #ackWaitMs(dc: number): number {
    const b = this.config.backoff;
    if (b !== null && b.length > 0) return b[Math.min(dc - 1, b.length - 1)] / 1e6;
    return this.config.ack_wait / 1e6;
  }

  // ---- Pull requests ------------------------------------------------------------------------

  /** `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` with reply `reply`. */
  onPullRequest(reply: string, body: Uint8Array): void {
    if (this.closed || reply === "") return;
    this.#lastActivityMs = Date.now();
    if (!this.isPull) {
      this.#sendStatus(reply, "409 Consumer is push based", []);
      return;
    }
    const req: PullRequest | null = parsePullRequest(new TextDecoder().decode(body));
    if (req === null) {
      this.#sendStatus(reply, "400 Bad Request", []);
      return;
    }
    const cfg = this.config;
    if (cfg.max_batch > 0 && req.batch > cfg.max_batch) return this.#sendStatus(reply, `409 Exceeded MaxRequestBatch of ${cfg.max_batch}`, []);
    if (cfg.max_expires > 0 && req.expiresNs > cfg.max_expires) return this.#sendStatus(reply, `409 Exceeded MaxRequestExpires of ${goDuration(cfg.max_expires)}`, []);
    if (req.maxBytes > 0 && cfg.max_bytes > 0 && req.maxBytes > cfg.max_bytes) return this.#sendStatus(reply, `409 Exceeded MaxRequestMaxBytes of ${cfg.max_bytes}`, []);
    // Also without expires: the reference wants heartbeats at most half of the expiry.
    if (req.heartbeatNs > 0 && req.heartbeatNs * 2 > req.expiresNs) return this.#sendStatus(reply, "400 Bad Request - heartbeat value too large", []);
    // no_wait without expires and nothing to deliver: answered at once, without a scan
    // (so the cursor stays where it is, as the reference's does).
    const nothingNow = this.#npc === 0 && this.#rdq.length === 0;
    if (req.noWait && req.expiresNs === 0 && nothingNow) return this.#sendStatus(reply, "404 No Messages", []);
    // no_wait with expires and nothing now: a one-shot request that waits up to expires and
    // ends as soon as it got messages (the reference).
    const waitForFirst = req.noWait && req.expiresNs > 0 && nothingNow;
    if (req.noWait && !nothingNow) {
      // Fewer messages than the waiting requests already claim: 408 Requests Pending.
      let claimed = 0;
      for (const w of this.#waiting) if (!w.done) claimed += w.batch;
      if (this.#npc + this.#rdq.length < claimed) return this.#sendStatus(reply, "408 Requests Pending", []);
    }
    this.#pruneWaiting();
    if (this.#waiting.length >= cfg.max_waiting) return this.#sendStatus(reply, "409 Exceeded MaxWaiting", []);
    const w: WaitingRequest = {
      reply,
      batch: req.batch,
      maxBytes: req.maxBytes,
      noWait: req.noWait,
      waitForFirst,
      delivered: 0,
      expiresTimer: null,
      hbTimer: null,
      hbMs: 0,
      lastSentMs: Date.now(),
      done: false,
      interestGen: -1,
    };
    this.#waiting.push(w);
    if (req.expiresNs > 0 && (!req.noWait || waitForFirst)) {
      w.expiresTimer = setTimeout(this.#timed(() => {
        w.expiresTimer = null;
        if (w.done) return;
        this.#sendStatus(w.reply, "408 Request Timeout", [
          ["Nats-Pending-Messages", String(w.batch)],
          ["Nats-Pending-Bytes", String(w.maxBytes)],
        ]);
        this.#finishRequest(w);
      }), Math.max(1, req.expiresNs / 1e6));
    }
    if (req.heartbeatNs > 0 && (!req.noWait || waitForFirst)) {
      w.hbMs = req.heartbeatNs / 1e6;
      this.#armRequestHeartbeat(w, w.hbMs);
    }
    this.run();
    if (!w.done && w.noWait && !(w.waitForFirst && w.delivered === 0)) this.#endNoWait(w);
  }

  /**
   * A pull request's idle heartbeat goes out when nothing was sent to the request for its
   * idle_heartbeat: the reference moves the deadline on every delivery. One timer per
   * request, re-armed from the time of the last send rather than reset per message.
   */
  #armRequestHeartbeat(w: WaitingRequest, delayMs: number): void {
    w.hbTimer = setTimeout(
      this.#timed(() => {
        w.hbTimer = null;
        if (w.done || this.closed) return;
        const idleMs = Date.now() - w.lastSentMs;
        if (idleMs < w.hbMs - 1) return this.#armRequestHeartbeat(w, w.hbMs - idleMs);
        this.#sendStatus(w.reply, "100 Idle Heartbeat", [
          ["Nats-Last-Consumer", String(this.#dseq)],
          ["Nats-Last-Stream", String(this.#deliveredSseq)],
        ]);
        w.lastSentMs = Date.now();
        this.#armRequestHeartbeat(w, w.hbMs);
      }),
      Math.max(1, delayMs),
    );
  }

  #nextWaiting(): WaitingRequest | null {
    while (this.#waiting.length > 0) {
      const w = this.#waiting[0];
      if (w.done) {
        this.#waiting.shift();
        continue;
      }
      // Interest in the reply is re-checked only when the account's subscriptions changed.
      const gen = this.stream.client.account.sublist.generation;
      if (w.interestGen !== gen) {
        if (!this.#hasInterest(w.reply)) {
          this.#finishRequest(w);
          this.#waiting.shift();
          continue;
        }
        w.interestGen = gen;
      }
      return w;
    }
    return null;
  }

  /** Drops finished requests and those whose requester went away (no interest in the reply), as the reference does. */
  #pruneWaiting(): void {
    for (const w of [...this.#waiting]) if (!w.done && !this.#hasInterest(w.reply)) this.#finishRequest(w);
    this.#waiting = this.#waiting.filter((w) => !w.done);
  }

  /** No more messages: no_wait requests end now (404 when nothing was sent, else 408). */
  #endNoWaitRequests(): void {
    for (const w of [...this.#waiting]) if (w.noWait && !w.done && !(w.waitForFirst && w.delivered === 0)) this.#endNoWait(w);
  }

  #endNoWait(w: WaitingRequest): void {
    if (w.delivered === 0) this.#sendStatus(w.reply, "404 No Messages", []);
    else
      this.#sendStatus(w.reply, "408 Request Timeout", [
        ["Nats-Pending-Messages", String(w.batch)],
        ["Nats-Pending-Bytes", String(w.maxBytes)],
      ]);
    this.#finishRequest(w);
  }

  #finishRequest(w: WaitingRequest): void {
    w.done = true;
    if (w.expiresTimer !== null) clearTimeout(w.expiresTimer);
    if (w.hbTimer !== null) clearTimeout(w.hbTimer);
    w.expiresTimer = null;
    w.hbTimer = null;
    const i = this.#waiting.indexOf(w);
    if (i >= 0) this.#waiting.splice(i, 1);
  }

  #sendStatus(to: string, status: string, headers: [string, string][]): void {
    this.stream.client.publish(to, "", buildHeaders(headers, status), EMPTY);
  }

  #hasInterest(subject: string): boolean {
    const r = this.stream.client.account.sublist.match(subject);
    return r.psubs.length > 0 || r.qsubs.length > 0;
  }

  // ---- Push ------------------------------------------------------------------------------------

  /** A subscription appeared in the account: maybe our deliver subject became active. */
  onInterest(sub: Subscription): void {
    if (this.closed || this.isPull || this.#pushActive) return;
    if (!subjectMatches(this.config.deliver_subject, sub.subject)) return;
    const group = this.config.deliver_group;
    if (group === "" ? sub.queue !== null : sub.queue !== textToByteString(group)) return;
    this.#pushActive = true;
    this.#lastActivityMs = Date.now();
    this.run();
  }

  /**
   * Push interest as the reference counts it: without deliver_group, a plain subscription on
   * the deliver subject; with one, a queue subscription in that group (others do not bind).
   */
  #hasPushInterest(): boolean {
    const r = this.stream.client.account.sublist.match(this.config.deliver_subject);
    const group = this.config.deliver_group;
    if (group === "") return r.psubs.length > 0;
    const queue = textToByteString(group);
    return r.qsubs.some((members) => members.length > 0 && members[0].queue === queue);
  }

  /** Push: is someone listening on the deliver subject (re-checked when asked). */
  get pushBound(): boolean {
    if (this.isPull) return false;
    this.#pushActive = this.#hasPushInterest();
    return this.#pushActive;
  }

  /** Push idle heartbeats: after idle_heartbeat without a send (each delivery moves the deadline, as the reference). */
  #armPushHeartbeat(delayMs: number): void {
    this.#hbTimer = setTimeout(
      this.#timed(() => {
        this.#hbTimer = null;
        if (this.closed) return;
        const hbMs = this.config.idle_heartbeat / 1e6;
        const idleMs = Date.now() - this.#lastPushSendMs;
        if (idleMs < hbMs - 1) return this.#armPushHeartbeat(hbMs - idleMs);
        this.#pushHeartbeat();
        this.#lastPushSendMs = Date.now();
        this.#armPushHeartbeat(hbMs);
      }),
      Math.max(1, delayMs),
    );
  }

  #pushHeartbeat(): void {
    if (this.closed) return;
    if (!this.#hasPushInterest()) {
      this.#pushActive = false;
      return;
    }
    this.#pushActive = true;
    const h: [string, string][] = [
      ["Nats-Last-Consumer", String(this.#dseq)],
      ["Nats-Last-Stream", String(this.#deliveredSseq)],
    ];
    if (this.#fcReply !== "") h.push(["Nats-Consumer-Stalled", this.#fcReply]);
    this.#sendStatus(this.config.deliver_subject, "100 Idle Heartbeat", h);
  }

  #sendFlowControl(): void {
    this.#fcSentBytes = this.#fcBytes;
    this.#fcReply = `$JS.FC.${textToByteString(this.stream.name)}.${textToByteString(this.name)}.${++this.#fcSeq}`;
    this.stream.client.publish(this.config.deliver_subject, this.#fcReply, buildHeaders([], "100 FlowControl Request"), EMPTY);
  }

  #onFlowControlReply(subject: string): void {
    if (subject !== this.#fcReply) return;
    this.#fcReply = "";
    this.#fcBytes = Math.max(0, this.#fcBytes - this.#fcSentBytes);
    this.run();
  }

  // ---- Acks ---------------------------------------------------------------------------------------

  #onAck(tokens: string, reply: string, data: Uint8Array): void {
    if (this.closed) return;
    const t = tokens.split(".");
    if (t.length < 5) return;
    const dc = Number(t[0]);
    const sseq = Number(t[1]);
    const dseq = Number(t[2]);
    const body = data.length === 0 ? "" : new TextDecoder().decode(data);
    this.#lastActivityMs = Date.now();
    let sendAckAck = reply !== "";
    if (body === "" || body.startsWith("+ACK")) this.#ack(sseq, dseq, dc);
    else if (body.startsWith("-NAK")) this.#nak(sseq, dseq, dc, body.slice(4).trim());
    else if (body.startsWith("+WPI")) this.#progress(sseq);
    else if (body.startsWith("+TERM")) this.#term(sseq, dseq, dc, body.slice(5).trim());
    else if (body.startsWith("+NXT")) {
      this.#ack(sseq, dseq, dc);
      sendAckAck = false;
      if (reply !== "") this.onPullRequest(reply, encodeUtf8(body.slice(4).trim()));
    } else return;
    if (sendAckAck) {
      // A confirmed ack (the client waits for this reply): its state reaches the OS first, so
      // a crash after the reply never redelivers it.
      if (this.#stateDirty) {
        if (this.#stateTimer !== null) clearTimeout(this.#stateTimer);
        this.#stateTimer = null;
        this.#flushState(false);
        this.#store?.flush?.();
      }
      this.stream.client.publish(reply, "", null, EMPTY);
    }
    this.run();
  }

  #ack(sseq: number, dseq: number, dc: number): void {
    const cfg = this.config;
    if (cfg.ack_policy === "none") return;
    this.#lastAckMs = Date.now();
    const deliveredAtMs = this.#pending.get(sseq)?.ts ?? 0;
    if (cfg.ack_policy === "all") {
      // Everything up to this message; the ack floor becomes this message (the reference).
      if (dseq <= this.#ackFloor.c || sseq <= this.#ackFloor.s) return;
      for (const seq of [...this.#pending.keys()]) if (seq <= sseq) this.#removePending(seq, true);
      this.#sampleAck(sseq, dseq, dc, deliveredAtMs);
      this.#ackFloor = { c: dseq, s: sseq };
      this.#markDirty();
      return;
    }
    if (!this.#pending.has(sseq)) return;
    this.#removePending(sseq, true);
    this.#sampleAck(sseq, dseq, dc, deliveredAtMs);
    this.#updateAckFloor();
    this.#markDirty();
  }

  #removePending(seq: number, acked: boolean): void {
    const p = this.#pending.get(seq);
    this.#pending.delete(seq);
    this.#rdc.delete(seq);
    if (this.#rdqSet.delete(seq)) this.#rdq.splice(this.#rdq.indexOf(seq), 1);
    if (acked && p !== undefined) {
      const msg = this.stream.store.loadMsg(seq);
      if (msg !== null) this.stream.onConsumerAck(seq, msg.subject);
    }
  }

  #updateAckFloor(): void {
    if (this.#pending.size === 0) {
      this.#ackFloor = { c: this.#dseq, s: this.#deliveredSseq };
      return;
    }
    // Map order is first-delivery order, which is stream order: the first key is the lowest.
    const [seq, p] = this.#pending.entries().next().value as [number, PendingEntry];
    const floorS = seq - 1;
    const floorC = p.dseq - 1;
    if (floorS > this.#ackFloor.s) this.#ackFloor = { c: Math.max(this.#ackFloor.c, floorC), s: floorS };
  }

  #nak(sseq: number, dseq: number, dc: number, arg: string): void {
    const p = this.#pending.get(sseq);
    if (p === undefined) return;
    this.stream.advisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.nak",
      stream: this.stream.name,
      consumer: this.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries: dc,
    });
    // The delay: `-NAK {"delay": <ns>}` or a Go duration (`-NAK 5s`); unparsable means none.
    let delayMs = 0;
    if (arg !== "") {
      if (arg.startsWith("{")) {
        try {
          const o = JSON.parse(arg) as { delay?: number };
          if (typeof o.delay === "number") delayMs = o.delay / 1e6;
        } catch {
          // A plain NAK.
        }
      } else delayMs = parseGoDuration(arg) ?? 0;
    }
    if (delayMs > 0) {
      if (this.#rdqSet.delete(sseq)) this.#rdq.splice(this.#rdq.indexOf(sseq), 1);
      p.deadline = Date.now() + delayMs;
      this.#armAckTimer(p.deadline);
      return;
    }
    this.#queueRedelivery(sseq, dc);
  }

  #progress(sseq: number): void {
    const p = this.#pending.get(sseq);
    if (p === undefined) return;
    p.deadline = Date.now() + this.#ackWaitMs(this.#rdc.get(sseq) ?? 1);
    this.#armAckTimer(p.deadline);
  }

  #term(sseq: number, dseq: number, dc: number, reason: string): void {
    if (!this.#pending.has(sseq)) return;
    this.#removePending(sseq, true);
    this.#updateAckFloor();
    this.#markDirty();
    const o: Record<string, unknown> = {
      type: "io.nats.jetstream.advisory.v1.terminated",
      stream: this.stream.name,
      consumer: this.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries: dc,
    };
    if (reason !== "") o.reason = reason;
    this.stream.advisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${this.stream.name}.${this.name}`, o);
  }

  /** Redelivers `sseq` unless it reached max_deliver (then it is dropped with an advisory). */
  /**
   * Queues `sseq` for redelivery. Whether max_deliver is reached is decided when the
   * redelivery is about to go out (#nextMessage), as the reference does: until then it stays
   * pending, and without demand nothing is dropped nor advised.
   */
  #queueRedelivery(sseq: number, _dc: number): void {
    if (this.#rdqSet.has(sseq)) return;
    this.#rdq.push(sseq);
    this.#rdqSet.add(sseq);
  }

  /**
   * A redelivery past max_deliver: dropped from pending (its redelivery count stays, the ack
   * floor does not move) with the MAX_DELIVERIES advisory. In interest and work-queue streams
   * the message stays: reaching max_deliver is not an ack.
   */
  #dropMaxDelivered(sseq: number, dc: number): void {
    this.#pending.delete(sseq);
    this.#rdc.set(sseq, dc);
    this.#markDirty();
    this.stream.advisory(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.max_deliver",
      stream: this.stream.name,
      consumer: this.name,
      stream_seq: sseq,
      deliveries: dc - 1,
    });
  }

  /**
   * Arms the ack-wait timer for the earliest pending deadline. `deadline`: the one deadline that
   * just changed — when a timer is already due no later, nothing else can be earlier (the timer
   * rescans when it fires), so the per-delivery call costs no scan.
   */
  #armAckTimer(deadline?: number): void {
    if (this.closed || this.#pending.size === 0) return;
    if (deadline !== undefined && this.#ackTimer !== null && this.#ackTimerAt <= deadline) return;
    let earliest = Infinity;
    for (const p of this.#pending.values()) if (p.deadline < earliest) earliest = p.deadline;
    if (this.#ackTimer !== null) {
      if (this.#ackTimerAt <= earliest) return;
      clearTimeout(this.#ackTimer);
    }
    this.#ackTimerAt = earliest;
    this.#ackTimer = setTimeout(this.#timed(() => this.#onAckTimer()), Math.max(1, earliest - Date.now()));
  }

  #onAckTimer(): void {
    this.#ackTimer = null;
    if (this.closed) return;
    const now = Date.now();
    for (const [seq, p] of this.#pending) {
      if (p.deadline > now || this.#rdqSet.has(seq)) continue;
      p.deadline = Infinity; // until redelivered
      this.#queueRedelivery(seq, this.#rdc.get(seq) ?? 1);
    }
    this.#armAckTimer();
    this.run();
  }

  /** sample_freq: a metric advisory for that share of acks, with the time from delivery to ack. */
  #sampleAck(sseq: number, dseq: number, dc: number, deliveredAtMs: number): void {
    const f = this.config.sample_freq;
    if (f === "") return;
    const pct = Number(f.replace("%", ""));
    if (!(pct > 0) || Math.random() * 100 >= pct) return;
    this.stream.advisory(`$JS.EVENT.METRIC.CONSUMER.ACK.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.metric.v1.consumer_ack",
      stream: this.stream.name,
      consumer: this.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      ack_time: deliveredAtMs > 0 ? Math.max(1, Date.now() - deliveredAtMs) * 1_000_000 : 0,
      deliveries: dc,
    });
  }

  // ---- Inactivity and pause ---------------------------------------------------------------------

  #scheduleInactiveCheck(): void {
    const thresholdMs = this.config.inactive_threshold / 1e6;
    if (thresholdMs <= 0 || this.closed) return;
    if (this.#inactiveTimer !== null) clearTimeout(this.#inactiveTimer);
    this.#inactiveTimer = setTimeout(this.#timed(() => {
      this.#inactiveTimer = null;
      if (this.closed) return;
      const now = Date.now();
      const active = this.isPull ? this.#waiting.some((w) => !w.done) : this.pushBound;
      if (active) this.#lastActivityMs = now;
      if (now - this.#lastActivityMs >= thresholdMs) {
        this.stream.deleteConsumer(this, "inactive");
        return;
      }
      this.#scheduleInactiveCheck();
    }), Math.max(1, Math.min(thresholdMs, thresholdMs - (Date.now() - this.#lastActivityMs))));
  }

  /** Applies config.pause_until (newer servers' consumer pause). */
  #applyPause(): void {
    if (this.#pauseTimer !== null) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = null;
    const until = this.config.pause_until === null ? 0n : (rfc3339ToNs(this.config.pause_until) ?? 0n);
    this.#pausedUntilMs = Number(until / 1_000_000n);
    const wait = this.#pausedUntilMs - Date.now();
    if (wait > 0) {
      this.#pauseTimer = setTimeout(this.#timed(() => {
        this.#pauseTimer = null;
        this.#pausedUntilMs = 0;
        this.#pauseAdvisory();
        this.run();
      }), wait);
    }
  }

  /** `$JS.EVENT.ADVISORY.CONSUMER.PAUSE.<stream>.<consumer>` (newer servers): paused or resumed. */
  #pauseAdvisory(): void {
    const paused = this.paused;
    this.stream.advisory(`$JS.EVENT.ADVISORY.CONSUMER.PAUSE.${this.stream.name}.${this.name}`, {
      type: "io.nats.jetstream.advisory.v1.consumer_pause",
      stream: this.stream.name,
      consumer: this.name,
      paused,
      pause_until: paused && this.config.pause_until !== null ? this.config.pause_until : ZERO_TIME,
    });
  }

  /** Config update (already validated). */
  update(config: ConsumerConfig): void {
    this.config = config;
    this.#filters = filtersOf(config).map(textToByteString);
    this.#npc = this.#countPending();
    this.#applyPause();
    this.#scheduleInactiveCheck();
    this.#store?.writeMeta({ name: this.name, created: this.created, config });
    this.run();
  }

  pause(untilNs: bigint | null): void {
    this.config.pause_until = untilNs === null || untilNs === 0n ? null : nsToRfc3339(untilNs);
    this.#applyPause();
    this.#store?.writeMeta({ name: this.name, created: this.created, config: this.config });
    this.#pauseAdvisory();
    if (this.#pausedUntilMs === 0) this.run();
  }

  get paused(): boolean {
    return this.#pausedUntilMs > Date.now();
  }

  // ---- Info ------------------------------------------------------------------------------------

  infoJson(): Record<string, unknown> {
    const delivered: Record<string, unknown> = { consumer_seq: this.#dseq, stream_seq: this.#deliveredSseq };
    if (this.#lastDeliveredMs > 0) delivered.last_active = nsToRfc3339(BigInt(this.#lastDeliveredMs) * 1_000_000n);
    const ackFloor: Record<string, unknown> = { consumer_seq: this.#ackFloor.c, stream_seq: this.#ackFloor.s };
    if (this.#lastAckMs > 0) ackFloor.last_active = nsToRfc3339(BigInt(this.#lastAckMs) * 1_000_000n);
    this.#pruneWaiting();
    const o: Record<string, unknown> = {
      stream_name: this.stream.name,
      name: this.name,
      created: this.created,
      config: encodeConsumerConfig(this.config),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: this.#pending.size,
      num_redelivered: this.#rdc.size,
      num_waiting: this.#waiting.length,
      num_pending: this.#npc,
    };
    if (!this.isPull && this.pushBound) o.push_bound = true;
    if (this.paused) {
      o.paused = true;
      o.pause_remaining = (this.#pausedUntilMs - Date.now()) * 1e6;
    }
    return o;
  }

  /** For tests and monitoring. */
  get numAckPending(): number {
    return this.#pending.size;
  }

  get deliveredJson(): string {
    return goJson({ consumer_seq: this.#dseq, stream_seq: this.#deliveredSseq });
  }

  describe(): string {
    return `'${byteStringToText(this.stream.name)} > ${this.name}'`;
  }
}

/** Go's time.Duration String() for whole and fractional seconds/ms (used in 409 texts). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  let s = ns / 1e9;
  let out = "";
  const h = Math.floor(s / 3600);
  if (h > 0) {
    out += `${h}h`;
    s -= h * 3600;
  }
  const m = Math.floor(s / 60);
  if (h > 0 || m > 0) {
    out += `${m}m`;
    s -= m * 60;
  }
  return `${out}${trim(s)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
