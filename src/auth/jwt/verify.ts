// The reference's decisions about JWTs, as functions the server calls (nats-server 2.9.10
// auth.go processClientOrLeafAuthentication, accounts.go, jwt.go; checked against it):
//   - is an account JWT trusted (issued by a trusted operator key) and valid;
//   - may a user JWT connect: its account, its issuer (the account or one of the account's
//     signing keys; a scoped key imposes its template), the nonce signature, revocations,
//     source network and connection-time windows, expiry;
//   - is an activation token good for an import.
// A refused connection always gets `-ERR 'Authorization Violation'`; `reason` carries the
// reference's log text (a debug line, or for source and time windows an error line).
import type { AccountClaims, ActivationClaims, Import, Permissions, StringList, UserClaims, UserPermissionLimits, UserScope } from "./claims.ts";
import { decodeActivationClaims, decodeAccountClaims, decodeUserClaims } from "./decode.ts";
import type { Permissions as ServerPermissions } from "../../config/options.ts";
import { utf8Bytes } from "./encoding.ts";
import { decodeSignature } from "../nkeys.ts";
import { JwtError, JwtErrorId } from "./errors.ts";
import { publicKeyKind, verifyWithPublicKey } from "./keys.ts";
import { networkContains, parseCidr, parseIp } from "./cidr.ts";
import { checkTimeWindows } from "./time_window.ts";
import { unixSeconds, validateClaims, ValidationResults } from "./validate.ts";

/** The trust anchors from the configuration (operator_config.ts builds them). */
export interface Trust {
  /** Keys that may issue account JWTs: operator identities and their signing keys. */
  keys: ReadonlySet<string>;
  /**
   * Issuers whose accounts may not sign users with the account identity key itself (the
   * operator asked for strict signing-key usage): only listed signing keys count.
   */
  strictIssuers: ReadonlySet<string>;
}

/** The account JWT's issuer is trusted (nats-server isTrustedIssuer). */
export function isTrustedIssuer(trust: Trust, issuer: string): boolean {
  return trust.keys.has(issuer);
}

/** The reference's answer for an account it cannot use: `account validation failed`. */
export const accountValidationFailed = "account validation failed";

/**
 * Decodes an account JWT, checks its issuer is trusted and that it is valid now (time
 * checks included): the server's verifyAccountClaims, used when an account is looked up and
 * when an update is applied. Throws JwtError: the decode error, or `account validation failed`.
 */
export function verifyAccountJwt(token: string, trust: Trust, nowMs: number): AccountClaims {
  const claims = decodeAccountClaims(token);
  if (!isTrustedIssuer(trust, claims.iss)) throw new JwtError(JwtErrorId.untrusted, accountValidationFailed);
  if (validateClaims(claims, nowMs).isBlocking(true)) throw new JwtError(JwtErrorId.invalid, accountValidationFailed);
  return claims;
}

/** Limits of the account as the server applies them (UpdateAccountClaims); -1 = unlimited. */
export interface AccountLimitsApplied {
  maxPayload: number;
  maxSubscriptions: number;
  maxConnections: number;
  maxLeafNodes: number;
  disallowBearer: boolean;
  /**
   * JetStream, when enabled by the JWT: per tier ("" = not tiered). Storage 0 disables; the
   * per-stream maxima and max ack pending turn 0 or less into -1 (unlimited).
   */
  jetstream: Map<string, { maxMemory: number; maxStore: number; maxStreams: number; maxConsumers: number; memoryMaxStreamBytes: number; storeMaxStreamBytes: number; maxBytesRequired: boolean; maxAckPending: number }> | null;
}

