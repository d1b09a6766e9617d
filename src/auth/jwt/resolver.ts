// Account resolvers: where the server finds account JWTs by public key, and how pushed
// updates are answered (nats-server 2.9.10 accounts.go / dirstore.go / events.go; every
// reply checked against it).
//
//   MEMORY  `resolver: MEMORY` + `resolver_preload { <account>: <jwt> }`. Pushes arrive on
//           `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.UPDATE` (and the old `$SYS.ACCOUNT.<acc>.CLAIMS.UPDATE`)
//           and apply to accounts already in use; nothing is stored.
//   full    `resolver { type: full, dir: <dir>, allow_delete, hard_delete, limit }`. Every
//           account JWT is a file `<dir>/<public key>.jwt`. Pushes on the subjects above and on
//           `$SYS.REQ.CLAIMS.UPDATE` are stored (then the change listeners run); lookups on
//           `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.LOOKUP`, the list on `$SYS.REQ.CLAIMS.LIST`,
//           deletes (operator-signed) on `$SYS.REQ.CLAIMS.DELETE`.
//
// As the reference does, a pushed JWT is stored when it decodes, validates (time checks
// aside) and names its account; trust in its issuer is checked when the account is used
// (verify.ts verifyAccountJwt), not when it is stored, and a push replaces the stored JWT
// even when older. Only `store` (preloads, JWTs fetched from peers) keeps the newer one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { goJson } from "../../protocol/encode.ts";
import type { AccountClaims } from "./claims.ts";
import { decodeAccountClaims, decodeGenericClaims } from "./decode.ts";
import { JwtError, JwtErrorId } from "./errors.ts";
import { isAccountKey, publicKeyKind } from "./keys.ts";
import { validateClaims } from "./validate.ts";

export const ClaimsSubject = {
  /** `$SYS.REQ.CLAIMS.UPDATE`: push any account JWT (full resolver). */
  update: "$SYS.REQ.CLAIMS.UPDATE",
  /** `$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE`: push one account's JWT. */
  accountUpdate: "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE",
  /** The pre-2.2 form `$SYS.ACCOUNT.*.CLAIMS.UPDATE`, still answered. */
  accountUpdateOld: "$SYS.ACCOUNT.*.CLAIMS.UPDATE",
  lookup: "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
  list: "$SYS.REQ.CLAIMS.LIST",
  delete: "$SYS.REQ.CLAIMS.DELETE",
  pack: "$SYS.REQ.CLAIMS.PACK",
} as const;

/** The account key of an update subject, or null when the subject has another shape. */
export function accountOfUpdateSubject(subject: string): string | null {
  const tokens = subject.split(".");
  if (tokens.length === 6) return tokens[3];
  if (tokens.length === 5) return tokens[2];
  return null;
}

/** The account key of a lookup subject (6 tokens), or null. */
export function accountOfLookupSubject(subject: string): string | null {
  const tokens = subject.split(".");
  return tokens.length === 6 ? tokens[3] : null;
}

// ---------------------------------------------------------------------------------------
// Replies.

/** The body of an update/delete reply, without the `server` part the server adds. */
export type ClaimsReply = { data: { account?: string; code: 200; message: string } } | { error: { account?: string; code: 500; description: string } };

export interface ClaimsOutcome {
  reply: ClaimsReply;
  /** What the reference logs: success at debug level, failure at error level. */
  log: { level: "debug" | "error"; text: string };
}

/** The reference's respondToUpdate: data with code 200, or error with code 500. */
export function claimsOutcome(account: string, message: string, error: string | null): ClaimsOutcome {
  if (error === null) {
    const data: { account?: string; code: 200; message: string } = account === "" ? { code: 200, message } : { account, code: 200, message };
    return { reply: { data }, log: { level: "debug", text: account === "" ? message : `${message} - ${account}` } };
  }
  const description = `${message} - ${error}`;
  const err: { account?: string; code: 500; description: string } = account === "" ? { code: 500, description } : { account, code: 500, description };
  return { reply: { error: err }, log: { level: "error", text: account === "" ? `${message} - ${error}` : `${message} - ${account} - ${error}` } };
}

/**
 * The reply as the reference writes it: Go marshals a map, so keys are sorted — `data` or
 * `error` before `server`. `server` is the server's ServerInfo object, in its own field order.
 */
export function claimsReplyJson(reply: ClaimsReply | { data: string[] }, server: Record<string, unknown>): string {
  return goJson({ ...reply, server });
}

// ---------------------------------------------------------------------------------------
// The MEMORY resolver.

