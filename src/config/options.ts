// The server's resolved options: defaults, then the config file, then command-line flags
// (flags win, as in the reference). Field names are ours (camelCase, unit last); the config
// keys that set them are the reference's (see config/conf_options.ts).
import * as C from "../constants.ts";

export interface ServerOptions {
  /** Path of the config file, if any (for reload and error messages). */
  configFile: string;
  serverName: string;
  host: string;
  /** -1 = random free port. */
  port: number;
  clientAdvertise: string;

  // Logging
  debug: boolean;
  trace: boolean;
  traceVerbose: boolean;
  logtime: boolean;
  logtimeUtc: boolean;
  logFile: string;
  logSizeLimitBytes: number;
  logMaxFiles: number;
  maxTracedMsgLen: number;
  syslog: boolean;
  remoteSyslog: string;
  pidFile: string;
  portsFileDir: string;

  // Client limits
  maxConnections: number;
  maxSubscriptions: number;
  maxSubTokens: number;
  maxControlLineBytes: number;
  maxPayloadBytes: number;
  maxPendingBytes: number;
  pingIntervalMs: number;
  pingMax: number;
  writeDeadlineMs: number;
  authTimeoutMs: number;
  maxClosedClients: number;
  lameDuckDurationMs: number;
  lameDuckGracePeriodMs: number;
  noHeaderSupport: boolean;
  noSublistCache: boolean;
  disableShortFirstPing: boolean;

  // Single-user authorization from flags or `authorization { user, password, token, timeout }`.
  username: string;
  password: string;
  authToken: string;
  /** `authorization { users: [...] }` (user/password and nkey users of the global account). */
  users: UserEntry[];
  /** `authorization { default_permissions }`: for users that have none of their own. */
  defaultPermissions: Permissions | null;
  /** A connection without credentials acts as this user (`no_auth_user`). */
  noAuthUser: string;
  /** `accounts { … }` in file order. */
  accounts: AccountEntry[];
  /** `system_account`; "" = the default `$SYS`. */
  systemAccount: string;
  noSystemAccount: boolean;
  /** Top-level `mappings` (subject mappings of the global account). */
  mappings: MappingEntry[];

  // Decentralised (JWT) authentication
  /** Operator JWTs (contents), from files or inline. */
  operatorJwts: string[];
  trustedKeys: string[];
  resolver: ResolverOptions | null;
  /** `resolver_preload { <account public key>: <jwt> }`. */
  resolverPreload: Map<string, string>;

  /** `tls { … }` for client connections; null = plain TCP. */
  tls: TlsOptions | null;

  // Monitoring
  httpHost: string;
  httpPort: number;
  httpsPort: number;
  httpBasePath: string;
  /**
   * Certificate and key of the `tls {}` block, which the HTTPS monitor (`https`,
   * `https_port`) serves with. Filled in by the TLS configuration (security work).
   */
  tlsCertFile: string;
  tlsKeyFile: string;

  // JetStream
  jetstream: boolean;
  storeDir: string;
  /** `jetstream { max_memory_store }`; -1 = derive from the machine, as the reference. */
  jetstreamMaxMemoryBytes: number;
  /** `jetstream { max_file_store }`; -1 = derive from the disk, as the reference. */
  jetstreamMaxStoreBytes: number;
  jetstreamDomain: string;
  /** `jetstream { unique_tag }`, lower-cased and trimmed as the reference does. */
  jetstreamUniqueTag: string;
  /** `jetstream { sync_interval }`; 0 = the store's default. */
  jetstreamSyncIntervalMs: number;
  /** `jetstream { sync_interval: always }`: flush to disk after every write. */
  jetstreamSyncAlways: boolean;
  /** `jetstream { max_outstanding_catchup }`; 0 = the default. */
  jetstreamMaxCatchupBytes: number;

  /** Set by -t: check the configuration and exit. */
  checkConfig: boolean;

  /**
   * Names of the fields above that the config file or a flag set (e.g. "port", "maxPayloadBytes"),
   * so that reload and flags-over-file know what was given explicitly.
   */
  explicit: Set<string>;
}

export function defaultOptions(): ServerOptions {
  return {
    configFile: "",
    serverName: "",
    host: C.defaultHost,
    port: C.defaultPort,
    clientAdvertise: "",
    debug: false,
    trace: false,
    traceVerbose: false,
    logtime: true,
    logtimeUtc: false,
    logFile: "",
    logSizeLimitBytes: 0,
    logMaxFiles: 0,
    maxTracedMsgLen: 0,
    syslog: false,
    remoteSyslog: "",
    pidFile: "",
    portsFileDir: "",
    maxConnections: C.maxConnections,
    maxSubscriptions: C.maxSubscriptions,
    maxSubTokens: 0,
    maxControlLineBytes: C.maxControlLineBytes,
    maxPayloadBytes: C.maxPayloadBytes,
    maxPendingBytes: C.maxPendingBytes,
    pingIntervalMs: C.pingIntervalMs,
    pingMax: C.pingMaxOutstanding,
    writeDeadlineMs: C.writeDeadlineMs,
    authTimeoutMs: C.authTimeoutMs,
    maxClosedClients: C.maxClosedClients,
    lameDuckDurationMs: C.lameDuckDurationMs,
    lameDuckGracePeriodMs: C.lameDuckGracePeriodMs,
    noHeaderSupport: false,
    noSublistCache: false,
    disableShortFirstPing: false,
    username: "",
    password: "",
    authToken: "",
    users: [],
    defaultPermissions: null,
    noAuthUser: "",
    accounts: [],
    systemAccount: "",
    noSystemAccount: false,
    mappings: [],
    operatorJwts: [],
    trustedKeys: [],
    resolver: null,
    resolverPreload: new Map(),
    tls: null,
    httpHost: "",
    httpPort: 0,
    httpsPort: 0,
    httpBasePath: "/",
    tlsCertFile: "",
    tlsKeyFile: "",
    jetstream: false,
    storeDir: "",
    jetstreamMaxMemoryBytes: -1,
    jetstreamMaxStoreBytes: -1,
    jetstreamDomain: "",
    jetstreamUniqueTag: "",
    jetstreamSyncIntervalMs: 0,
    jetstreamSyncAlways: false,
    jetstreamMaxCatchupBytes: 0,
    checkConfig: false,
    explicit: new Set(),
  };
}

