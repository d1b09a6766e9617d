// A stream: its configuration, its store, the internal subscriptions that capture its
// subjects, and the publish path into it (the reference's processJetStreamMsg): header
// checks, de-duplication, per-message TTL, limits, store, roll-ups, republish and the PubAck.
// Everything runs synchronously inside the publisher's delivery: the PubAck is queued before
// the publisher's next message is parsed, so acks come back in publish order.
import { buildHeaders, getHeader } from "../protocol/headers.ts";
import type { InternalClient } from "../server/internal_client.ts";
import type { Subscription } from "../server/sublist.ts";
import { encodeUtf8, textToByteString, byteStringToText } from "../util/bytes.ts";
import { JsErr, type ApiError } from "./errors.ts";
import { goJson, nsToRfc3339, nowNs, ZERO_TIME } from "./json.ts";
import { encodeStreamConfig, parseJsonObject, readString, readUint, type StreamConfig } from "./stream_config.ts";
import { StoreError, type StoreConfig, type StreamStore, type StoredMessage } from "./store/store.ts";
import { subjectsCollide } from "./subjects.ts";
import { subjectMatches } from "../server/subject.ts";
import { transformSubject } from "./transform.ts";
import type { Consumer } from "./consumer.ts";
import { recoverSourceCursors, sourceIname, SourceReader, type SourceHost } from "./source.ts";

/** What a stream needs from its JetStream account. */
export interface StreamHost {
  readonly client: InternalClient;
  readonly domain: string;
  /** null when the message fits the account's and server's storage limits; else the error. */
  checkStorage(storage: "file" | "memory", addBytes: number): ApiError | null;
  /** Persist the stream's config (file streams). */
  persist(stream: Stream): void;
  /** Logged warnings. */
  warn(text: string): void;
  /** Publishes an advisory when someone listens on its subject. */
  advisory(subject: string, body: Record<string, unknown>): void;
}

interface DedupEntry {
  seq: number;
  expiresMs: number;
}

const MAX_HEADER_BYTES = 65535;

export class Stream {
  config: StreamConfig;
  readonly created: string;
  readonly store: StreamStore;
  readonly dir: string | null;
  #host: StreamHost;
  #subs: Subscription[] = [];
  #directSubs: Subscription[] = [];
  /** De-duplication window: Nats-Msg-Id → the sequence it was stored as. Insertion order = expiry order. */
  #dedup = new Map<string, DedupEntry>();
  #lastMsgId = "";
  /** Recovered from disk: the duplicate window is rebuilt when first needed (rebuildDedup). */
  #dedupPending = false;
  #ackPrefix: string;
  closed = false;
  /** Consumers by name (created and removed by the consumer API). */
  readonly consumers = new Map<string, Consumer>();
  /** Readers (mirrors/sources of other streams) following this stream. */
  readonly sourceReaders = new Set<SourceReader>();
  /** This stream's own mirror or sources. */
  readers: SourceReader[] = [];

  constructor(host: StreamHost, config: StreamConfig, created: string, store: StreamStore, dir: string | null) {
    this.#host = host;
    this.config = config;
    this.created = created;
    this.store = store;
    this.dir = dir;
    this.#ackPrefix = this.#makeAckPrefix();
  }

  get name(): string {
    return this.config.name;
  }

  get client(): InternalClient {
    return this.#host.client;
  }

  warn(text: string): void {
    this.#host.warn(text);
  }

  advisory(subject: string, body: Record<string, unknown>): void {
    this.#host.advisory(subject, body);
  }

  // ---- Consumers -------------------------------------------------------------------------

  addConsumer(c: Consumer): void {
    this.consumers.set(c.name, c);
    this.store.setConsumerCount(this.consumers.size);
    c.start();
  }

