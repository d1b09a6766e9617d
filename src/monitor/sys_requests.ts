// The monitoring endpoints as system-account requests (reference events.go):
// `$SYS.REQ.SERVER.<id>.<EP>` asks this server, `$SYS.REQ.SERVER.PING.<EP>` asks every server
// (each answers; filters in the request skip servers that do not match). EP is VARZ, CONNZ,
// SUBSZ, ROUTEZ, GATEWAYZ, LEAFZ, ACCOUNTZ, JSZ or HEALTHZ; the request body is the
// endpoint's options as JSON (the reference's *EventOptions names); the reply is
// `{"server": {...}, "data": {...}}` or `{"server": {...}, "error": {"code", "description"}}`.
//
// Installed on an in-process client of the system account, which nats-bun does not have until
// accounts land: the security work calls installSystemRequests with it. Tests install it on
// the global account.
import * as C from "../constants.ts";
import type { InternalClient } from "../server/internal_client.ts";
import type { Server } from "../server/server.ts";
import type { Subscription } from "../server/sublist.ts";
import { accountz } from "./accountz.ts";
import { connz } from "./connz.ts";
import { QueryError, rfc3339 } from "./format.ts";
import { healthz, jsz } from "./jsz.ts";
import { subsz } from "./subsz.ts";
import { gatewayz, leafz, routez } from "./topology.ts";
import { varz, type VarzContext } from "./varz.ts";

export const systemEndpoints = ["VARZ", "CONNZ", "SUBSZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "ACCOUNTZ", "JSZ", "HEALTHZ"] as const;
type Endpoint = (typeof systemEndpoints)[number];

/** JSON option names of each endpoint → the HTTP query parameter they stand for. */
const optionNames: Record<Endpoint, Record<string, string>> = {
  VARZ: {},
  CONNZ: { sort: "sort", auth: "auth", offset: "offset", limit: "limit", cid: "cid", user: "user", acc: "acc" },
  SUBSZ: { subscriptions: "subs", offset: "offset", limit: "limit", test: "test", account: "acc" },
  ROUTEZ: {},
  GATEWAYZ: {},
  LEAFZ: {},
  ACCOUNTZ: { account: "acc" },
  JSZ: { accounts: "accounts", streams: "streams", consumers: "consumers", config: "config", leader_only: "leader-only", offset: "offset", limit: "limit", account: "acc" },
  HEALTHZ: { "js-enabled-only": "js-enabled-only", "js-server-only": "js-server-only", js_enabled_only: "js-enabled-only", js_server_only: "js-server-only" },
};

/** The reference's ConnState numbers in CONNZ requests. */
const connStates = ["open", "closed", "any"];

function toQuery(ep: Endpoint, options: Record<string, unknown>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(options)) {
    if (ep === "CONNZ" && k === "state" && typeof v === "number") q.set("state", connStates[v] ?? String(v));
    else if (ep === "CONNZ" && k === "subscriptions" && v === true) q.set("subs", q.get("subs") === "detail" ? "detail" : "1");
    else if (ep === "CONNZ" && k === "subscriptions_detail" && v === true) q.set("subs", "detail");
    else if (optionNames[ep][k] !== undefined && v !== null && v !== undefined) q.set(optionNames[ep][k], String(v));
  }
  return q;
}

let sequence = 0;

/** The reference's ServerInfo header of every system reply. */
function serverInfo(server: Server): Record<string, unknown> {
  return {
    name: server.name,
    host: server.opts.host,
    id: server.id,
    ver: C.referenceVersion,
    seq: ++sequence,
    jetstream: server.jetstreamMonitor !== null,
    time: rfc3339(Date.now()),
  };
}

/** Whether a PING's filters (server_name, host, …) leave this server out. */
function filteredOut(server: Server, options: Record<string, unknown>): boolean {
  const name = options.server_name;
  if (typeof name === "string" && name !== "" && name !== server.name) return true;
  const host = options.host;
  if (typeof host === "string" && host !== "" && host !== server.opts.host) return true;
  return false;
}

/** Answers one endpoint's request; exported for tests. */
export function systemResponse(server: Server, ep: Endpoint, body: string, varzContext: () => VarzContext): Record<string, unknown> {
  let options: Record<string, unknown> = {};
  try {
    if (body.trim() !== "") options = JSON.parse(body) as Record<string, unknown>;
  } catch (e) {
    return { server: serverInfo(server), error: { code: 400, description: (e as Error).message } };
  }
  const q = toQuery(ep, options ?? {});
  try {
    let data: Record<string, unknown>;
    switch (ep) {
      case "VARZ": data = varz(server, varzContext()); break;
      case "CONNZ": data = connz(server, q); break;
      // The system request's Subsz carries server_id and now first (HTTP /subsz does not).
      case "SUBSZ": data = { server_id: server.id, now: rfc3339(Date.now()), ...subsz(server, q) }; break;
      case "ROUTEZ": data = routez(server); break;
      case "GATEWAYZ": data = gatewayz(server); break;
      case "LEAFZ": data = leafz(server); break;
      case "ACCOUNTZ": data = accountz(server, q); break;
      case "JSZ": data = jsz(server, q); break;
      case "HEALTHZ": data = healthz(server, q).body; break;
    }
    return { server: serverInfo(server), data };
  } catch (e) {
    if (e instanceof QueryError) return { server: serverInfo(server), error: { code: 400, description: e.message } };
    throw e;
  }
}

/** Subscribes `client` (of the system account) to every endpoint; returns the subscriptions. */
export function installSystemRequests(server: Server, client: InternalClient, varzContext: () => VarzContext): Subscription[] {
  const enc = new TextEncoder();
  const subs: Subscription[] = [];
  for (const ep of systemEndpoints) {
    for (const target of [server.id, "PING"]) {
      const subject = `$SYS.REQ.SERVER.${target}.${ep}`;
      subs.push(
        client.subscribe(subject, (_subject, reply, _hdr, data) => {
          if (reply === "") return;
          const body = Buffer.from(data).toString("utf8");
          if (target === "PING") {
            try {
              if (body.trim() !== "" && filteredOut(server, JSON.parse(body) as Record<string, unknown>)) return;
            } catch {
              // A bad body is answered with its error below.
            }
          }
          const response = systemResponse(server, ep, body, varzContext);
          // Replies go out after the request's delivery (not inside it: the requester's read).
          queueMicrotask(() => {
            client.publish(reply, "", null, enc.encode(JSON.stringify(response)));
            client.flush();
          });
        }),
      );
    }
  }
  return subs;
}
