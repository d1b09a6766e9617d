// The claim kinds of NATS JWTs (nats-io/jwt v2, as read by nats-server 2.9.10), spelled as on
// the wire, and their decoding from parsed JSON with Go's encoding/json rules:
//   - an absent or null field keeps its zero value (0, "", false, null list): an account JWT
//     without `limits` has conn = 0 and so admits no connection, exactly as the reference;
//   - a field of the wrong JSON type is an error reported with Go's text, the first one in
//     document order, unless a custom decoder (export type, CIDR list, signing keys) aborts;
//   - keys match field names exactly, else case-insensitively; unknown keys are ignored.
// Lists keep the difference between absent (null, Go's nil) and empty ([]): the reference
// treats `allow: []` as "allow nothing" and an absent `allow` as "allow everything".
import { JwtError, JwtErrorId } from "./errors.ts";
import { JsonNumber, type JsonObject, type JsonValue } from "./encoding.ts";

/** A Go string slice: null is nil (absent), [] is present and empty. */
export type StringList = string[] | null;

export const ClaimKind = {
  operator: "operator",
  account: "account",
  user: "user",
  activation: "activation",
  authorization: "authorization",
  generic: "generic",
} as const;
export type ClaimKindValue = (typeof ClaimKind)[keyof typeof ClaimKind];

/** The standard claims of every NATS JWT (jwt.ClaimsData). */
export interface ClaimsData {
  aud: string;
  exp: number;
  jti: string;
  iat: number;
  iss: string;
  name: string;
  nbf: number;
  sub: string;
}

/** `nats.tags`, `nats.type`, `nats.version` (jwt.GenericFields). */
export interface GenericFields {
  tags: StringList;
  type: string;
  version: number;
}

export interface Permission {
  allow: StringList;
  deny: StringList;
}

/** `resp`: how many replies (max) within how long (ttl, nanoseconds as Go time.Duration). */
export interface ResponsePermission {
  max: number;
  ttl: number;
}

export interface Permissions {
  pub: Permission;
  sub: Permission;
  resp: ResponsePermission | null;
}

export interface TimeRange {
  start: string;
  end: string;
}

/** The user permissions and limits (jwt.UserPermissionLimits): a user's own, or a scope's template. */
export interface UserPermissionLimits extends Permissions {
  /** Allowed source networks (CIDRs); the wire form may also be one comma-separated string. */
  src: StringList;
  times: TimeRange[] | null;
  /** IANA zone of `times` (wire `times_location`; the JS library writes `locale`, ignored). */
  times_location: string;
  subs: number;
  data: number;
  payload: number;
  bearer_token: boolean;
  allowed_connection_types: StringList;
}

export interface UserScope {
  kind: "user_scope";
  key: string;
  role: string;
  template: UserPermissionLimits;
  description: string;
}

/** Account signing keys: a plain key maps to null, a scoped key to its scope. */
export type SigningKeys = Map<string, UserScope | null>;

export interface NatsLimits {
  subs: number;
  data: number;
  payload: number;
}

export interface AccountLimits {
  imports: number;
  exports: number;
  wildcards: boolean;
  disallow_bearer: boolean;
  conn: number;
  leaf: number;
}

export interface JetStreamLimits {
  mem_storage: number;
  disk_storage: number;
  streams: number;
  consumer: number;
  max_ack_pending: number;
  mem_max_stream_bytes: number;
  disk_max_stream_bytes: number;
  max_bytes_required: boolean;
}

export interface OperatorLimits extends NatsLimits, AccountLimits, JetStreamLimits {
  tiered_limits: Map<string, JetStreamLimits> | null;
}

export type ExportTypeValue = "stream" | "service" | "";

export interface ServiceLatency {
  /** 1–100 percent; 0 means "headers" (sampling decided by the request's headers). */
  sampling: number;
  results: string;
}

export interface Export {
  name: string;
  subject: string;
  type: ExportTypeValue;
  token_req: boolean;
  revocations: Map<string, number> | null;
  response_type: string;
  /** Nanoseconds (Go time.Duration). */
  response_threshold: number;
  service_latency: ServiceLatency | null;
  account_token_position: number;
  advertise: boolean;
  description: string;
  info_url: string;
}

export interface Import {
  name: string;
  subject: string;
  account: string;
  token: string;
  to: string;
  local_subject: string;
  type: ExportTypeValue;
  share: boolean;
}

export interface WeightedMapping {
  subject: string;
  /** 0 means 100 (jwt GetWeight). */
  weight: number;
  cluster: string;
}

export interface OperatorClaims extends ClaimsData {
  kind: "operator";
  /** 1 for v1 tokens (signature over the payload only), 2 otherwise. */
  claimVersion: number;
  nats: GenericFields & {
    signing_keys: StringList;
    account_server_url: string;
    operator_service_urls: StringList;
    system_account: string;
    assert_server_version: string;
    strict_signing_key_usage: boolean;
  };
}

export interface AccountClaims extends ClaimsData {
  kind: "account";
  claimVersion: number;
  nats: GenericFields & {
    imports: (Import | null)[] | null;
    exports: (Export | null)[] | null;
    limits: OperatorLimits;
    signing_keys: SigningKeys;
    revocations: Map<string, number> | null;
    default_permissions: Permissions;
    mappings: Map<string, WeightedMapping[] | null> | null;
    description: string;
    info_url: string;
  };
}

