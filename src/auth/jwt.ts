// NATS JWTs (the nats-io/jwt v2 formats): three base64url segments, a header
// `{"typ":"JWT","alg":"ed25519-nkey"}` ("ed25519" for v1 tokens), claims, and an Ed25519
// signature over `header.claims` by the issuer's nkey (`iss`). Decoded with jose, verified
// with nkeys.ts. The claim shapes below are the wire's (snake_case), as nsc and @nats-io/jwt
// write them; fields absent from a token are absent here (Go's zero values apply: an absent
// account limit is 0).
//
// Errors carry the texts the reference's jwt library gives ("expected 3 chunks", "not account
// claim", …), which the server returns in $SYS claim-update responses.
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { Permissions as PermissionsConfig, ResponsePermission } from "../config/options.ts";
import { decodeSignature, publicKeyPrefix, NKeyPrefix, verifySignature } from "./nkeys.ts";

export class JwtError extends Error {
  override name = "JwtError";
}

export interface SubjectLists {
  allow?: string[] | null;
  deny?: string[] | null;
}

export interface UserPermissionClaims {
  pub?: SubjectLists;
  sub?: SubjectLists;
  /** Responses: max messages and ttl in nanoseconds. */
  resp?: { max?: number; ttl?: number } | null;
}

export interface UserClaimsData extends UserPermissionClaims {
  type?: string;
  version?: number;
  src?: string[] | string | null;
  times?: { start?: string; end?: string }[] | null;
  times_location?: string;
  locale?: string;
  subs?: number;
  data?: number;
  payload?: number;
  bearer_token?: boolean;
  allowed_connection_types?: string[] | null;
  issuer_account?: string;
  tags?: string[];
}

export interface UserScopeKey {
  kind: "user_scope";
  key: string;
  role?: string;
  template?: UserClaimsData;
  description?: string;
}

export interface ExportClaim {
  name?: string;
  subject: string;
  type: "stream" | "service" | number;
  token_req?: boolean;
  revocations?: Record<string, number>;
  response_type?: "Singleton" | "Stream" | "Chunked";
  /** Nanoseconds. */
  response_threshold?: number;
  account_token_position?: number;
}

export interface ImportClaim {
  name?: string;
  subject: string;
  account: string;
  token?: string;
  to?: string;
  local_subject?: string;
  type: "stream" | "service" | number;
  share?: boolean;
}

export interface AccountLimitClaims {
  subs?: number;
  data?: number;
  payload?: number;
  imports?: number;
  exports?: number;
  wildcards?: boolean;
  conn?: number;
  leaf?: number;
  disallow_bearer?: boolean;
  mem_storage?: number;
  disk_storage?: number;
  streams?: number;
  consumer?: number;
  max_ack_pending?: number;
  tiered_limits?: Record<string, { mem_storage?: number; disk_storage?: number; streams?: number; consumer?: number }>;
}

export interface AccountClaimsData {
  type?: string;
  version?: number;
  imports?: ImportClaim[] | null;
  exports?: ExportClaim[] | null;
  limits?: AccountLimitClaims;
  signing_keys?: (string | UserScopeKey)[] | null;
  revocations?: Record<string, number> | null;
  default_permissions?: UserPermissionClaims;
  mappings?: Record<string, { subject: string; weight?: number; cluster?: string }[]> | null;
  disallow_bearer?: boolean;
  tags?: string[];
}

export interface OperatorClaimsData {
  type?: string;
  version?: number;
  signing_keys?: string[] | null;
  system_account?: string;
  account_server_url?: string;
  operator_service_urls?: string[];
}

export interface ActivationClaimsData {
  type?: string;
  subject?: string;
  kind?: "stream" | "service" | number;
  issuer_account?: string;
}

export interface Claims<T> {
  jti?: string;
  iat?: number;
  iss: string;
  sub: string;
  name?: string;
  exp?: number;
  nbf?: number;
  aud?: string;
  nats: T;
}

const textEncoder = new TextEncoder();

/**
 * Decodes a JWT and verifies its signature by its issuer. Throws JwtError. `type`, when
 * given, must be the claims' `nats.type` (error "not <type> claim").
 */
export function decodeClaims<T>(token: string, type?: "operator" | "account" | "user" | "activation"): Claims<T> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("expected 3 chunks");
  let header: { typ?: unknown; alg?: unknown };
  let claims: Claims<T>;
  try {
    header = decodeProtectedHeader(token) as { typ?: unknown; alg?: unknown };
  } catch (e) {
    throw new JwtError(`invalid header: ${(e as Error).message}`);
  }
  if (typeof header.typ !== "string" || header.typ.toUpperCase() !== "JWT") throw new JwtError(`not supported type ${JSON.stringify(header.typ)}`);
  if (header.alg !== "ed25519-nkey" && header.alg !== "ed25519") throw new JwtError(`unexpected ${JSON.stringify(header.alg)} algorithm`);
  try {
    claims = decodeJwt(token) as unknown as Claims<T>;
  } catch (e) {
    throw new JwtError(`invalid claims: ${(e as Error).message}`);
  }
  if (typeof claims.iss !== "string" || typeof claims.sub !== "string") throw new JwtError("claims are missing the issuer or subject");
  if (claims.nats === null || typeof claims.nats !== "object") (claims as { nats: unknown }).nats = {};
  const sig = decodeSignature(parts[2]);
  if (sig === null || !verifySignature(claims.iss, textEncoder.encode(`${parts[0]}.${parts[1]}`), sig)) {
    throw new JwtError(header.alg === "ed25519" ? "claim failed V1 signature verification" : "claim failed V2 signature verification");
  }
  if (type !== undefined) {
    const actual = (claims.nats as { type?: unknown }).type;
    if (actual !== type) throw new JwtError(`not ${type} claim`);
    const expectedPrefix = { operator: NKeyPrefix.operator, account: NKeyPrefix.account, user: NKeyPrefix.user, activation: NKeyPrefix.account }[type];
    if (publicKeyPrefix(claims.sub) !== expectedPrefix) throw new JwtError(`invalid subject for a ${type}: ${JSON.stringify(claims.sub)}`);
  }
  return claims;
}

