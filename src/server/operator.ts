// Operator mode (decentralised JWT authentication): trusted operators, accounts from their
// JWTs (through the resolver), users authenticated by a user JWT and the signature of the
// INFO nonce, account changes applied live to connected clients.
//
// The checks and their order are the reference's (auth.go processClientOrLeafAuthentication,
// accounts.go updateAccountClaimsWithRefresh): the user JWT must verify and be current; its
// issuer is its account or one of the account's signing keys (a scoped key imposes its
// template's permissions and limits); the account JWT must be signed by a trusted operator
// key and current; bearer tokens skip the nonce signature unless the account disallows them;
// a revocation covers users issued at or before its time; `src` and `times` restrict where
// and when users may connect. Failures are logged at debug level with the reason, as the
// reference does; the client only sees `Authorization Violation`.
import {
  claimsTimeProblem, decodeClaims, exportKind, JwtError, permissionsOfClaims, sourceAllowed, timesAllow, type AccountClaimsData,
  type Claims, type OperatorClaimsData, type UserClaimsData, type UserScopeKey, type ActivationClaimsData,
} from "../auth/jwt.ts";
import { nonceSigned } from "../auth/authenticator.ts";
import { Permissions } from "../auth/permissions.ts";
import { subjectIsSubsetMatch } from "../auth/permissions.ts";
import type { ExportEntry, ImportEntry, MappingEntry, Permissions as PermissionsConfig, ResponseType, ServerOptions } from "../config/options.ts";
import { ClosedReason, ProtoError } from "../protocol/errors.ts";
import { Account } from "./account.ts";
import type { ClientConnection } from "./connection.ts";
import { installImports } from "./imports.ts";
import { makeResolver, type AccountResolver } from "./resolver.ts";
import type { Server } from "./server.ts";
import { SubjectMapping } from "./subject_transform.ts";

/** What an account JWT says beyond limits, imports and exports. */
export interface AccountJwtState {
  jwt: string;
  claims: Claims<AccountClaimsData>;
  /** Signing keys: plain (null) or scoped (the scope). */
  signingKeys: Map<string, UserScopeKey | null>;
  /** User public key (or "*") → users issued at or before this time (seconds) are revoked. */
  revocations: Map<string, number>;
  defaultPermissions: PermissionsConfig | null;
  disallowBearer: boolean;
  /** 0 = does not expire. */
  expiresAtMs: number;
}

/** A client logged in with a user JWT. */
export interface JwtLogin {
  account: Account;
  publicKey: string;
  jwt: string;
  claims: Claims<UserClaimsData>;
  /** The key that signed the user JWT when it is one of the account's signing keys. */
  signingKey: string;
  permissions: Permissions | null;
  /** -1 = unlimited. */
  maxSubs: number;
  maxPayload: number;
  /** When the login ends (user JWT expiry, end of its connection time window); 0 = never. */
  expiresAtMs: number;
}

function arrayOf<T>(v: T[] | null | undefined): T[] {
  return Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined) : [];
}

/** Limits of a user JWT (or its scope) in the connection's terms; absent = unlimited. */
function userLimit(v: number | undefined): number {
  return typeof v === "number" ? v : -1;
}

/**
 * The operator's limits on the account JWT itself (the jwt library's blocking validation):
 * no more imports or exports than allowed, no wildcard exports unless allowed.
 */
function accountLimitProblem(claims: Claims<AccountClaimsData>): string | null {
  const n = claims.nats;
  const limits = n.limits ?? {};
  const imports = limits.imports ?? 0;
  const exports = limits.exports ?? 0;
  if (imports >= 0 && (n.imports?.length ?? 0) > imports) return "the account contains more imports than allowed by the operator";
  if (exports >= 0 && (n.exports?.length ?? 0) > exports) return "the account contains more exports than allowed by the operator";
  if (limits.wildcards === false && (n.exports ?? []).some((x) => typeof x.subject === "string" && /(^|\.)[*>](\.|$)/.test(x.subject))) {
    return "the account contains wildcard exports that are not allowed by the operator";
  }
  return null;
}