export interface UserClaims extends ClaimsData {
  kind: "user";
  claimVersion: number;
  nats: GenericFields &
    UserPermissionLimits & {
      /** Set when a signing key of the account signed the user. */
      issuer_account: string;
    };
  /**
   * Whether the permissions and limits are Go zero values (reflect.DeepEqual with an empty
   * struct, so a present empty list counts as set): users signed by a scoped key must be.
   */
  permissionLimitsEmpty: boolean;
}

export interface ActivationClaims extends ClaimsData {
  kind: "activation";
  claimVersion: number;
  nats: GenericFields & {
    subject: string;
    kind: ExportTypeValue;
    issuer_account: string;
  };
}

export interface GenericClaims extends ClaimsData {
  kind: "generic";
  claimVersion: number;
  /** `nats` as Go's map[string]interface{}: numbers become JS numbers. */
  nats: Record<string, unknown> | null;
}

export type Claims = OperatorClaims | AccountClaims | UserClaims | ActivationClaims | GenericClaims;

// ---------------------------------------------------------------------------------------
// Go-style decoding.

/** Where a value sits, for Go's error text: the Go struct holding the field and the JSON path. */
interface Site {
  struct: string;
  path: string;
}

class StructDecoder {
  /** The first type mismatch (Go saves it and keeps decoding). */
  saved: string | null = null;

  kindOf(value: JsonValue): string {
    if (typeof value === "string") return "string";
    if (typeof value === "boolean") return "bool";
    if (value instanceof JsonNumber) return "number";
    if (Array.isArray(value)) return "array";
    return "object";
  }

  mismatch(value: JsonValue | string, site: Site, goType: string): void {
    if (this.saved !== null) return;
    const what = typeof value === "string" && value.startsWith("number ") ? value : this.kindOf(value as JsonValue);
    this.saved =
      site.struct === "" && site.path === ""
        ? `json: cannot unmarshal ${what} into Go value of type ${goType}`
        : `json: cannot unmarshal ${what} into Go struct field ${site.struct}.${site.path} of type ${goType}`;
  }

  /** A custom UnmarshalJSON failed: Go stops decoding and returns this error. */
  abort(message: string): never {
    throw new JwtError(JwtErrorId.json, message);
  }

  string(value: JsonValue | undefined, site: Site, current: string, goType = "string"): string {
    if (value === undefined || value === null) return current;
    if (typeof value === "string") return value;
    this.mismatch(value, site, goType);
    return current;
  }

  bool(value: JsonValue | undefined, site: Site, current: boolean): boolean {
    if (value === undefined || value === null) return current;
    if (typeof value === "boolean") return value;
    this.mismatch(value, site, "bool");
    return current;
  }

  /** Signed (int, int64, time.Duration) or unsigned (uint, uint8) integers from their literal. */
  integer(value: JsonValue | undefined, site: Site, current: number, goType: string): number {
    if (value === undefined || value === null) return current;
    if (!(value instanceof JsonNumber)) {
      this.mismatch(value, site, goType);
      return current;
    }
    const text = value.text;
    const unsigned = goType === "uint" || goType === "uint8";
    const ok = unsigned ? /^[0-9]+$/.test(text) : /^-?[0-9]+$/.test(text);
    const n = ok ? Number(text) : NaN;
    const inRange = ok && (goType === "uint8" ? n <= 255 : unsigned ? BigInt(text) <= 18446744073709551615n : BigInt(text) >= -9223372036854775808n && BigInt(text) <= 9223372036854775807n);
    if (!inRange) {
      this.mismatch(`number ${text}`, site, goType);
      return current;
    }
    return n;
  }

  stringList(value: JsonValue | undefined, site: Site, goType: string): StringList {
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value)) {
      this.mismatch(value, site, goType);
      return null;
    }
    return value.map((v) => this.string(v, site, ""));
  }

  /** Walks an object's keys in document order, dispatching each to its field (Go's rules). */
  fields(value: JsonValue | undefined, site: Site, goType: string, handlers: Record<string, (v: JsonValue) => void>): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value !== "object" || value instanceof JsonNumber || Array.isArray(value)) {
      this.mismatch(value, site, goType);
      return false;
    }
    const names = Object.keys(handlers);
    for (const key of Object.keys(value)) {
      let handler = handlers[key];
      if (handler === undefined || !Object.hasOwn(handlers, key)) {
        const lower = key.toLowerCase();
        const name = names.find((n) => n.toLowerCase() === lower);
        handler = name === undefined ? (undefined as never) : handlers[name];
      }
      if (handler !== undefined) handler(value[key]);
    }
    return true;
  }

  /** An object decoded as a Go map: each value through `element`. */
  map<T>(value: JsonValue | undefined, site: Site, goType: string, element: (v: JsonValue) => T): Map<string, T> | null {
    if (value === undefined || value === null) return null;
    if (typeof value !== "object" || value instanceof JsonNumber || Array.isArray(value)) {
      this.mismatch(value, site, goType);
      return null;
    }
    const out = new Map<string, T>();
    for (const key of Object.keys(value)) out.set(key, element(value[key]));
    return out;
  }

  array<T>(value: JsonValue | undefined, site: Site, goType: string, element: (v: JsonValue) => T): T[] | null {
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value)) {
      this.mismatch(value, site, goType);
      return null;
    }
    return value.map(element);
  }

  /** Go's `interface{}`: plain JS values, numbers as float64. */
  plain(value: JsonValue): unknown {
    if (value instanceof JsonNumber) return value.value;
    if (Array.isArray(value)) return value.map((v) => this.plain(v));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(value)) out[key] = this.plain(value[key]);
      return out;
    }
    return value;
  }
}