export interface AccountResolver {
  readonly type: "memory" | "full";
  /** The JWT stored for an account key, or null. */
  fetch(accountKey: string): string | null;
  /** Stores a JWT (preloads, JWTs fetched from peers). Throws JwtError when refused. */
  store(accountKey: string, jwt: string): void;
  /** Runs `listener` after a stored JWT changed; returns the unsubscribe function. */
  onChange(listener: (accountKey: string, jwt: string) => void): () => void;
  close(): void;
}

export class MemoryResolver implements AccountResolver {
  readonly type = "memory" as const;
  readonly #jwts = new Map<string, string>();
  readonly #listeners = new Set<(accountKey: string, jwt: string) => void>();

  /** `preload`: `resolver_preload`, account key → JWT. */
  constructor(preload: Iterable<[string, string]> = []) {
    for (const [key, jwt] of preload) this.#jwts.set(key, jwt);
  }

  fetch(accountKey: string): string | null {
    return this.#jwts.get(accountKey) ?? null;
  }

  /** MemAccResolver.Store: replaces whatever was there. */
  store(accountKey: string, jwt: string): void {
    const changed = this.#jwts.get(accountKey) !== jwt;
    this.#jwts.set(accountKey, jwt);
    if (changed) for (const l of this.#listeners) l(accountKey, jwt);
  }

  onChange(listener: (accountKey: string, jwt: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
  }
}

/** What the server knows of an account for a MEMORY-resolver update. */
export interface LoadedAccounts {
  /** The account is registered (in use) on this server. */
  isLoaded(accountKey: string): boolean;
  /**
   * Applies the JWT to the registered account (updateAccountWithClaimJWT: verifyAccountJwt,
   * then the account's new claims). Returns an error text, or null.
   */
  apply(accountKey: string, jwt: string): string | null;
}

/**
 * An update pushed to a server whose resolver does not track updates (MEMORY): answered on
 * the per-account subjects only, applied to an account already in use (events.go
 * accountClaimUpdate). Null when the subject is not an update subject (no reply).
 */
export function memoryClaimUpdate(subject: string, body: string, accounts: LoadedAccounts): ClaimsOutcome | null {
  const accountKey = accountOfUpdateSubject(subject);
  if (accountKey === null) return null;
  if (body.length === 0) return claimsOutcome(accountKey, "jwt update error", "request body is empty");
  let claims: AccountClaims;
  try {
    claims = decodeAccountClaims(body);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    return claimsOutcome(accountKey, "jwt update resulted in error", e.message);
  }
  if (claims.sub !== accountKey) return claimsOutcome(accountKey, "jwt update resulted in error", "subject does not match jwt content");
  if (!accounts.isLoaded(accountKey)) return claimsOutcome(accountKey, "jwt update skipped", null);
  const error = accounts.apply(accountKey, body);
  if (error !== null) return claimsOutcome(accountKey, "jwt update resulted in error", error);
  return claimsOutcome(accountKey, "jwt updated", null);
}

// ---------------------------------------------------------------------------------------
// The full (directory) resolver.

export const DeleteMode = {
  /** Deletes are refused (`allow_delete` not set). */
  none: "none",
  /** Deleted JWTs are renamed to `<key>.jwt.deleted`. */
  rename: "rename",
  /** Deleted JWTs are removed (`hard_delete: true`). */
  hard: "hard",
} as const;
export type DeleteModeValue = (typeof DeleteMode)[keyof typeof DeleteMode];

export interface DirResolverOptions {
  /** `dir`: created when missing. */
  dir: string;
  deleteMode?: DeleteModeValue;
  /** `limit`: most JWTs stored; 0 = no limit. A store beyond it fails `jwt store is full`. */
  limit?: number;
  /** The operator's identity key (its first trusted operator). */
  operatorKey: string;
  /** The keys allowed to sign deletes: the operator and its signing keys (strict: signing keys only). */
  operatorKeys: ReadonlySet<string>;
  /** The operator asks for strict signing-key usage: accounts issued by its identity key are refused. */
  strict?: boolean;
  /** The system account may not be deleted. */
  systemAccount?: string;
  /** The clock, for validation (injected in tests). */
  now?: () => number;
}

const fileSuffix = ".jwt";

/** How often the reference's full resolver removes expired JWTs from its directory. */
export const resolverExpiryCheckMs = 60_000;

/** A lookup's answer: the JWT to send back, or nothing (the reference then only logs). */
export type LookupOutcome = { reply: string } | { reply: null; log: string };

export class DirResolver implements AccountResolver {
  readonly type = "full" as const;
  readonly dir: string;
  readonly #deleteMode: DeleteModeValue;
  readonly #limit: number;
  readonly #operatorKey: string;
  readonly #operatorKeys: ReadonlySet<string>;
  readonly #strict: boolean;
  readonly #systemAccount: string;
  readonly #now: () => number;
  /** SHA-256 of each stored JWT: a write of identical content changes nothing. */
  readonly #hashes = new Map<string, string>();
  readonly #changeListeners = new Set<(accountKey: string, jwt: string) => void>();
  readonly #deleteListeners = new Set<(accountKey: string) => void>();

  constructor(opts: DirResolverOptions) {
    this.dir = resolve(opts.dir);
    this.#deleteMode = opts.deleteMode ?? DeleteMode.none;
    this.#limit = opts.limit && opts.limit > 0 ? opts.limit : Number.POSITIVE_INFINITY;
    this.#operatorKey = opts.operatorKey;
    this.#operatorKeys = opts.operatorKeys;
    this.#strict = opts.strict ?? false;
    this.#systemAccount = opts.systemAccount ?? "";
    this.#now = opts.now ?? Date.now;
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir).sort()) {
      if (!name.endsWith(fileSuffix)) continue;
      try {
        this.#hashes.set(name.slice(0, -fileSuffix.length), sha256(readFileSync(join(this.dir, name), "utf8")));
      } catch {
        // Unreadable entries (a directory named *.jwt) are not indexed.
      }
    }
  }

