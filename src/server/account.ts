// An account: the unit of isolation. Each has its own subject space (sublist); everything
// lives in the global account `$G` unless accounts are configured. Limits, JetStream limits,
// subject mappings, exports and imports come from the config file or an account JWT.
import type { AccountJetStreamLimits, AccountLimits } from "../config/options.ts";
import { Sublist } from "./sublist.ts";

/** No limit on connections, subscriptions or payload. */
export const unlimitedAccountLimits: AccountLimits = { maxConnections: -1, maxSubscriptions: -1, maxPayload: -1 };

export class Account {
  readonly name: string;
  readonly sublist: Sublist;
  /** Client connections bound to the account now. */
  connections = 0;
  limits: AccountLimits = unlimitedAccountLimits;
  /**
   * JetStream for this account: its limits (-1 = unlimited), or null when JetStream is not
   * enabled for it (`jetstream: disabled`, not configured, or absent from its JWT).
   */
  jetstreamLimits: AccountJetStreamLimits | null = null;

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
