// What a configuration reload may change, decided as the reference v2.9 decides it
// (server/reload.go diffOptions): options are compared in the reference's Options field order;
// the first one that changed and cannot be applied live refuses the whole reload with
// `config reload not supported for <Field>: old=<v>, new=<v>` and the running configuration
// stays. Reloadable changes are listed as the reference logs them (`Reloaded: <name> = <v>`).
//
// Some of our options are several of the reference's fields (`tls` is TLSTimeout, TLSMap,
// TLSConfig and TLSPinnedCerts), some are folded into one of its fields (top-level `mappings`
// are the global account's, part of Accounts): each rule names the options it covers, and a
// unit test checks that every option is covered by a rule.
//
// The reference compares `users` and `accounts` by pointer, so that they differ on every
// reload: it logs `Reloaded: authorization users` and `Reloaded: accounts` every time and
// always re-applies the whole security configuration (accounts, users, permissions, with
// connected clients re-checked). We log and do the same.
import * as C from "../constants.ts";
import { formatDuration } from "./conf_options.ts";
import { authTimeoutMsOf, type ServerOptions, type UserEntry } from "./options.ts";

type Field = keyof ServerOptions;

interface Rule {
  /** The reference's Options field name, used in the refusal. */
  goName: string;
  /** The options this rule compares (a test checks that every option is in some rule). */
  fields: readonly Field[];
  /** The value compared and printed; default: the first field's. */
  value?: (o: ServerOptions) => unknown;
  /** The `Reloaded:` line for the new value; null = not reloadable (refused when changed). */
  reloaded: ((v: unknown) => string) | null;
  /** Printed values in a refusal: a formatter, or null to print none (secrets, structures). */
  show?: ((v: unknown) => string) | null;
  /** Changed on every reload (the reference compares these by pointer). */
  always?: boolean;
  /** A decision of its own, for a value that changed: a refusal text, or "apply" / "ignore". */
  decide?: (current: ServerOptions, next: ServerOptions) => "apply" | "ignore" | { refuse: string };
}

const plain = (v: unknown): string => String(v);
const duration = (v: unknown): string => formatDuration((v as number) * 1e6);
/** Go prints float64 seconds with %v: 3, 1.5. */
const seconds = (v: unknown): string => String((v as number) / 1000);

/** Reloadable, logged as `Reloaded: <name> = <value>`. */
function live(goName: string, field: Field, name: string, show: (v: unknown) => string = plain): Rule {
  return { goName, fields: [field], reloaded: (v) => `Reloaded: ${name} = ${show(v)}`, show };
}

/** Reloadable, logged as `Reloaded: <name>` (the value is a secret or a structure). */
function liveQuiet(goName: string, fields: readonly Field[], name: string, value?: (o: ServerOptions) => unknown): Rule {
  return { goName, fields, value, reloaded: () => `Reloaded: ${name}`, show: null };
}

function refused(goName: string, field: Field, show: ((v: unknown) => string) | null = plain): Rule {
  return { goName, fields: [field], reloaded: null, show };
}

/**
 * The TLS settings of the reference's tls.Config: what a TLS handshake is made with. Its CA
 * pool compares by pointer: with a ca_file, the reference finds TLS changed on every reload.
 */
function tlsConfigOf(o: ServerOptions): unknown {
  const t = o.tls;
  if (t === null) return null;
  const config = { cert: t.cert, key: t.key, ca: t.ca, verify: t.verify, insecure: t.insecure, handshakeFirst: t.handshakeFirst };
  return t.ca === "" ? config : { ...config, differsEveryTime: Symbol() };
}

/**
 * The nkey users. The reference compares them with their account pointers: users of a
 * configured account differ on every reload, users of the global account by content.
 */
function nkeyUsersOf(o: ServerOptions): unknown {
  const users = o.users.filter((u) => u.nkey !== "").sort((a, b) => (a.nkey < b.nkey ? -1 : a.nkey > b.nkey ? 1 : 0));
  return users.map((u: UserEntry) => (u.account === "" ? u : { ...u, differsEveryTime: Symbol() }));
}