  /** `<dir>/<key>.jwt` for any valid public key, else null (`invalid public key`). */
  #pathFor(key: string): string | null {
    if (key.length < 2 || publicKeyKind(key) === null) return null;
    return join(this.dir, `${key}${fileSuffix}`);
  }

  fetch(accountKey: string): string | null {
    const path = this.#pathFor(accountKey);
    if (path === null) return null;
    try {
      return readFileSync(path, "utf8");
    } catch {
      return null;
    }
  }

  /**
   * The account keys stored, in file-name order, leaving out JWTs whose `exp` has passed (the
   * reference's store walk skips them; undecodable files are listed).
   */
  list(): string[] {
    const nowSec = Math.floor(this.#now() / 1000);
    return [...this.#hashes.keys()].sort().filter((key) => {
      const jwt = this.fetch(key);
      if (jwt === null) return false;
      try {
        const exp = decodeGenericClaims(jwt).exp;
        return !(exp > 0 && exp < nowSec);
      } catch {
        return true;
      }
    });
  }

  onChange(listener: (accountKey: string, jwt: string) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  onDelete(listener: (accountKey: string) => void): () => void {
    this.#deleteListeners.add(listener);
    return () => this.#deleteListeners.delete(listener);
  }

  close(): void {
    this.#changeListeners.clear();
    this.#deleteListeners.clear();
  }

  /** Writes the file when its content changes; runs the change listeners. Throws JwtError. */
  #write(key: string, jwt: string): void {
    const path = this.#pathFor(key);
    if (path === null) throw new JwtError(JwtErrorId.resolver, "invalid public key");
    const hash = sha256(jwt);
    const known = this.#hashes.get(key);
    if (known === hash) return;
    if (known === undefined && this.#hashes.size >= this.#limit) throw new JwtError(JwtErrorId.resolver, "jwt store is full");
    // Written aside and renamed: a crash never leaves half a JWT.
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, jwt);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    this.#hashes.set(key, hash);
    for (const l of this.#changeListeners) l(key, jwt);
  }

  /**
   * Stores a JWT unless the stored one is the same token or newer (DirJWTStore saveIfNewer):
   * for preloads and JWTs fetched from other servers. Throws JwtError when refused.
   */
  store(accountKey: string, jwt: string): void {
    const path = this.#pathFor(accountKey);
    if (path === null) throw new JwtError(JwtErrorId.resolver, "invalid public key");
    if (existsSync(path)) {
      const incoming = decodeGenericClaims(jwt);
      const existing = this.fetch(accountKey);
      if (existing !== null) {
        let current: ReturnType<typeof decodeGenericClaims> | null = null;
        try {
          current = decodeGenericClaims(existing);
        } catch {
          // A stored JWT that no longer decodes is replaced.
        }
        if (current !== null) {
          if (current.jti === incoming.jti) return;
          if (current.iat > incoming.iat) return;
          if (incoming.sub !== accountKey) throw new JwtError(JwtErrorId.resolver, "jwt subject nkey and provided nkey do not match");
          if (current.sub !== incoming.sub) throw new JwtError(JwtErrorId.resolver, "subject of existing and new jwt do not match");
        }
      }
    }
    this.#write(accountKey, jwt);
  }

  /**
   * Answers a pushed account JWT: `$SYS.REQ.CLAIMS.UPDATE` (any account) or a per-account
   * update subject. Null when the subject has neither shape (the reference does not reply).
   */
  handleUpdate(subject: string, body: string): ClaimsOutcome | null {
    const generic = subject === ClaimsSubject.update;
    const subjectKey = generic ? "" : accountOfUpdateSubject(subject);
    if (subjectKey === null) return null;
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(body);
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      return claimsOutcome("n/a", "jwt update resulted in error", e.message);
    }
    const strictRefusal = (): ClaimsOutcome | null =>
      this.#strict && claims.iss === this.#operatorKey ? claimsOutcome(generic ? claims.sub : subjectKey, "jwt update resulted in error", "operator requires issuer to be a signing key") : null;
    if (generic) {
      const refused = strictRefusal();
      if (refused) return refused;
    }
    const vr = validateClaims(claims, this.#now());
    if (vr.isBlocking(false)) return claimsOutcome(claims.sub, "jwt validation failed", `validation errors: ${vr.errorList()}`);
    if (!generic) {
      if (claims.sub !== subjectKey) return claimsOutcome(subjectKey, "jwt update resulted in error", "subject does not match jwt content");
      const refused = strictRefusal();
      if (refused) return refused;
    }
    const key = generic ? claims.sub : subjectKey;
    try {
      this.#write(key, body);
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      return claimsOutcome(key, "jwt update resulted in error", e.message);
    }
    return claimsOutcome(key, "jwt updated", null);
  }

  /**
   * Answers `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.LOOKUP` with the stored JWT. When there is none
   * the reference sends nothing and logs the read error (under a misleading "Merging" label).
   */
  handleLookup(subject: string): LookupOutcome | null {
    const key = accountOfLookupSubject(subject);
    if (key === null) return null;
    const path = this.#pathFor(key);
    if (path === null) return { reply: null, log: "Merging resulted in error: invalid public key" };
    const jwt = this.fetch(key);
    if (jwt === null) return { reply: null, log: `Merging resulted in error: open ${path}: no such file or directory` };
    return { reply: jwt };
  }

  /** Answers `$SYS.REQ.CLAIMS.LIST`: `{"data":[<account keys>],"server":{…}}` (server added by the caller). */
  handleList(): { data: string[] } {
    return { data: this.list() };
  }

  /**
   * Answers `$SYS.REQ.CLAIMS.DELETE`: a generic JWT self-signed by the operator (or one of its
   * signing keys) whose `nats.accounts` lists the accounts to delete.
   */
  handleDelete(body: string): ClaimsOutcome {
    let signer = "";
    let accounts: string[] = [];
    let error: string | null = null;
    try {
      const claims = decodeGenericClaims(body);
      signer = claims.sub;
      const list = claims.nats?.accounts;
      if (this.#deleteMode === DeleteMode.none) error = "delete must be enabled in server config";
      else if (claims.sub !== claims.iss) error = "not self signed";
      else if (!this.#operatorKeys.has(claims.iss)) error = "not trusted";
      else if (list === undefined || !Array.isArray(list)) error = "malformed request";
      else {
        for (const entry of list) {
          if (typeof entry !== "string" || entry === "" || !isAccountKey(entry)) {
            error = "malformed request";
            break;
          }
          if (entry === this.#systemAccount) {
            error = "not allowed to delete system account";
            break;
          }
        }
        accounts = list as string[];
      }
    } catch (e) {
      if (!(e instanceof JwtError)) throw e;
      error = e.message;
    }
    if (error !== null) return claimsOutcome("", `delete accounts request by ${signer} failed`, error);
    const failures: string[] = [];
    let deleted = 0;
    for (const key of accounts) {
      try {
        this.#delete(key);
        deleted++;
      } catch (e) {
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (failures.length === 0) return claimsOutcome("", `deleted ${deleted} accounts`, null);
    return claimsOutcome("", `deleted ${deleted} accounts, failed for ${failures.length}`, failures.join("\n"));
  }

  /**
   * Removes the stored JWTs whose `exp` has passed: the reference's store does this on its own
   * every minute (`resolverExpiryCheckMs`), without telling the delete listeners (accounts in
   * use expire by their own timers). Returns the account keys removed.
   */
  sweepExpired(): string[] {
    const nowMs = this.#now();
    const removed: string[] = [];
    for (const key of [...this.#hashes.keys()].sort()) {
      const jwt = this.fetch(key);
      if (jwt === null) continue;
      let exp = 0;
      try {
        exp = decodeGenericClaims(jwt).exp;
      } catch {
        continue;
      }
      if (exp === 0 || exp * 1000 > nowMs) continue;
      const path = this.#pathFor(key);
      if (path === null) continue;
      try {
        rmSync(path);
      } catch {
        continue;
      }
      this.#hashes.delete(key);
      removed.push(key);
    }
    return removed;
  }

  #delete(key: string): void {
    const path = this.#pathFor(key);
    if (path === null) throw new Error("invalid public key");
    if (!existsSync(path)) return;
    if (this.#deleteMode === DeleteMode.rename) renameSync(path, `${path}.deleted`);
    else rmSync(path);
    this.#hashes.delete(key);
    for (const l of this.#deleteListeners) l(key);
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