const at = (struct: string, path: string): Site => ({ struct, path });
const join = (path: string, name: string): string => (path === "" ? name : `${path}.${name}`);

export function emptyClaimsData(): ClaimsData {
  return { aud: "", exp: 0, jti: "", iat: 0, iss: "", name: "", nbf: 0, sub: "" };
}

function claimsDataHandlers(d: StructDecoder, target: ClaimsData, struct: string): Record<string, (v: JsonValue) => void> {
  return {
    aud: (v) => (target.aud = d.string(v, at(struct, "aud"), target.aud)),
    exp: (v) => (target.exp = d.integer(v, at(struct, "exp"), target.exp, "int64")),
    jti: (v) => (target.jti = d.string(v, at(struct, "jti"), target.jti)),
    iat: (v) => (target.iat = d.integer(v, at(struct, "iat"), target.iat, "int64")),
    iss: (v) => (target.iss = d.string(v, at(struct, "iss"), target.iss)),
    name: (v) => (target.name = d.string(v, at(struct, "name"), target.name)),
    nbf: (v) => (target.nbf = d.integer(v, at(struct, "nbf"), target.nbf, "int64")),
    sub: (v) => (target.sub = d.string(v, at(struct, "sub"), target.sub)),
  };
}

function genericFieldsHandlers(d: StructDecoder, target: GenericFields, struct: string, path: string): Record<string, (v: JsonValue) => void> {
  return {
    tags: (v) => (target.tags = d.stringList(v, at(struct, join(path, "tags")), "jwt.TagList")),
    type: (v) => (target.type = d.string(v, at(struct, join(path, "type")), target.type, "jwt.ClaimType")),
    version: (v) => (target.version = d.integer(v, at(struct, join(path, "version")), target.version, "int")),
  };
}

/** The JWT header as Go decodes it into jwt.Header {typ, alg}. */
export function decodeHeaderValue(value: JsonValue): { typ: string; alg: string } {
  const d = new StructDecoder();
  const header = { typ: "", alg: "" };
  d.fields(value, at("", ""), "jwt.Header", {
    typ: (v) => (header.typ = d.string(v, at("Header", "typ"), header.typ)),
    alg: (v) => (header.alg = d.string(v, at("Header", "alg"), header.alg)),
  });
  finish(d);
  return header;
}

// The identifier pass (jwt loadClaims): the kind and version, before the kind's own decode.
export interface ClaimIdentity {
  /** Top-level `type` (v1 tokens) or `nats.type`. */
  kind: string;
  /** 1 when the top-level `type` is set, else `nats.version`. */
  version: number;
}

export function decodeIdentity(payload: JsonValue): ClaimIdentity {
  const d = new StructDecoder();
  let topType = "";
  const generic: GenericFields = { tags: null, type: "", version: 0 };
  d.fields(payload, at("", ""), "jwt.identifier", {
    type: (v) => (topType = d.string(v, at("identifier", "type"), topType, "jwt.ClaimType")),
    nats: (v) => d.fields(v, at("identifier", "nats"), "jwt.GenericFields", genericFieldsHandlers(d, generic, "GenericFields", "nats")),
  });
  if (d.saved !== null) throw new JwtError(JwtErrorId.json, d.saved);
  return topType !== "" ? { kind: topType, version: 1 } : { kind: generic.type, version: generic.version };
}

function finish(d: StructDecoder): void {
  if (d.saved !== null) throw new JwtError(JwtErrorId.json, d.saved);
}

// ---------------------------------------------------------------------------------------
// Permissions and user limits.

function emptyPermission(): Permission {
  return { allow: null, deny: null };
}

/** Decodes into `target` (Go decodes into the existing value: absent fields stay). */
function permissionInto(d: StructDecoder, v: JsonValue, target: Permission, struct: string, path: string): void {
  d.fields(v, at(struct, path), "jwt.Permission", {
    allow: (x) => (target.allow = d.stringList(x, at("Permission", join(path, "allow")), "jwt.StringList")),
    deny: (x) => (target.deny = d.stringList(x, at("Permission", join(path, "deny")), "jwt.StringList")),
  });
}

/** The fields of jwt.Permissions, for a struct that embeds them. */
function permissionsHandlers(d: StructDecoder, p: Permissions, struct: string, path: string): Record<string, (v: JsonValue) => void> {
  return {
    pub: (v) => permissionInto(d, v, p.pub, struct, join(path, "pub")),
    sub: (v) => permissionInto(d, v, p.sub, struct, join(path, "sub")),
    resp: (v) => {
      // A pointer: null clears it, an object fills it (allocating it when absent).
      if (v === null) {
        p.resp = null;
        return;
      }
      const r = p.resp ?? { max: 0, ttl: 0 };
      const rp = join(path, "resp");
      const ok = d.fields(v, at(struct, rp), "jwt.ResponsePermission", {
        max: (x) => (r.max = d.integer(x, at("ResponsePermission", join(rp, "max")), r.max, "int")),
        ttl: (x) => (r.ttl = d.integer(x, at("ResponsePermission", join(rp, "ttl")), r.ttl, "time.Duration")),
      });
      if (ok) p.resp = r;
    },
  };
}

