// What a configuration reload may change, decided as the reference v2.9 decides it
// (server/reload.go): options are compared in the reference's Options field order; the first
// one that changed and cannot be applied live refuses the whole reload with
// `config reload not supported for <Field>: old=<v>, new=<v>` and the running configuration
// stays. Reloadable changes are listed as the reference logs them (`Reloaded: <name> = <v>`).
import { formatDuration } from "./conf_options.ts";
import type { ServerOptions } from "./options.ts";

type Field = keyof ServerOptions;

interface Rule {
  field: Field;
  /** The reference's Options field name, used in the refusal. */
  goName: string;
  /** The config name used in the `Reloaded:` line; null = not reloadable. */
  reloadName: string | null;
  /** How values are printed: plain, or a Go duration from milliseconds. */
  format?: "duration" | "secret";
}

const ms = "duration" as const;

/** In the reference's Options field order (the first refusal reported is the first here). */
const rules: readonly Rule[] = [
  { field: "serverName", goName: "ServerName", reloadName: null },
  { field: "host", goName: "Host", reloadName: null },
  { field: "port", goName: "Port", reloadName: null },
  { field: "clientAdvertise", goName: "ClientAdvertise", reloadName: "client_advertise" },
  { field: "trace", goName: "Trace", reloadName: "trace" },
  { field: "debug", goName: "Debug", reloadName: "debug" },
  { field: "traceVerbose", goName: "TraceVerbose", reloadName: "trace_verbose" },
  { field: "noSublistCache", goName: "NoSublistCache", reloadName: null },
  { field: "noHeaderSupport", goName: "NoHeaderSupport", reloadName: null },
  { field: "disableShortFirstPing", goName: "DisableShortFirstPing", reloadName: null },
  { field: "logtime", goName: "Logtime", reloadName: "logtime" },
  { field: "logtimeUtc", goName: "LogtimeUTC", reloadName: "logtime_utc" },
  { field: "maxConnections", goName: "MaxConn", reloadName: "max_connections" },
  { field: "maxSubscriptions", goName: "MaxSubs", reloadName: null },
  { field: "maxSubTokens", goName: "MaxSubTokens", reloadName: null },
  { field: "username", goName: "Username", reloadName: "authorization username", format: "secret" },
  { field: "password", goName: "Password", reloadName: "authorization password", format: "secret" },
  { field: "authToken", goName: "Authorization", reloadName: "authorization token", format: "secret" },
  { field: "pingIntervalMs", goName: "PingInterval", reloadName: "ping_interval", format: ms },
  { field: "pingMax", goName: "MaxPingsOut", reloadName: "ping_max" },
  { field: "httpHost", goName: "HTTPHost", reloadName: null },
  { field: "httpPort", goName: "HTTPPort", reloadName: null },
  { field: "httpBasePath", goName: "HTTPBasePath", reloadName: null },
  { field: "httpsPort", goName: "HTTPSPort", reloadName: null },
  { field: "authTimeoutMs", goName: "AuthTimeout", reloadName: "authorization timeout" },
  { field: "maxControlLineBytes", goName: "MaxControlLine", reloadName: "max_control_line" },
  { field: "maxPayloadBytes", goName: "MaxPayload", reloadName: "max_payload" },
  { field: "maxPendingBytes", goName: "MaxPending", reloadName: null },
  { field: "jetstream", goName: "JetStream", reloadName: null },
  { field: "jetstreamMaxMemoryBytes", goName: "JetStreamMaxMemory", reloadName: null },
  { field: "jetstreamMaxStoreBytes", goName: "JetStreamMaxStore", reloadName: null },
  { field: "jetstreamDomain", goName: "JetStreamDomain", reloadName: null },
  { field: "jetstreamUniqueTag", goName: "JetStreamUniqueTag", reloadName: null },
  { field: "jetstreamMaxCatchupBytes", goName: "JetStreamMaxCatchup", reloadName: null },
  { field: "storeDir", goName: "StoreDir", reloadName: null },
  { field: "jetstreamSyncIntervalMs", goName: "SyncInterval", reloadName: null, format: ms },
  { field: "jetstreamSyncAlways", goName: "SyncAlways", reloadName: null },
  { field: "pidFile", goName: "PidFile", reloadName: "pid_file" },
  { field: "portsFileDir", goName: "PortsFileDir", reloadName: null },
  { field: "logFile", goName: "LogFile", reloadName: "log_file" },
  { field: "logSizeLimitBytes", goName: "LogSizeLimit", reloadName: null },
  { field: "logMaxFiles", goName: "LogMaxFiles", reloadName: null },
  { field: "syslog", goName: "Syslog", reloadName: "syslog" },
  { field: "remoteSyslog", goName: "RemoteSyslog", reloadName: "remote_syslog" },
  { field: "tlsCertFile", goName: "TLSCert", reloadName: "tls" },
  { field: "tlsKeyFile", goName: "TLSKey", reloadName: "tls" },
  { field: "writeDeadlineMs", goName: "WriteDeadline", reloadName: "write_deadline", format: ms },
  { field: "maxClosedClients", goName: "MaxClosedClients", reloadName: null },
  { field: "lameDuckDurationMs", goName: "LameDuckDuration", reloadName: null, format: ms },
  { field: "lameDuckGracePeriodMs", goName: "LameDuckGracePeriod", reloadName: null, format: ms },
  { field: "maxTracedMsgLen", goName: "MaxTracedMsgLen", reloadName: "max_traced_msg_len" },
  // Security: users and their permissions apply live (clients re-checked); the account
  // structure, operator/JWT settings and TLS are refused until they can be swapped live.
  { field: "users", goName: "Users", reloadName: "authorization users", format: "secret" },
  { field: "defaultPermissions", goName: "DefaultPermissions", reloadName: "default_permissions", format: "secret" },
  { field: "noAuthUser", goName: "NoAuthUser", reloadName: "no_auth_user" },
  { field: "accounts", goName: "Accounts", reloadName: null, format: "secret" },
  { field: "systemAccount", goName: "SystemAccount", reloadName: null },
  { field: "noSystemAccount", goName: "NoSystemAccount", reloadName: null },
  { field: "mappings", goName: "Mappings", reloadName: null, format: "secret" },
  { field: "operatorJwts", goName: "TrustedOperators", reloadName: null, format: "secret" },
  { field: "trustedKeys", goName: "TrustedKeys", reloadName: null, format: "secret" },
  { field: "resolver", goName: "AccountResolver", reloadName: null, format: "secret" },
  { field: "resolverPreload", goName: "ResolverPreload", reloadName: null, format: "secret" },
  { field: "tls", goName: "TLSConfig", reloadName: null, format: "secret" },
];

