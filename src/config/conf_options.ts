// Maps a parsed config file onto ServerOptions, the way the reference's processConfigFileLine
// does: keys case-insensitive with the reference's aliases, every error collected with its
// `file:line:col`, reported together (warnings first, then errors), in file order.
//
// Three kinds of keys:
//   - implemented: mapped onto ServerOptions and recorded in `opts.explicit` (by field name);
//   - known to the reference but not implemented yet (cluster, tls, accounts, …): refused with
//     `"<key>" is not yet supported by nats-bun`, never silently ignored;
//   - unknown: `unknown field "<key>"`, the reference's pedantic error — except keys that were
//     used as `$variables`, which the reference also accepts.
//
// Zero means "the default" for the limits the reference fills in when zero (setBaselineOptions):
// `max_payload: 0` gives the default max payload, `port: 0` the default port (-1 = random).
//
// Durations are Go duration strings ("2m", "1h30m", "250ms"); for ping_interval and
// write_deadline a bare number is taken as seconds with the reference's warning.
import * as C from "../constants.ts";
import { ConfigError, ConfMap, parseConfigFile, type ConfValue } from "./conf_parser.ts";
import { blockEntries, describe, formatDuration, OptionsReader, positionOf, type BoolField, type Entry, type Handler, type NumberField, type StringField } from "./conf_reader.ts";

import { decodeOperatorClaims } from "../auth/jwt/decode.ts";
import { checkOperatorMode } from "../auth/jwt/operator_config.ts";
import { onAccounts, onAuthorization, onMappings, onOperator, onResolver, onResolverPreload, onTrustedKeys } from "./conf_auth.ts";
import { onTls } from "./conf_tls.ts";

export { formatDuration, parseDuration } from "./conf_reader.ts";
import type { ServerOptions } from "./options.ts";

export interface ApplyConfigOptions {
  /** Environment for `$VARIABLE` fallback; defaults to process.env (injected by tests). */
  env?: Record<string, string | undefined>;
}

/**
 * Applies the config file at `path` onto `opts` and returns the warnings. Throws ConfigError
 * when the file cannot be read or parsed, or when any key is wrong; its message lists every
 * warning and error, one per line, and `all` holds the errors.
 */
export function applyConfigFile(opts: ServerOptions, path: string, options: ApplyConfigOptions = {}): string[] {
  const map = parseConfigFile(path, { env: options.env });
  opts.configFile = path;
  return applyConfigMap(opts, map);
}

/** Applies an already parsed top-level map (see applyConfigFile). */
export function applyConfigMap(opts: ServerOptions, map: ConfMap): string[] {
  const reader = new OptionsReader(opts);
  for (const [key, value] of map) {
    const entry: Entry = { key, value, pos: positionOf(map, key), map };
    const lower = key.toLowerCase();
    const handler = topLevelHandlers.get(lower);
    if (handler) handler(reader, entry);
    else if (notYetSupportedTopLevelKeys.has(lower)) reader.notYetSupported(entry, key);
    else if (!map.usedAsVariable(key)) reader.unknownField(entry);
  }
  if (reader.errors.length > 0) throw ConfigError.combine(reader.errors, reader.warnings);
  return reader.warnings;
}

/**
 * Checks between options that the reference makes when creating the server (validateOptions),
 * after the file and the flags are merged. Returns the error text, or null when consistent.
 */
export function validateOptions(opts: ServerOptions): string | null {
  if (opts.lameDuckDurationMs > 0 && opts.lameDuckGracePeriodMs >= opts.lameDuckDurationMs) {
    return (
      `lame duck grace period (${formatDuration(opts.lameDuckGracePeriodMs * 1e6)}) should be strictly lower than ` +
      `lame duck duration (${formatDuration(opts.lameDuckDurationMs * 1e6)})`
    );
  }
  if (opts.maxPayloadBytes > opts.maxPendingBytes) {
    return `max_payload (${opts.maxPayloadBytes}) cannot be higher than max_pending (${opts.maxPendingBytes})`;
  }
  const operatorProblem = checkOperatorMode({
    operators: opts.operatorJwts.map((jwt) => decodeOperatorClaims(jwt)),
    trustedKeys: opts.trustedKeys,
    resolver: opts.resolver,
    hasPreload: opts.resolverPreload.size > 0,
    hasAccounts: opts.accounts.length > 0,
    hasUsers: opts.users.length > 0 || opts.username !== "" || opts.authToken !== "",
    systemAccount: opts.systemAccount,
  });
  if (operatorProblem !== null) return operatorProblem;
  const seen = new Set<string>();
  for (const u of opts.users) {
    const id = u.nkey !== "" ? u.nkey : u.user;
    if (seen.has(id)) return u.nkey !== "" ? `Duplicate nkey ${JSON.stringify(id)} detected` : `Duplicate user ${JSON.stringify(id)} detected`;
    seen.add(id);
  }
  if (opts.noAuthUser !== "" && !opts.users.some((u) => u.nkey === "" && u.user === opts.noAuthUser)) {
    return `no_auth_user: ${JSON.stringify(opts.noAuthUser)} not present as user in authorization block or account configuration`;
  }
  if (opts.systemAccount !== "" && opts.operatorJwts.length === 0 && opts.systemAccount !== C.systemAccountName && !opts.accounts.some((a) => a.name === opts.systemAccount)) {
    return `system account ${JSON.stringify(opts.systemAccount)} not defined`;
  }
  return null;
}

