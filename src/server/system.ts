// The system account's services, through an in-process client in the system account:
//
// - advisories: `$SYS.ACCOUNT.<acc>.CONNECT` / `.DISCONNECT` for every client login and
//   logout, and the account connection counts (`$SYS.ACCOUNT.<acc>.SERVER.CONNS` and the
//   older `$SYS.SERVER.ACCOUNT.<acc>.CONNS`), in the reference's JSON shapes (events.go);
// - requests: `$SYS.REQ.SERVER.PING` (and `.PING.STATSZ`, `.<id>.STATSZ`) answered with the
//   server's statistics; other `$SYS.REQ.SERVER.PING.<EP>` endpoints can be registered
//   (monitoring);
// - operator mode: account JWT updates (`$SYS.REQ.CLAIMS.UPDATE`,
//   `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.UPDATE`, the older `$SYS.ACCOUNT.<acc>.CLAIMS.UPDATE`),
//   lookups (`$SYS.REQ.ACCOUNT.<acc>.CLAIMS.LOOKUP`), the list (`$SYS.REQ.CLAIMS.LIST`) and
//   deletes (`$SYS.REQ.CLAIMS.DELETE`), answered by auth/jwt/resolver.ts; with the MEMORY
//   resolver only the per-account update subjects, as the reference.
//
// Advisories are built only when someone subscribes to them.
import { cpus } from "node:os";
import { utf8Text } from "../auth/jwt/encoding.ts";
import { ClaimsSubject, claimsReplyJson, memoryClaimUpdate, MemoryResolver, type ClaimsOutcome } from "../auth/jwt/resolver.ts";
import { goJson } from "../protocol/encode.ts";
import type { Account } from "./account.ts";
import type { ClientConnection } from "./connection.ts";
import { InternalClient } from "./internal_client.ts";
import { nuid } from "@nats-io/nuid";
import { nowNs, nsToRfc3339 } from "../util/time.ts";
import type { Server } from "./server.ts";

const encoder = new TextEncoder();
/** RFC 3339 with nanoseconds, UTC (Go's time.RFC3339Nano): now, or the time `ms`. */
export function rfc3339Nano(ms?: number): string {
  return nsToRfc3339(ms === undefined ? nowNs() : BigInt(Math.round(ms * 1e6)));
}

/** Period of the statistics heartbeat (the reference's statsz interval). */
const STATSZ_INTERVAL_MS = 10_000;

export type EndpointHandler = (request: Uint8Array) => unknown;

export class SystemServices {
  readonly server: Server;
  readonly account: Account;
  readonly client: InternalClient;
  #seq = 0;
  #lastCpu = process.cpuUsage();
  #lastCpuAt = Date.now();
  #cpuPercent = 0;

  constructor(server: Server, account: Account) {
    this.server = server;
    this.account = account;
    this.client = new InternalClient(server, account, "System");
    const statsz = (reply: string): void => this.#respond(reply, { server: this.#serverInfo(), statsz: this.statsz() });
    this.client.subscribe("$SYS.REQ.SERVER.PING", (_s, reply) => statsz(reply));
    this.client.subscribe("$SYS.REQ.SERVER.PING.STATSZ", (_s, reply) => statsz(reply));
    this.client.subscribe(`$SYS.REQ.SERVER.${server.id}.STATSZ`, (_s, reply) => statsz(reply));
    if (server.operator !== null) this.#claimsServices();
  }

  /** Answers `$SYS.REQ.SERVER.PING.<name>` and `$SYS.REQ.SERVER.<id>.<name>` with `{server, data}`. */
  registerEndpoint(name: string, handler: EndpointHandler): void {
    const answer = (reply: string, data: Uint8Array): void => {
      let result: unknown;
      try {
        result = handler(data);
      } catch (e) {
        this.#respond(reply, { server: this.#serverInfo(), error: { code: 500, description: (e as Error).message } });
        return;
      }
      this.#respond(reply, { server: this.#serverInfo(), data: result });
    };
    this.client.subscribe(`$SYS.REQ.SERVER.PING.${name}`, (_s, reply, _h, data) => answer(reply, data));
    this.client.subscribe(`$SYS.REQ.SERVER.${this.server.id}.${name}`, (_s, reply, _h, data) => answer(reply, data));
  }

  #serverInfo(): Record<string, unknown> {
    const s = this.server;
    return { name: s.name, host: s.opts.host, id: s.id, ver: s.version, seq: ++this.#seq, jetstream: s.opts.jetstream, time: rfc3339Nano() };
  }