/** Why claims are not valid at `nowMs` (expired, not yet valid), or null. */
export function claimsTimeProblem(claims: Claims<unknown>, nowMs: number): string | null {
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.exp === "number" && claims.exp > 0 && now > claims.exp) return "claim is expired";
  if (typeof claims.nbf === "number" && claims.nbf > 0 && now < claims.nbf) return "claim is not yet valid";
  return null;
}

/** The kind of an import/export (`type` is a string in v2 JWTs, a number in some v1 ones). */
export function exportKind(type: unknown): "stream" | "service" | null {
  if (type === "stream" || type === 1) return "stream";
  if (type === "service" || type === 2) return "service";
  return null;
}

// ---- user claims → permissions and checks ----------------------------------------------------

/** A user's (or a scope template's) permissions in the config shape; null when it sets none. */
export function permissionsOfClaims(data: UserPermissionClaims): PermissionsConfig | null {
  const lists = (l: SubjectLists | undefined): { allow: string[] | null; deny: string[] | null } | null => {
    const allow = Array.isArray(l?.allow) && l.allow.length > 0 ? l.allow : null;
    const deny = Array.isArray(l?.deny) && l.deny.length > 0 ? l.deny : null;
    return allow === null && deny === null ? null : { allow, deny };
  };
  const publish = lists(data.pub);
  const subscribe = lists(data.sub);
  let response: ResponsePermission | null = null;
  if (data.resp !== undefined && data.resp !== null) {
    // The reference's validateResponsePermissions: zero means the defaults.
    const max = typeof data.resp.max === "number" && data.resp.max !== 0 ? data.resp.max : 1;
    const ttlNs = typeof data.resp.ttl === "number" && data.resp.ttl !== 0 ? data.resp.ttl : 2 * 60e9;
    response = { maxMsgs: max, expiresMs: ttlNs / 1e6 };
  }
  if (publish === null && subscribe === null && response === null) return null;
  const p: PermissionsConfig = { publish, subscribe, response };
  if (response !== null) {
    p.publish ??= { allow: null, deny: null };
    p.publish.allow ??= [];
  }
  return p;
}

/** Is the client address inside one of the user's `src` CIDR ranges (none = anywhere)? */
export function sourceAllowed(src: string[] | string | null | undefined, ip: string): boolean {
  const list = (Array.isArray(src) ? src : typeof src === "string" ? src.split(",") : []).map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) return true;
  const addr = parseIp(ip);
  if (addr === null) return false;
  for (const cidr of list) {
    const [base, bitsText] = cidr.split("/");
    const net = parseIp(base);
    if (net === null || net.length !== addr.length) continue;
    const bits = bitsText === undefined ? net.length * 8 : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > net.length * 8) continue;
    let ok = true;
    for (let i = 0; i < net.length && ok; i++) {
      const take = Math.max(0, Math.min(8, bits - i * 8));
      const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
      if ((net[i] & mask) !== (addr[i] & mask)) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

/** IPv4 as 4 bytes, IPv6 as 16 (an IPv4-mapped IPv6 address as its IPv4 bytes). */
function parseIp(text: string): number[] | null {
  const t = text.trim();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
  if (v4 !== null) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? b : null;
  }
  if (!t.includes(":")) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  if (mapped !== null) return parseIp(mapped[1]);
  const [head, tail, extra] = t.split("::");
  if (extra !== undefined) return null;
  const groups = (s: string | undefined): number[] | null => {
    if (s === undefined || s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head);
  const tl = groups(tail);
  if (h === null || tl === null) return null;
  const fill = tail === undefined ? 0 : 8 - h.length - tl.length;
  if (fill < 0 || (tail === undefined && h.length !== 8)) return null;
  const all = [...h, ...new Array<number>(fill).fill(0), ...tl];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * Whether `nowMs` falls in one of the user's connection time ranges ("HH:MM:SS" start and
 * end, in `location` or local time) and, if so, how long until that range ends (ms; Infinity
 * when there are no ranges).
 */
export function timesAllow(times: { start?: string; end?: string }[] | null | undefined, location: string | undefined, nowMs: number): { allowed: boolean; validForMs: number } {
  if (!Array.isArray(times) || times.length === 0) return { allowed: true, validForMs: Infinity };
  const secondsOfDay = localSecondsOfDay(nowMs, location);
  for (const r of times) {
    const start = clockSeconds(r.start);
    const end = clockSeconds(r.end);
    if (start === null || end === null) continue;
    const inRange = start <= end ? secondsOfDay >= start && secondsOfDay < end : secondsOfDay >= start || secondsOfDay < end;
    if (inRange) {
      const left = (end - secondsOfDay + 86_400) % 86_400;
      return { allowed: true, validForMs: left * 1000 };
    }
  }
  return { allowed: false, validForMs: 0 };
}

function clockSeconds(text: string | undefined): number | null {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(text ?? "");
  if (m === null) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

function localSecondsOfDay(nowMs: number, location: string | undefined): number {
  const d = new Date(nowMs);
  if (location === undefined || location === "") return d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds();
  try {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: location, hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(d);
    const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0) % 24;
    return get("hour") * 3600 + Number(parts.find((p) => p.type === "minute")?.value ?? 0) * 60 + Number(parts.find((p) => p.type === "second")?.value ?? 0);
  } catch {
    return d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  }
}
