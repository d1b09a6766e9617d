// /accountz and /accstatz: the accounts the server knows, one account's detail, and
// per-account traffic statistics (reference AccountStatz).
import { globalAccountName } from "../constants.ts";
import type { Account } from "../server/account.ts";
import type { Server } from "../server/server.ts";
import { preciseNowMs, QueryError, queryBool, rfc3339 } from "./format.ts";
import { sublistStatsOf } from "./sublist_stats.ts";

export function accountz(server: Server, q: URLSearchParams): Record<string, unknown> {
  const name = q.get("acc") ?? "";
  const head: Record<string, unknown> = { server_id: server.id, now: rfc3339(preciseNowMs()) };
  if (server.system !== null) head.system_account = server.system.account.name;
  const accounts = server.accountList();
  if (name === "") return { ...head, accounts: accounts.map((a) => a.name) };
  const acc = accounts.find((a) => a.name === name);
  if (acc === undefined) throw new QueryError(`Account ${name} does not exist`);
  const js = server.jetstreamMonitor?.accounts().some((u) => u.account === acc.name) ?? false;
  return {
    ...head,
    account_detail: {
      account_name: acc.name,
      update_time: rfc3339(acc.updatedAt.getTime()),
      expired: false,
      complete: true,
      jetstream_enabled: js,
      leafnode_connections: 0,
      client_connections: acc.connections,
      subscriptions: acc.sublist.count,
      sublist_stats: sublistStatsOf([acc]),
    },
  };
}

/** One account's traffic as the reference's AccountStat (also used by /metrics). */
export function accountStat(acc: Account): Record<string, unknown> {
  return {
    acc: acc.name,
    conns: acc.connections,
    leafnodes: 0,
    total_conns: acc.totalConnections,
    sent: { msgs: acc.outMsgs, bytes: acc.outBytes },
    received: { msgs: acc.inMsgs, bytes: acc.inBytes },
    slow_consumers: acc.slowConsumers,
  };
}

export function accstatz(server: Server, q: URLSearchParams): Record<string, unknown> {
  const unused = queryBool(q, "unused");
  const wanted = (q.get("accounts") ?? q.get("acc") ?? "").split(",").filter((s) => s !== "");
  let accounts = server.accountList();
  if (wanted.length > 0) accounts = accounts.filter((a) => wanted.includes(a.name));
  else if (!unused) accounts = accounts.filter((a) => a.connections > 0);
  accounts.sort((a, b) => (a.name === globalAccountName ? -1 : b.name === globalAccountName ? 1 : a.name.localeCompare(b.name)));
  return { server_id: server.id, now: rfc3339(preciseNowMs()), account_statz: accounts.map(accountStat) };
}