export function emptyPermissions(): Permissions {
  return { pub: emptyPermission(), sub: emptyPermission(), resp: null };
}

export function emptyUserPermissionLimits(natsLimit: number): UserPermissionLimits {
  return {
    ...emptyPermissions(),
    src: null,
    times: null,
    times_location: "",
    subs: natsLimit,
    data: natsLimit,
    payload: natsLimit,
    bearer_token: false,
    allowed_connection_types: null,
  };
}

/** jwt.CIDRList: a list of strings, or one comma-separated string (lower-cased, trimmed). */
function decodeCidrList(d: StructDecoder, v: JsonValue, site: Site): StringList {
  if (v === null) return null;
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      if (item === null) out.push("");
      else if (typeof item === "string") out.push(item);
      else d.abort(`json: cannot unmarshal ${d.kindOf(item)} into Go struct field ${site.struct}.${site.path} of type string`);
    }
    return out;
  }
  if (typeof v === "string") {
    const out: string[] = [];
    for (const part of v.toLowerCase().split(",")) {
      const item = part.trim();
      if (item !== "" && !out.includes(item)) out.push(item);
    }
    return out;
  }
  // The second attempt (as a string) fails, and its error is the one returned.
  return d.abort(`json: cannot unmarshal ${d.kindOf(v)} into Go struct field ${site.struct}.${site.path} of type string`);
}

function decodeTimes(d: StructDecoder, v: JsonValue, site: Site): TimeRange[] | null {
  return d.array(v, site, "[]jwt.TimeRange", (item) => {
    const t: TimeRange = { start: "", end: "" };
    d.fields(item, site, "jwt.TimeRange", {
      start: (x) => (t.start = d.string(x, at("TimeRange", join(site.path, "start")), t.start)),
      end: (x) => (t.end = d.string(x, at("TimeRange", join(site.path, "end")), t.end)),
    });
    return t;
  });
}

/** The fields of jwt.UserPermissionLimits, for the user claims or a scope template. */
function userPermissionLimitsHandlers(d: StructDecoder, u: UserPermissionLimits, struct: string, path: string): Record<string, (v: JsonValue) => void> {
  return {
    ...permissionsHandlers(d, u, struct, path),
    src: (v) => (u.src = decodeCidrList(d, v, at(struct, join(path, "src")))),
    times: (v) => (u.times = decodeTimes(d, v, at(struct, join(path, "times")))),
    times_location: (v) => (u.times_location = d.string(v, at(struct, join(path, "times_location")), u.times_location)),
    subs: (v) => (u.subs = d.integer(v, at(struct, join(path, "subs")), u.subs, "int64")),
    data: (v) => (u.data = d.integer(v, at(struct, join(path, "data")), u.data, "int64")),
    payload: (v) => (u.payload = d.integer(v, at(struct, join(path, "payload")), u.payload, "int64")),
    bearer_token: (v) => (u.bearer_token = d.bool(v, at(struct, join(path, "bearer_token")), u.bearer_token)),
    allowed_connection_types: (v) => (u.allowed_connection_types = d.stringList(v, at(struct, join(path, "allowed_connection_types")), "jwt.StringList")),
  };
}

/** reflect.DeepEqual(limits, UserPermissionLimits{}): a present list, even empty, is not zero. */
export function isZeroUserPermissionLimits(u: UserPermissionLimits): boolean {
  return (
    u.pub.allow === null &&
    u.pub.deny === null &&
    u.sub.allow === null &&
    u.sub.deny === null &&
    u.resp === null &&
    u.src === null &&
    u.times === null &&
    u.times_location === "" &&
    u.subs === 0 &&
    u.data === 0 &&
    u.payload === 0 &&
    !u.bearer_token &&
    u.allowed_connection_types === null
  );
}

// ---------------------------------------------------------------------------------------
// Kind decoders. Each takes the parsed payload and the version from the identifier pass.

