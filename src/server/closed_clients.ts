// The ring of recently closed client connections (reference: closedClients, kept for
// /connz?state=closed). A snapshot is taken when a connection closes — the control plane,
// where allocating is fine — and the oldest is dropped once max_closed_clients are kept.
import type { ClosedReasonText } from "../protocol/errors.ts";
import type { ClientConnection } from "./connection.ts";

/** A subscription as it was when its connection closed. */
export interface ClosedSubscription {
  subject: string;
  queue: string | null;
  sid: string;
  msgs: number;
}

/** What /connz shows of a closed connection: the connection's numbers frozen at close. */
export interface ClosedClient {
  cid: number;
  host: string;
  port: number;
  startMs: number;
  lastActivityMs: number;
  stopMs: number;
  reason: ClosedReasonText;
  rttMs: number;
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  pendingBytes: number;
  name: string;
  lang: string;
  version: string;
  /** The user it authenticated as ("" when none). */
  user: string;
  account: string;
  subs: ClosedSubscription[];
}

export class ClosedClients {
  #ring: ClosedClient[] = [];
  /** Index of the oldest entry once the ring is full. */
  #head = 0;
  #max: number;

  constructor(max: number) {
    this.#max = Math.max(0, max);
  }

  get size(): number {
    return this.#ring.length;
  }

  /** Changing the bound (reload) keeps the newest entries. */
  set max(max: number) {
    const all = this.list();
    this.#max = Math.max(0, max);
    this.#ring = all.slice(Math.max(0, all.length - this.#max));
    this.#head = 0;
  }

  record(conn: ClientConnection, reason: ClosedReasonText, user: string, nowMs: number): void {
    if (this.#max === 0) return;
    const subs: ClosedSubscription[] = [];
    if (conn.subs !== null) for (const s of conn.subs.values()) subs.push({ subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.delivered });
    const o = conn.opts;
    const entry: ClosedClient = {
      cid: conn.cid,
      host: conn.host,
      port: conn.port,
      startMs: conn.startMs,
      lastActivityMs: conn.lastActivityMs,
      stopMs: nowMs,
      reason,
      rttMs: conn.rttMs,
      inMsgs: conn.inMsgs,
      inBytes: conn.inBytes,
      outMsgs: conn.outMsgs,
      outBytes: conn.outBytes,
      pendingBytes: conn.out.pending,
      name: o.name,
      lang: o.lang,
      version: o.version,
      user,
      account: conn.account.name,
      subs,
    };
    if (this.#ring.length < this.#max) this.#ring.push(entry);
    else {
      this.#ring[this.#head] = entry;
      this.#head = (this.#head + 1) % this.#max;
    }
  }

  /** Oldest first. */
  list(): ClosedClient[] {
    return this.#ring.slice(this.#head).concat(this.#ring.slice(0, this.#head));
  }
}
