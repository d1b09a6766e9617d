// /subsz: subscription statistics summed over every account's sublist, and with subs=1 the
// subscriptions themselves (optionally only those a `test` subject would reach), paged.
import type { Server } from "../server/server.ts";
import { isValidLiteralSubject, subjectMatches } from "../server/subject.ts";
import type { Subscription } from "../server/sublist.ts";
import { defaultListLimit } from "./connz.ts";
import { sublistStatsOf } from "./sublist_stats.ts";
import { byteStringText as text, preciseNowMs, QueryError, queryBool, queryInt, rfc3339 } from "./format.ts";

/** The reference's SublistStats, summed over every account. */
export function sublistStats(server: Server): Record<string, number> {
  return sublistStatsOf(server.accountList());
}

export function subsz(server: Server, q: URLSearchParams): Record<string, unknown> {
  const subs = queryBool(q, "subs");
  let offset = queryInt(q, "offset");
  let limit = queryInt(q, "limit");
  const test = q.get("test") ?? "";
  if (test !== "" && !isValidLiteralSubject(test)) throw new QueryError(`invalid test subject, must be valid publish subject: ${test}`);
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = defaultListLimit;
  const stats = sublistStats(server);
  if (!subs) return stats;

  const all: { account: string; sub: Subscription }[] = [];
  for (const acc of server.accountList()) {
    for (const sub of acc.sublist.all()) {
      if (test !== "" && !subjectMatches(test, sub.subject)) continue;
      all.push({ account: acc.name, sub });
    }
  }
  const page = all.slice(offset, offset + limit);
  return {
    server_id: server.id,
    now: rfc3339(preciseNowMs()),
    ...stats,
    // The reference reports the page's length here.
    total: page.length,
    offset,
    limit,
    subscriptions_list: page.map(({ account, sub }) => {
      const d: Record<string, unknown> = { account, subject: text(sub.subject) };
      if (sub.queue !== null) d.qgroup = text(sub.queue);
      d.sid = text(sub.sid);
      d.msgs = sub.delivered;
      if (sub.max > 0) d.max = sub.max;
      d.cid = sub.conn.cid;
      return d;
    }),
  };
}
