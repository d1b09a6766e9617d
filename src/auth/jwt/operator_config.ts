// Operator mode configuration, as nats-server 2.9.10 reads and checks it (opts.go, jwt.go,
// server.go; texts checked against it):
//   operator: <path to a .jwt file, plain or decorated> | <the JWT inline ("eyJ…")>
//   trusted_keys (trusted): one operator public key or a list — instead of an operator JWT
//   system_account (system): defaults to the operator JWT's system_account
//   resolver: MEMORY | URL("…") | { type: full|cache, dir, allow_delete, hard_delete, limit, … }
//   resolver_preload: { <account key>: <account JWT> }
// and creds files (`-----BEGIN NATS USER JWT-----` … `-----BEGIN USER NKEY SEED-----` …).
// The config layer calls these with the values it parsed; errors are JwtError(config) with
// the reference's text (the config layer adds its `file:line:col: ` prefix where it has one).
import { readFileSync } from "node:fs";
import type { OperatorClaims } from "./claims.ts";
import { decodeAccountClaims, decodeOperatorClaims } from "./decode.ts";
import { JwtError, JwtErrorId } from "./errors.ts";
import { isOperatorKey } from "./keys.ts";
import { DeleteMode, type DeleteModeValue } from "./resolver.ts";
import { validateClaims } from "./validate.ts";
import type { Trust } from "./verify.ts";

const configError = (text: string): JwtError => new JwtError(JwtErrorId.config, text);

/** A decorated block: a `---…---` line, the token, a `---…---` line (jwt ParseDecoratedJWT). */
const decoratedBlock = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|$)))/g;

/**
 * The JWT in a file's contents: the first decorated block, trimmed; without decoration the
 * whole contents as they are (a trailing newline is harmless: base64 decoding skips it).
 */
export function parseDecoratedJwt(contents: string): string {
  decoratedBlock.lastIndex = 0;
  const m = decoratedBlock.exec(contents);
  return m === null ? contents : m[1].trim();
}

/** Go's text for a failed file read (os.ReadFile), from a Node error. */
function readErrorText(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return `open ${path}: no such file or directory`;
    case "EACCES":
      return `open ${path}: permission denied`;
    case "EISDIR":
      return `read ${path}: is a directory`;
    case "ENOTDIR":
      return `open ${path}: not a directory`;
    default:
      return `open ${path}: ${(e as Error).message}`;
  }
}

/**
 * Reads the `operator` option: a file (plain or decorated JWT), or — when no such file can be
 * read and the value looks like a JWT — the JWT itself. Throws JwtError
 * `error parsing operator JWT: …`.
 */
export function readOperatorJwt(value: string, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): { jwt: string; claims: OperatorClaims } {
  let contents: string;
  try {
    contents = readFile(value);
  } catch (e) {
    if (!value.startsWith("eyJ")) throw configError(`error parsing operator JWT: ${readErrorText(value, e)}`);
    contents = value;
  }
  const jwt = parseDecoratedJwt(contents);
  try {
    return { jwt, claims: decodeOperatorClaims(jwt) };
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    throw configError(`error parsing operator JWT: ${e.message}`);
  }
}

/** The `operator` option's value: one path or JWT (2.9.10 refuses a list). */
export function operatorValues(value: unknown): string[] {
  if (typeof value === "string") return [value];
  throw configError(`error parsing operators: unsupported type ${Array.isArray(value) ? "[]interface {}" : typeof value}`);
}

/** `trusted_keys` / `trusted`: one key or a list, each an operator public key. */
export function parseTrustedKeys(value: unknown): string[] {
  let keys: string[];
  if (typeof value === "string") keys = [value];
  else if (Array.isArray(value)) {
    keys = [];
    for (const item of value) {
      if (typeof item !== "string") throw configError(`error parsing trusted: unsupported type in array ${typeof item}`);
      keys.push(item);
    }
  } else throw configError(`error parsing trusted: unsupported type ${typeof value}`);
  for (const key of keys) {
    if (!isOperatorKey(key)) throw configError(`trust key ${JSON.stringify(key)} required to be a valid public operator nkey`);
  }
  return keys;
}

/**
 * The trust anchors: each operator's identity (unless it asks for strict signing-key usage)
 * and its signing keys, or the configured trusted keys. `strictIssuers` holds the signing
 * keys of strict operators (accounts they issue cannot sign users with their own key).
 */