/**
 * no_auth_user cannot change, except to be removed together with its user (reference
 * diffOptions "noauthuser"); that removal is applied without a `Reloaded:` line.
 */
function decideNoAuthUser(current: ServerOptions, next: ServerOptions): "ignore" | { refuse: string } {
  const old = current.noAuthUser;
  if (old !== "" && next.noAuthUser === "" && !next.users.some((u) => u.nkey === "" && u.user === old)) return "ignore";
  return { refuse: `config reload not supported for NoAuthUser: old=${old}, new=${next.noAuthUser}` };
}

/** A resolver, compared by pointer as the reference does: one differs on every reload. */
function resolverOf(o: ServerOptions): unknown {
  return o.resolver === null ? null : { ...o.resolver, differsEveryTime: Symbol() };
}

/** Moving to or from a resolver is refused, and so is a changed one (not applied live yet). */
function decideResolver(current: ServerOptions, next: ServerOptions): "apply" | { refuse: string } {
  const a = current.resolver;
  const b = next.resolver;
  if ((a === null) !== (b === null)) return { refuse: "config reload does not support moving to or from an account resolver" };
  if (Bun.deepEquals(a, b)) return "apply";
  return { refuse: "config reload not supported for AccountResolver" };
}

/** In the reference's Options field order (the first refusal reported is the first here). */
const rules: readonly Rule[] = [
  refused("ServerName", "serverName"),
  refused("Host", "host"),
  refused("Port", "port"),
  live("ClientAdvertise", "clientAdvertise", "client_advertise"),
  live("Trace", "trace", "trace"),
  live("Debug", "debug", "debug"),
  live("TraceVerbose", "traceVerbose", "trace_verbose"),
  refused("NoSublistCache", "noSublistCache"),
  refused("NoHeaderSupport", "noHeaderSupport"),
  refused("DisableShortFirstPing", "disableShortFirstPing"),
  live("Logtime", "logtime", "logtime"),
  live("LogtimeUTC", "logtimeUtc", "logtime_utc"),
  live("MaxConn", "maxConnections", "max_connections"),
  refused("MaxSubs", "maxSubscriptions"),
  refused("MaxSubTokens", "maxSubTokens"),
  // Security: users, permissions and accounts apply live (clients re-checked: Server.recheckClients).
  liveQuiet("Nkeys", [], "authorization nkey users", nkeyUsersOf),
  { ...liveQuiet("Users", ["users", "defaultPermissions"], "authorization users"), always: true },
  { ...liveQuiet("Accounts", ["accounts", "mappings"], "accounts"), always: true },
  { goName: "NoAuthUser", fields: ["noAuthUser"], reloaded: null, decide: decideNoAuthUser },
  refused("SystemAccount", "systemAccount"),
  refused("NoSystemAccount", "noSystemAccount"),
  liveQuiet("Username", ["username"], "authorization username"),
  liveQuiet("Password", ["password"], "authorization password"),
  liveQuiet("Authorization", ["authToken"], "authorization token"),
  live("PingInterval", "pingIntervalMs", "ping_interval", duration),
  live("MaxPingsOut", "pingMax", "ping_max"),
  refused("HTTPHost", "httpHost"),
  refused("HTTPPort", "httpPort"),
  refused("HTTPBasePath", "httpBasePath"),
  refused("HTTPSPort", "httpsPort"),
  // With TLS and no explicit timeout, the authorization timeout is the TLS timeout plus a second.
  { ...live("AuthTimeout", "authTimeoutMs", "authorization timeout", seconds), value: authTimeoutMsOf },
  live("MaxControlLine", "maxControlLineBytes", "max_control_line"),
  live("MaxPayload", "maxPayloadBytes", "max_payload"),
  refused("MaxPending", "maxPendingBytes"),
  refused("JetStream", "jetstream"),
  refused("JetStreamMaxMemory", "jetstreamMaxMemoryBytes"),
  refused("JetStreamMaxStore", "jetstreamMaxStoreBytes"),
  refused("JetStreamDomain", "jetstreamDomain"),
  refused("JetStreamUniqueTag", "jetstreamUniqueTag"),
  refused("JetStreamMaxCatchup", "jetstreamMaxCatchupBytes"),
  refused("StoreDir", "storeDir"),
  refused("SyncInterval", "jetstreamSyncIntervalMs", duration),
  refused("SyncAlways", "jetstreamSyncAlways"),
  live("PidFile", "pidFile", "pid_file"),
  refused("PortsFileDir", "portsFileDir"),
  live("LogFile", "logFile", "log_file"),
  refused("LogSizeLimit", "logSizeLimitBytes"),
  refused("LogMaxFiles", "logMaxFiles"),
  live("Syslog", "syslog", "syslog"),
  live("RemoteSyslog", "remoteSyslog", "remote_syslog"),
  // TLS: the settings of new connections (existing ones keep their session).
  { ...live("TLSTimeout", "tls", "tls timeout", seconds), value: (o) => o.tls?.timeoutMs ?? C.tlsTimeoutMs },
  { ...refused("TLSMap", "tls"), value: (o) => o.tls?.verifyAndMap ?? false },
  refused("TLSCert", "tlsCertFile"),
  refused("TLSKey", "tlsKeyFile"),
  { goName: "TLSConfig", fields: ["tls"], value: tlsConfigOf, reloaded: (v) => `Reloaded: tls = ${v === null ? "disabled" : "enabled"}`, show: null },
  { goName: "TLSPinnedCerts", fields: ["tls"], value: (o) => [...(o.tls?.pinnedCerts ?? [])].sort(), reloaded: (v) => `Reloaded: ${(v as string[]).length} pinned_certs`, show: null },
  live("WriteDeadline", "writeDeadlineMs", "write_deadline", duration),
  refused("MaxClosedClients", "maxClosedClients"),
  refused("LameDuckDuration", "lameDuckDurationMs", duration),
  refused("LameDuckGracePeriod", "lameDuckGracePeriodMs", duration),
  live("MaxTracedMsgLen", "maxTracedMsgLen", "max_traced_msg_len"),
  // Operator mode: its keys and accounts cannot change live (yet); see the README.
  refused("TrustedKeys", "trustedKeys", null),
  refused("TrustedOperators", "operatorJwts", null),
  { goName: "AccountResolver", fields: ["resolver"], value: resolverOf, reloaded: () => "Reloaded: accounts", show: null, decide: decideResolver },
  refused("ResolverPreload", "resolverPreload", null),
];