export class OperatorMode {
  readonly server: Server;
  /** Operator public keys and their signing keys. */
  readonly trustedKeys = new Set<string>();
  readonly systemAccountKey: string;
  readonly resolver: AccountResolver;

  constructor(server: Server, opts: ServerOptions) {
    this.server = server;
    let systemAccount = opts.systemAccount;
    for (const jwt of opts.operatorJwts) {
      const claims = decodeClaims<OperatorClaimsData>(jwt, "operator");
      this.trustedKeys.add(claims.sub);
      for (const k of claims.nats.signing_keys ?? []) this.trustedKeys.add(k);
      if (systemAccount === "" && typeof claims.nats.system_account === "string") systemAccount = claims.nats.system_account;
    }
    for (const k of opts.trustedKeys) this.trustedKeys.add(k);
    this.systemAccountKey = systemAccount;
    this.resolver = makeResolver(opts.resolver, opts.resolverPreload);
  }

  // ---- accounts ----------------------------------------------------------------------------

  /** Why an account JWT cannot be used, or its claims. */
  validateAccountJwt(jwt: string): Claims<AccountClaimsData> | string {
    let claims: Claims<AccountClaimsData>;
    try {
      claims = decodeClaims<AccountClaimsData>(jwt, "account");
    } catch (e) {
      return (e as Error).message;
    }
    if (!this.trustedKeys.has(claims.iss)) return "not signed by a trusted operator";
    return accountLimitProblem(claims) ?? claims;
  }

  /** The account with this public key: already known, or built from the resolver's JWT. */
  lookup(publicKey: string): Account | undefined {
    const known = this.server.accounts.get(publicKey);
    if (known !== undefined) return known;
    const jwt = this.resolver.fetch(publicKey);
    if (jwt === null) {
      this.server.logger.debug(`Account JWT lookup error: account ${publicKey} not found`);
      return undefined;
    }
    const claims = this.validateAccountJwt(jwt);
    if (typeof claims === "string" || claims.sub !== publicKey) {
      this.server.logger.debug(`Account JWT lookup error: ${typeof claims === "string" ? claims : "subject mismatch"}`);
      return undefined;
    }
    const account = new Account(publicKey, !this.server.opts.noSublistCache);
    try {
      this.#apply(account, jwt, claims);
    } catch (e) {
      this.server.logger.debug(`Account JWT lookup error: ${(e as Error).message}`);
      return undefined;
    }
    this.server.accounts.set(publicKey, account);
    this.#rewireImports();
    this.server.accountChanged(account);
    return account;
  }

  /**
   * A pushed account JWT ($SYS claim updates): validated, stored, and applied to the account
   * if it is in use. Returns the account or the error text.
   */
  update(jwt: string): { account: string } | { error: string; account: string } {
    let claims: Claims<AccountClaimsData>;
    try {
      claims = decodeClaims<AccountClaimsData>(jwt, "account");
    } catch (e) {
      return { error: (e as JwtError).message, account: "n/a" };
    }
    const problem = accountLimitProblem(claims);
    if (problem !== null) return { error: problem, account: claims.sub };
    // Claims of the wrong shapes (a signed JWT is not necessarily a sensible one).
    try {
      this.#apply(new Account(claims.sub, false), jwt, claims);
    } catch (e) {
      return { error: `invalid account claims: ${(e as Error).message}`, account: claims.sub };
    }
    const stored = this.resolver.fetch(claims.sub);
    if (stored !== null) {
      // An older JWT never replaces a newer one.
      try {
        const old = decodeClaims<AccountClaimsData>(stored);
        if ((old.iat ?? 0) > (claims.iat ?? 0)) return { error: "jwt update resulted in error - not newer than the stored jwt", account: claims.sub };
      } catch {
        // The stored one is unreadable: replace it.
      }
    }
    this.resolver.store(claims.sub, jwt);
    const account = this.server.accounts.get(claims.sub);
    if (account !== undefined && this.trustedKeys.has(claims.iss)) {
      this.#apply(account, jwt, claims);
      this.#rewireImports();
      this.refreshConnections(account);
      this.server.accountChanged(account);
    }
    return { account: claims.sub };
  }