/**
 * Top-level keys the reference knows (processConfigFileLine of v2.9.10 and later releases) that
 * nats-bun does not implement yet. Lower case; aliases listed separately.
 */
export const notYetSupportedTopLevelKeys: ReadonlySet<string> = new Set([
  "default_sentinel", "resolver_tls", "resolver_pinned_accounts",
  "allow_non_tls", "ocsp", "ocsp_cache", "proxy_protocol", "proxies",
  "cluster", "gateway", "leaf", "leafnodes", "websocket", "ws", "mqtt",
  "connect_error_reports", "reconnect_error_reports",
  "server_tags", "server_metadata", "default_js_domain", "trace_headers", "write_timeout", "no_fast_producer_stall",
  "prof_port", "prof_block_rate", "feature_flags",
]);

// ---- handlers ------------------------------------------------------------------------------

function stringInto(field: StringField): Handler {
  return (r, e) => {
    const v = r.string(e);
    if (v !== undefined) r.set(field, v);
  };
}

function boolInto(field: BoolField): Handler {
  return (r, e) => {
    const v = r.bool(e);
    if (v !== undefined) r.set(field, v);
  };
}

/** An integer option; `zeroDefault` is what 0 stands for, when the reference treats 0 as unset. */
function intInto(field: NumberField, zeroDefault?: number): Handler {
  return (r, e) => {
    const v = r.integer(e);
    if (v !== undefined) r.set(field, v === 0 && zeroDefault !== undefined ? zeroDefault : v);
  };
}

/** max_control_line / max_payload: stored by the reference in an int32. */
function int32Into(field: NumberField, zeroDefault: number): Handler {
  return (r, e) => {
    const v = r.integer(e);
    if (v === undefined) return;
    if (v > 2 ** 31 - 1) {
      r.error(e, `${e.key} value is too big`);
      return;
    }
    r.set(field, v === 0 ? zeroDefault : v);
  };
}

/** ping_interval / write_deadline: durations, or seconds with a warning. */
function durationInto(field: NumberField, name: string, zeroDefault: number): Handler {
  return (r, e) => {
    const ns = r.duration(e, name, true);
    if (ns !== undefined) r.set(field, ns === 0 ? zeroDefault : ns / 1e6);
  };
}