/** The options each rule covers (for the test that every option is compared). */
export const reloadRuleFields: readonly (readonly Field[])[] = rules.map((r) => r.fields);

export interface ReloadChange {
  /** The options of the rule that produced it. */
  fields: readonly Field[];
  /** `Reloaded: …` text, as the reference logs it. */
  text: string;
}

export type ReloadPlan = { ok: true; changes: ReloadChange[] } | { ok: false; error: string };

function valueOf(rule: Rule, o: ServerOptions): unknown {
  return rule.value !== undefined ? rule.value(o) : o[rule.fields[0]];
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && a !== null && Bun.deepEquals(a, b));
}

/**
 * Compares the running options with freshly loaded ones. Options not in the table (the
 * config file path, `explicit`, -t) are not compared.
 */
export function planReload(current: ServerOptions, next: ServerOptions): ReloadPlan {
  const changes: ReloadChange[] = [];
  for (const rule of rules) {
    const a = valueOf(rule, current);
    const b = valueOf(rule, next);
    if (rule.always !== true && same(a, b)) continue;
    if (rule.decide !== undefined) {
      const d = rule.decide(current, next);
      if (d === "ignore") continue;
      if (d !== "apply") return { ok: false, error: d.refuse };
    } else if (rule.reloaded === null) {
      const show = rule.show === undefined ? plain : rule.show;
      if (show === null) return { ok: false, error: `config reload not supported for ${rule.goName}` };
      return { ok: false, error: `config reload not supported for ${rule.goName}: old=${show(a)}, new=${show(b)}` };
    }
    changes.push({ fields: rule.fields, text: rule.reloaded!(b) });
  }
  return { ok: true, changes };
}