  #apply(account: Account, jwt: string, claims: Claims<AccountClaimsData>): void {
    const n = claims.nats;
    const limits = n.limits ?? {};
    account.limits = { maxConnections: limits.conn ?? 0, maxSubscriptions: limits.subs ?? 0, maxPayload: limits.payload ?? 0 };
    const tier = limits.tiered_limits?.R1;
    const mem = tier?.mem_storage ?? limits.mem_storage ?? 0;
    const disk = tier?.disk_storage ?? limits.disk_storage ?? 0;
    account.jetstreamLimits =
      mem !== 0 || disk !== 0 ? { maxMemory: mem, maxStore: disk, maxStreams: tier?.streams ?? limits.streams ?? 0, maxConsumers: tier?.consumer ?? limits.consumer ?? 0 } : null;
    account.exports = arrayOf(n.exports).flatMap((x): ExportEntry[] => {
      const kind = exportKind(x.type);
      if (kind === null || typeof x.subject !== "string") return [];
      return [{
        kind,
        subject: x.subject,
        // Token-required exports admit only accounts with an activation (see activationAllows).
        accounts: x.token_req === true ? [] : null,
        responseType: (x.response_type ?? "Singleton") as ResponseType,
        responseThresholdMs: typeof x.response_threshold === "number" && x.response_threshold > 0 ? x.response_threshold / 1e6 : 2 * 60_000,
      }];
    });
    account.imports = arrayOf(n.imports).flatMap((x): ImportEntry[] => {
      const kind = exportKind(x.type);
      if (kind === null || typeof x.subject !== "string" || typeof x.account !== "string") return [];
      // Activation tokens of token-required exports authorize this account (see below).
      if (typeof x.token === "string" && x.token !== "") this.#recordActivation(account, x.account, x.token, kind, x.subject);
      if (kind === "service") return [{ kind, account: x.account, subject: x.subject, to: x.local_subject || x.to || "", prefix: "" }];
      return [{ kind, account: x.account, subject: x.subject, to: x.local_subject ?? "", prefix: x.local_subject ? "" : (x.to ?? "") }];
    });
    const mappings: MappingEntry[] = Object.entries(n.mappings !== null && typeof n.mappings === "object" ? n.mappings : {}).map(([source, dests]) => ({
      source,
      destinations: arrayOf(dests).map((d) => ({ subject: d.subject, weight: typeof d.weight === "number" ? d.weight : 100, cluster: d.cluster ?? "" })),
    }));
    try {
      account.mappings = mappings.length === 0 ? null : mappings.map((m) => new SubjectMapping(m.source, m.destinations));
    } catch (e) {
      this.server.logger.warn(`Account ${account.name}: invalid mapping ignored: ${(e as Error).message}`);
      account.mappings = null;
    }
    const signingKeys = new Map<string, UserScopeKey | null>();
    for (const k of arrayOf(n.signing_keys)) {
      if (typeof k === "string") signingKeys.set(k, null);
      else if (k !== null && typeof k === "object" && typeof k.key === "string") signingKeys.set(k.key, k.kind === "user_scope" ? k : null);
    }
    account.jwtState = {
      jwt,
      claims,
      signingKeys,
      revocations: new Map(Object.entries(n.revocations !== null && typeof n.revocations === "object" ? n.revocations : {}).filter((e): e is [string, number] => typeof e[1] === "number")),
      defaultPermissions: n.default_permissions === undefined ? null : permissionsOfClaims(n.default_permissions),
      disallowBearer: n.disallow_bearer === true || limits.disallow_bearer === true,
      expiresAtMs: typeof claims.exp === "number" && claims.exp > 0 ? claims.exp * 1000 : 0,
    };
  }

  /** Activation tokens this account holds: exporter → subjects it may import. */
  #recordActivation(importer: Account, exporter: string, token: string, kind: "stream" | "service", subject: string): void {
    let claims: Claims<ActivationClaimsData>;
    try {
      claims = decodeClaims<ActivationClaimsData>(token);
    } catch (e) {
      this.server.logger.debug(`Activation token of ${importer.name} for ${subject} is invalid: ${(e as Error).message}`);
      return;
    }
    const n = claims.nats;
    const issuerAccount = n.issuer_account || claims.iss;
    if (n.type !== "activation" || claims.sub !== importer.name || issuerAccount !== exporter || claimsTimeProblem(claims, Date.now()) !== null) return;
    if (typeof n.subject !== "string" || !subjectIsSubsetMatch(subject, n.subject) || exportKind(n.kind) !== kind) return;
    (importer.activations ??= []).push({ exporter, signer: claims.iss, subject: n.subject, kind });
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
        // Token-required exports: admit the importers holding a valid activation.
        for (const ex of acc.exports) if (ex.accounts !== null) ex.accounts = this.#activatedImporters(acc, ex);
      }
      for (const acc of this.server.accounts.values()) {
        for (const problem of installImports(this.server, acc, (key) => this.server.accounts.get(key))) this.server.logger.debug(`Account ${acc.name}: ${problem}`);
      }
    } finally {
      this.#rewiring = false;
    }
  }

  #activatedImporters(exporter: Account, ex: ExportEntry): string[] {
    const out: string[] = [];
    for (const acc of this.server.accounts.values()) {
      for (const a of acc.activations ?? []) {
        if (a.exporter !== exporter.name || a.kind !== ex.kind || !subjectIsSubsetMatch(a.subject, ex.subject)) continue;
        // Signed by the exporter or one of its signing keys.
        if (a.signer !== exporter.name && !(exporter.jwtState?.signingKeys.has(a.signer) ?? false)) continue;
        out.push(acc.name);
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

  /** Authenticates a client by its user JWT (see the file comment); null when refused. */
  authenticate(conn: ClientConnection): JwtLogin | null {
    const debug = (why: string): null => {
      if (this.server.logger.debugEnabled) this.server.logger.debug(`${conn.description} - ${why}`);
      return null;
    };
    const jwt = conn.opts.jwt;
    if (jwt === "") return debug("Authentication requires a user JWT");
    let claims: Claims<UserClaimsData>;
    try {
      claims = decodeClaims<UserClaimsData>(jwt, "user");
    } catch (e) {
      return debug(`User JWT not valid: ${(e as Error).message}`);
    }
    const now = Date.now();
    const timeProblem = claimsTimeProblem(claims, now);
    if (timeProblem !== null) return debug(`User JWT no longer valid: ${timeProblem}`);
    const n = claims.nats;
    const types = n.allowed_connection_types;
    if (Array.isArray(types) && types.length > 0 && !types.map((t) => String(t).toUpperCase()).includes("STANDARD")) return debug("Connection type not allowed");
    const issuer = n.issuer_account || claims.iss;
    const account = this.lookup(issuer);
    if (account === undefined || account.jwtState === null) return debug(`Account JWT lookup error: ${issuer}`);
    const state = account.jwtState;
    if (!this.trustedKeys.has(state.claims.iss)) return debug("Account JWT not signed by trusted operator");
    let signingKey = "";
    let scope: UserScopeKey | null = null;
    if (claims.iss !== account.name) {
      if (!state.signingKeys.has(claims.iss)) return debug("User JWT issuer is not known");
      signingKey = claims.iss;
      scope = state.signingKeys.get(claims.iss) ?? null;
    }
    if (state.expiresAtMs > 0 && now > state.expiresAtMs) return debug("Account JWT has expired");
    if (n.bearer_token === true) {
      if (state.disallowBearer) return debug("Account does not allow bearer token");
    } else if (conn.opts.sig === "") {
      return debug("Signature missing");
    } else if (!nonceSigned(claims.sub, conn.nonce, conn.opts.sig)) {
      return debug("Signature not verified");
    }
    if (this.#revoked(state, claims)) return debug("User authentication revoked");
    // A scoped signing key's template replaces the user's own permissions and limits.
    const effective: UserClaimsData = scope !== null ? { ...(scope.template ?? {}) } : n;
    if (!sourceAllowed(effective.src, conn.host)) {
      this.server.logger.error(`${conn.description} - Bad src Ip ${conn.host}`);
      return null;
    }
    const times = timesAllow(effective.times, effective.times_location ?? effective.locale, now);
    if (!times.allowed) {
      this.server.logger.error(`${conn.description} - Outside connect times`);
      return null;
    }
    let expiresAtMs = typeof claims.exp === "number" && claims.exp > 0 ? claims.exp * 1000 : 0;
    if (Number.isFinite(times.validForMs)) expiresAtMs = expiresAtMs === 0 ? now + times.validForMs : Math.min(expiresAtMs, now + times.validForMs);
    const login: JwtLogin = {
      account,
      publicKey: claims.sub,
      jwt,
      claims,
      signingKey,
      permissions: null,
      maxSubs: userLimit(effective.subs),
      maxPayload: userLimit(effective.payload),
      expiresAtMs,
    };
    login.permissions = this.#permissionsOf(login);
    if (this.server.logger.debugEnabled) {
      this.server.logger.debug(`${conn.description} - Authenticated JWT: Client ${JSON.stringify(claims.sub)} (claim-name: ${JSON.stringify(claims.name ?? "")}) signed with ${JSON.stringify(claims.iss)} by Account ${JSON.stringify(account.name)}`);
    }
    return login;
  }

  #revoked(state: AccountJwtState, claims: Claims<UserClaimsData>): boolean {
    const iat = claims.iat ?? 0;
    const t = state.revocations.get(claims.sub);
    const all = state.revocations.get("*");
    return (t !== undefined && iat <= t) || (all !== undefined && iat <= all);
  }

  /** The user's permissions: its own (or its scope's), else the account's defaults. */
  #permissionsOf(login: JwtLogin): Permissions | null {
    const state = login.account.jwtState!;
    const scope = login.signingKey === "" ? null : (state.signingKeys.get(login.signingKey) ?? null);
    const config = permissionsOfClaims(scope !== null ? (scope.template ?? {}) : login.claims.nats) ?? state.defaultPermissions;
    return config === null ? null : new Permissions(config);
  }

  /**
   * After an account JWT update: revoked users and users of removed signing keys are closed,
   * the others get the permissions and limits the new JWT gives them, and the connection
   * limit is enforced again.
   */
  refreshConnections(account: Account): void {
    const state = account.jwtState;
    if (state === null) return;
    const conns = [...this.server.connections.values()].filter((c) => c.account === account && !c.closed);
    for (const conn of conns) {
      const login = conn.jwtLogin;
      if (login === null) continue;
      if (this.#revoked(state, login.claims)) {
        conn.sendErr(ProtoError.userRevoked.text);
        conn.close(ClosedReason.authenticationRevoked);
        continue;
      }
      if (login.signingKey !== "" && !state.signingKeys.has(login.signingKey)) {
        conn.authViolation();
        continue;
      }
      const scope = login.signingKey === "" ? null : (state.signingKeys.get(login.signingKey) ?? null);
      if (scope !== null) {
        login.maxSubs = userLimit(scope.template?.subs);
        login.maxPayload = userLimit(scope.template?.payload);
      }
      login.permissions = this.#permissionsOf(login);
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
