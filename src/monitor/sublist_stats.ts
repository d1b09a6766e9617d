// Sublist statistics as the reference reports them (/subsz, /accountz `sublist_stats`).
import type { Account } from "../server/account.ts";

/** The reference's SublistStats, summed over `accounts`. */
export function sublistStatsOf(accounts: readonly Account[]): Record<string, number> {
  let subs = 0;
  let cache = 0;
  let inserts = 0;
  let removes = 0;
  let matches = 0;
  let hits = 0;
  let fanoutTotal = 0;
  let fanoutEntries = 0;
  let maxFanout = 0;
  for (const acc of accounts) {
    const sl = acc.sublist;
    subs += sl.count;
    cache += sl.cacheSize;
    inserts += sl.inserts;
    removes += sl.removes;
    matches += sl.matches;
    hits += sl.cacheHits;
    const f = sl.cacheFanout();
    fanoutTotal += f.total;
    fanoutEntries += f.entries;
    if (f.max > maxFanout) maxFanout = f.max;
  }
  return {
    num_subscriptions: subs,
    num_cache: cache,
    num_inserts: inserts,
    num_removes: removes,
    num_matches: matches,
    cache_hit_rate: matches > 0 ? hits / matches : 0,
    max_fanout: maxFanout,
    avg_fanout: fanoutEntries > 0 ? fanoutTotal / fanoutEntries : 0,
  };
}