  #respond(reply: string, body: unknown): void {
    this.#respondJson(reply, goJson(body));
  }

  #respondJson(reply: string, json: string): void {
    if (reply === "") return;
    this.client.publish(reply, "", null, encoder.encode(json));
  }

  #publish(subject: string, body: () => unknown): void {
    // Only built when somebody listens.
    if (this.account.sublist.match(subject).empty) return;
    this.client.publish(subject, "", null, encoder.encode(goJson(body())));
  }

  /** The reference's ServerStatsMsg.statsz. */
  statsz(): Record<string, unknown> {
    const s = this.server;
    const now = Date.now();
    if (now - this.#lastCpuAt >= 1000) {
      const used = process.cpuUsage(this.#lastCpu);
      this.#cpuPercent = Math.round(((used.user + used.system) / 1000 / (now - this.#lastCpuAt)) * 100);
      this.#lastCpu = process.cpuUsage();
      this.#lastCpuAt = now;
    }
    let subscriptions = 0;
    let activeAccounts = 0;
    for (const acc of s.accounts.values()) {
      subscriptions += acc.sublist.count;
      if (acc.connections > 0) activeAccounts++;
    }
    return {
      start: rfc3339Nano(s.startedAt.getTime()),
      mem: process.memoryUsage.rss(),
      cores: cpus().length,
      cpu: this.#cpuPercent,
      connections: s.connections.size,
      total_connections: s.totalConnections,
      active_accounts: activeAccounts,
      subscriptions,
      sent: { msgs: s.outMsgs, bytes: s.outBytes },
      received: { msgs: s.inMsgs, bytes: s.inBytes },
      slow_consumers: s.slowConsumers,
      active_servers: 1,
    };
  }

  // ---- advisories --------------------------------------------------------------------------

  /** The reference's ClientInfo of an advisory (omitempty fields left out). */
  #clientInfo(conn: ClientConnection, stopped: boolean): Record<string, unknown> {
    const o = conn.opts;
    const login = conn.jwtLogin;
    const info: Record<string, unknown> = { start: rfc3339Nano(conn.startMs), host: conn.host, id: conn.cid, acc: conn.account.name };
    const user = login !== null ? login.publicKey : o.nkey !== "" ? o.nkey : o.user;
    if (user !== "") info.user = user;
    if (o.name !== "") info.name = o.name;
    if (o.lang !== "") info.lang = o.lang;
    if (o.version !== "") info.ver = o.version;
    if (stopped && conn.rttMs > 0) info.rtt = Math.round(conn.rttMs * 1e6);
    if (stopped) info.stop = rfc3339Nano();
    if (login !== null) {
      info.jwt = login.jwt;
      info.issuer_key = login.claims.iss;
      if (login.claims.name !== "") info.name_tag = login.claims.name;
      if (login.claims.nats.tags !== null && login.claims.nats.tags.length > 0) info.tags = login.claims.nats.tags;
    }
    info.kind = "Client";
    info.client_type = "nats";
    return info;
  }

  clientConnected(conn: ClientConnection): void {
    this.#accountConnections(conn.account);
    const acc = conn.account.name;
    this.#publish(`$SYS.ACCOUNT.${acc}.CONNECT`, () => ({
      type: "io.nats.server.advisory.v1.client_connect",
      id: nuid.next(),
      timestamp: rfc3339Nano(),
      server: this.#serverInfo(),
      client: this.#clientInfo(conn, false),
    }));
  }

  clientDisconnected(conn: ClientConnection, reason: string): void {
    this.#accountConnections(conn.account);
    const acc = conn.account.name;
    this.#publish(`$SYS.ACCOUNT.${acc}.DISCONNECT`, () => ({
      type: "io.nats.server.advisory.v1.client_disconnect",
      id: nuid.next(),
      timestamp: rfc3339Nano(),
      server: this.#serverInfo(),
      client: this.#clientInfo(conn, true),
      sent: { msgs: conn.outMsgs, bytes: conn.outBytes },
      received: { msgs: conn.inMsgs, bytes: conn.inBytes },
      reason,
    }));
  }

  /** `$SYS.SERVER.<id>.CLIENT.AUTH.ERR`: a client failed to authenticate (reference sendAuthErrorEvent). */
  authError(conn: ClientConnection): void {
    this.#publish(`$SYS.SERVER.${this.server.id}.CLIENT.AUTH.ERR`, () => ({
      type: "io.nats.server.advisory.v1.client_disconnect",
      id: nuid.next(),
      timestamp: rfc3339Nano(),
      server: this.#serverInfo(),
      client: this.#clientInfo(conn, true),
      sent: { msgs: conn.outMsgs, bytes: conn.outBytes },
      received: { msgs: conn.inMsgs, bytes: conn.inBytes },
      reason: "Authentication Failure",
    }));
  }

  #lastStatszMs = 0;

  /** `$SYS.SERVER.<id>.STATSZ` every STATSZ_INTERVAL_MS while someone listens (housekeeping tick). */
  tick(nowMs: number): void {
    if (nowMs - this.#lastStatszMs < STATSZ_INTERVAL_MS) return;
    this.#lastStatszMs = nowMs;
    this.#publish(`$SYS.SERVER.${this.server.id}.STATSZ`, () => ({ server: this.#serverInfo(), statsz: this.statsz() }));
  }

  /** `$SYS.ACCOUNT.<acc>.SERVER.CONNS` (and the older subject) after a login or logout. */
  #accountConnections(account: Account): void {
    const subjects = [`$SYS.SERVER.ACCOUNT.${account.name}.CONNS`, `$SYS.ACCOUNT.${account.name}.SERVER.CONNS`];
    if (subjects.every((s) => this.account.sublist.match(s).empty)) return;
    let sentMsgs = 0;
    let sentBytes = 0;
    let inMsgs = 0;
    let inBytes = 0;
    for (const c of this.server.connections.values()) {
      if (c.account !== account || c.closed) continue;
      sentMsgs += c.outMsgs;
      sentBytes += c.outBytes;
      inMsgs += c.inMsgs;
      inBytes += c.inBytes;
    }
    const id = nuid.next();
    const timestamp = rfc3339Nano();
    for (const subject of subjects) {
      this.#publish(subject, () => ({
        type: "io.nats.server.advisory.v1.account_connections",
        id,
        timestamp,
        server: this.#serverInfo(),
        acc: account.name,
        conns: account.connections,
        leafnodes: 0,
        total_conns: account.connections,
        sent: { msgs: sentMsgs, bytes: sentBytes },
        received: { msgs: inMsgs, bytes: inBytes },
        slow_consumers: 0,
      }));
    }
  }

  // ---- account JWTs (operator mode) ----------------------------------------------------------

  #claimsServices(): void {
    const operator = this.server.operator!;
    const resolver = operator.resolver;
    const log = this.server.logger;
    const answer = (reply: string, outcome: ClaimsOutcome | null): void => {
      if (outcome === null) return;
      if (outcome.log.level === "error") log.error(outcome.log.text);
      else log.debug(outcome.log.text);
      this.#respondJson(reply, claimsReplyJson(outcome.reply, this.#serverInfo()));
    };
    if (resolver instanceof MemoryResolver) {
      // The MEMORY resolver answers the per-account subjects only, applying the JWT to an
      // account in use and storing nothing (events.go accountClaimUpdate).
      const accounts = { isLoaded: (key: string) => this.server.accounts.has(key), apply: (key: string, jwt: string) => operator.updateAccount(key, jwt) };
      const update = (subject: string, reply: string, data: Uint8Array): void => answer(reply, memoryClaimUpdate(subject, utf8Text(data), accounts));
      this.client.subscribe(ClaimsSubject.accountUpdate, (subject, reply, _h, data) => update(subject, reply, data));
      this.client.subscribe(ClaimsSubject.accountUpdateOld, (subject, reply, _h, data) => update(subject, reply, data));
      return;
    }
    // The full resolver stores what it accepts; accounts in use follow through its change
    // and delete listeners (operator.ts).
    const update = (subject: string, reply: string, data: Uint8Array): void => answer(reply, resolver.handleUpdate(subject, utf8Text(data)));
    this.client.subscribe(ClaimsSubject.update, (subject, reply, _h, data) => update(subject, reply, data));
    this.client.subscribe(ClaimsSubject.accountUpdate, (subject, reply, _h, data) => update(subject, reply, data));
    this.client.subscribe(ClaimsSubject.accountUpdateOld, (subject, reply, _h, data) => update(subject, reply, data));
    this.client.subscribe(ClaimsSubject.lookup, (subject, reply) => {
      const outcome = resolver.handleLookup(subject);
      if (outcome === null) return;
      // Nothing to say about an unknown account (another server may know it): only a log line.
      if (outcome.reply === null) log.error(outcome.log);
      else if (reply !== "") this.client.publish(reply, "", null, encoder.encode(outcome.reply));
    });
    this.client.subscribe(ClaimsSubject.list, (_s, reply) => this.#respondJson(reply, claimsReplyJson(resolver.handleList(), this.#serverInfo())));
    this.client.subscribe(ClaimsSubject.delete, (_s, reply, _h, data) => answer(reply, resolver.handleDelete(utf8Text(data))));
  }

  close(): void {
    this.client.close();
  }
}