export function decodeUserPayload(payload: JsonValue, version: number): UserClaims {
  const d = new StructDecoder();
  const claims: UserClaims = {
    kind: "user",
    claimVersion: version,
    ...emptyClaimsData(),
    nats: { tags: null, type: "", version: 0, ...emptyUserPermissionLimits(0), issuer_account: "" },
    permissionLimitsEmpty: true,
  };
  const n = claims.nats;
  if (version === 1) {
    // v1: tags, type and issuer_account at the top level; `max` must be left at -1.
    let max = -1;
    d.fields(payload, at("", ""), "jwt.v1UserClaims", {
      ...claimsDataHandlers(d, claims, "v1UserClaims"),
      tags: (v) => (n.tags = d.stringList(v, at("v1UserClaims", "tags"), "jwt.TagList")),
      type: (v) => (n.type = d.string(v, at("v1UserClaims", "type"), n.type, "jwt.ClaimType")),
      issuer_account: (v) => (n.issuer_account = d.string(v, at("v1UserClaims", "issuer_account"), n.issuer_account)),
      nats: (v) =>
        d.fields(v, at("v1UserClaims", "nats"), "jwt.v1User", {
          ...userPermissionLimitsHandlers(d, n, "v1User", "nats"),
          allowed_connection_types: () => undefined,
          max: (x) => (max = d.integer(x, at("v1User", "nats.max"), max, "int64")),
        }),
    });
    finish(d);
    if (max !== -1) throw new JwtError(JwtErrorId.deprecated, "jwtV1 user: deprecated Max/Times in jwtV2");
    n.allowed_connection_types = null;
  } else if (version === 2) {
    d.fields(payload, at("", ""), "jwt.UserClaims", {
      ...claimsDataHandlers(d, claims, "UserClaims"),
      nats: (v) =>
        d.fields(v, at("UserClaims", "nats"), "jwt.User", {
          ...userPermissionLimitsHandlers(d, n, "User", "nats"),
          issuer_account: (x) => (n.issuer_account = d.string(x, at("User", "nats.issuer_account"), n.issuer_account)),
          ...genericFieldsHandlers(d, n, "User", "nats"),
        }),
    });
    finish(d);
  } else {
    throw new JwtError(JwtErrorId.version, `library supports version 2 or less - received ${version}`);
  }
  claims.permissionLimitsEmpty = isZeroUserPermissionLimits(n);
  return claims;
}

function emptyJetStreamLimits(): JetStreamLimits {
  return {
    mem_storage: 0,
    disk_storage: 0,
    streams: 0,
    consumer: 0,
    max_ack_pending: 0,
    mem_max_stream_bytes: 0,
    disk_max_stream_bytes: 0,
    max_bytes_required: false,
  };
}

function jetStreamLimitsHandlers(d: StructDecoder, j: JetStreamLimits, struct: string, path: string): Record<string, (v: JsonValue) => void> {
  const int = (name: keyof JetStreamLimits) => (v: JsonValue) => {
    (j as unknown as Record<string, number>)[name] = d.integer(v, at(struct, join(path, name)), j[name] as number, "int64");
  };
  return {
    mem_storage: int("mem_storage"),
    disk_storage: int("disk_storage"),
    streams: int("streams"),
    consumer: int("consumer"),
    max_ack_pending: int("max_ack_pending"),
    mem_max_stream_bytes: int("mem_max_stream_bytes"),
    disk_max_stream_bytes: int("disk_max_stream_bytes"),
    max_bytes_required: (v) => (j.max_bytes_required = d.bool(v, at(struct, join(path, "max_bytes_required")), j.max_bytes_required)),
  };
}

export function emptyOperatorLimits(): OperatorLimits {
  return { subs: 0, data: 0, payload: 0, imports: 0, exports: 0, wildcards: false, disallow_bearer: false, conn: 0, leaf: 0, ...emptyJetStreamLimits(), tiered_limits: null };
}

function operatorLimitsInto(d: StructDecoder, v: JsonValue, l: OperatorLimits, struct: string, path: string, v1: boolean): void {
  const s = v1 ? "struct { jwt.NatsLimits; jwt.AccountLimits }" : "OperatorLimits";
  const int = (name: "subs" | "data" | "payload" | "imports" | "exports" | "conn" | "leaf") => (x: JsonValue) => {
    l[name] = d.integer(x, at(s, join(path, name)), l[name], "int64");
  };
  const handlers: Record<string, (x: JsonValue) => void> = {
    subs: int("subs"),
    data: int("data"),
    payload: int("payload"),
    imports: int("imports"),
    exports: int("exports"),
    wildcards: (x) => (l.wildcards = d.bool(x, at(s, join(path, "wildcards")), l.wildcards)),
    disallow_bearer: (x) => (l.disallow_bearer = d.bool(x, at(s, join(path, "disallow_bearer")), l.disallow_bearer)),
    conn: int("conn"),
    leaf: int("leaf"),
  };
  if (!v1) {
    Object.assign(handlers, jetStreamLimitsHandlers(d, l, s, path));
    handlers.tiered_limits = (x) =>
      (l.tiered_limits = d.map(x, at(s, join(path, "tiered_limits")), "jwt.JetStreamTieredLimits", (item) => {
        const j = emptyJetStreamLimits();
        d.fields(item, at(s, join(path, "tiered_limits")), "jwt.JetStreamLimits", jetStreamLimitsHandlers(d, j, "JetStreamLimits", join(path, "tiered_limits")));
        return j;
      }));
  }
  d.fields(v, at(struct, path), v1 ? s : "jwt.OperatorLimits", handlers);
}

/** jwt.ExportType: "stream" or "service"; anything else stops the decode (null too). */
function decodeExportType(d: StructDecoder, v: JsonValue, site: Site): ExportTypeValue {
  if (v !== null && typeof v !== "string") d.abort(`json: cannot unmarshal ${d.kindOf(v)} into Go struct field ${site.struct}.${site.path} of type string`);
  const s = v ?? "";
  if (s === "stream" || s === "service") return s;
  return d.abort(`unknown export type ${goQuote(s)}`);
}

function decodeRevocations(d: StructDecoder, v: JsonValue, struct: string, path: string): Map<string, number> | null {
  return d.map(v, at(struct, path), "jwt.RevocationList", (x) => d.integer(x, at(struct, path), 0, "int64"));
}