/** Go's net.SplitHostPort, enough for `host:port`, `:port` and `[v6]:port`. */
function splitHostPort(text: string): { host: string; port: string } | null {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return null;
    return { host: text.slice(1, close), port: text.slice(close + 2) };
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0 || text.slice(0, colon).includes(":")) return null;
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** `listen`, `http`, `https`: a port, or "host:port" (the reference's parseListen). */
function listenValue(r: OptionsReader, e: Entry): { host?: string; port: number } | undefined {
  if (typeof e.value === "number" && Number.isInteger(e.value)) return { port: e.value };
  if (typeof e.value !== "string") {
    r.error(e, `expected port or host:port, got ${describe(e.value)}`);
    return undefined;
  }
  const hp = splitHostPort(e.value);
  if (!hp) {
    r.error(e, `could not parse address string ${JSON.stringify(e.value)}`);
    return undefined;
  }
  if (!/^[+-]?[0-9]+$/.test(hp.port)) {
    r.error(e, `could not parse port ${JSON.stringify(hp.port)}`);
    return undefined;
  }
  return { host: hp.host, port: Number(hp.port) };
}

function clientPort(port: number): number {
  return port === 0 ? C.defaultPort : port;
}

const onListen: Handler = (r, e) => {
  const hp = listenValue(r, e);
  if (!hp) return;
  if (hp.host !== undefined) r.set("host", hp.host === "" ? C.defaultHost : hp.host);
  r.set("port", clientPort(hp.port));
};

function onMonitorListen(portField: "httpPort" | "httpsPort"): Handler {
  return (r, e) => {
    const hp = listenValue(r, e);
    if (!hp) return;
    if (hp.host !== undefined) r.set("httpHost", hp.host);
    r.set(portField, hp.port);
  };
}

const onStoreDir: Handler = (r, e) => {
  const v = r.string(e);
  if (v === undefined) return;
  if (r.storeDirSet) {
    r.error(e, "Duplicate 'store_dir' configuration");
    return;
  }
  r.storeDirSet = true;
  r.set("storeDir", v);
};

const onMaxSubTokens: Handler = (r, e) => {
  const v = r.integer(e);
  if (v === undefined) return;
  if (v > 255) r.error(e, `${e.key} value is too big`);
  else if (v <= 0) r.error(e, `${e.key} value can not be negative`);
  else r.set("maxSubTokens", v);
};

const onTraceVerbose: Handler = (r, e) => {
  const v = r.bool(e);
  if (v === undefined) return;
  // As the reference: verbose tracing implies tracing (and turning it off turns both off).
  r.set("traceVerbose", v);
  r.set("trace", v);
};

const onLameDuckDuration: Handler = (r, e) => {
  const ns = r.duration(e, "lame_duck_duration", false);
  if (ns === undefined) return;
  if (ns < 30e9) {
    r.error(e, `invalid lame_duck_duration of ${formatDuration(ns)}, minimum is 30 seconds`);
    return;
  }
  r.set("lameDuckDurationMs", ns / 1e6);
};

const onLameDuckGracePeriod: Handler = (r, e) => {
  const ns = r.duration(e, "lame_duck_grace_period", false);
  if (ns === undefined) return;
  if (ns < 0) {
    r.error(e, "invalid lame_duck_grace_period, needs to be positive");
    return;
  }
  r.set("lameDuckGracePeriodMs", ns === 0 ? C.lameDuckGracePeriodMs : ns / 1e6);
};


/** JetStream storage sizes: an integer (units already applied) or "<n>K|M|G|T" (powers of 1024). */
function storageSize(v: ConfValue): number | string {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v !== "string") return "must be int64 or string";
  if (v === "") return 0;
  const prefix = v.slice(0, -1);
  const shift = new Map([["K", 10], ["M", 20], ["G", 30], ["T", 40]]);
  if (!/^[+-]?[0-9]+$/.test(prefix)) return `strconv.ParseInt: parsing ${JSON.stringify(prefix)}: invalid syntax`;
  const bits = shift.get(v.slice(-1));
  if (bits === undefined) return "sizes defined as strings must end in K, M, G, T";
  return Number(prefix) * 2 ** bits;
}

const jetstreamNotYetSupported = new Set([
  "key", "ek", "encryption_key", "prev_key", "cipher", "extension_hint", "limits", "strict", "tpm",
  "max_buffered_size", "max_buffered_msgs", "request_queue_limit", "info_queue_limit",
]);

const onJetStream: Handler = (r, e) => {
  const v = e.value;
  if (typeof v === "boolean") {
    r.set("jetstream", v);
    return;
  }
  if (typeof v === "string") {
    const word = v.toLowerCase();
    if (word === "enabled" || word === "enable") r.set("jetstream", true);
    else if (word === "disabled" || word === "disable") r.set("jetstream", false);
    else r.error(e, `Expected 'enabled' or 'disabled' for string value, got '${v}'`);
    return;
  }
  if (!(v instanceof ConfMap)) {
    r.error(e, `Expected map, bool or string to define JetStream, got ${describe(v)}`);
    return;
  }
  let enable = true;
  for (const { lower, entry } of blockEntries(v)) {
    switch (lower) {
      case "store":
      case "store_dir":
      case "storedir":
        onStoreDir(r, entry);
        break;
      case "max_memory_store":
      case "max_mem_store":
      case "max_mem": {
        const size = storageSize(entry.value);
        if (typeof size === "string") r.error(entry, `max_mem_store ${size}`);
        else r.set("jetstreamMaxMemoryBytes", size);
        break;
      }
      case "max_file_store":
      case "max_file": {
        const size = storageSize(entry.value);
        if (typeof size === "string") r.error(entry, `max_file_store ${size}`);
        else r.set("jetstreamMaxStoreBytes", size);
        break;
      }
      case "max_outstanding_catchup": {
        const size = storageSize(entry.value);
        if (typeof size === "string") r.error(entry, `${lower} ${size}`);
        else r.set("jetstreamMaxCatchupBytes", size);
        break;
      }
      case "domain": {
        const domain = r.string(entry);
        if (domain !== undefined) r.set("jetstreamDomain", domain);
        break;
      }
      case "unique_tag": {
        const tag = r.string(entry);
        if (tag !== undefined) r.set("jetstreamUniqueTag", tag.trim().toLowerCase());
        break;
      }
      case "enable":
      case "enabled":
        enable = r.bool(entry) ?? enable;
        break;
      case "sync":
      case "sync_interval": {
        if (typeof entry.value === "string" && entry.value.toLowerCase() === "always") {
          r.set("jetstreamSyncAlways", true);
          break;
        }
        const ns = r.duration(entry, lower, false);
        if (ns !== undefined) r.set("jetstreamSyncIntervalMs", ns / 1e6);
        break;
      }
      default:
        if (jetstreamNotYetSupported.has(lower)) r.notYetSupported(entry, `${e.key}.${entry.key}`);
        else if (!entry.map.usedAsVariable(entry.key)) r.unknownField(entry);
    }
  }
  r.set("jetstream", enable);
};