  /** Removes a consumer (API delete, or inactivity) and its persisted state. */
  deleteConsumer(c: Consumer, reason: "api" | "inactive" | "stream"): void {
    if (this.consumers.get(c.name) !== c) return;
    this.consumers.delete(c.name);
    c.stop(true);
    if (reason !== "stream") {
      this.store.setConsumerCount(this.consumers.size);
      try {
        if (this.store.consumerNames().includes(c.name)) this.store.consumerStore(c.name).destroy();
      } catch (e) {
        this.warn(`JetStream: removing consumer state ${c.describe()}: ${(e as Error).message}`);
      }
      this.advisory(`$JS.EVENT.ADVISORY.CONSUMER.DELETED.${this.name}.${c.name}`, {
        type: "io.nats.jetstream.advisory.v1.consumer_action",
        stream: this.name,
        consumer: c.name,
        action: "delete",
      });
      if (this.config.retention !== "limits") this.#checkInterestAll();
    }
  }

  /** Interest/workqueue retention: a consumer is done with `seq`; remove it when no consumer needs it. */
  onConsumerAck(seq: number, subject: string): void {
    if (this.config.retention === "limits") return;
    for (const c of this.consumers.values()) if (c.needs(seq, subject)) return;
    this.store.removeMsg(seq);
  }

