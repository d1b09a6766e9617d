// Operator mode (decentralised JWT authentication), wired into the server: trusted operators,
// the account resolver, accounts built from their JWTs, user JWT logins, and account changes
// applied live to connected clients.
//
// The decisions are auth/jwt's (the reference's texts and order, checked against nats-server
// 2.9.10): verify.ts authenticates users and verifies account JWTs, resolver.ts stores and
// answers pushed JWTs, operator_config.ts derives trust and the system account. This file
// turns their verdicts into server state: Account limits, exports, imports (with activation
// tokens), mappings; a connection's account, permissions, limits and expiry; and what happens
// to connected users when their account changes (accounts.go updateAccountClaimsWithRefresh):
//   revoked                         -ERR 'User Authentication Revoked', closed
//   bearer token now disallowed     -ERR 'Authorization Violation', closed
//   signing key removed, or its scope changed: closed without an -ERR
//   account deleted                 -ERR 'Account Authentication Expired', closed
//   otherwise                       the new permissions and limits apply
// Refusals are logged with the reference's reason; the client only sees `Authorization
// Violation`.
import type { AccountClaims, Export, UserClaims, UserScope } from "../auth/jwt/claims.ts";
import { decodeOperatorClaims } from "../auth/jwt/decode.ts";
import { JwtError } from "../auth/jwt/errors.ts";
import { operatorResolverKeys, preloadWarnings, systemAccountOf, trustFromOperators } from "../auth/jwt/operator_config.ts";
import { DeleteMode, DirResolver, MemoryResolver, resolverExpiryCheckMs } from "../auth/jwt/resolver.ts";
import {
  accountLimitsOf, accountSigners, accountValidationFailed, authenticateUserJwt, checkActivation, userDisconnectOnAccountUpdate, userGrant,
  verifyAccountJwt, type Trust,
} from "../auth/jwt/verify.ts";
import { Permissions, subjectIsSubsetMatch } from "../auth/permissions.ts";
import type { ExportEntry, ImportEntry, ResponseType, ServerOptions } from "../config/options.ts";
import { ClosedReason, ProtoError } from "../protocol/errors.ts";
import { Account } from "./account.ts";
import type { ClientConnection } from "./connection.ts";
import { installImports } from "./imports.ts";
import type { Server } from "./server.ts";
import { SubjectMapping } from "./subject_transform.ts";

/** What the server keeps of an account's JWT. */
export interface AccountJwtState {
  jwt: string;
  claims: AccountClaims;
  /** When the account expires (its `exp`), ms; 0 = never. */
  expiresAtMs: number;
  /** Deleted from the resolver: its users were disconnected and no one logs in again. */
  deleted: boolean;
}

/** A client logged in with a user JWT. */
export interface JwtLogin {
  account: Account;
  publicKey: string;
  jwt: string;
  claims: UserClaims;
  /** The account signing key that signed the user; "" when the account's own key did. */
  signingKey: string;
  /** That signing key's scope, when it is scoped. */
  scope: UserScope | null;
  permissions: Permissions | null;
  /** -1 = unlimited. */
  maxSubs: number;
  maxPayload: number;
  /** When the login ends (user JWT expiry, end of its connection time window); 0 = never. */
  expiresAtMs: number;
}

/** Default service response threshold (the reference's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD). */
const responseThresholdMsDefault = 2 * 60_000;

function present<T>(list: readonly (T | null)[] | null): T[] {
  return list === null ? [] : list.filter((x): x is T => x !== null);
}

export class OperatorMode {
  readonly server: Server;
  readonly trust: Trust;
  readonly systemAccountKey: string;
  readonly resolver: MemoryResolver | DirResolver;
  /** Warnings about preloaded JWTs, logged when the server starts. */
  readonly #preloadWarnings: string[] = [];
  #lastExpirySweepMs = Date.now();