/**
 * The authorization timeout in force: without an explicit one, TLS clients get the TLS
 * timeout plus a second (the reference's getDefaultAuthTimeout).
 */
export function authTimeoutMsOf(opts: ServerOptions): number {
  if (opts.tls !== null && !opts.explicit.has("authTimeoutMs")) return opts.tls.timeoutMs + 1000;
  return opts.authTimeoutMs;
}

// ---- Security (config shapes; enforced by auth/ and server/) -------------------------------

/** `tls { … }` of the client listener. Files are read when the config is applied. */
export interface TlsOptions {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** PEM contents of the files above ("" when not given). */
  cert: string;
  key: string;
  ca: string;
  /** Require and verify a client certificate. */
  verify: boolean;
  /** verify, and map the certificate's email / DNS name / URI / subject to a user. */
  verifyAndMap: boolean;
  /** Accepted but unused (the reference uses it for outgoing connections). */
  insecure: boolean;
  timeoutMs: number;
  /** TLS before the INFO (`handshake_first`, a 2.10 option). */
  handshakeFirst: boolean;
  /** Hex SHA-256 of the allowed client certificates (DER), lower case; empty = any. */
  pinnedCerts: string[];
}

/** `allow`/`deny` lists of one direction; null = not given (allow: everything; deny: nothing). */
export interface SubjectPermission {
  allow: string[] | null;
  deny: string[] | null;
}

/** `allow_responses`: publish to the reply subjects of received requests. */
export interface ResponsePermission {
  /** Responses per request; 0 = unlimited. */
  maxMsgs: number;
  /** How long after the request; 0 = forever. */
  expiresMs: number;
}

export interface Permissions {
  publish: SubjectPermission | null;
  subscribe: SubjectPermission | null;
  response: ResponsePermission | null;
}

/** One entry of `users [...]`: user/password or nkey. */
export interface UserEntry {
  user: string;
  password: string;
  nkey: string;
  permissions: Permissions | null;
  /** Account name; "" = the global account. */
  account: string;
  /** `allowed_connection_types` (upper case); null = any. */
  allowedConnectionTypes: string[] | null;
}

export type ResponseType = "Singleton" | "Stream" | "Chunked";

export interface ExportEntry {
  kind: "stream" | "service";
  subject: string;
  /** Accounts allowed to import; null = public. */
  accounts: string[] | null;
  responseType: ResponseType;
  /** Service responses are accepted this long after the request (`threshold`). */
  responseThresholdMs: number;
}

export interface ImportEntry {
  kind: "stream" | "service";
  /** Exporting account (name, or public key in operator mode). */
  account: string;
  /** The subject as exported. */
  subject: string;
  /** Local subject (service `to`; stream `to`). "" = same as `subject`. */
  to: string;
  /** Stream import `prefix` (the local subject is `<prefix>.<subject>`). */
  prefix: string;
}

export interface MappingDestination {
  subject: string;
  /** Percentage 0–100. */
  weight: number;
  cluster: string;
}

export interface MappingEntry {
  source: string;
  destinations: MappingDestination[];
}

/** Per-account JetStream limits; -1 = unlimited. */
export interface AccountJetStreamLimits {
  maxMemory: number;
  maxStore: number;
  maxStreams: number;
  maxConsumers: number;
}

/** Per-account connection limits (`limits {}` in an account); -1 = unlimited. */
export interface AccountLimits {
  maxConnections: number;
  maxSubscriptions: number;
  maxPayload: number;
}

export interface AccountEntry {
  name: string;
  /** Account public key (`nkey`), if given. */
  nkey: string;
  users: UserEntry[];
  exports: ExportEntry[];
  imports: ImportEntry[];
  mappings: MappingEntry[];
  /** `jetstream: enabled` (all -1), limits, or null (disabled, or not given). */
  jetstream: AccountJetStreamLimits | null;
  defaultPermissions: Permissions | null;
  limits: AccountLimits;
}

export interface ResolverOptions {
  type: "memory" | "full" | "cache";
  dir: string;
  allowDelete: boolean;
  hardDelete: boolean;
  /** `limit`: maximum number of account JWTs kept. */
  limit: number;
}
