// /jsz and /healthz: JetStream through the provider the JetStream layer installs
// (server.jetstreamMonitor); without it, the reference's shapes for a server whose JetStream
// is disabled.
import type { JszOptions } from "../server/monitor_provider.ts";
import type { Server } from "../server/server.ts";
import { defaultListLimit } from "./connz.ts";
import { preciseNowMs, queryBool, queryInt, rfc3339 } from "./format.ts";

/** The reference's /jsz body for a server without JetStream (after server_id and now). */
export function disabledJsz(): Record<string, unknown> {
  return {
    disabled: true,
    config: { max_memory: 0, max_storage: 0 },
    memory: 0,
    storage: 0,
    reserved_memory: 0,
    reserved_storage: 0,
    accounts: 0,
    ha_assets: 0,
    api: { total: 0, errors: 0 },
    streams: 0,
    consumers: 0,
    messages: 0,
    bytes: 0,
  };
}

export function jszOptions(q: URLSearchParams): JszOptions {
  const offset = queryInt(q, "offset");
  const limit = queryInt(q, "limit");
  return {
    account: q.get("acc") ?? "",
    accounts: queryBool(q, "accounts"),
    streams: queryBool(q, "streams"),
    consumers: queryBool(q, "consumers"),
    config: queryBool(q, "config"),
    leaderOnly: queryBool(q, "leader-only"),
    offset: offset < 0 ? 0 : offset,
    limit: limit <= 0 ? defaultListLimit : limit,
  };
}

export function jsz(server: Server, q: URLSearchParams): Record<string, unknown> {
  const opts = jszOptions(q);
  const head = { server_id: server.id, now: rfc3339(preciseNowMs()) };
  const js = server.jetstreamMonitor;
  return { ...head, ...(js === null ? disabledJsz() : js.jsz(opts)) };
}

/** /healthz: `{status: "ok"}` (200) or `{status: "unavailable", error}` (503). */
export function healthz(server: Server, q: URLSearchParams): { status: number; body: Record<string, unknown> } {
  const jsEnabledOnly = queryBool(q, "js-enabled-only") || queryBool(q, "js-enabled");
  const jsServerOnly = queryBool(q, "js-server-only");
  let error: string | null = null;
  const js = server.jetstreamMonitor;
  if (server.opts.jetstream && js === null) error = "JetStream not enabled";
  else if (js !== null && !jsEnabledOnly) error = js.unhealthy(jsServerOnly);
  if (error === null) return { status: 200, body: { status: "ok" } };
  return { status: 503, body: { status: "unavailable", error } };
}