  constructor(server: Server, opts: ServerOptions) {
    this.server = server;
    const operators = opts.operatorJwts.map((jwt) => decodeOperatorClaims(jwt));
    this.trust = trustFromOperators(operators, opts.trustedKeys);
    this.systemAccountKey = systemAccountOf({ operators, systemAccount: opts.systemAccount });
    const now = Date.now();
    for (const [key, jwt] of opts.resolverPreload) this.#preloadWarnings.push(...preloadWarnings(key, jwt, now));
    const config = opts.resolver;
    if (config !== null && config.type === "full") {
      const keys = operators.length > 0 ? operatorResolverKeys(operators[0]) : { operatorKey: opts.trustedKeys[0] ?? "", keys: new Set(opts.trustedKeys), strict: false };
      const dir = new DirResolver({
        dir: config.dir,
        // `hard_delete` changes nothing in the reference 2.9.10: deleted JWTs are renamed.
        deleteMode: config.allowDelete ? DeleteMode.rename : DeleteMode.none,
        limit: config.limit,
        operatorKey: keys.operatorKey,
        operatorKeys: keys.keys,
        strict: keys.strict,
        systemAccount: this.systemAccountKey,
      });
      for (const [key, jwt] of opts.resolverPreload) {
        try {
          dir.store(key, jwt);
        } catch (e) {
          if (!(e instanceof JwtError)) throw e;
          this.#preloadWarnings.push(`preload account error for ${JSON.stringify(key)}: ${e.message}`);
        }
      }
      dir.onChange((key, jwt) => this.#onStored(key, jwt));
      dir.onDelete((key) => this.#onDeleted(key));
      this.resolver = dir;
    } else {
      this.resolver = new MemoryResolver(opts.resolverPreload);
    }
  }

  /** Logs what the reference logs about the preloaded JWTs. */
  start(): void {
    for (const line of this.#preloadWarnings) this.server.logger.warn(line);
  }

  /** Housekeeping: the full resolver removes expired JWTs from its directory every minute. */
  tick(nowMs: number): void {
    if (!(this.resolver instanceof DirResolver) || nowMs - this.#lastExpirySweepMs < resolverExpiryCheckMs) return;
    this.#lastExpirySweepMs = nowMs;
    for (const key of this.resolver.sweepExpired()) this.server.logger.debug(`Removed expired jwt of account ${key}`);
  }

  // ---- accounts ----------------------------------------------------------------------------

  /** The account with this public key: already known, or built from the resolver's JWT. */
  lookup(publicKey: string): Account | undefined {
    const found = this.#lookup(publicKey);
    if (typeof found === "string") {
      this.server.logger.debug(`Account JWT lookup error: ${found}`);
      return undefined;
    }
    return found;
  }

  /** The account, or why it cannot be used (the reference's lookup error). */
  #lookup(publicKey: string): Account | string {
    const known = this.server.accounts.get(publicKey);
    if (known !== undefined) return known;
    const jwt = this.resolver.fetch(publicKey);
    if (jwt === null) return "account missing";
    const claims = this.#verify(publicKey, jwt);
    if (typeof claims === "string") return claims;
    const account = new Account(publicKey, !this.server.opts.noSublistCache);
    this.#apply(account, jwt, claims);
    this.server.accounts.set(publicKey, account);
    this.#rewireImports();
    this.server.accountChanged(account);
    return account;
  }

  /**
   * Applies a JWT to an account in use (the reference's updateAccountWithClaimJWT): verified
   * (trusted, valid now), then limits, exports, imports and connected users follow it.
   * Returns the error text, or null.
   */
  updateAccount(publicKey: string, jwt: string): string | null {
    const account = this.server.accounts.get(publicKey);
    if (account === undefined) return "account missing";
    if (account.jwtState !== null && account.jwtState.jwt === jwt && !account.jwtState.deleted) return null;
    const claims = this.#verify(publicKey, jwt);
    if (typeof claims === "string") return claims;
    const previous = account.jwtState?.claims ?? null;
    this.#apply(account, jwt, claims);
    this.#rewireImports();
    this.#refreshConnections(account, previous);
    this.server.accountChanged(account);
    return null;
  }

  /** The claims of an account's JWT when it is trusted, valid now and this account's; else why not. */
  #verify(publicKey: string, jwt: string): AccountClaims | string {
    try {
      const claims = verifyAccountJwt(jwt, this.trust, Date.now());
      return claims.sub === publicKey ? claims : accountValidationFailed;
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      return e.message;
    }
  }

  /** The full resolver stored a JWT: an account in use follows it (DirAccResolver's change callback). */
  #onStored(publicKey: string, jwt: string): void {
    if (!this.server.accounts.has(publicKey)) return;
    const error = this.updateAccount(publicKey, jwt);
    if (error !== null) this.server.logger.error(`DirResolver - Update for account ${JSON.stringify(publicKey)} resulted in error ${error}`);
    else this.server.logger.debug(`DirResolver - Update for account ${JSON.stringify(publicKey)}`);
  }

  /** The full resolver deleted a JWT: an account in use expires, its users are disconnected. */
  #onDeleted(publicKey: string): void {
    const account = this.server.accounts.get(publicKey);
    if (account?.jwtState == null) return;
    account.jwtState.deleted = true;
    for (const conn of this.#connectionsOf(account)) {
      conn.sendErr(ProtoError.accountExpired.text);
      conn.close(ClosedReason.authenticationExpired);
    }
  }

