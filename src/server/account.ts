// An account: the unit of isolation. Each has its own subject space (sublist); everything
// lives in the global account `$G` unless accounts are configured. Limits, JetStream limits,
// subject mappings, exports and imports come from the config file or an account JWT; the
// imports are wired by server/imports.ts.
import type { AccountJetStreamLimits, AccountLimits, ExportEntry, ImportEntry, ResponseType } from "../config/options.ts";
import type { InternalClient } from "./internal_client.ts";
import type { AccountJwtState } from "./operator.ts";
import { Sublist, type Subscription } from "./sublist.ts";
import type { SubjectMapping } from "./subject_transform.ts";

/** No limit on connections, subscriptions or payload. */
export const unlimitedAccountLimits: AccountLimits = { maxConnections: -1, maxSubscriptions: -1, maxPayload: -1 };

/** Where the responses to a service request forwarded into this account go back to. */
export interface ResponseRoute {
  /** The importing account and the requester's reply subject there. */
  account: Account;
  reply: string;
  type: ResponseType;
  expiresAtMs: number;
}

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
  /** Subject mappings applied to what clients publish here; null when there are none. */
  mappings: SubjectMapping[] | null = null;
  exports: ExportEntry[] = [];
  imports: ImportEntry[] = [];
  /** Operator mode: what the account's JWT says (signing keys, revocations, …). */
  jwtState: AccountJwtState | null = null;

  // Wiring of imports (server/imports.ts)
  /** Publishes into this account what imports bring in (never handed to further imports). */
  internal: InternalClient | null = null;
  /** Internal subscriptions installed for the imports of this account (removed on change). */
  importSubs: Subscription[] = [];
  /** Service requests forwarded into this account: `_R_.…` reply subject → route back. */
  readonly responses = new Map<string, ResponseRoute>();
  /** The subscription on `_R_.>` catching responses (while this account exports services). */
  responseSub: Subscription | null = null;

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

  /** The subject a publish to `subject` goes to, or null when no mapping applies. */
  mapSubject(subject: string): string | null {
    const mappings = this.mappings;
    if (mappings === null) return null;
    for (const m of mappings) if (m.matches(subject)) return m.select(subject);
    return null;
  }
}
