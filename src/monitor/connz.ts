// /connz: open and recently closed client connections, with the reference's query
// parameters (sort, offset, limit, subs=1|detail, state=open|closed|any, cid, acc, user,
// auth) and JSON field names and order (ConnInfo).
import { globalAccountName } from "../constants.ts";
import type { ClosedClient } from "../server/closed_clients.ts";
import type { ClientConnection } from "../server/connection.ts";
import type { Server } from "../server/server.ts";
import { byteStringText as text, goDuration, preciseNowMs, QueryError, queryBool, queryInt, queryUint, rfc3339, uptimeText } from "./format.ts";

export const defaultListLimit = 1024;

/** One row, open or closed, before it is written as JSON. */
interface ConnRow {
  cid: number;
  host: string;
  port: number;
  startMs: number;
  lastMs: number;
  /** 0 while open. */
  stopMs: number;
  reason: string;
  rttMs: number;
  pending: number;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  numSubs: number;
  name: string;
  lang: string;
  version: string;
  user: string;
  account: string;
  open: ClientConnection | null;
  closed: ClosedClient | null;
}

function openRow(c: ClientConnection, hasUsers: boolean): ConnRow {
  return {
    cid: c.cid,
    host: c.host,
    port: c.port,
    startMs: c.startMs,
    lastMs: c.lastActivityMs,
    stopMs: 0,
    reason: "",
    rttMs: c.rttMs,
    pending: c.out.pending,
    inMsgs: c.inMsgs,
    outMsgs: c.outMsgs,
    inBytes: c.inBytes,
    outBytes: c.outBytes,
    numSubs: c.subs === null ? 0 : c.subs.size,
    name: c.opts.name,
    lang: c.opts.lang,
    version: c.opts.version,
    user: hasUsers ? c.opts.user : "",
    account: c.account.name,
    open: c,
    closed: null,
  };
}

function closedRow(c: ClosedClient): ConnRow {
  return {
    cid: c.cid,
    host: c.host,
    port: c.port,
    startMs: c.startMs,
    lastMs: c.lastActivityMs,
    stopMs: c.stopMs,
    reason: c.reason,
    rttMs: c.rttMs,
    pending: c.pendingBytes,
    inMsgs: c.inMsgs,
    outMsgs: c.outMsgs,
    inBytes: c.inBytes,
    outBytes: c.outBytes,
    numSubs: c.subs.length,
    name: c.name,
    lang: c.lang,
    version: c.version,
    user: c.user,
    account: c.account,
    open: null,
    closed: c,
  };
}

type Compare = (a: ConnRow, b: ConnRow, nowMs: number) => number;
const desc = (f: (r: ConnRow, nowMs: number) => number): Compare => (a, b, now) => f(b, now) - f(a, now);
const asc = (f: (r: ConnRow, nowMs: number) => number): Compare => (a, b, now) => f(a, now) - f(b, now);
const endMs = (r: ConnRow, now: number): number => (r.stopMs > 0 ? r.stopMs : now);

/** The reference's sort options (2.9: no `rtt`); `stop` and `reason` only for closed ones. */
const sorts: ReadonlyMap<string, Compare> = new Map<string, Compare>([
  ["cid", asc((r) => r.cid)],
  ["start", asc((r) => r.startMs)],
  ["subs", desc((r) => r.numSubs)],
  ["pending", desc((r) => r.pending)],
  ["msgs_to", desc((r) => r.outMsgs)],
  ["msgs_from", desc((r) => r.inMsgs)],
  ["bytes_to", desc((r) => r.outBytes)],
  ["bytes_from", desc((r) => r.inBytes)],
  ["last", desc((r) => r.lastMs)],
  ["idle", desc((r, now) => endMs(r, now) - r.lastMs)],
  ["uptime", desc((r, now) => endMs(r, now) - r.startMs)],
  ["stop", desc((r) => r.stopMs)],
  ["reason", (a, b) => (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0)],
]);