export function trustFromOperators(operators: readonly OperatorClaims[], trustedKeys: readonly string[] = []): Trust {
  const keys = new Set<string>(trustedKeys);
  const strictIssuers = new Set<string>();
  for (const op of operators) {
    if (!op.nats.strict_signing_key_usage) keys.add(op.sub);
    for (const sk of op.nats.signing_keys ?? []) {
      keys.add(sk);
      if (op.nats.strict_signing_key_usage) strictIssuers.add(sk);
    }
  }
  return { keys, strictIssuers };
}

/** The keys that may sign resolver deletes (getOperatorKeys), from the first operator. */
export function operatorResolverKeys(operator: OperatorClaims): { operatorKey: string; keys: Set<string>; strict: boolean } {
  const strict = operator.nats.strict_signing_key_usage;
  const keys = new Set<string>(operator.nats.signing_keys ?? []);
  if (!strict) keys.add(operator.sub);
  return { operatorKey: operator.sub, keys, strict };
}

// ---------------------------------------------------------------------------------------
// Resolver options.

export type ResolverConfig =
  | { type: "memory" }
  | { type: "url"; url: string }
  | {
      type: "full" | "cache";
      dir: string;
      /**
       * What a delete request does: `allow_delete: true` renames `<key>.jwt` to
       * `<key>.jwt.deleted`. `hard_delete: true` is read but, as in the reference 2.9.10,
       * changes nothing (files are still renamed).
       */
      deleteMode: DeleteModeValue;
      hardDelete: boolean;
      limit: number;
      intervalMs: number;
      timeoutMs: number;
      ttlMs: number;
    };

const resolverShapeError = 'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])';

/** Reference defaults: sync every minute, lookups time out after 1.9 s, cache keeps 1000. */
export const resolverSyncIntervalMsDefault = 60_000;
export const resolverFetchTimeoutMsDefault = 1_900;
export const resolverCacheLimitDefault = 1_000;