function decodeExport(d: StructDecoder, v: JsonValue, path: string): Export | null {
  if (v === null) return null;
  const e: Export = {
    name: "",
    subject: "",
    type: "",
    token_req: false,
    revocations: null,
    response_type: "",
    response_threshold: 0,
    service_latency: null,
    account_token_position: 0,
    advertise: false,
    description: "",
    info_url: "",
  };
  const s = "Export";
  d.fields(v, at("Account", path), "jwt.Export", {
    name: (x) => (e.name = d.string(x, at(s, join(path, "name")), e.name)),
    subject: (x) => (e.subject = d.string(x, at(s, join(path, "subject")), e.subject, "jwt.Subject")),
    type: (x) => (e.type = decodeExportType(d, x, at(s, join(path, "type")))),
    token_req: (x) => (e.token_req = d.bool(x, at(s, join(path, "token_req")), e.token_req)),
    revocations: (x) => (e.revocations = decodeRevocations(d, x, s, join(path, "revocations"))),
    response_type: (x) => (e.response_type = d.string(x, at(s, join(path, "response_type")), e.response_type, "jwt.ResponseType")),
    response_threshold: (x) => (e.response_threshold = d.integer(x, at(s, join(path, "response_threshold")), e.response_threshold, "time.Duration")),
    service_latency: (x) => {
      if (x === null) {
        e.service_latency = null;
        return;
      }
      const l: ServiceLatency = { sampling: 0, results: "" };
      const lp = join(path, "service_latency");
      if (
        d.fields(x, at(s, lp), "jwt.ServiceLatency", {
          sampling: (y) => {
            // jwt.SamplingRate: "headers" (any case) or an int.
            if (typeof y === "string" && y.toLowerCase() === "headers") l.sampling = 0;
            else if (y instanceof JsonNumber && /^-?[0-9]+$/.test(y.text)) l.sampling = Number(y.text);
            else if (y !== null) d.abort(`json: cannot unmarshal ${y instanceof JsonNumber ? `number ${y.text}` : d.kindOf(y)} into Go struct field ServiceLatency.${join(lp, "sampling")} of type int`);
          },
          results: (y) => (l.results = d.string(y, at("ServiceLatency", join(lp, "results")), l.results, "jwt.Subject")),
        })
      )
        e.service_latency = l;
    },
    account_token_position: (x) => (e.account_token_position = d.integer(x, at(s, join(path, "account_token_position")), e.account_token_position, "uint")),
    advertise: (x) => (e.advertise = d.bool(x, at(s, join(path, "advertise")), e.advertise)),
    description: (x) => (e.description = d.string(x, at(s, join(path, "description")), e.description)),
    info_url: (x) => (e.info_url = d.string(x, at(s, join(path, "info_url")), e.info_url)),
  });
  return e;
}

function decodeImport(d: StructDecoder, v: JsonValue, path: string): Import | null {
  if (v === null) return null;
  const i: Import = { name: "", subject: "", account: "", token: "", to: "", local_subject: "", type: "", share: false };
  const s = "Import";
  d.fields(v, at("Account", path), "jwt.Import", {
    name: (x) => (i.name = d.string(x, at(s, join(path, "name")), i.name)),
    subject: (x) => (i.subject = d.string(x, at(s, join(path, "subject")), i.subject, "jwt.Subject")),
    account: (x) => (i.account = d.string(x, at(s, join(path, "account")), i.account)),
    token: (x) => (i.token = d.string(x, at(s, join(path, "token")), i.token)),
    to: (x) => (i.to = d.string(x, at(s, join(path, "to")), i.to, "jwt.Subject")),
    local_subject: (x) => (i.local_subject = d.string(x, at(s, join(path, "local_subject")), i.local_subject, "jwt.RenamingSubject")),
    type: (x) => (i.type = decodeExportType(d, x, at(s, join(path, "type")))),
    share: (x) => (i.share = d.bool(x, at(s, join(path, "share")), i.share)),
  });
  return i;
}

/** jwt.SigningKeys: an array of keys (strings) and scopes (objects with a known `kind`). */
function decodeSigningKeys(d: StructDecoder, v: JsonValue | undefined, site: Site): SigningKeys {
  const keys: SigningKeys = new Map();
  if (v === undefined || v === null) return keys;
  if (!Array.isArray(v)) return d.abort(`json: cannot unmarshal ${d.kindOf(v)} into Go struct field ${site.struct}.${site.path} of type []interface {}`);
  for (const item of v) {
    if (typeof item === "string") keys.set(item, null);
    else if (item !== null && typeof item === "object" && !(item instanceof JsonNumber) && !Array.isArray(item)) {
      if (item.kind !== "user_scope") {
        // Go prints the missing `type` field of the object (its %q of nil).
        const t = item.type;
        d.abort(`unknown signing key scope ${typeof t === "string" ? goQuote(t) : t === undefined || t === null ? "%!q(<nil>)" : `%!q(${d.kindOf(t)})`}`);
      }
      // A scope's template starts with unlimited subs/data/payload (jwt NewUserScope).
      const scope: UserScope = { kind: "user_scope", key: "", role: "", template: emptyUserPermissionLimits(-1), description: "" };
      const inner = new StructDecoder();
      inner.fields(item, at("", ""), "jwt.UserScope", {
        kind: (x) => inner.string(x, at("UserScope", "kind"), "", "string"),
        key: (x) => (scope.key = inner.string(x, at("UserScope", "key"), scope.key)),
        role: (x) => (scope.role = inner.string(x, at("UserScope", "role"), scope.role)),
        description: (x) => (scope.description = inner.string(x, at("UserScope", "description"), scope.description)),
        template: (x) => inner.fields(x, at("UserScope", "template"), "jwt.UserPermissionLimits", userPermissionLimitsHandlers(inner, scope.template, "UserPermissionLimits", "template")),
      });
      if (inner.saved !== null) d.abort(inner.saved);
      keys.set(scope.key, scope);
    }
    // Other element types are ignored by the reference.
  }
  return keys;
}

