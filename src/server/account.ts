// An account: the unit of isolation. Each has its own subject space (sublist); everything
// lives in the global account `$G` until accounts are configured (security issue).
import { Sublist } from "./sublist.ts";

export class Account {
  readonly name: string;
  readonly sublist: Sublist;
  connections = 0;

  // Statistics for /accstatz and /metrics (reference: account stats). Updated as plain
  // number increments where the server totals are: once per read, once per publish.
  /** Connections ever made to this account. */
  totalConnections = 0;
  /** Messages and bytes published by this account's clients. */
  inMsgs = 0;
  inBytes = 0;
  /** Messages and bytes delivered to subscriptions in this account. */
  outMsgs = 0;
  outBytes = 0;
  slowConsumers = 0;
  /** When the account was created or last updated (reload): /accountz `update_time`. */
  updatedAt = new Date();

  constructor(name: string, useSublistCache: boolean) {
    this.name = name;
    this.sublist = new Sublist(useSublistCache);
  }
}