/** The reference's reading of an account JWT's limits (absent values are 0: nothing allowed). */
export function accountLimitsOf(account: AccountClaims): AccountLimitsApplied {
  const l = account.nats.limits;
  const unlimitedIfZero = (v: number): number => (v > 0 ? v : -1);
  const tier = (j: { mem_storage: number; disk_storage: number; streams: number; consumer: number; mem_max_stream_bytes: number; disk_max_stream_bytes: number; max_bytes_required: boolean; max_ack_pending: number }) => ({
    maxMemory: j.mem_storage,
    maxStore: j.disk_storage,
    maxStreams: j.streams,
    maxConsumers: j.consumer,
    memoryMaxStreamBytes: unlimitedIfZero(j.mem_max_stream_bytes),
    storeMaxStreamBytes: unlimitedIfZero(j.disk_max_stream_bytes),
    maxBytesRequired: j.max_bytes_required,
    maxAckPending: unlimitedIfZero(j.max_ack_pending),
  });
  let jetstream: AccountLimitsApplied["jetstream"] = null;
  const tiers = l.tiered_limits !== null && l.tiered_limits.size > 0 ? l.tiered_limits : null;
  const enabled = tiers !== null ? [...tiers.values()].some((t) => t.mem_storage !== 0 || t.disk_storage !== 0) : l.mem_storage !== 0 || l.disk_storage !== 0;
  if (enabled) {
    jetstream = new Map();
    if (l.disk_storage !== 0 || l.mem_storage !== 0) jetstream.set("", tier(l));
    else for (const [name, t] of tiers ?? []) jetstream.set(name, tier(t));
  }
  return { maxPayload: l.payload, maxSubscriptions: l.subs, maxConnections: l.conn, maxLeafNodes: l.leaf, disallowBearer: l.disallow_bearer, jetstream };
}

/** An account's JWT `exp` has passed (Account.IsExpired: expired at exp, not after it). */
export function isAccountExpired(account: AccountClaims, nowMs: number): boolean {
  return account.exp !== 0 && account.exp <= unixSeconds(nowMs);
}

/**
 * The keys that may sign the account's users: its signing keys (scoped or not) and, unless
 * its issuer is strict, the account's own key (accounts.go updateAccountClaimsWithRefresh).
 */
export function accountSigners(account: AccountClaims, trust: Trust): Map<string, UserScope | null> {
  const signers = new Map(account.nats.signing_keys);
  if (!trust.strictIssuers.has(account.iss)) signers.set(account.sub, null);
  return signers;
}

/** Revoked: the account revokes this key, or all keys ("*"), at or after the JWT's `iat`. */
export function isRevoked(revocations: ReadonlyMap<string, number> | null, key: string, issuedAt: number): boolean {
  if (revocations === null || revocations.size === 0) return false;
  const t = revocations.get(key);
  if (t !== undefined && t >= issuedAt) return true;
  const all = revocations.get("*");
  return all !== undefined && all >= issuedAt;
}

/** The user's `src` networks admit the client address (none listed: any address). */
export function sourceAllowed(src: StringList, clientIp: string): boolean {
  if (src === null || src.length === 0) return true;
  if (clientIp === "") return false;
  const ip = parseIp(clientIp);
  if (ip === null) return false;
  for (const cidr of src) {
    const net = parseCidr(cidr);
    if (net === null) return false;
    if (networkContains(net, ip)) return true;
  }
  return false;
}

/**
 * Checks a client's signature of the server nonce: `sig` is base64url (raw) or standard
 * base64 of the Ed25519 signature of the nonce's bytes, by the user key `userKey`. Returns
 * the reference's log reason, or null when verified.
 */
export function checkNonceSignature(userKey: string, nonce: string | Uint8Array, sig: string | undefined): string | null {
  if (sig === undefined || sig === "") return "Signature missing";
  const signature = decodeSignature(sig);
  if (signature === null) return "Signature not valid base64";
  if (publicKeyKind(userKey) === null) return "User nkey not valid: nkeys: invalid encoded key";
  const message = typeof nonce === "string" ? utf8Bytes(nonce) : nonce;
  return verifyWithPublicKey(userKey, message, signature) ? null : "Signature not verified";
}

// ---------------------------------------------------------------------------------------
// Permissions.

/**
 * The server permissions a user JWT grants (the config's shape, see config/options.ts). In a
 * publish direction `allow: []` means nothing is allowed: the reference builds an empty allow
 * list for a present-but-empty publish `allow`, and for users with only `resp` permissions.
 */
export type EffectivePermissions = ServerPermissions;

/** Reference defaults for `resp` values left at 0 (DEFAULT_ALLOW_RESPONSE_*). */
export const responseMaxMsgsDefault = 1;
export const responseExpiresMsDefault = 2 * 60_000;

/**
 * The server permissions of JWT permissions (buildPermissionsFromJwt): a direction counts
 * only when it lists something; `resp` implies an (empty) publish allow list. Null when
 * nothing is set, so that the account's default permissions apply.
 */
