// Security options of the config file: `authorization {}`, users and their permissions,
// `accounts {}` with exports, imports, mappings and JetStream limits, `no_auth_user`,
// `system_account`, top-level `mappings`, and decentralised-auth keys (`operator`,
// `trusted_keys`, `resolver`, `resolver_preload`). Error texts are the reference's
// (opts.go parseAuthorization, parseUsers, parseUserPermissions, parseAccounts, …) where it
// has one.
import { JwtError } from "../auth/jwt/errors.ts";
import { operatorValues, parseResolverConfig, parseTrustedKeys, preloadJwt, readOperatorJwt, type ResolverConfig } from "../auth/jwt/operator_config.ts";
import { DeleteMode } from "../auth/jwt/resolver.ts";
import { isPublicKey, NKeyPrefix } from "../auth/nkeys.ts";
import { subjectIsSubsetMatch } from "../auth/permissions.ts";
import * as C from "../constants.ts";
import { ConfMap, elementPosition, type ConfValue } from "./conf_parser.ts";
import { blockEntries, describe, OptionsReader, type Entry, type Handler } from "./conf_reader.ts";
import type {
  AccountEntry, AccountJetStreamLimits, ExportEntry, ImportEntry, MappingEntry, Permissions, ResponsePermission, ResponseType,
  SubjectPermission, UserEntry,
} from "./options.ts";

/** Default `allow_responses: true`: one response within two minutes (reference opts.go). */
export const defaultResponsePermission: ResponsePermission = { maxMsgs: 1, expiresMs: 2 * 60_000 };

const BCRYPT_PREFIX = /^\$2[abxy]\$\d{2}\$/;

function asMap(r: OptionsReader, e: Entry, what: string): ConfMap | undefined {
  if (e.value instanceof ConfMap) return e.value;
  r.error(e, `Expected ${what} to be a map/struct, got ${describe(e.value)}`);
  return undefined;
}

function asList(v: ConfValue): ConfValue[] {
  return Array.isArray(v) ? v : [v];
}

/** An array element as an Entry, at the element's own position when the parser kept it. */
function elementEntry(e: Entry, value: ConfValue, index: number): Entry {
  const pos = Array.isArray(e.value) ? (elementPosition(e.value, index) ?? e.pos) : e.pos;
  return { key: `${e.key}[${index}]`, value, pos, map: e.map };
}

function strings(r: OptionsReader, e: Entry, v: ConfValue): string[] | undefined {
  const out: string[] = [];
  for (const x of asList(v)) {
    if (typeof x !== "string") {
      r.error(e, `Expected subject string, got ${describe(x)}`);
      return undefined;
    }
    out.push(x);
  }
  return out;
}

// ---- permissions -----------------------------------------------------------------------------

/** `publish`/`subscribe`: a subject, a list, or `{allow, deny}`. */
function subjectPermission(r: OptionsReader, e: Entry): SubjectPermission | undefined {
  const v = e.value;
  if (!(v instanceof ConfMap)) {
    const allow = strings(r, e, v);
    return allow === undefined ? undefined : { allow, deny: null };
  }
  const p: SubjectPermission = { allow: null, deny: null };
  for (const { lower, entry } of blockEntries(v)) {
    if (lower === "allow") p.allow = strings(r, entry, entry.value) ?? null;
    else if (lower === "deny") p.deny = strings(r, entry, entry.value) ?? null;
    else if (!entry.map.usedAsVariable(entry.key)) {
      r.error(entry, `Unknown field name "${entry.key}" parsing subject permissions, only 'allow' or 'deny' are permitted`);
    }
  }
  return p;
}

function responsePermission(r: OptionsReader, e: Entry): ResponsePermission | null {
  const v = e.value;
  if (typeof v === "boolean") return v ? { ...defaultResponsePermission } : null;
  if (!(v instanceof ConfMap)) {
    r.error(e, `Expected allow_responses to be a boolean or a map, got ${describe(v)}`);
    return null;
  }
  const rp = { ...defaultResponsePermission };
  for (const { lower, entry } of blockEntries(v)) {
    switch (lower) {
      case "max":
      case "max_msgs":
      case "max_messages":
      case "max_responses": {
        const n = r.integer(entry);
        if (n !== undefined) rp.maxMsgs = n;
        break;
      }
      case "expires":
      case "expiration":
      case "ttl": {
        const ns = r.duration(entry, lower, false);
        if (ns !== undefined) rp.expiresMs = ns / 1e6;
        break;
      }
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.error(entry, `Unknown field "${entry.key}" parsing permissions`);
    }
  }
  return rp;
}