  #checkInterestAll(): void {
    const st = this.store.state();
    for (let seq = st.firstSeq; seq <= st.lastSeq && seq > 0; ) {
      const m = this.store.loadNextMsg("", seq);
      if (m === null) break;
      let needed = false;
      for (const c of this.consumers.values()) if (c.needs(m.seq, m.subject)) { needed = true; break; }
      if (!needed) this.store.removeMsg(m.seq);
      seq = m.seq + 1;
    }
  }

  /** Subscribes to the stream's subjects (and direct get, when allowed). */
  start(): void {
    this.store.onRemove((seq, subject) => {
      for (const c of this.consumers.values()) c.onMessageRemoved(seq, subject);
    });
    const client = this.#host.client;
    for (const subject of this.config.subjects) {
      this.#subs.push(client.subscribe(textToByteString(subject), (subj, reply, hdr, data) => this.#onMessage(subj, reply, hdr, data)));
    }
    if (this.config.allow_direct) {
      const name = textToByteString(this.name);
      const handler = (subj: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): void => this.#onDirectGet(subj, reply, hdr, data);
      this.#directSubs.push(client.subscribe(`$JS.API.DIRECT.GET.${name}`, handler, "_sys_"));
      this.#directSubs.push(client.subscribe(`$JS.API.DIRECT.GET.${name}.>`, handler, "_sys_"));
    }
  }

  /** Stops capturing messages; the data stays. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.readers) r.stop();
    for (const r of [...this.sourceReaders]) r.detach();
    for (const c of this.consumers.values()) c.stop(false);
    this.#unsubscribe();
    this.store.stop();
  }

  /** Stops and removes all data. */
  destroy(): void {
    this.closed = true;
    for (const r of this.readers) r.stop();
    for (const r of [...this.sourceReaders]) r.detach();
    for (const c of [...this.consumers.values()]) this.deleteConsumer(c, "stream");
    this.#unsubscribe();
    this.store.destroy();
  }

  #unsubscribe(): void {
    const client = this.#host.client;
    for (const sub of this.#subs) client.unsubscribe(sub);
    for (const sub of this.#directSubs) client.unsubscribe(sub);
    this.#subs = [];
    this.#directSubs = [];
  }

  /** Applies an already validated update: limits to the store, subjects and direct get re-subscribed. */
  update(config: StreamConfig): void {
    this.config = config;
    this.#ackPrefix = this.#makeAckPrefix();
    this.store.updateConfig(storeConfigFor(config));
    this.#unsubscribe();
    this.start();
  }

  #makeAckPrefix(): string {
    // The reference writes PubAcks with a template: {"stream":"S", "domain":"D", "seq":N…}
    const domain = this.#host.domain;
    return domain === "" ? `{"stream":${goJson(this.name)}, "seq":` : `{"stream":${goJson(this.name)}, "domain":${goJson(domain)}, "seq":`;
  }

  // ---- Publishing into the stream --------------------------------------------------------

  #onMessage(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): void {
    const result = this.processMessage(subject, hdr, data);
    if (reply === "" || this.config.no_ack) return;
    const client = this.#host.client;
    if ("error" in result) {
      const body: Record<string, unknown> = { error: result.error, stream: this.name, seq: 0 };
      client.publishReply(reply, null, encodeUtf8(goJson(body)));
    } else {
      const ack = `${this.#ackPrefix}${result.seq}${result.duplicate ? `,"duplicate": true` : ""}}`;
      client.publishReply(reply, null, encodeUtf8(ack));
    }
  }

  /** Stores one published message (subject is a byte string). */
  processMessage(subject: string, hdr: Uint8Array | null, data: Uint8Array, sourced = false): { seq: number; duplicate: boolean } | { error: ApiError } {
    const cfg = this.config;
    if (this.closed) return { error: JsErr.streamNotFound() };
    if (cfg.sealed) return { error: JsErr.streamSealed() };
    let msgId = "";
    let rollup = "";
    let ttlMs = 0;
    if (sourced && hdr !== null) msgId = getHeader(hdr, "Nats-Msg-Id") ?? "";
    if (sourced && msgId !== "" && this.#dedupPending) this.#rebuildDedupNow();
    if (!sourced && hdr !== null && hdr.length > 0) {
      const expectedStream = getHeader(hdr, "Nats-Expected-Stream");
      if (expectedStream !== null && expectedStream !== "" && expectedStream !== this.name) return { error: JsErr.streamNotMatch() };
      msgId = getHeader(hdr, "Nats-Msg-Id") ?? "";
      if (msgId !== "") {
        if (this.#dedupPending) this.#rebuildDedupNow();
        const dup = this.#checkMsgId(msgId);
        if (dup !== null) return { seq: dup, duplicate: true };
      }
      const perSubject = getHeader(hdr, "Nats-Expected-Last-Subject-Sequence");
      if (perSubject !== null && perSubject !== "") {
        const expected = parseSeqHeader(perSubject);
        // Nats-Expected-Last-Subject-Sequence-Subject (2.11) names the subject (wildcards allowed) to check instead.
        const checked = getHeader(hdr, "Nats-Expected-Last-Subject-Sequence-Subject");
        const last = this.store.loadLastMsg(checked !== null && checked !== "" ? textToByteString(checked) : subject);
        const actual = last === null ? 0 : last.seq;
        if (expected === null || expected !== actual) return { error: JsErr.streamWrongLastSequence(actual) };
      }
      const lastSeqHeader = getHeader(hdr, "Nats-Expected-Last-Sequence");
      if (lastSeqHeader !== null && lastSeqHeader !== "") {
        const expected = parseSeqHeader(lastSeqHeader);
        const last = this.store.state().lastSeq;
        if (expected === null || expected !== last) return { error: JsErr.streamWrongLastSequence(last) };
      }
      const lastMsgId = getHeader(hdr, "Nats-Expected-Last-Msg-Id");
      if (lastMsgId !== null && lastMsgId !== "" && lastMsgId !== this.#lastMsgId) return { error: JsErr.streamWrongLastMsgId(this.#lastMsgId) };
      rollup = getHeader(hdr, "Nats-Rollup") ?? "";
      if (rollup !== "") {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) return { error: JsErr.streamRollupFailed("rollup not permitted") };
        if (rollup !== "sub" && rollup !== "all") return { error: JsErr.streamRollupFailed(`rollup value invalid: ${JSON.stringify(rollup)}`) };
      }
      const ttl = getHeader(hdr, "Nats-TTL");
      if (ttl !== null && ttl !== "") {
        if (!cfg.allow_msg_ttl) return { error: JsErr.messageTtlDisabled() };
        const parsed = parseTtl(ttl);
        if (parsed === null) return { error: JsErr.messageTtlInvalid() };
        ttlMs = parsed;
      }
    }
    const hdrLen = hdr === null ? 0 : hdr.length;
    if (cfg.max_msg_size >= 0 && hdrLen + data.length > cfg.max_msg_size) return { error: JsErr.messageExceedsMaximum() };
    if (hdrLen > MAX_HEADER_BYTES) return { error: JsErr.streamHeaderExceedsMaximum() };
    // Accounted as the stores count a message: memStoreMsgSize / fileStoreMsgSize.
    const accounted = subject.length + hdrLen + data.length + (cfg.storage === "memory" ? 16 : 30 + (hdrLen > 0 ? 4 : 0));
    const limit = this.#host.checkStorage(cfg.storage, accounted);
    if (limit !== null) return { error: limit };

    if (cfg.subject_transform !== null) {
      const t = cfg.subject_transform;
      const text = byteStringToText(subject);
      if (t.src === "" || subjectMatches(text, t.src)) subject = textToByteString(transformSubject(text, t.src === "" ? ">" : t.src, t.dest));
    }

    // Interest retention with no consumer whose filter takes the subject: nothing would ever
    // read it; the sequence is used up (the reference's SkipMsg).
    if (cfg.retention === "interest" && !this.#anyConsumerMatches(subject)) {
      const seq = this.store.skipMsg();
      this.#lastMsgId = msgId;
      if (msgId !== "") this.#storeMsgId(msgId, seq);
      return { seq, duplicate: false };
    }

    let stored: { seq: number; ts: bigint };
    // Republished messages carry the previous sequence of the same subject (Nats-Last-Sequence),
    // so that a subscriber can detect gaps per subject.
    let prevLast = 0;
    if (cfg.republish !== null) prevLast = this.store.loadLastMsg(subject)?.seq ?? 0;
    try {
      stored = this.store.storeMsg(subject, hdr, data, ttlMs > 0 || ttlMs === -1 ? ttlMs : undefined, nowNs());
    } catch (e) {
      if (e instanceof StoreError) return { error: JsErr.streamStoreFailed(storeErrorText(e)) };
      throw e;
    }
    // The last message's id, even when it has none: Nats-Expected-Last-Msg-Id compares with it.
    this.#lastMsgId = msgId;
    if (msgId !== "") this.#storeMsgId(msgId, stored.seq);
    if (rollup === "sub") this.store.purge({ subject, keep: 1 });
    else if (rollup === "all") this.store.compact(stored.seq);
    if (cfg.republish !== null) this.#republish(subject, hdr, data, stored.seq, stored.ts, prevLast);
    if (rollup !== "") this.#afterPurge();
    for (const c of this.consumers.values()) c.onStreamMessage(stored.seq, subject);
    if (this.sourceReaders.size > 0) for (const r of this.sourceReaders) r.pump();
    return { seq: stored.seq, duplicate: false };
  }

  #anyConsumerMatches(subject: string): boolean {
    for (const c of this.consumers.values()) if (c.matches(subject)) return true;
    return false;
  }

  #checkMsgId(id: string): number | null {
    this.#expireDedup(Date.now());
    const e = this.#dedup.get(id);
    return e === undefined ? null : e.seq;
  }

  #storeMsgId(id: string, seq: number): void {
    const windowMs = this.config.duplicate_window / 1e6;
    if (windowMs <= 0) return;
    this.#dedup.delete(id);
    this.#dedup.set(id, { seq, expiresMs: Date.now() + windowMs });
  }

  /**
   * After a restart. The last message's Nats-Msg-Id (for Nats-Expected-Last-Msg-Id) is read
   * now; the duplicate window (the ids of the messages still inside it, which can mean reading
   * every recent message) is rebuilt on demand, by the first publish that carries an id.
   */
  rebuildDedup(): void {
    const st = this.store.state();
    if (st.messages > 0) {
      const last = this.store.loadMsg(st.lastSeq);
      this.#lastMsgId = last?.hdr ? (getHeader(last.hdr, "Nats-Msg-Id") ?? "") : "";
    }
    this.#dedupPending = this.config.duplicate_window > 0 && st.messages > 0;
  }

  #rebuildDedupNow(): void {
    this.#dedupPending = false;
    const windowNs = BigInt(Math.floor(this.config.duplicate_window));
    if (windowNs <= 0n) return;
    const cutoff = nowNs() - windowNs;
    const st = this.store.state();
    const found: { id: string; seq: number; ts: bigint }[] = [];
    for (let seq = st.lastSeq; seq >= st.firstSeq && seq > 0; seq--) {
      const m = this.store.loadMsg(seq);
      if (m === null) continue;
      if (m.ts < cutoff) break;
      const id = m.hdr === null ? null : getHeader(m.hdr, "Nats-Msg-Id");
      if (id !== null && id !== "") found.push({ id, seq, ts: m.ts });
    }
    const nowMs = Date.now();
    // Oldest first (the map's insertion order is its expiry order); ids stored since stay newer.
    const newer = new Map(this.#dedup);
    this.#dedup.clear();
    for (let i = found.length - 1; i >= 0; i--) {
      const f = found[i];
      if (newer.has(f.id) || this.#dedup.has(f.id)) continue;
      this.#dedup.set(f.id, { seq: f.seq, expiresMs: nowMs + Number(f.ts - cutoff) / 1e6 });
    }
    for (const [id, e] of newer) {
      this.#dedup.delete(id);
      this.#dedup.set(id, e);
    }
  }

  #expireDedup(now: number): void {
    for (const [id, e] of this.#dedup) {
      if (e.expiresMs > now) break;
      this.#dedup.delete(id);
    }
  }

  #republish(subject: string, hdr: Uint8Array | null, data: Uint8Array, seq: number, ts: bigint, last: number): void {
    const r = this.config.republish!;
    const text = byteStringToText(subject);
    if (!subjectMatches(text, r.src)) return;
    const dest = transformSubject(text, r.src, r.dest);
    const entries: [string, string][] = [
      ["Nats-Stream", this.name],
      ["Nats-Subject", text],
      ["Nats-Sequence", String(seq)],
      ["Nats-Time-Stamp", nsToRfc3339(ts)],
      ["Nats-Last-Sequence", String(last)],
    ];
    if (r.headers_only) entries.push(["Nats-Msg-Size", String(data.length)]);
    const out = mergeHeaders(hdr, entries);
    this.#host.client.publish(textToByteString(dest), "", out, r.headers_only ? new Uint8Array(0) : data);
  }

  // ---- Reads -----------------------------------------------------------------------------

  /** STREAM.MSG.GET / DIRECT.GET lookup; null when no such message. */
  getMessage(req: { seq?: number; last_by_subj?: string; next_by_subj?: string }): StoredMessage | null {
    if (req.last_by_subj !== undefined && req.last_by_subj !== "") return this.store.loadLastMsg(textToByteString(req.last_by_subj));
    if (req.next_by_subj !== undefined && req.next_by_subj !== "") return this.store.loadNextMsg(textToByteString(req.next_by_subj), Math.max(1, req.seq ?? 0));
    return this.store.loadMsg(req.seq ?? 0);
  }

  #onDirectGet(subject: string, reply: string, _hdr: Uint8Array | null, data: Uint8Array): void {
    if (reply === "") return;
    const client = this.#host.client;
    const prefix = `$JS.API.DIRECT.GET.${textToByteString(this.name)}.`;
    let req: { seq?: number; last_by_subj?: string; next_by_subj?: string };
    if (subject.startsWith(prefix)) {
      // The subject-appended form: the last message on that subject; the body must be empty.
      if (data.length > 0) return client.publish(reply, "", buildHeaders([], "408 Bad Request"), new Uint8Array(0));
      req = { last_by_subj: byteStringToText(subject.slice(prefix.length)) };
    } else {
      const parsed = parseDirectGetRequest(data);
      if (typeof parsed === "string") return client.publish(reply, "", buildHeaders([], parsed), new Uint8Array(0));
      req = parsed;
    }
    const msg = this.getMessage(req);
    if (msg === null) return client.publish(reply, "", buildHeaders([], "404 Message Not Found"), new Uint8Array(0));
    const entries: [string, string][] = [
      ["Nats-Stream", this.name],
      ["Nats-Subject", byteStringToText(msg.subject)],
      ["Nats-Sequence", String(msg.seq)],
      ["Nats-Time-Stamp", nsToRfc3339(msg.ts)],
    ];
    client.publish(reply, "", mergeHeaders(msg.hdr, entries), msg.data);
  }

  /** STREAM.PURGE (already validated: seq and keep are not both set). Returns the count purged. */
  purge(opts: { subject?: string; seq?: number; keep?: number }): number {
    const n = opts.subject === undefined && opts.seq === undefined && opts.keep === undefined ? this.store.purge() : this.store.purge(opts);
    this.#afterPurge({ subject: opts.subject });
    return n;
  }

  /** Consumers follow: `purge` for STREAM.PURGE (with its subject filter, if any), none for deletes and roll-ups. */
  #afterPurge(purge?: { subject?: string }): void {
    for (const c of this.consumers.values()) c.onStreamPurged(purge);
  }

  /** STREAM.MSG.DELETE: removes (erase: and overwrites) one message; false when there is none. */
  deleteMessage(seq: number, erase: boolean): boolean {
    const removed = erase ? this.store.eraseMsg(seq) : this.store.removeMsg(seq);
    if (removed) this.#afterPurge();
    return removed;
  }

  // ---- Mirrors and sources ---------------------------------------------------------------

  /** Starts this stream's mirror/sources readers (cursors recovered from the stored messages). */
  startSources(host: SourceHost): void {
    for (const r of this.readers) r.stop();
    this.readers = [];
    const cfg = this.config;
    if (cfg.mirror !== null) {
      const r = new SourceReader(this, cfg.mirror, true, host);
      this.readers.push(r);
      const st = this.store.state();
      r.start(st.lastSeq > 0 ? st.lastSeq : null);
    } else if (cfg.sources !== null) {
      const cursors = recoverSourceCursors(this, cfg.sources.map(sourceIname));
      for (const spec of cfg.sources) {
        const r = new SourceReader(this, spec, false, host);
        this.readers.push(r);
        r.start(cursors.get(sourceIname(spec)) ?? null);
      }
    }
  }

  /** A mirror's copy of origin message `seq` (same sequence and timestamp; gaps skipped). Null or an error text. */
  storeMirrored(subject: string, hdr: Uint8Array | null, data: Uint8Array, seq: number, ts: bigint): string | null {
    if (this.closed) return "stream closed";
    let st = this.store.state();
    if (seq <= st.lastSeq) return null; // already have it
    if (st.messages === 0 && seq > st.lastSeq + 1) this.store.compact(seq);
    st = this.store.state();
    while (st.lastSeq < seq - 1) {
      this.store.skipMsg();
      st = this.store.state();
    }
    try {
      const stored = this.store.storeMsg(subject, hdr, data, undefined, ts);
      for (const c of this.consumers.values()) c.onStreamMessage(stored.seq, subject);
      if (this.sourceReaders.size > 0) for (const r of this.sourceReaders) r.pump();
    } catch (e) {
      return (e as Error).message;
    }
    return null;
  }

  // ---- Info ------------------------------------------------------------------------------

  /** The state object of StreamInfo (optionally with per-subject counts and deleted sequences). */
  stateJson(opts: { subjectsFilter?: string; deletedDetails?: boolean } = {}): Record<string, unknown> {
    const st = this.store.state();
    const o: Record<string, unknown> = {
      messages: st.messages,
      bytes: st.bytes,
      // A stream never written to reports first_seq 0 (the reference), unless first_seq is configured.
      first_seq: st.lastSeq === 0 && st.messages === 0 && this.config.first_seq === 0 ? 0 : st.firstSeq,
      first_ts: st.firstTs === 0n ? ZERO_TIME : nsToRfc3339(st.firstTs),
      last_seq: st.lastSeq,
      last_ts: st.lastTs === 0n ? ZERO_TIME : nsToRfc3339(st.lastTs),
    };
    if (st.numSubjects > 0) o.num_subjects = st.numSubjects;
    if (opts.subjectsFilter !== undefined && opts.subjectsFilter !== "") {
      const totals = this.store.subjectsTotals(textToByteString(opts.subjectsFilter));
      if (totals.size > 0) {
        const subjects: Record<string, number> = {};
        for (const [k, v] of totals) subjects[byteStringToText(k)] = v;
        o.subjects = subjects;
      }
    }
    if (st.numDeleted > 0) {
      o.num_deleted = st.numDeleted;
      if (opts.deletedDetails) o.deleted = this.store.deleted();
    }
    o.consumer_count = st.consumerCount;
    return o;
  }

  /** StreamInfo fields after the API response's own: config, created, state (and domain). */
  infoJson(opts: { subjectsFilter?: string; deletedDetails?: boolean } = {}): Record<string, unknown> {
    const o: Record<string, unknown> = {
      config: encodeStreamConfig(this.config),
      created: this.created,
      state: this.stateJson(opts),
    };
    if (this.#host.domain !== "") o.domain = this.#host.domain;
    if (this.config.mirror !== null && this.readers.length > 0) o.mirror = this.readers[0].infoJson();
    else if (this.config.sources !== null) o.sources = this.readers.map((r) => r.infoJson());
    return o;
  }

  /** Does this stream capture `subject` (a subject or wildcard pattern, text)? */
  overlaps(subjects: readonly string[]): boolean {
    for (const a of this.config.subjects) for (const b of subjects) if (subjectsCollide(a, b)) return true;
    return false;
  }
}