function decodeMappings(d: StructDecoder, v: JsonValue, struct: string, path: string): Map<string, WeightedMapping[] | null> | null {
  return d.map(v, at(struct, path), "jwt.Mapping", (list) =>
    d.array(list, at(struct, path), "[]jwt.WeightedMapping", (item) => {
      const m: WeightedMapping = { subject: "", weight: 0, cluster: "" };
      d.fields(item, at(struct, path), "jwt.WeightedMapping", {
        subject: (x) => (m.subject = d.string(x, at("WeightedMapping", join(path, "subject")), m.subject, "jwt.Subject")),
        weight: (x) => (m.weight = d.integer(x, at("WeightedMapping", join(path, "weight")), m.weight, "uint8")),
        cluster: (x) => (m.cluster = d.string(x, at("WeightedMapping", join(path, "cluster")), m.cluster)),
      });
      return m;
    }),
  );
}

export function decodeAccountPayload(payload: JsonValue, version: number): AccountClaims {
  const d = new StructDecoder();
  const claims: AccountClaims = {
    kind: "account",
    claimVersion: version,
    ...emptyClaimsData(),
    nats: {
      tags: null,
      type: "",
      version: 0,
      imports: null,
      exports: null,
      limits: emptyOperatorLimits(),
      signing_keys: new Map(),
      revocations: null,
      default_permissions: emptyPermissions(),
      mappings: null,
      description: "",
      info_url: "",
    },
  };
  const n = claims.nats;
  const top = version === 1 ? "v1AccountClaims" : "AccountClaims";
  const inner = version === 1 ? "v1NatsAccount" : "Account";
  const accountHandlers: Record<string, (v: JsonValue) => void> = {
    imports: (v) => (n.imports = d.array(v, at(inner, "nats.imports"), "jwt.Imports", (x) => decodeImport(d, x, "nats.imports"))),
    exports: (v) => (n.exports = d.array(v, at(inner, "nats.exports"), "jwt.Exports", (x) => decodeExport(d, x, "nats.exports"))),
    limits: (v) => operatorLimitsInto(d, v, n.limits, inner, "nats.limits", version === 1),
    revocations: (v) => (n.revocations = decodeRevocations(d, v, inner, "nats.revocations")),
  };
  if (version === 1) {
    d.fields(payload, at("", ""), "jwt.v1AccountClaims", {
      ...claimsDataHandlers(d, claims, top),
      tags: (v) => (n.tags = d.stringList(v, at(top, "tags"), "jwt.TagList")),
      type: (v) => (n.type = d.string(v, at(top, "type"), n.type, "jwt.ClaimType")),
      nats: (v) =>
        d.fields(v, at(top, "nats"), "jwt.v1NatsAccount", {
          ...accountHandlers,
          signing_keys: (x) => {
            n.signing_keys = new Map();
            for (const key of d.stringList(x, at(inner, "nats.signing_keys"), "jwt.StringList") ?? []) n.signing_keys.set(key, null);
          },
        }),
    });
  } else if (version === 2) {
    d.fields(payload, at("", ""), "jwt.AccountClaims", {
      ...claimsDataHandlers(d, claims, top),
      nats: (v) =>
        d.fields(v, at(top, "nats"), "jwt.Account", {
          ...accountHandlers,
          signing_keys: (x) => (n.signing_keys = decodeSigningKeys(d, x, at(inner, "nats.signing_keys"))),
          default_permissions: (x) =>
            d.fields(x, at(inner, "nats.default_permissions"), "jwt.Permissions", permissionsHandlers(d, n.default_permissions, "Permissions", "nats.default_permissions")),
          mappings: (x) => (n.mappings = decodeMappings(d, x, inner, "nats.mappings")),
          description: (x) => (n.description = d.string(x, at(inner, "nats.description"), n.description)),
          info_url: (x) => (n.info_url = d.string(x, at(inner, "nats.info_url"), n.info_url)),
          ...genericFieldsHandlers(d, n, inner, "nats"),
        }),
    });
  } else {
    throw new JwtError(JwtErrorId.version, `library supports version 2 or less - received ${version}`);
  }
  finish(d);
  return claims;
}