/** Implemented top-level keys (lower case) with the reference's aliases. */
const topLevelHandlers: ReadonlyMap<string, Handler> = new Map(Object.entries({
  listen: onListen,
  host: stringInto("host"),
  net: stringInto("host"),
  port: (r, e) => {
    const v = r.integer(e);
    if (v !== undefined) r.set("port", clientPort(v));
  },
  server_name: stringInto("serverName"),
  client_advertise: stringInto("clientAdvertise"),

  debug: boolInto("debug"),
  trace: boolInto("trace"),
  trace_verbose: onTraceVerbose,
  logtime: boolInto("logtime"),
  logtime_utc: boolInto("logtimeUtc"),
  logfile: stringInto("logFile"),
  log_file: stringInto("logFile"),
  logfile_size_limit: intInto("logSizeLimitBytes"),
  log_size_limit: intInto("logSizeLimitBytes"),
  logfile_max_num: intInto("logMaxFiles"),
  log_max_num: intInto("logMaxFiles"),
  max_traced_msg_len: intInto("maxTracedMsgLen"),
  syslog: boolInto("syslog"),
  remote_syslog: stringInto("remoteSyslog"),
  pidfile: stringInto("pidFile"),
  pid_file: stringInto("pidFile"),
  ports_file_dir: stringInto("portsFileDir"),

  max_control_line: int32Into("maxControlLineBytes", C.maxControlLineBytes),
  max_payload: int32Into("maxPayloadBytes", C.maxPayloadBytes),
  max_pending: intInto("maxPendingBytes", C.maxPendingBytes),
  max_connections: intInto("maxConnections", C.maxConnections),
  max_conn: intInto("maxConnections", C.maxConnections),
  max_subscriptions: intInto("maxSubscriptions"),
  max_subs: intInto("maxSubscriptions"),
  max_sub_tokens: onMaxSubTokens,
  max_subscription_tokens: onMaxSubTokens,
  max_closed_clients: intInto("maxClosedClients", C.maxClosedClients),
  ping_interval: durationInto("pingIntervalMs", "ping_interval", C.pingIntervalMs),
  ping_max: intInto("pingMax", C.pingMaxOutstanding),
  write_deadline: durationInto("writeDeadlineMs", "write_deadline", C.writeDeadlineMs),
  lame_duck_duration: onLameDuckDuration,
  lame_duck_grace_period: onLameDuckGracePeriod,
  no_header_support: boolInto("noHeaderSupport"),
  disable_sublist_cache: boolInto("noSublistCache"),
  no_sublist_cache: boolInto("noSublistCache"),

  http: onMonitorListen("httpPort"),
  https: onMonitorListen("httpsPort"),
  http_port: intInto("httpPort"),
  monitor_port: intInto("httpPort"),
  https_port: intInto("httpsPort"),
  http_base_path: stringInto("httpBasePath"),

  jetstream: onJetStream,
  store_dir: onStoreDir,
  storedir: onStoreDir,
  tls: onTls,

  authorization: onAuthorization,
  accounts: onAccounts,
  mappings: onMappings,
  maps: onMappings,
  no_auth_user: stringInto("noAuthUser"),
  system_account: stringInto("systemAccount"),
  system: stringInto("systemAccount"),
  no_system_account: boolInto("noSystemAccount"),
  no_system: boolInto("noSystemAccount"),
  no_sys_acc: boolInto("noSystemAccount"),
  operator: onOperator,
  operators: onOperator,
  root: onOperator,
  roots: onOperator,
  root_operator: onOperator,
  root_operators: onOperator,
  trusted: onTrustedKeys,
  trusted_keys: onTrustedKeys,
  resolver: onResolver,
  account_resolver: onResolver,
  accounts_resolver: onResolver,
  resolver_preload: onResolverPreload,
}));