export function permissionsFromJwt(p: Permissions): EffectivePermissions | null {
  let out: EffectivePermissions | null = null;
  const listed = (l: StringList): boolean => l !== null && l.length > 0;
  if (listed(p.pub.allow) || listed(p.pub.deny)) {
    out = { publish: { allow: p.pub.allow === null ? null : [...p.pub.allow], deny: listed(p.pub.deny) ? [...(p.pub.deny as string[])] : null }, subscribe: null, response: null };
  }
  if (listed(p.sub.allow) || listed(p.sub.deny)) {
    out ??= { publish: null, subscribe: null, response: null };
    // An empty subscribe allow list is no list at all (the reference checks its length).
    out.subscribe = { allow: listed(p.sub.allow) ? [...(p.sub.allow as string[])] : null, deny: listed(p.sub.deny) ? [...(p.sub.deny as string[])] : null };
  }
  if (p.resp !== null) {
    out ??= { publish: null, subscribe: null, response: null };
    out.publish ??= { allow: null, deny: null };
    out.publish.allow ??= [];
    out.response = {
      maxMsgs: p.resp.max === 0 ? responseMaxMsgsDefault : p.resp.max,
      expiresMs: p.resp.ttl === 0 ? responseExpiresMsDefault : p.resp.ttl / 1e6,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Scoped signing keys: the user's permissions and limits come from the scope's template,
// with these substitutions in its subjects (one token each, case-insensitive names):
//   {{name()}} user name · {{subject()}} user key · {{account-name()}} account name ·
//   {{account-subject()}} issuer_account · {{tag(k)}} / {{account-tag(k)}} every value v of
//   the user's / account's tags "k:v" (several values give several subjects).
// An allow subject that comes out invalid is dropped (an allow list emptied this way denies
// everything: "deny >" is added); an invalid deny subject refuses the user.

/** The server's subject check (IsValidSubject): tokens non-empty, `>` last, no whitespace. */
export function isValidSubject(subject: string): boolean {
  if (subject === "") return false;
  let sawRest = false;
  for (const t of subject.split(".")) {
    if (t.length === 0 || sawRest) return false;
    if (t.length > 1) {
      if (/[ \t\n\r\f]/.test(t)) return false;
      continue;
    }
    if (t === ">") sawRest = true;
    else if (/[ \t\n\r\f]/.test(t)) return false;
  }
  return true;
}

const isTemplateToken = (tk: string): boolean => tk.startsWith("{{") && tk.endsWith("}}");

interface TemplateContext {
  user: UserClaims;
  account: AccountClaims;
}

/** Every combination of one value from each list, in order. */
function combinations(lists: string[][]): string[][] {
  let out: string[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((v) => [...prefix, v]));
  return out;
}

function expandTemplates(list: StringList, ctx: TemplateContext, failOnInvalid: boolean): StringList {
  if (list === null || !list.some((entry) => entry.split(".").some(isTemplateToken))) return list;
  const out: string[] = [];
  for (const entry of list) {
    const tokens = entry.split(".");
    const values: string[][] = [];
    // null marks a tag token, filled from `values` per combination.
    const filled: (string | null)[] = tokens.map((tk) => {
      if (!isTemplateToken(tk)) return tk;
      const op = tk.slice(2, -2).toLowerCase();
      if (op === "name()") return ctx.user.name;
      if (op === "subject()") return ctx.user.sub;
      if (op === "account-name()") return ctx.account.name;
      if (op === "account-subject()") return ctx.user.nats.issuer_account;
      const tag = /^(account-tag|tag)\((.*)\)$/.exec(op);
      if (tag !== null) {
        const prefix = `${tag[2]}:`;
        const tags = (tag[1] === "tag" ? ctx.user.nats.tags : ctx.account.nats.tags) ?? [];
        const found = tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
        if (found.length > 0) values.push(found);
        return null;
      }
      // An unknown function makes the subject invalid on purpose.
      return " ";
    });
    const emit = (subject: string): void => {
      if (isValidSubject(subject)) out.push(subject);
      else if (failOnInvalid) throw new JwtError(JwtErrorId.userRefused, "generated invalid subject");
    };
    if (values.length === 0) {
      emit(filled.map((t) => t ?? "").join("."));
      continue;
    }
    for (const combo of combinations(values)) {
      let next = 0;
      // A tag token without values has nothing to take: the subject is invalid.
      emit(filled.map((t) => (t !== null ? t : next < combo.length ? combo[next++] : "")).join("."));
    }
  }
  return out;
}

/** The template of a scope, with the substitutions done (processUserPermissionsTemplate). */
export function applyScopeTemplate(template: UserPermissionLimits, user: UserClaims, account: AccountClaims): UserPermissionLimits {
  const ctx = { user, account };
  const result: UserPermissionLimits = {
    ...template,
    pub: { ...template.pub },
    sub: { ...template.sub },
  };
  const subAllowSet = (template.sub.allow?.length ?? 0) > 0;
  const pubAllowSet = (template.pub.allow?.length ?? 0) > 0;
  result.sub.allow = expandTemplates(template.sub.allow, ctx, false);
  result.sub.deny = expandTemplates(template.sub.deny, ctx, true);
  result.pub.allow = expandTemplates(template.pub.allow, ctx, false);
  result.pub.deny = expandTemplates(template.pub.deny, ctx, true);
  const addDenyAll = (p: { deny: StringList }): void => {
    if (p.deny === null) p.deny = [">"];
    else if (!p.deny.includes(">")) p.deny = [...p.deny, ">"];
  };
  if (subAllowSet && (result.sub.allow?.length ?? 0) === 0) addDenyAll(result.sub);
  if (pubAllowSet && (result.pub.allow?.length ?? 0) === 0) addDenyAll(result.pub);
  return result;
}

// ---------------------------------------------------------------------------------------
// User authentication.

/** Connection types a user JWT may allow (2.9.10 knows these; IN_PROCESS came later). */
export const ConnectionType = {
  standard: "STANDARD",
  websocket: "WEBSOCKET",
  leafnode: "LEAFNODE",
  leafnodeWs: "LEAFNODE_WS",
  mqtt: "MQTT",
  mqttWs: "MQTT_WS",
} as const;
export type ConnectionTypeValue = (typeof ConnectionType)[keyof typeof ConnectionType];
const knownConnectionTypes: ReadonlySet<string> = new Set(Object.values(ConnectionType));

/** The account a user JWT names, looked up by the server (resolver + verifyAccountJwt). */
export type AccountLookup = { claims: AccountClaims } | { error: string };

export interface UserAuthRequest {
  /** CONNECT `jwt`. */
  jwt: string | undefined;
  /** CONNECT `sig`. */
  sig: string | undefined;
  /** The nonce sent in INFO (its text, as the client signed it). */
  nonce: string | Uint8Array;
  /** The client's address as the server sees it ("127.0.0.1", "::1"). */
  clientIp: string;
  connectionType: ConnectionTypeValue;
  trust: Trust;
  /** `resolver_pinned_accounts`, when configured. */
  pinnedAccounts?: ReadonlySet<string>;
  /** Looks the account up (it must be trusted and valid: see verifyAccountJwt). */
  lookupAccount: (accountKey: string) => AccountLookup;
  nowMs: number;
}

/** A user admitted by its JWT: what the server applies to the connection. */
export interface AuthenticatedUser {
  /** The user's public key (`sub`). */
  userKey: string;
  /** The account the user belongs to. */
  accountKey: string;
  account: AccountClaims;
  user: UserClaims;
  /** Set when an account signing key signed the user (the server tracks it for key removal). */
  signingKey: string | null;
  /** Set when that key is scoped: the user's permissions and limits came from its template. */
  scope: UserScope | null;
  /** The permissions to apply: the user's own, its scope's, or the account defaults; null = none. */
  permissions: EffectivePermissions | null;
  /** User limits: -1 (or 0 in JWTs that leave them out) as the reference reads them. */
  limits: { subs: number; data: number; payload: number };
  /** The connection types the user may use; empty = any. */
  allowedConnectionTypes: ReadonlySet<string>;
  /**
   * When to disconnect with `User Authentication Expired`: the JWT's expiry or the end of the
   * current connection-time window, whichever comes first (ms from now); null = never.
   */
  expiresInMs: number | null;
}

export type UserAuthResult = { ok: true; user: AuthenticatedUser } | { ok: false; reason: string; level: "debug" | "error" };

const refuse = (reason: string, level: "debug" | "error" = "debug"): UserAuthResult => ({ ok: false, reason, level });

/** Go's `%+v` of validation results, as the reference logs it. */
function issuesText(vr: ValidationResults): string {
  return `&{Issues:[${vr.issues.map((i) => i.description).join(" ")}]}`;
}

/**
 * Authenticates a client by its user JWT, in the reference's order. Never throws for bad
 * input: every refusal is a result with the reference's reason.
 */
export function authenticateUserJwt(req: UserAuthRequest): UserAuthResult {
  if (req.jwt === undefined || req.jwt === "") return refuse("Authentication requires a user JWT");
  let user: UserClaims;
  try {
    user = decodeUserClaims(req.jwt);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    return refuse(`User JWT not valid: ${e.message}`);
  }
  const vr = validateClaims(user, req.nowMs);
  if (vr.isBlocking(true)) return refuse(`User JWT no longer valid: ${issuesText(vr)}`);

  // Connection types: unknown names are ignored unless no known one is left.
  const allowed = new Set<string>();
  const unknown: string[] = [];
  for (const t of user.nats.allowed_connection_types ?? []) {
    const upper = t.toUpperCase();
    if (knownConnectionTypes.has(upper)) allowed.add(upper);
    else unknown.push(upper);
  }
  if (unknown.length > 0 && allowed.size === 0) return refuse(`invalid connection types [${unknown.map((u) => JSON.stringify(u)).join(" ")}]`);
  if (allowed.size > 0 && !allowed.has(req.connectionType)) return refuse("Connection type not allowed");

  const accountKey = user.nats.issuer_account !== "" ? user.nats.issuer_account : user.iss;
  if (req.pinnedAccounts !== undefined && !req.pinnedAccounts.has(accountKey)) return refuse(`Account ${accountKey} not listed as operator pinned account`);
  const found = req.lookupAccount(accountKey);
  if ("error" in found) return refuse(`Account JWT lookup error: ${found.error}`);
  const account = found.claims;
  if (!isTrustedIssuer(req.trust, account.iss)) return refuse("Account JWT not signed by trusted operator");

  const signers = accountSigners(account, req.trust);
  if (!signers.has(user.iss)) return refuse("User JWT issuer is not known");
  const scope = signers.get(user.iss) ?? null;
  if (scope !== null && !user.permissionLimitsEmpty) return refuse("User JWT is not valid: scoped users require no permissions or limits set");
  let grant: UserGrant;
  try {
    grant = userGrant(user, scope, account);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    return refuse("User JWT generated invalid permissions");
  }
  const limits = grant.limits;
  if (isAccountExpired(account, req.nowMs)) return refuse("Account JWT has expired");
  if (limits.bearer_token && account.nats.limits.disallow_bearer) return refuse("Account does not allow bearer token");
  if (!limits.bearer_token) {
    const sigProblem = checkNonceSignature(user.sub, req.nonce, req.sig);
    if (sigProblem !== null) return refuse(sigProblem);
  }
  if (isRevoked(account.nats.revocations, user.sub, user.iat)) return refuse("User authentication revoked");
  if (!sourceAllowed(limits.src, req.clientIp)) return refuse(`Bad src Ip ${req.clientIp}`, "error");
  const window = checkTimeWindows(limits.times, limits.times_location, req.nowMs);
  if (!window.allowed) return refuse("Outside connect times", "error");

  return {
    ok: true,
    user: {
      userKey: user.sub,
      accountKey,
      account,
      user,
      signingKey: user.nats.issuer_account !== "" ? user.iss : null,
      scope,
      permissions: grant.permissions,
      limits: { subs: limits.subs, data: limits.data, payload: limits.payload },
      allowedConnectionTypes: allowed,
      expiresInMs: expiresIn(user.exp, window.validForMs, req.nowMs),
    },
  };
}

/** What a user is granted in its account: its limits, and the permissions to apply. */
export interface UserGrant {
  /** The user's own permissions and limits, or its scope's template with the substitutions done. */
  limits: UserPermissionLimits;
  /** Those permissions, else the account's default permissions; null = none. */
  permissions: EffectivePermissions | null;
}

/**
 * The grant of a user signed by `scope` (null: by the account or a plain signing key), at
 * login and again whenever the account changes. Throws JwtError when a scope template
 * generates an invalid deny subject.
 */
export function userGrant(user: UserClaims, scope: UserScope | null, account: AccountClaims): UserGrant {
  const limits = scope === null ? user.nats : applyScopeTemplate(scope.template, user, account);
  return { limits, permissions: permissionsFromJwt(limits) ?? permissionsFromJwt(account.nats.default_permissions) };
}

/** The reference's client expiration: the JWT's `exp` or the time window's end, the sooner. */
function expiresIn(exp: number, windowMs: number, nowMs: number): number | null {
  if (exp === 0) return windowMs !== 0 ? windowMs : null;
  const nowSec = unixSeconds(nowMs);
  const jwtMs = exp > nowSec ? (exp - nowSec) * 1000 : 0;
  return windowMs !== 0 && windowMs < jwtMs ? windowMs : jwtMs;
}

/**
 * Whether a connected user must be cut after an account update (accounts.go, on update):
 * revoked now (`User Authentication Revoked`), or a bearer token the account now disallows
 * (`Authorization Violation`). Null: the user stays.
 */
export function userDisconnectOnAccountUpdate(userJwt: string, account: AccountClaims): "revoked" | "bearer" | "invalid" | null {
  if (account.nats.revocations === null && !account.nats.limits.disallow_bearer) return null;
  let user: UserClaims;
  try {
    user = decodeUserClaims(userJwt);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    return "invalid";
  }
  if (user.nats.bearer_token && account.nats.limits.disallow_bearer) return "bearer";
  // jwt IsClaimRevoked: a claim without iat or subject counts as revoked.
  if (user.iat === 0 || user.sub === "" || isRevoked(account.nats.revocations, user.sub, user.iat)) return "revoked";
  return null;
}

// ---------------------------------------------------------------------------------------
// Activation tokens (private exports: `token_req`).

export interface ActivationCheck {
  /** The import as the importing account's JWT states it (with its `token`). */
  importClaim: Import;
  /** The importing account's public key. */
  importer: string;
  /** The exporting account (its key and signing keys decide who may issue tokens). */
  exporter: AccountClaims;
  trust: Trust;
  /** The export's revocations of activation tokens (by importer key). */
  exportRevocations: ReadonlyMap<string, number> | null;
  nowMs: number;
}

/** An activation token accepted for an import, and when it expires (ms from now; null = never). */
export type ActivationResult = { ok: true; activation: ActivationClaims; expiresInMs: number | null } | { ok: false; reason: string };

/**
 * The exporter's check of an importer's token (Account.checkActivation): the import must
 * validate, the token decode, its signer be the exporter or one of its signing keys (when
 * `issuer_account` is set), the token be valid and unexpired, and not revoked.
 */
export function checkActivation(c: ActivationCheck): ActivationResult {
  const claim = c.importClaim;
  if (claim.token === "") return { ok: false, reason: "no activation token" };
  // The import itself must hold up (this decodes the token and checks its fit).
  const probe = validateImportAlone(claim, c.importer, c.nowMs);
  if (probe.isBlocking(true)) return { ok: false, reason: `import not valid: ${probe.errorList()}` };
  let act: ActivationClaims;
  try {
    act = decodeActivationClaims(claim.token);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    return { ok: false, reason: e.message };
  }
  if (act.nats.issuer_account !== "") {
    if (act.nats.issuer_account !== c.exporter.sub) {
      return { ok: false, reason: `Invalid issuer account ${JSON.stringify(act.nats.issuer_account)} in activation claim (subject: ${JSON.stringify(act.nats.subject)} - type: ${JSON.stringify(act.nats.kind)}) for account ${JSON.stringify(c.exporter.sub)}` };
    }
    if (!accountSigners(c.exporter, c.trust).has(act.iss)) return { ok: false, reason: "activation issuer is not a signing key of the account" };
  }
  if (validateClaims(act, c.nowMs).isBlocking(true)) return { ok: false, reason: "activation not valid" };
  const nowSec = unixSeconds(c.nowMs);
  if (act.exp !== 0 && act.exp <= nowSec) return { ok: false, reason: "activation expired" };
  if (isRevoked(c.exportRevocations, act.sub, act.iat)) return { ok: false, reason: "activation revoked" };
  return { ok: true, activation: act, expiresInMs: act.exp !== 0 ? (act.exp - nowSec) * 1000 : null };
}

/** Validation of one import on its own (jwt Import.Validate), through an account wrapper. */
function validateImportAlone(claim: Import, importer: string, nowMs: number): ValidationResults {
  const wrapper: AccountClaims = {
    kind: "account",
    claimVersion: 2,
    aud: "",
    exp: 0,
    jti: "",
    iat: 0,
    iss: "",
    name: "",
    nbf: 0,
    sub: importer,
    nats: {
      tags: null,
      type: "account",
      version: 2,
      imports: [claim],
      exports: null,
      limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, disallow_bearer: false, conn: -1, leaf: -1, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0, max_ack_pending: 0, mem_max_stream_bytes: 0, disk_max_stream_bytes: 0, max_bytes_required: false, tiered_limits: null },
      signing_keys: new Map(),
      revocations: null,
      default_permissions: { pub: { allow: null, deny: null }, sub: { allow: null, deny: null }, resp: null },
      mappings: null,
      description: "",
      info_url: "",
    },
  };
  return validateClaims(wrapper, nowMs);
}