export interface ReloadChange {
  field: Field;
  /** `Reloaded: …` text, as the reference logs it. */
  text: string;
}

export type ReloadPlan = { ok: true; changes: ReloadChange[] } | { ok: false; error: string };

function show(rule: Rule, v: unknown): string {
  if (rule.format === "duration") return formatDuration((v as number) * 1e6);
  if (rule.field === "authTimeoutMs") return String((v as number) / 1000);
  return String(v);
}

/**
 * Compares the running options with freshly loaded ones. Options not in the table (the
 * config file path, `explicit`, -t) are not compared.
 */
export function planReload(current: ServerOptions, next: ServerOptions): ReloadPlan {
  const changes: ReloadChange[] = [];
  for (const rule of rules) {
    const a = current[rule.field];
    const b = next[rule.field];
    if (a === b || (typeof a === "object" && a !== null && Bun.deepEquals(a, b))) continue;
    if (rule.reloadName === null) {
      if (rule.format === "secret") return { ok: false, error: `config reload not supported for ${rule.goName}` };
      return { ok: false, error: `config reload not supported for ${rule.goName}: old=${show(rule, a)}, new=${show(rule, b)}` };
    }
    const text = rule.format === "secret" ? `Reloaded: ${rule.reloadName}` : `Reloaded: ${rule.reloadName} = ${show(rule, b)}`;
    changes.push({ field: rule.field, text });
  }
  return { ok: true, changes };
}