/** The store limits for a stream config. */
export function storeConfigFor(c: StreamConfig): StoreConfig {
  return {
    name: c.name,
    storage: c.storage,
    maxMsgs: c.max_msgs,
    maxBytes: c.max_bytes,
    maxAgeMs: c.max_age / 1e6,
    maxMsgsPerSubject: c.max_msgs_per_subject,
    discard: c.discard,
    discardNewPerSubject: c.discard_new_per_subject,
    firstSeq: c.first_seq > 0 ? c.first_seq : undefined,
  };
}

function storeErrorText(e: StoreError): string {
  switch (e.code) {
    case "max_msgs":
      return "maximum messages exceeded";
    case "max_bytes":
      return "maximum bytes exceeded";
    case "max_msgs_per_subject":
      return "maximum messages per subject exceeded";
    case "msg_too_large":
      return "message too large";
    case "store_closed":
      return "store is closed";
    default:
      return e.message;
  }
}

function parseSeqHeader(v: string): number | null {
  if (!/^\d+$/.test(v)) return null;
  return Number(v);
}

/** Nats-TTL: "never", a Go duration ("1m30s") or whole seconds; at least one second. Returns ms (-1: never). */
export function parseTtl(v: string): number | null {
  if (v === "never") return -1;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const parsed = parseGoDuration(v);
    if (parsed === null) return null;
    ms = parsed;
  }
  if (ms < 1000) return null;
  return ms;
}