  #apply(account: Account, jwt: string, claims: AccountClaims): void {
    const n = claims.nats;
    const limits = accountLimitsOf(claims);
    account.limits = { maxConnections: limits.maxConnections, maxSubscriptions: limits.maxSubscriptions, maxPayload: limits.maxPayload };
    // One set of JetStream limits per account here: the account-wide ones, else the R1 tier's.
    const tier = limits.jetstream === null ? undefined : (limits.jetstream.get("") ?? limits.jetstream.get("R1") ?? [...limits.jetstream.values()][0]);
    account.jetstreamLimits = tier === undefined ? null : { maxMemory: tier.maxMemory, maxStore: tier.maxStore, maxStreams: tier.maxStreams, maxConsumers: tier.maxConsumers };
    account.exports = present(n.exports).flatMap((x): ExportEntry[] => {
      if (x.type === "" || x.subject === "") return [];
      return [{
        kind: x.type,
        subject: x.subject,
        // Token-required exports admit only importers with a valid activation (#rewireImports).
        accounts: x.token_req ? [] : null,
        responseType: (x.response_type === "" ? "Singleton" : x.response_type) as ResponseType,
        responseThresholdMs: x.response_threshold > 0 ? x.response_threshold / 1e6 : responseThresholdMsDefault,
      }];
    });
    account.imports = present(n.imports).flatMap((x): ImportEntry[] => {
      if (x.type === "" || x.subject === "" || x.account === "") return [];
      if (x.type === "service") return [{ kind: x.type, account: x.account, subject: x.subject, to: x.local_subject || x.to, prefix: "" }];
      return [{ kind: x.type, account: x.account, subject: x.subject, to: x.local_subject, prefix: x.local_subject !== "" ? "" : x.to }];
    });
    const mappings = [...(n.mappings ?? [])].map(([source, list]) => ({
      source,
      // A weight of 0 means 100 (jwt WeightedMapping.GetWeight).
      destinations: (list ?? []).map((d) => ({ subject: d.subject, weight: d.weight === 0 ? 100 : d.weight, cluster: d.cluster })),
    }));
    try {
      account.mappings = mappings.length === 0 ? null : mappings.map((m) => new SubjectMapping(m.source, m.destinations));
    } catch (e) {
      this.server.logger.warn(`Account ${account.name}: invalid mapping ignored: ${(e as Error).message}`);
      account.mappings = null;
    }
    account.jwtState = { jwt, claims, expiresAtMs: claims.exp > 0 ? claims.exp * 1000 : 0, deleted: false };
  }

  #rewiring = false;

  /** Imports of every account, again (an export or an import changed). */
  #rewireImports(): void {
    // Loading an exporter may load (and rewire) further accounts: not in the middle of this.
    if (this.#rewiring) return;
    this.#rewiring = true;
    try {
      for (const acc of [...this.server.accounts.values()]) for (const im of acc.imports) if (!this.server.accounts.has(im.account)) this.lookupQuietly(im.account);
      for (const acc of this.server.accounts.values()) {
        for (const ex of acc.exports) if (ex.accounts !== null) ex.accounts = this.#activatedImporters(acc, ex);
      }
      for (const acc of this.server.accounts.values()) {
        for (const problem of installImports(this.server, acc, (key) => this.server.accounts.get(key))) this.server.logger.debug(`Account ${acc.name}: ${problem}`);
      }
    } finally {
      this.#rewiring = false;
    }
  }

  /** The accounts whose imports of a token-required export carry an activation it accepts. */
  #activatedImporters(exporter: Account, ex: ExportEntry): string[] {
    const exporterClaims = exporter.jwtState?.claims;
    if (exporterClaims === undefined) return [];
    const claim: Export | undefined = present(exporterClaims.nats.exports).find((e) => e.subject === ex.subject && e.type === ex.kind);
    const out: string[] = [];
    for (const acc of this.server.accounts.values()) {
      for (const im of present(acc.jwtState?.claims.nats.imports ?? null)) {
        if (im.account !== exporter.name || im.type !== ex.kind || im.token === "" || !subjectIsSubsetMatch(im.subject, ex.subject)) continue;
        const verdict = checkActivation({ importClaim: im, importer: acc.name, exporter: exporterClaims, trust: this.trust, exportRevocations: claim?.revocations ?? null, nowMs: Date.now() });
        if (verdict.ok) {
          out.push(acc.name);
          break;
        }
        this.server.logger.debug(`Activation token of ${acc.name} for ${im.subject} refused: ${verdict.reason}`);
      }
    }
    return out;
  }

  /** Looks an exporter up without logging (imports of accounts nobody uses yet). */
  lookupQuietly(key: string): Account | undefined {
    if (this.resolver.fetch(key) === null) return undefined;
    return this.lookup(key);
  }

  /** The system account, from its JWT, or bare when the resolver does not have it. */
  systemAccount(): Account | null {
    if (this.systemAccountKey === "") return null;
    const acc = this.lookup(this.systemAccountKey);
    if (acc !== undefined) return acc;
    const bare = new Account(this.systemAccountKey, !this.server.opts.noSublistCache);
    bare.limits = { maxConnections: -1, maxSubscriptions: -1, maxPayload: -1 };
    this.server.accounts.set(bare.name, bare);
    return bare;
  }

  // ---- users -------------------------------------------------------------------------------

  /** Authenticates a client by its user JWT (verify.ts authenticateUserJwt); null when refused. */
  authenticate(conn: ClientConnection): JwtLogin | null {
    const now = Date.now();
    const result = authenticateUserJwt({
      jwt: conn.opts.jwt,
      sig: conn.opts.sig,
      nonce: conn.nonce,
      clientIp: conn.host,
      connectionType: "STANDARD",
      trust: this.trust,
      lookupAccount: (key) => {
        const account = this.#lookup(key);
        if (typeof account === "string") return { error: account };
        if (account.jwtState === null) return { error: "account missing" };
        if (account.jwtState.deleted) return { error: "account deleted" };
        return { claims: account.jwtState.claims };
      },
      nowMs: now,
    });
    if (!result.ok) {
      if (result.level === "error") this.server.logger.error(`${conn.description} - ${result.reason}`);
      else if (this.server.logger.debugEnabled) this.server.logger.debug(`${conn.description} - ${result.reason}`);
      return null;
    }
    const u = result.user;
    const account = this.server.accounts.get(u.accountKey)!;
    const login: JwtLogin = {
      account,
      publicKey: u.userKey,
      jwt: conn.opts.jwt,
      claims: u.user,
      signingKey: u.signingKey ?? "",
      scope: u.scope,
      permissions: u.permissions === null ? null : new Permissions(u.permissions),
      maxSubs: u.limits.subs,
      maxPayload: u.limits.payload,
      expiresAtMs: u.expiresInMs === null ? 0 : now + u.expiresInMs,
    };
    if (this.server.logger.debugEnabled) {
      this.server.logger.debug(`${conn.description} - Authenticated JWT: Client ${JSON.stringify(u.userKey)} (claim-name: ${JSON.stringify(u.user.name)}) signed with ${JSON.stringify(u.user.iss)} by Account ${JSON.stringify(account.name)}`);
    }
    return login;
  }

  #connectionsOf(account: Account): ClientConnection[] {
    return [...this.server.connections.values()].filter((c) => c.account === account && !c.closed);
  }

  /** Connected users after their account's JWT changed (see the file comment). */
  #refreshConnections(account: Account, previous: AccountClaims | null): void {
    const claims = account.jwtState!.claims;
    const signers = accountSigners(claims, this.trust);
    const previousSigners = previous === null ? null : accountSigners(previous, this.trust);
    const conns = this.#connectionsOf(account);
    for (const conn of conns) {
      const login = conn.jwtLogin;
      if (login === null) continue;
      const verdict = userDisconnectOnAccountUpdate(login.jwt, claims);
      if (verdict === "revoked") {
        conn.sendErr(ProtoError.userRevoked.text);
        conn.close(ClosedReason.authenticationRevoked);
        continue;
      }
      if (verdict !== null) {
        conn.authViolation();
        continue;
      }
      if (login.signingKey !== "") {
        const scope = signers.get(login.signingKey);
        const before = previousSigners?.get(login.signingKey);
        if (scope === undefined || JSON.stringify(scope) !== JSON.stringify(before ?? null)) {
          conn.close(ClosedReason.authViolation);
          continue;
        }
      }
      let grant: ReturnType<typeof userGrant>;
      try {
        grant = userGrant(login.claims, login.scope, claims);
      } catch (e) {
        if (!(e instanceof JwtError)) throw e;
        conn.close(ClosedReason.authViolation);
        continue;
      }
      login.permissions = grant.permissions === null ? null : new Permissions(grant.permissions);
      login.maxSubs = grant.limits.subs;
      login.maxPayload = grant.limits.payload;
      conn.applyLogin(login);
    }
    const max = account.limits.maxConnections;
    if (max >= 0 && account.connections > max) {
      // The newest connections go first.
      const excess = conns.filter((c) => !c.closed).sort((a, b) => b.cid - a.cid).slice(0, account.connections - max);
      for (const c of excess) {
        c.sendErr(ProtoError.maxAccountConnections.text);
        c.close(ClosedReason.maxAccountConnectionsExceeded);
      }
    }
  }
}
