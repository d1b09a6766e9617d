// An in-process client: how JetStream (and later the system account) publishes and
// subscribes without a socket, as the reference's internal clients do. Its subscriptions sit
// in the account's sublist like any other, with a handler instead of a connection to write
// to (see deliver.ts deliverInternal); its publishes go through the same deliverMessage as a
// client's, so permissions, queue groups and echo rules stay in one place.
import { PubArgs } from "../protocol/parser.ts";
import { writeDecimal, decimalLength } from "../util/bytes.ts";
import type { Account } from "./account.ts";
import { deliverMessage, type Publisher } from "./deliver.ts";
import type { Server } from "./server.ts";
import { emptyResult, Subscription, type InternalHandler, type SublistResult } from "./sublist.ts";

const EMPTY = new Uint8Array(0);

export class InternalClient implements Publisher {
  readonly cid: number;
  readonly opts = { no_responders: false };
  readonly echo = true;
  readonly stalled = false;
  closed = false;
  lastSubjectBytes: Uint8Array | null = null;
  lastSubjectLength = -1;
  lastSubject = "";
  lastResult: SublistResult = emptyResult;
  lastResultGeneration = -1;
  /** See Publisher.replyOnce (set by publishReply). */
  replyOnce = false;
  #subs = new Set<Subscription>();
  /** The subject of the publish in progress (deliverMessage asks for it by bytes). */
  #publishing = "";
  #nextSid = 1;

  constructor(
    readonly server: Server,
    readonly account: Account,
    /** For logs: what this client does ("JetStream", "System"). */
    readonly kind: string,
  ) {
    this.cid = server.allocateCid();
  }

  /** Subscribes `handler` to `subject` (byte string; may contain wildcards) in this client's account. */
  subscribe(subject: string, handler: InternalHandler, queue: string | null = null): Subscription {
    const sid = String(this.#nextSid++);
    const sub = new Subscription(this, subject, queue, sid, EMPTY);
    sub.handler = handler;
    this.account.sublist.insert(sub);
    this.#subs.add(sub);
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.#subs.delete(sub);
    this.account.sublist.remove(sub);
  }

  /**
   * Publishes a message (subject and reply are byte strings; reply "" for none). `hdr` is a
   * complete NATS/1.0 header block or null. Delivered synchronously; the receivers' sockets
   * are written at the end of the current read batch, or by `flush()`.
   */
  publish(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array, deliverAs = ""): void {
    if (this.closed) return;
    const matchSubject = subject;
    // JetStream deliveries are matched on the deliver subject (or a pull request's reply) but
    // show the message's own subject in the MSG line, as the reference's pa.deliver does.
    if (deliverAs !== "") subject = deliverAs;
    const hdrLen = hdr === null ? 0 : hdr.length;
    const size = hdrLen + data.length;
    // The "arguments" part of a PUB/HPUB line, laid out as the parser would leave it. Subjects
    // are byte strings (one char per byte): copied char by char, no intermediate buffers.
    const sl = subject.length;
    const rl = reply.length;
    const argLen = sl + 1 + rl + 1 + decimalLength(hdrLen) + 1 + decimalLength(size);
    const buf = new Uint8Array(argLen);
    const pa = new PubArgs();
    pa.buf = buf;
    let o = 0;
    for (let i = 0; i < sl; i++) buf[o++] = subject.charCodeAt(i);
    pa.subjectStart = 0;
    pa.subjectEnd = o;
    buf[o++] = 32;
    pa.replyStart = o;
    for (let i = 0; i < rl; i++) buf[o++] = reply.charCodeAt(i);
    pa.replyEnd = o;
    buf[o++] = 32;
    pa.hdbStart = o;
    o = writeDecimal(buf, o, hdrLen);
    pa.hdbEnd = o;
    buf[o++] = 32;
    pa.szStart = o;
    o = writeDecimal(buf, o, size);
    pa.szEnd = o;
    pa.size = size;
    pa.hdr = hdr === null ? -1 : hdrLen;
    let payload: Uint8Array;
    if (hdr === null) payload = data;
    else {
      payload = new Uint8Array(size);
      payload.set(hdr, 0);
      payload.set(data, hdrLen);
    }
    this.server.inMsgs++;
    this.server.inBytes += size;
    this.#publishing = matchSubject;
    deliverMessage(this, pa, payload, 0);
  }

  /** Publishes a reply to one request (a PubAck, an API response): matched without caching its subject. */
  publishReply(reply: string, hdr: Uint8Array | null, data: Uint8Array): void {
    this.replyOnce = true;
    try {
      this.publish(reply, "", hdr, data);
    } finally {
      this.replyOnce = false;
    }
  }

  /** Writes what this client's publishes queued at receivers (outside a client's read batch). */
  flush(): void {
    this.server.flushDirty();
  }

  /** Never a cache hit (lastSubjectLength stays -1): the subject string is already at hand. */
  subjectString(_argBuf: Uint8Array, _ss: number, _se: number): string {
    this.lastSubject = this.#publishing;
    return this.#publishing;
  }

  stall(_ms: number): void {}
  endStall(): void {}

  /** Removes every subscription of this client. */
  close(): void {
    if (this.closed) return;
    for (const sub of [...this.#subs]) this.unsubscribe(sub);
    this.closed = true;
  }
}