/** Go's time.ParseDuration subset: sequences of <number><unit>, unit in ns us µs ms s m h. */
export function parseGoDuration(v: string): number | null {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (v === "" || v === "0") return v === "0" ? 0 : null;
  while (pos < v.length) {
    re.lastIndex = pos;
    const m = re.exec(v);
    if (m === null) return null;
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

/** A direct get request, or the status line of the reference's answer when it is not one. */
function parseDirectGetRequest(data: Uint8Array): { seq?: number; last_by_subj?: string; next_by_subj?: string } | string {
  if (data.length === 0) return "408 Empty Request";
  let seq: number;
  let last: string;
  let next: string;
  try {
    const r = parseJsonObject(new TextDecoder().decode(data));
    seq = readUint(r, "seq");
    last = readString(r, "last_by_subj");
    next = readString(r, "next_by_subj");
  } catch {
    return "408 Malformed Request";
  }
  if (seq === 0 && last === "" && next === "") return "408 Empty Request";
  if ((seq > 0 && last !== "") || (last !== "" && next !== "")) return "408 Bad Request";
  return { seq, last_by_subj: last, next_by_subj: next };
}

/** The message's own header block (if any) with `entries` appended (the reference's genHeader). */
export function mergeHeaders(hdr: Uint8Array | null, entries: readonly (readonly [string, string])[]): Uint8Array {
  if (hdr === null || hdr.length === 0) return buildHeaders(entries);
  // Drop the block's final empty line, append, close again.
  let end = hdr.length;
  if (end >= 4 && hdr[end - 4] === 13 && hdr[end - 3] === 10 && hdr[end - 2] === 13 && hdr[end - 1] === 10) end -= 2;
  let extra = "";
  for (const [k, v] of entries) extra += `${k}: ${v}\r\n`;
  extra += "\r\n";
  const tail = encodeUtf8(extra);
  const out = new Uint8Array(end + tail.length);
  out.set(hdr.subarray(0, end), 0);
  out.set(tail, end);
  return out;
}