/** A Go duration string ("2m", "1.5s", "250ms") in milliseconds, or a number of seconds. */
export function durationMs(value: unknown): number | null {
  if (typeof value === "number") return value * 1000;
  if (typeof value !== "string") return null;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = value.trim();
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  let total = 0;
  const part = /^([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/;
  if (rest === "") return null;
  while (rest !== "") {
    const m = part.exec(rest);
    if (m === null) return null;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** The `resolver` option (opts.go parseAccountResolver). Throws JwtError with the reference's text. */
export function parseResolverConfig(value: unknown): ResolverConfig {
  if (typeof value === "string") {
    const upper = value.toUpperCase();
    if (upper === "MEM" || upper === "MEMORY") return { type: "memory" };
    const url = /^URL\((.*)\)$/i.exec(value.trim());
    if (url !== null) return { type: "url", url: url[1].trim().replace(/^"(.*)"$/, "$1") };
    throw configError(resolverShapeError);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw configError(resolverShapeError);
  const map = value as Record<string, unknown>;
  const get = (name: string): unknown => {
    const key = Object.keys(map).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : map[key];
  };
  const type = String(get("type") ?? "").toLowerCase();
  if (type !== "full" && type !== "cache") throw configError(resolverShapeError);
  const dir = get("dir");
  if (typeof dir !== "string" || dir === "") throw configError("dir has no value and needs to point to a directory");
  const limitValue = get("limit");
  const limit = typeof limitValue === "number" ? limitValue : type === "cache" ? resolverCacheLimitDefault : 0;
  return {
    type,
    dir,
    deleteMode: get("allow_delete") === true ? DeleteMode.rename : DeleteMode.none,
    hardDelete: get("hard_delete") === true,
    limit,
    intervalMs: durationMs(get("interval")) ?? resolverSyncIntervalMsDefault,
    timeoutMs: durationMs(get("timeout")) ?? resolverFetchTimeoutMsDefault,
    ttlMs: durationMs(get("ttl")) ?? 0,
  };
}

/**
 * `resolver_preload`: each value must decode as an account JWT (validity and expiry are
 * checked later, when it is stored). Returns the map; throws JwtError with the reference's text.
 */
export function parseResolverPreload(value: unknown): Map<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw configError("preload should be a map of account_public_key:account_jwt");
  const out = new Map<string, string>();
  for (const [key, jwt] of Object.entries(value as Record<string, unknown>)) out.set(key, preloadJwt(jwt));
  return out;
}

/** One `resolver_preload` value: a string that decodes as an account JWT. Throws JwtError. */
export function preloadJwt(value: unknown): string {
  if (typeof value !== "string") throw configError("preload map value should be a string JWT");
  try {
    decodeAccountClaims(value);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    throw configError("invalid account JWT");
  }
  return value;
}

/**
 * What the reference warns when storing a preload that has validation issues (it stores it
 * anyway): `Account [<key>] has validation issues:` then one `  - <issue>` line each.
 */
export function preloadWarnings(accountKey: string, jwt: string, nowMs: number): string[] {
  let vr;
  try {
    vr = validateClaims(decodeAccountClaims(jwt), nowMs);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    return [`preload account error for ${JSON.stringify(accountKey)}: ${e.message}`];
  }
  if (vr.isEmpty()) return [];
  return [`Account [${accountKey}] has validation issues:`, ...vr.issues.map((i) => `  - ${i.description}`)];
}

// ---------------------------------------------------------------------------------------
// Server-level checks of operator mode (validateTrustedOperators and neighbours).

export interface OperatorModeOptions {
  operators: readonly OperatorClaims[];
  trustedKeys: readonly string[];
  resolver: Pick<ResolverConfig, "type"> | null;
  /** `resolver_preload` configured. */
  hasPreload?: boolean;
  /** `accounts {}` configured. */
  hasAccounts: boolean;
  /** `authorization { users / nkeys }` configured. */
  hasUsers: boolean;
  /** `system_account` from the configuration ("" when absent). */
  systemAccount: string;
}

/**
 * The first reason the reference refuses to start in operator mode, or null. The system
 * account to use is the configured one, else the (single) operator's. Trusted keys without
 * an operator JWT are not checked further, as there.
 */
export function checkOperatorMode(o: OperatorModeOptions): string | null {
  if (o.operators.length === 0) return null;
  if (o.resolver === null) {
    // The reference falls back to a URL resolver, which cannot hold preloads.
    if (o.hasPreload === true) return "resolver preloads only available for writeable resolver types MEM/DIR/CACHE_DIR";
    return "operators require an account resolver to be configured";
  }
  if (o.hasAccounts) return "operators do not allow Accounts to be configured directly";
  if (o.hasUsers) return "operators do not allow users to be configured directly";
  if (o.trustedKeys.length > 0) return "conflicting options for 'TrustedKeys' and 'TrustedOperators'";
  if (o.operators.length === 1) {
    const fromJwt = o.operators[0].nats.system_account;
    if (o.systemAccount !== "" && fromJwt !== "" && o.systemAccount !== fromJwt) return "system_account in config and operator JWT must be identical";
  }
  if ((o.resolver.type === "full" || o.resolver.type === "cache") && systemAccountOf(o) === "") {
    return "using nats based account resolver - the system account needs to be specified in configuration or the operator jwt";
  }
  return null;
}

/** The system account in operator mode: configured, else from the single operator JWT. */
export function systemAccountOf(o: Pick<OperatorModeOptions, "operators" | "systemAccount">): string {
  if (o.systemAccount !== "") return o.systemAccount;
  return o.operators.length === 1 ? o.operators[0].nats.system_account : "";
}

// ---------------------------------------------------------------------------------------
// Creds files.

/**
 * A creds file: the user JWT and the user's nkey seed, each in a `---…---` block (5 dashes
 * before, 6 after, by convention; any 3 or more are accepted).
 */
export function parseCreds(contents: string): { jwt: string; seed: string } {
  decoratedBlock.lastIndex = 0;
  const blocks: string[] = [];
  for (let m = decoratedBlock.exec(contents); m !== null; m = decoratedBlock.exec(contents)) blocks.push(m[1].trim());
  if (blocks.length === 0) throw configError("no user jwt found in creds");
  let seed = blocks[1];
  if (seed === undefined) {
    // Undecorated seeds are found by their prefix, as the nkeys library does.
    seed = contents.split(/\r?\n/).map((l) => l.trim()).find((l) => /^S[OAU][A-Z2-7]+$/.test(l)) ?? "";
  }
  if (seed === "") throw configError("no nkey seed found");
  if (!seed.startsWith("SU")) throw configError("nkeys: not a valid user seed");
  return { jwt: blocks[0], seed };
}
