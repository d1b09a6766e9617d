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
  // Users lists, permissions and accounts arrive with the security work; until then the config
  // layer refuses them with a clear message.
  username: string;
  password: string;
  authToken: string;

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