/** Builds the /connz body; throws QueryError for a bad parameter. */
export function connz(server: Server, q: URLSearchParams): Record<string, unknown> {
  const sortName = q.get("sort") ?? "";
  const auth = queryBool(q, "auth");
  const subsParam = q.get("subs") ?? "";
  const subsDetail = subsParam === "detail";
  const subs = subsDetail ? false : queryBool(q, "subs");
  let offset = queryInt(q, "offset");
  let limit = queryInt(q, "limit");
  const cid = queryUint(q, "cid");
  const stateText = (q.get("state") ?? "").toLowerCase();
  const user = q.get("user") ?? "";
  const acc = q.get("acc") ?? "";
  let state: "open" | "closed" | "any";
  if (stateText === "" || stateText === "open") state = "open";
  else if (stateText === "closed") state = "closed";
  else if (stateText === "any" || stateText === "all") state = "any";
  else throw new QueryError(`Error decoding state for ${q.get("state")}`);
  if (sortName !== "" && !sorts.has(sortName)) throw new QueryError(`invalid sorting option: ${sortName}`);
  if ((sortName === "stop" || sortName === "reason") && state !== "closed") {
    throw new QueryError(`sort by ${sortName} only valid on closed connections`);
  }
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = defaultListLimit;

  const now = preciseNowMs();
  if (acc !== "" && !server.accountList().some((a) => a.name === acc)) {
    // What the reference answers for an unknown account (its lookup fails before filling in).
    return { server_id: "", now: rfc3339(now), num_connections: 0, total: 0, offset: 0, limit: defaultListLimit, connections: null };
  }

  let rows: ConnRow[] = [];
  if (state !== "closed") for (const c of server.connections.values()) if (!c.closed) rows.push(openRow(c, server.hasUsers));
  if (state !== "open") for (const c of server.closedClients.list()) rows.push(closedRow(c));
  if (acc !== "") rows = rows.filter((r) => r.account === acc);
  if (user !== "") rows = rows.filter((r) => r.user === user);
  const total = rows.length;
  if (cid > 0) {
    rows = rows.filter((r) => r.cid === cid);
    limit = 1;
  }
  const compare = sorts.get(sortName === "" ? "cid" : sortName)!;
  rows.sort((a, b) => compare(a, b, now) || a.cid - b.cid);
  const page = rows.slice(offset, offset + limit);

  return {
    server_id: server.id,
    now: rfc3339(now),
    num_connections: page.length,
    total,
    offset,
    limit,
    connections: page.map((r) => connInfo(r, now, { auth, subs, subsDetail })),
  };
}

function connInfo(r: ConnRow, now: number, show: { auth: boolean; subs: boolean; subsDetail: boolean }): Record<string, unknown> {
  const end = r.stopMs > 0 ? r.stopMs : now;
  const info: Record<string, unknown> = {
    cid: r.cid,
    kind: "Client",
    type: "nats",
    ip: r.host,
    port: r.port,
    start: rfc3339(r.startMs),
    last_activity: rfc3339(r.lastMs),
  };
  if (r.stopMs > 0) {
    info.stop = rfc3339(r.stopMs);
    info.reason = r.reason;
  }
  if (r.rttMs > 0) info.rtt = goDuration(r.rttMs);
  info.uptime = uptimeText(end - r.startMs);
  info.idle = uptimeText(end - r.lastMs);
  info.pending_bytes = r.pending;
  info.in_msgs = r.inMsgs;
  info.out_msgs = r.outMsgs;
  info.in_bytes = r.inBytes;
  info.out_bytes = r.outBytes;
  info.subscriptions = r.numSubs;
  if (r.name !== "") info.name = r.name;
  if (r.lang !== "") info.lang = r.lang;
  if (r.version !== "") info.version = r.version;
  if (show.auth) {
    if (r.user !== "") info.authorized_user = r.user;
    if (r.account !== globalAccountName) info.account = r.account;
  }
  if (show.subs && r.numSubs > 0) info.subscriptions_list = subjects(r);
  if (show.subsDetail && r.numSubs > 0) info.subscriptions_list_detail = subsDetail(r);
  return info;
}

function subjects(r: ConnRow): string[] {
  if (r.closed !== null) return r.closed.subs.map((s) => text(s.subject));
  return [...r.open!.subs!.values()].map((s) => text(s.subject));
}

function subsDetail(r: ConnRow): Record<string, unknown>[] {
  if (r.closed !== null) {
    // As the reference: closed connections name the account and no longer know `max`.
    return r.closed.subs.map((s) => withQueue({ account: r.account, subject: text(s.subject) }, s.queue, { sid: text(s.sid), msgs: s.msgs, cid: r.cid }));
  }
  return [...r.open!.subs!.values()].map((s) => {
    const tail: Record<string, unknown> = { sid: text(s.sid), msgs: s.delivered };
    if (s.max > 0) tail.max = s.max;
    tail.cid = r.cid;
    return withQueue({ subject: text(s.subject) }, s.queue, tail);
  });
}

function withQueue(head: Record<string, unknown>, queue: string | null, tail: Record<string, unknown>): Record<string, unknown> {
  return queue === null ? { ...head, ...tail } : { ...head, qgroup: text(queue), ...tail };
}
