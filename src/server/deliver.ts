// The publish path: a complete message from a client → matching subscriptions → their
// connections' outbound buffers. Synchronous, no awaits, no allocation on the common path:
// the subject string and match result come from the publisher's one-entry cache when the
// subject repeats, and MSG lines are written straight into each receiver's buffer from the
// publisher's bytes (reference: processInboundClientMsg → processMsgResults → deliverMsg).
import { PubArgs } from "../protocol/parser.ts";
import type { Account } from "./account.ts";
import type { ClientConnection } from "./connection.ts";
import type { Server } from "./server.ts";
import type { Subscription, SublistResult } from "./sublist.ts";
import { ClosedReason } from "../protocol/errors.ts";
import { decodeByteString, encodeByteString } from "../util/bytes.ts";

/**
 * What the publish path needs of a publisher: a client connection, or an in-process client
 * (internal_client.ts) publishing for JetStream or the system account.
 */
export interface Publisher {
  readonly server: Server;
  readonly account: Account;
  readonly opts: { readonly no_responders: boolean };
  readonly echo: boolean;
  readonly closed: boolean;
  readonly stalled: boolean;
  lastSubjectBytes: Uint8Array | null;
  lastSubjectLength: number;
  lastSubject: string;
  lastResult: SublistResult;
  lastResultGeneration: number;
  subjectString(argBuf: Uint8Array, ss: number, se: number): string;
  /** Set while an in-process client answers one request: its reply subject is not worth caching. */
  readonly replyOnce?: boolean;
  /** Messages carried by a cross-account import: not handed to further imports (no loops). */
  readonly skipImports?: boolean;
  /** Stop reading input for up to `ms` (fast-producer stall); internal clients ignore it. */
  stall(ms: number): void;
  endStall(): void;
}

/** Delivers the message in `pa` (payload at payload[ps]) published by `pub`. */
export function deliverMessage(pub: Publisher, pa: PubArgs, payload: Uint8Array, ps: number): void {
  const sublist = pub.account.sublist;
  // The publisher's one-entry cache: same subject bytes and no sublist change since → same
  // result, without decoding the subject (compared inline: this runs for every message).
  let result = pub.lastResult;
  const ss = pa.subjectStart;
  const len = pa.subjectEnd - ss;
  let hit = len === pub.lastSubjectLength && pub.lastResultGeneration === sublist.generation;
  if (hit) {
    const cached = pub.lastSubjectBytes!;
    const buf = pa.buf;
    for (let i = 0; i < len; i++) {
      if (buf[ss + i] !== cached[i]) {
        hit = false;
        break;
      }
    }
  }
  if (!hit) {
    const subject = pub.subjectString(pa.buf, ss, pa.subjectEnd);
    result = pub.replyOnce === true ? sublist.matchOnce(subject) : sublist.match(subject);
    pub.lastResult = result;
    pub.lastResultGeneration = sublist.generation;
  }

  // Read once: a handler of an internal subscription may publish again through the same
  // internal client, which changes its cached subject.
  const subject = pub.lastSubject;
  let delivered = 0;
  const psubs = result.psubs;
  for (let i = 0; i < psubs.length; i++) {
    if (deliverTo(pub, psubs[i], pa, payload, ps, subject)) delivered++;
  }
  const qsubs = result.qsubs;
  for (let g = 0; g < qsubs.length; g++) {
    const group = qsubs[g];
    const n = group.length;
    // One member per group, starting at a random one and moving on if it cannot take the
    // message (closed, or the publisher itself with echo off).
    const start = n > 1 ? Math.floor(Math.random() * n) : 0;
    for (let k = 0; k < n; k++) {
      if (deliverTo(pub, group[(start + k) % n], pa, payload, ps, subject)) {
        delivered++;
        break;
      }
    }
  }

  if (delivered === 0) {
    if (pa.replyEnd > pa.replyStart && pub.opts.no_responders) sendNoResponders(pub, pa);
    return;
  }
  const server = pub.server;
  const bytes = delivered * pa.size;
  server.outMsgs += delivered;
  server.outBytes += bytes;
  const account = pub.account;
  account.outMsgs += delivered;
  account.outBytes += bytes;
}

/** Queues the message on one subscription's connection; false if it was not delivered. */
function deliverTo(pub: Publisher, sub: Subscription, pa: PubArgs, payload: Uint8Array, ps: number, subject: string): boolean {
  if (sub.handler !== null) {
    if (sub.crossAccount && pub.skipImports === true) return false;
    return deliverInternal(pub, sub, pa, payload, ps, subject);
  }
  const client = sub.conn as ClientConnection;
  if (client === pub && !pub.echo) return false;
  if (sub.closed || client.closed) return false;
  if (client.deliveryChecks && !passesDeliveryChecks(client, pa, subject)) return false;

  // Auto-unsubscribe: deliver the max-th message, then remove; beyond it, remove and drop.
  sub.delivered++;
  let lastOne = false;
  if (sub.max > 0) {
    if (sub.delivered > sub.max) {
      client.unsubscribe(sub);
      return false;
    }
    lastOne = sub.delivered === sub.max;
  }

  const out = client.out;
  let written: number;
  const hdr = pa.hdr;
  if (hdr > 0 && client.headers) {
    written = out.appendMsg(pa.buf, pa.subjectStart, pa.subjectEnd, sub.sidBytes, pa.replyStart, pa.replyEnd, pa.hdbStart, pa.hdbEnd, pa.szStart, pa.szEnd, payload, ps, pa.size);
  } else if (hdr > 0) {
    // A client without header support gets the payload only, with the size adjusted.
    written = out.appendMsgStripped(pa.buf, pa.subjectStart, pa.subjectEnd, sub.sidBytes, pa.replyStart, pa.replyEnd, payload, ps + hdr, pa.size - hdr);
  } else {
    written = out.appendMsg(pa.buf, pa.subjectStart, pa.subjectEnd, sub.sidBytes, pa.replyStart, pa.replyEnd, 0, 0, pa.szStart, pa.szEnd, payload, ps, pa.size);
  }
  client.outMsgs++;
  client.outBytes += pa.size;
  if (client.trace) client.server.logger.trace(`${client.description} - ->> [${hdr > 0 && client.headers ? "HMSG" : "MSG"} ${subject} ${sub.sid}${pa.replyEnd > pa.replyStart ? " " + decodeByteString(pa.buf, pa.replyStart, pa.replyEnd) : ""} ${pa.size}]`);
  void written;

  if (!client.dirty) client.server.markDirty(client);
  const pending = out.tail - out.head;
  if (pending > client.server.outboundFlushThresholdBytes) client.server.flushEarly(client, pub, pending);
  if (lastOne) client.unsubscribe(sub);
  return true;
}