export function decodeOperatorPayload(payload: JsonValue, version: number): OperatorClaims {
  const d = new StructDecoder();
  const claims: OperatorClaims = {
    kind: "operator",
    claimVersion: version,
    ...emptyClaimsData(),
    nats: {
      tags: null,
      type: "",
      version: 0,
      signing_keys: null,
      account_server_url: "",
      operator_service_urls: null,
      system_account: "",
      assert_server_version: "",
      strict_signing_key_usage: false,
    },
  };
  const n = claims.nats;
  if (version !== 1 && version !== 2) throw new JwtError(JwtErrorId.version, `library supports version 2 or less - received ${version}`);
  const top = version === 1 ? "v1OperatorClaims" : "OperatorClaims";
  const inner = version === 1 ? "v1NatsOperator" : "Operator";
  const operatorHandlers: Record<string, (v: JsonValue) => void> = {
    signing_keys: (v) => (n.signing_keys = d.stringList(v, at(inner, "nats.signing_keys"), "jwt.StringList")),
    account_server_url: (v) => (n.account_server_url = d.string(v, at(inner, "nats.account_server_url"), n.account_server_url)),
    operator_service_urls: (v) => (n.operator_service_urls = d.stringList(v, at(inner, "nats.operator_service_urls"), "jwt.StringList")),
    system_account: (v) => (n.system_account = d.string(v, at(inner, "nats.system_account"), n.system_account)),
  };
  if (version === 2) {
    operatorHandlers.assert_server_version = (v) => (n.assert_server_version = d.string(v, at(inner, "nats.assert_server_version"), n.assert_server_version));
    operatorHandlers.strict_signing_key_usage = (v) => (n.strict_signing_key_usage = d.bool(v, at(inner, "nats.strict_signing_key_usage"), n.strict_signing_key_usage));
    Object.assign(operatorHandlers, genericFieldsHandlers(d, n, inner, "nats"));
  }
  d.fields(payload, at("", ""), `jwt.${top}`, {
    ...claimsDataHandlers(d, claims, top),
    ...(version === 1
      ? {
          tags: (v: JsonValue) => (n.tags = d.stringList(v, at(top, "tags"), "jwt.TagList")),
          type: (v: JsonValue) => (n.type = d.string(v, at(top, "type"), n.type, "jwt.ClaimType")),
        }
      : {}),
    nats: (v) => d.fields(v, at(top, "nats"), `jwt.${inner}`, operatorHandlers),
  });
  finish(d);
  return claims;
}

export function decodeActivationPayload(payload: JsonValue, version: number): ActivationClaims {
  const d = new StructDecoder();
  const claims: ActivationClaims = {
    kind: "activation",
    claimVersion: version,
    ...emptyClaimsData(),
    nats: { tags: null, type: "", version: 0, subject: "", kind: "", issuer_account: "" },
  };
  const n = claims.nats;
  if (version !== 1 && version !== 2) throw new JwtError(JwtErrorId.version, `library supports version 2 or less - received ${version}`);
  const top = version === 1 ? "v1ActivationClaims" : "ActivationClaims";
  const inner = version === 1 ? "v1NatsActivation" : "Activation";
  const activationHandlers: Record<string, (v: JsonValue) => void> = {
    subject: (v) => (n.subject = d.string(v, at(inner, "nats.subject"), n.subject, "jwt.Subject")),
    kind: (v) => (n.kind = decodeExportType(d, v, at(inner, "nats.kind"))),
  };
  if (version === 2) {
    activationHandlers.issuer_account = (v) => (n.issuer_account = d.string(v, at(inner, "nats.issuer_account"), n.issuer_account));
    Object.assign(activationHandlers, genericFieldsHandlers(d, n, inner, "nats"));
  }
  d.fields(payload, at("", ""), `jwt.${top}`, {
    ...claimsDataHandlers(d, claims, top),
    ...(version === 1
      ? {
          tags: (v: JsonValue) => (n.tags = d.stringList(v, at(top, "tags"), "jwt.TagList")),
          type: (v: JsonValue) => (n.type = d.string(v, at(top, "type"), n.type, "jwt.ClaimType")),
          issuer_account: (v: JsonValue) => (n.issuer_account = d.string(v, at(top, "issuer_account"), n.issuer_account)),
        }
      : {}),
    nats: (v) => d.fields(v, at(top, "nats"), `jwt.${inner}`, activationHandlers),
  });
  finish(d);
  return claims;
}

export function decodeGenericPayload(payload: JsonValue, version: number): GenericClaims {
  const d = new StructDecoder();
  const claims: GenericClaims = { kind: "generic", claimVersion: version, ...emptyClaimsData(), nats: null };
  d.fields(payload, at("", ""), "jwt.GenericClaims", {
    ...claimsDataHandlers(d, claims, "GenericClaims"),
    nats: (v) => {
      const m = d.map(v, at("GenericClaims", "nats"), "map[string]interface {}", (x) => d.plain(x));
      claims.nats = m === null ? null : Object.fromEntries(m);
    },
  });
  finish(d);
  return claims;
}

/** Go's %q for a string (strconv.Quote): printable runes as is, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (cp === 0x07) out += "\\a";
    else if (cp === 0x08) out += "\\b";
    else if (cp === 0x0c) out += "\\f";
    else if (cp === 0x0a) out += "\\n";
    else if (cp === 0x0d) out += "\\r";
    else if (cp === 0x09) out += "\\t";
    else if (cp === 0x0b) out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp === 0xfffd && ch !== "\ufffd") out += "\\ufffd";
    else if (!isPrintable(cp)) out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** Approximates Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ASCII space. */
function isPrintable(cp: number): boolean {
  if (cp === 0x20) return true;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(cp));
}