export function parsePermissions(r: OptionsReader, e: Entry): Permissions | undefined {
  const map = asMap(r, e, "permissions");
  if (map === undefined) return undefined;
  const p: Permissions = { publish: null, subscribe: null, response: null };
  for (const { lower, entry } of blockEntries(map)) {
    switch (lower) {
      case "pub":
      case "publish":
      case "import":
        p.publish = subjectPermission(r, entry) ?? null;
        break;
      case "sub":
      case "subscribe":
      case "export":
        p.subscribe = subjectPermission(r, entry) ?? null;
        break;
      case "allow_responses":
      case "allow_response":
        p.response = responsePermission(r, entry);
        break;
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.error(entry, `Unknown field "${entry.key}" parsing permissions`);
    }
  }
  // allow_responses turns off the blanket publish allow (reference parseUserPermissions).
  if (p.response !== null) {
    p.publish ??= { allow: null, deny: null };
    p.publish.allow ??= [];
  }
  return p;
}

// ---- users -------------------------------------------------------------------------------------

function parseUser(r: OptionsReader, e: Entry, account: string): UserEntry | undefined {
  const map = asMap(r, e, "user entry");
  if (map === undefined) return undefined;
  const u: UserEntry = { user: "", password: "", nkey: "", permissions: null, account, allowedConnectionTypes: null };
  let nkeyEntry: Entry | null = null;
  for (const { lower, entry } of blockEntries(map)) {
    switch (lower) {
      case "user":
      case "username":
        u.user = r.string(entry) ?? "";
        break;
      case "pass":
      case "password":
        u.password = typeof entry.value === "number" ? String(entry.value) : (r.string(entry) ?? "");
        break;
      case "nkey":
        u.nkey = r.string(entry) ?? "";
        nkeyEntry = entry;
        break;
      case "permission":
      case "permissions":
        u.permissions = parsePermissions(r, entry) ?? null;
        break;
      case "allowed_connection_types":
      case "allowed_conn_types": {
        const types = strings(r, entry, entry.value);
        if (types !== undefined) u.allowedConnectionTypes = types.map((t) => t.toUpperCase());
        break;
      }
      case "account":
        u.account = r.string(entry) ?? account;
        break;
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  if (u.nkey !== "") {
    if (!isPublicKey(u.nkey, NKeyPrefix.user)) {
      r.error(nkeyEntry!, "Not a valid public nkey for a user");
      return undefined;
    }
    if (u.user !== "" || u.password !== "") {
      r.error(e, "Nkey users do not take usernames or passwords");
      return undefined;
    }
    return u;
  }
  if (u.user === "") {
    r.error(e, "User entry requires a user");
    return undefined;
  }
  return u;
}

/** `users [...]`; default permissions are filled in later (they may come after the list). */
function parseUsers(r: OptionsReader, e: Entry, account: string): UserEntry[] {
  if (!Array.isArray(e.value)) {
    r.error(e, `Expected users field to be an array, got ${describe(e.value)}`);
    return [];
  }
  const users: UserEntry[] = [];
  e.value.forEach((v, i) => {
    const u = parseUser(r, elementEntry(e, v, i), account);
    if (u !== undefined) users.push(u);
  });
  return users;
}

function applyDefaultPermissions(users: UserEntry[], defaults: Permissions | null): void {
  if (defaults === null) return;
  for (const u of users) u.permissions ??= defaults;
}

// ---- authorization {} ------------------------------------------------------------------------

export const onAuthorization: Handler = (r, e) => {
  const map = asMap(r, e, "authorization");
  if (map === undefined) return;
  let user = "";
  let password = "";
  let token = "";
  let users: UserEntry[] | null = null;
  let defaults: Permissions | null = null;
  for (const { lower, entry } of blockEntries(map)) {
    switch (lower) {
      case "user":
      case "username":
        user = r.string(entry) ?? user;
        break;
      case "pass":
      case "password":
        password = r.string(entry) ?? password;
        break;
      case "token":
        token = r.string(entry) ?? token;
        break;
      case "timeout": {
        // Seconds, integer or fractional (the reference's AuthTimeout is a float64).
        if (typeof entry.value !== "number") {
          r.error(entry, `invalid value for "${entry.key}": expected a number of seconds, got ${describe(entry.value)}`);
          break;
        }
        r.set("authTimeoutMs", entry.value === 0 ? C.authTimeoutMs : entry.value * 1000);
        break;
      }
      case "users":
        users = parseUsers(r, entry, "");
        break;
      // The reference takes `permissions` here as the default permissions of the users.
      case "default_permission":
      case "default_permissions":
      case "permissions":
        defaults = parsePermissions(r, entry) ?? null;
        break;
      default:
        if (lower === "auth_callout" || lower === "proxy_required") r.notYetSupported(entry, `${e.key}.${entry.key}`);
        else if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  if ((user !== "" || password !== "") && token !== "") {
    r.error(e, "Cannot have a user/pass and token");
    return;
  }
  if (users !== null) {
    if (user !== "") {
      r.error(e, "Can not have a single user/pass and a users array");
      return;
    }
    if (token !== "") {
      r.error(e, "Can not have a token and a users array");
      return;
    }
    applyDefaultPermissions(users, defaults);
    r.set("users", [...r.opts.users, ...users]);
  }
  if (defaults !== null) r.set("defaultPermissions", defaults);
  if (user !== "") r.set("username", user);
  if (password !== "") r.set("password", password);
  if (token !== "") r.set("authToken", token);
};

// ---- mappings ----------------------------------------------------------------------------------

function parseMappingDestinations(r: OptionsReader, e: Entry): MappingEntry | undefined {
  const source = e.key;
  const v = e.value;
  if (typeof v === "string") return { source, destinations: [{ subject: v, weight: 100, cluster: "" }] };
  const list = Array.isArray(v) ? v : [v];
  const m: MappingEntry = { source, destinations: [] };
  let total = 0;
  for (const item of list) {
    if (!(item instanceof ConfMap)) {
      r.error(e, `Expected a mapping destination map, got ${describe(item)}`);
      return undefined;
    }
    const d = { subject: "", weight: 100, cluster: "" };
    let weightGiven = false;
    for (const { lower, entry } of blockEntries(item)) {
      switch (lower) {
        case "destination":
        case "dest":
          d.subject = r.string(entry) ?? "";
          break;
        case "weight": {
          const w = entry.value;
          const n = typeof w === "number" ? w : typeof w === "string" ? Number(w.replace(/%$/, "")) : NaN;
          if (!Number.isInteger(n) || n < 0 || n > 100) {
            r.error(entry, `Invalid weight ${JSON.stringify(w)} for mapping destination`);
            return undefined;
          }
          d.weight = n;
          weightGiven = true;
          break;
        }
        case "cluster":
          d.cluster = r.string(entry) ?? "";
          break;
        default:
          if (!entry.map.usedAsVariable(entry.key)) r.error(entry, `Unknown field ${JSON.stringify(entry.key)} for mapping destination`);
      }
    }
    if (d.subject === "") {
      r.error(e, "Mapping destination requires a destination subject");
      return undefined;
    }
    if (!weightGiven && list.length > 1) d.weight = 0;
    total += d.weight;
    m.destinations.push(d);
  }
  if (total > 100) {
    r.error(e, `Mapping destination weights exceed 100% for ${JSON.stringify(source)}`);
    return undefined;
  }
  return m;
}

function parseMappings(r: OptionsReader, e: Entry): MappingEntry[] {
  const map = asMap(r, e, "mappings");
  if (map === undefined) return [];
  const out: MappingEntry[] = [];
  for (const { entry } of blockEntries(map)) {
    const m = parseMappingDestinations(r, entry);
    if (m !== undefined) out.push(m);
  }
  return out;
}

export const onMappings: Handler = (r, e) => {
  r.set("mappings", parseMappings(r, e));
};

// ---- accounts {} -------------------------------------------------------------------------------

/** `jetstream` of an account: enabled/disabled, a boolean, or limits. */
function parseAccountJetStream(r: OptionsReader, e: Entry): AccountJetStreamLimits | null {
  const v = e.value;
  const unlimited: AccountJetStreamLimits = { maxMemory: -1, maxStore: -1, maxStreams: -1, maxConsumers: -1 };
  if (typeof v === "boolean") return v ? unlimited : null;
  if (typeof v === "string") {
    const word = v.toLowerCase();
    if (word === "enabled" || word === "enable") return unlimited;
    if (word === "disabled" || word === "disable") return null;
    r.error(e, `Expected 'enabled' or 'disabled' for string value, got '${v}'`);
    return null;
  }
  if (!(v instanceof ConfMap)) {
    r.error(e, `Expected map, bool or string to define JetStream, got ${describe(v)}`);
    return null;
  }
  const limits = { ...unlimited };
  for (const { lower, entry } of blockEntries(v)) {
    const n = (): number | undefined => {
      const x = entry.value;
      if (typeof x === "number" && Number.isInteger(x)) return x;
      r.error(entry, `Expected an integer for ${JSON.stringify(entry.key)}, got ${describe(x)}`);
      return undefined;
    };
    switch (lower) {
      case "max_memory":
      case "max_mem":
      case "mem":
      case "memory":
        limits.maxMemory = n() ?? -1;
        break;
      case "max_store":
      case "max_file":
      case "max_disk":
      case "store":
      case "disk":
        limits.maxStore = n() ?? -1;
        break;
      case "max_streams":
      case "streams":
        limits.maxStreams = n() ?? -1;
        break;
      case "max_consumers":
      case "consumers":
        limits.maxConsumers = n() ?? -1;
        break;
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  return limits;
}

function parseExport(r: OptionsReader, e: Entry): ExportEntry | undefined {
  const map = asMap(r, e, "export");
  if (map === undefined) return undefined;
  const x: ExportEntry = { kind: "stream", subject: "", accounts: null, responseType: "Singleton", responseThresholdMs: 2 * 60_000 };
  let kindSeen = false;
  for (const { lower, entry } of blockEntries(map)) {
    switch (lower) {
      case "stream":
      case "service":
        if (kindSeen) {
          r.error(entry, "Detected stream and service in the same export");
          return undefined;
        }
        kindSeen = true;
        x.kind = lower;
        x.subject = r.string(entry) ?? "";
        break;
      case "accounts":
        x.accounts = strings(r, entry, entry.value) ?? null;
        break;
      case "response":
      case "response_type": {
        const t = (r.string(entry) ?? "").toLowerCase();
        const types: Record<string, ResponseType> = { singleton: "Singleton", single: "Singleton", stream: "Stream", streamed: "Stream", chunked: "Chunked", chunk: "Chunked" };
        if (types[t] === undefined) r.error(entry, `Unknown response type: ${JSON.stringify(entry.value)}`);
        else x.responseType = types[t];
        break;
      }
      case "threshold":
      case "response_threshold":
      case "response_max_time":
      case "response_time": {
        const ns = r.duration(entry, lower, false);
        if (ns !== undefined) x.responseThresholdMs = ns / 1e6;
        break;
      }
      case "latency":
      case "account_token_position":
      case "allow_trace":
        r.notYetSupported(entry, `export ${entry.key}`);
        break;
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  if (!kindSeen || x.subject === "") {
    r.error(e, "Export requires a stream or a service subject");
    return undefined;
  }
  return x;
}

function parseImport(r: OptionsReader, e: Entry): ImportEntry | undefined {
  const map = asMap(r, e, "import");
  if (map === undefined) return undefined;
  const x: ImportEntry = { kind: "stream", account: "", subject: "", to: "", prefix: "" };
  let kindSeen = false;
  for (const { lower, entry } of blockEntries(map)) {
    switch (lower) {
      case "stream":
      case "service": {
        if (kindSeen) {
          r.error(entry, "Detected stream and service in the same import");
          return undefined;
        }
        kindSeen = true;
        x.kind = lower;
        const src = asMap(r, entry, `${lower} import`);
        if (src === undefined) return undefined;
        for (const { lower: k, entry: se } of blockEntries(src)) {
          if (k === "account") x.account = r.string(se) ?? "";
          else if (k === "subject") x.subject = r.string(se) ?? "";
          else if (!se.map.usedAsVariable(se.key)) r.unknownField(se);
        }
        break;
      }
      case "prefix":
        x.prefix = r.string(entry) ?? "";
        break;
      case "to":
        x.to = r.string(entry) ?? "";
        break;
      case "share":
      case "allow_trace":
        r.notYetSupported(entry, `import ${entry.key}`);
        break;
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  if (!kindSeen || x.account === "" || x.subject === "") {
    r.error(e, "Import requires a stream or service with an account and a subject");
    return undefined;
  }
  if (x.kind === "service" && x.prefix !== "") {
    r.error(e, "Service imports take 'to', not 'prefix'");
    return undefined;
  }
  return x;
}

function parseAccount(r: OptionsReader, e: Entry): AccountEntry | undefined {
  const acc: AccountEntry = {
    name: e.key,
    nkey: "",
    users: [],
    exports: [],
    imports: [],
    mappings: [],
    jetstream: null,
    defaultPermissions: null,
    limits: { maxConnections: -1, maxSubscriptions: -1, maxPayload: -1 },
  };
  const v = e.value;
  // `accounts { A {} }` or `accounts { A: {} }`; an account may also be given with no block.
  if (!(v instanceof ConfMap)) {
    r.error(e, `Expected map entries for accounts, got ${describe(v)}`);
    return undefined;
  }
  for (const { lower, entry } of blockEntries(v)) {
    switch (lower) {
      case "users":
        acc.users = parseUsers(r, entry, acc.name);
        break;
      case "nkey": {
        const k = r.string(entry) ?? "";
        if (!isPublicKey(k, NKeyPrefix.account)) r.error(entry, "Not a valid public nkey for an account");
        acc.nkey = k;
        break;
      }
      case "exports":
        asList(entry.value).forEach((x, i) => {
          const ex = parseExport(r, elementEntry(entry, x, i));
          if (ex !== undefined) acc.exports.push(ex);
        });
        break;
      case "imports":
        asList(entry.value).forEach((x, i) => {
          const im = parseImport(r, elementEntry(entry, x, i));
          if (im !== undefined) acc.imports.push(im);
        });
        break;
      case "mappings":
      case "maps":
        acc.mappings = parseMappings(r, entry);
        break;
      case "jetstream":
        acc.jetstream = parseAccountJetStream(r, entry);
        break;
      case "default_permissions":
      case "default_permission":
        acc.defaultPermissions = parsePermissions(r, entry) ?? null;
        break;
      case "limits": {
        const lm = asMap(r, entry, "limits");
        if (lm === undefined) break;
        for (const { lower: k, entry: le } of blockEntries(lm)) {
          const n = r.integer(le);
          if (n === undefined) continue;
          if (k === "max_connections" || k === "max_conn") acc.limits.maxConnections = n;
          else if (k === "max_subscriptions" || k === "max_subs") acc.limits.maxSubscriptions = n;
          else if (k === "max_payload" || k === "max_pay") acc.limits.maxPayload = n;
          else if (k === "max_leafnodes" || k === "max_leafs") r.notYetSupported(le, `limits.${le.key}`);
          else if (!le.map.usedAsVariable(le.key)) r.unknownField(le);
        }
        break;
      }
      case "msg_trace":
      case "trace_dest":
        r.notYetSupported(entry, `${e.key}.${entry.key}`);
        break;
      default:
        if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  applyDefaultPermissions(acc.users, acc.defaultPermissions);
  return acc;
}

export const onAccounts: Handler = (r, e) => {
  const map = asMap(r, e, "accounts");
  if (map === undefined) return;
  const accounts: AccountEntry[] = [];
  for (const { entry } of blockEntries(map)) {
    const acc = parseAccount(r, entry);
    if (acc !== undefined) accounts.push(acc);
  }
  // Imports must name a configured account and be authorized by one of its exports.
  const byName = new Map(accounts.map((a) => [a.name, a]));
  const at = { ...e, pos: { ...e.pos, col: 0 } };
  for (const acc of accounts) {
    for (const im of acc.imports) {
      const exporter = byName.get(im.account);
      if (exporter === undefined) {
        r.error(e, `${JSON.stringify(im.account)} account not defined for ${im.kind} import`);
        continue;
      }
      const authorized = exporter.exports.some(
        (x) => x.kind === im.kind && subjectIsSubsetMatch(im.subject, x.subject) && (x.accounts === null || x.accounts.includes(acc.name)),
      );
      if (!authorized) r.error(at, `Error adding ${im.kind} import ${JSON.stringify(im.subject)}: ${im.kind} import not authorized`);
    }
  }
  r.set("accounts", accounts);
  // Users of accounts join the server's users (reference: o.Users = append(o.Users, ...)).
  r.set("users", [...r.opts.users, ...accounts.flatMap((a) => a.users)]);
};

// ---- operator mode -------------------------------------------------------------------------------
// The values are read and checked by auth/jwt/operator_config.ts (the reference's rules and
// texts); here they get the position of the entry they came from.

/** Reports a JwtError of operator_config at `at`; rethrows anything else. */
function jwtConfigError(r: OptionsReader, at: Entry, err: unknown): void {
  if (!(err instanceof JwtError)) throw err;
  r.error(at, err.message);
}

/** `operator`: one JWT file (plain or decorated) or an inline JWT. */
export const onOperator: Handler = (r, e) => {
  try {
    const jwts = operatorValues(e.value).map((v) => readOperatorJwt(v).jwt.trim());
    r.set("operatorJwts", [...r.opts.operatorJwts, ...jwts]);
  } catch (err) {
    jwtConfigError(r, { ...e, pos: { ...e.pos, col: 0 } }, err);
  }
};

export const onTrustedKeys: Handler = (r, e) => {
  try {
    r.set("trustedKeys", parseTrustedKeys(e.value));
  } catch (err) {
    jwtConfigError(r, e, err);
  }
};

export const onResolver: Handler = (r, e) => {
  let config: ResolverConfig;
  try {
    config = parseResolverConfig(e.value instanceof ConfMap ? Object.fromEntries(e.value) : e.value);
  } catch (err) {
    jwtConfigError(r, e, err);
    return;
  }
  switch (config.type) {
    case "url":
      r.notYetSupported(e, "resolver URL(...)");
      return;
    case "cache":
      r.notYetSupported(e, "resolver type cache");
      return;
    case "memory":
      r.set("resolver", { type: "memory", dir: "", allowDelete: false, hardDelete: false, limit: 0 });
      return;
    case "full":
      r.set("resolver", { type: "full", dir: config.dir, allowDelete: config.deleteMode !== DeleteMode.none, hardDelete: config.hardDelete, limit: config.limit });
  }
};

export const onResolverPreload: Handler = (r, e) => {
  const map = asMap(r, e, "resolver_preload");
  if (map === undefined) return;
  const preload = new Map(r.opts.resolverPreload);
  for (const { entry } of blockEntries(map)) {
    try {
      preload.set(entry.key, preloadJwt(entry.value).trim());
    } catch (err) {
      jwtConfigError(r, entry, err);
    }
  }
  r.set("resolverPreload", preload);
};

/**
 * The reference warns "Plaintext passwords detected" when the single user's password or a
 * user's password is not a bcrypt hash (users mapped from TLS certificates may have none).
 */
export function plaintextPasswordsConfigured(opts: { password: string; users: UserEntry[]; tls: { verifyAndMap: boolean } | null }): boolean {
  if (opts.password !== "" && !BCRYPT_PREFIX.test(opts.password)) return true;
  const tlsMap = opts.tls?.verifyAndMap ?? false;
  for (const u of opts.users) {
    if (u.nkey !== "") continue;
    if (u.password === "" && tlsMap) continue;
    if (!BCRYPT_PREFIX.test(u.password)) return true;
  }
  return false;
}
