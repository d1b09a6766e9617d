// /routez, /gatewayz, /leafz: the reference's shapes for a server with no routes, gateways
// or leaf nodes — what nats-bun is until clustering lands.
import type { Server } from "../server/server.ts";
import { preciseNowMs, rfc3339 } from "./format.ts";

export function routez(server: Server): Record<string, unknown> {
  return { server_id: server.id, now: rfc3339(preciseNowMs()), num_routes: 0, routes: [] };
}

export function gatewayz(server: Server): Record<string, unknown> {
  return { server_id: server.id, now: rfc3339(preciseNowMs()), outbound_gateways: {}, inbound_gateways: {} };
}

export function leafz(server: Server): Record<string, unknown> {
  return { server_id: server.id, now: rfc3339(preciseNowMs()), leafnodes: 0, leafs: null };
}