/**
 * Receiver-side authorization, off the common path (kept out of deliverTo so that it stays
 * small enough to be inlined): the deny filter of wildcard subscriptions reaching subjects
 * the user may not subscribe to, and allow_responses' record of the reply subject.
 */
function passesDeliveryChecks(client: ClientConnection, pa: PubArgs, subject: string): boolean {
  if (client.deliveryFilter !== null && !client.deliveryFilter.deliveryAllowed(subject)) return false;
  if (client.responses !== null && pa.replyEnd > pa.replyStart) client.responses.record(decodeByteString(pa.buf, pa.replyStart, pa.replyEnd), Date.now());
  return true;
}

/** The publisher whose message an internal handler is being given (see publisherOfCurrentMessage). */
let handlerPublisher: Publisher | null = null;

/**
 * Inside an internal subscription's handler: who published the message in hand (service
 * imports report the requester's account and RTT). Null outside handlers.
 */
export function publisherOfCurrentMessage(): Publisher | null {
  return handlerPublisher;
}

/** Hands the message to an internal subscription's handler (see InternalHandler). */
function deliverInternal(pub: Publisher, sub: Subscription, pa: PubArgs, payload: Uint8Array, ps: number, subject: string): boolean {
  if (sub.closed) return false;
  sub.delivered++;
  if (sub.max > 0 && sub.delivered > sub.max) return false;
  const hdrLen = pa.hdr > 0 ? pa.hdr : 0;
  const reply = pa.replyEnd > pa.replyStart ? decodeByteString(pa.buf, pa.replyStart, pa.replyEnd) : "";
  const hdr = hdrLen > 0 ? payload.subarray(ps, ps + hdrLen) : null;
  const outer = handlerPublisher;
  handlerPublisher = pub;
  try {
    sub.handler!(subject, reply, hdr, payload.subarray(ps + hdrLen, ps + pa.size));
  } finally {
    handlerPublisher = outer;
  }
  return true;
}

/**
 * Delivers a message under another subject (an account subject mapping): the PUB arguments
 * are laid out again around the new subject, reusing the reply and size digits as sent.
 */
export function deliverMapped(pub: Publisher, pa: PubArgs, payload: Uint8Array, ps: number, subject: string): void {
  const subjectBytes = encodeByteString(subject);
  const src = pa.buf;
  const replyLen = pa.replyEnd - pa.replyStart;
  const hdbLen = pa.hdbEnd - pa.hdbStart;
  const szLen = pa.szEnd - pa.szStart;
  const buf = new Uint8Array(subjectBytes.length + replyLen + hdbLen + szLen + 3);
  const m = new PubArgs();
  m.buf = buf;
  buf.set(subjectBytes, 0);
  m.subjectStart = 0;
  m.subjectEnd = subjectBytes.length;
  let o = m.subjectEnd + 1;
  m.replyStart = o;
  buf.set(src.subarray(pa.replyStart, pa.replyEnd), o);
  o += replyLen;
  m.replyEnd = o++;
  m.hdbStart = o;
  buf.set(src.subarray(pa.hdbStart, pa.hdbEnd), o);
  o += hdbLen;
  m.hdbEnd = o++;
  m.szStart = o;
  buf.set(src.subarray(pa.szStart, pa.szEnd), o);
  m.szEnd = o + szLen;
  m.size = pa.size;
  m.hdr = pa.hdr;
  deliverMessage(pub, m, payload, ps);
}

const NO_RESPONDERS_SUFFIX = encodeByteString(" 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");

/**
 * `HMSG <reply> <sid> 16 16\r\nNATS/1.0 503\r\n\r\n\r\n` to the publisher's own subscription on
 * the reply subject, if it has one (reference processInboundClientMsg, v2.9).
 */
function sendNoResponders(pub: Publisher, pa: PubArgs): void {
  if (!("out" in pub)) return;
  const client = pub as ClientConnection;
  const reply = decodeByteString(pa.buf, pa.replyStart, pa.replyEnd);
  const r = client.account.sublist.match(reply);
  for (const sub of r.psubs) {
    if (sub.conn !== client) continue;
    const line = encodeByteString(`HMSG ${reply} ${sub.sid}`);
    client.out.append(line);
    client.out.append(NO_RESPONDERS_SUFFIX);
    client.server.markDirty(client);
    return;
  }
}

export { ClosedReason };
