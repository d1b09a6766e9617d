// /varz: the server's identity, configuration and counters, in the reference's field names
// and order (Varz). Durations as the reference encodes them: ping_interval and write_deadline
// in nanoseconds, auth_timeout and tls_timeout in seconds.
import { availableParallelism } from "node:os";
import * as C from "../constants.ts";
import { authTimeoutMsOf } from "../config/options.ts";
import type { Server } from "../server/server.ts";
import { preciseNowMs, rfc3339, uptimeText } from "./format.ts";

/** CPU use in percent since the previous sample (the reference reports %CPU from ps). */
class CpuSampler {
  #lastWallMs = performance.now();
  #lastUsage = process.cpuUsage();
  #percent = 0;

  sample(): number {
    const wall = performance.now();
    const elapsedMs = wall - this.#lastWallMs;
    // Too short an interval gives noise: keep the previous figure.
    if (elapsedMs < 100) return this.#percent;
    const usage = process.cpuUsage(this.#lastUsage);
    this.#lastUsage = process.cpuUsage();
    this.#lastWallMs = wall;
    this.#percent = Math.round(((usage.user + usage.system) / 1000 / elapsedMs) * 1000) / 10;
    return this.#percent;
  }
}

export const cpuSampler = new CpuSampler();
const cores = availableParallelism();

/** What the HTTP layer knows that the server does not. */
export interface VarzContext {
  httpHost: string;
  httpPort: number;
  httpsPort: number;
  basePath: string;
  requestStats: Record<string, number>;
}

export function varz(server: Server, ctx: VarzContext): Record<string, unknown> {
  const o = server.opts;
  const now = preciseNowMs();
  let subscriptions = 0;
  for (const acc of server.accountList()) subscriptions += acc.sublist.count;
  const v: Record<string, unknown> = {
    server_id: server.id,
    server_name: server.name,
    version: C.referenceVersion,
    proto: C.protocolLevel,
    go: `bun${Bun.version}`,
    host: o.host,
    port: server.port,
  };
  if (server.authRequired) v.auth_required = true;
  Object.assign(v, {
    max_connections: o.maxConnections,
  });
  if (o.maxSubscriptions > 0) v.max_subscriptions = o.maxSubscriptions;
  Object.assign(v, {
    ping_interval: o.pingIntervalMs * 1e6,
    ping_max: o.pingMax,
    http_host: ctx.httpHost,
    http_port: ctx.httpPort,
    http_base_path: ctx.basePath,
    https_port: ctx.httpsPort,
    auth_timeout: authTimeoutMsOf(o) / 1000,
    max_control_line: o.maxControlLineBytes,
    max_payload: o.maxPayloadBytes,
    max_pending: o.maxPendingBytes,
    cluster: {},
    gateway: {},
    leaf: {},
    mqtt: {},
    websocket: {},
    jetstream: server.jetstreamMonitor?.varz() ?? {},
    tls_timeout: (o.tls?.timeoutMs ?? C.tlsTimeoutMs) / 1000,
    write_deadline: o.writeDeadlineMs * 1e6,
    start: rfc3339(server.startedAt.getTime()),
    now: rfc3339(now),
    uptime: uptimeText(now - server.startedAt.getTime()),
    mem: process.memoryUsage.rss(),
    cores,
    gomaxprocs: cores,
    cpu: cpuSampler.sample(),
    connections: server.connections.size,
    total_connections: server.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    in_msgs: server.inMsgs,
    out_msgs: server.outMsgs,
    in_bytes: server.inBytes,
    out_bytes: server.outBytes,
    slow_consumers: server.slowConsumers,
    // 2.10+: slow consumers by connection kind.
    slow_consumer_stats: { clients: server.slowConsumers, routes: 0, gateways: 0, leafs: 0 },
    subscriptions,
    http_req_stats: sortedKeys(ctx.requestStats),
    config_load_time: rfc3339(server.configLoadTime.getTime()),
    // Ours, not the reference's: the nats-bun release and whether lame-duck mode is on.
    nats_bun: C.natsBunVersion,
    lame_duck_mode: server.lameDuck,
  });
  return v;
}

/** Go marshals maps with sorted keys. */
function sortedKeys(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}
