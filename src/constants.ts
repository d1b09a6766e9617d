// Every default and limit of the server, named with its unit. Values follow the reference
// nats-server (server/const.go, opts.go setBaselineOptions) unless a comment says otherwise.

/** The reference nats-server release whose behaviour we implement; sent as INFO `version`. */
export const referenceVersion = "2.9.10";
/** Our own release, sent as the extra INFO field `nats_bun`, printed by --version and in /varz. */
export const natsBunVersion = "0.1.0";
/** Protocol level: 1 = echo control and asynchronous INFO. */
export const protocolLevel = 1;

export const defaultPort = 4222;
export const randomPort = -1;
export const defaultHost = "0.0.0.0";
export const defaultHttpPort = 8222;

export const maxControlLineBytes = 4096;
export const maxPayloadBytes = 1024 * 1024;
/** The reference warns when max_payload is set above this. */
export const maxPayloadWarnBytes = 8 * 1024 * 1024;
export const maxPendingBytes = 64 * 1024 * 1024;
export const maxConnections = 64 * 1024;
/** 0 = unlimited. */
export const maxSubscriptions = 0;

export const authTimeoutMs = 2_000;
export const tlsTimeoutMs = 2_000;
export const pingIntervalMs = 2 * 60_000;
/** The first PING to a client goes out early (reference firstClientPingInterval). */
export const firstClientPingIntervalMs = 2_000;
export const pingMaxOutstanding = 2;
export const writeDeadlineMs = 10_000;
/**
 * A connection found over its subscription limit when its limits are applied (a JWT login,
 * an account update) gets its -ERR after the current input and is closed this much later
 * (the reference's applyAccountLimits).
 */
export const maxSubscriptionsCloseDelayMs = 20;
export const lameDuckDurationMs = 2 * 60_000;
export const lameDuckGracePeriodMs = 10_000;
export const maxClosedClients = 10_000;

/** Max arguments per operation (reference MAX_PUB_ARGS etc.). */
export const maxPubArgs = 3;
export const maxHpubArgs = 4;

/** Size of the protocol snippet quoted in parser error logs (reference PROTO_SNIPPET_SIZE). */
export const protoSnippetBytes = 32;

/** Global account name (everything lives here until accounts are configured). */
export const globalAccountName = "$G";
export const systemAccountName = "$SYS";

/**
 * Sublist match cache: at most this many subjects cached per account; when exceeded, entries
 * are swept down to `sublistCacheSweepTo` off the publish path (reference slCacheMax/slCacheSweep).
 */
export const sublistCacheMax = 4096;
export const sublistCacheSweepTo = 2048;

/** Period of the one server-wide housekeeping timer (pings, auth timeouts, write deadlines). */
export const housekeepingTickMs = 250;

/**
 * Outbound buffers are lent from a shared pool while a connection has bytes in flight (see
 * server/outbound.ts): the standard buffer size, and how many idle ones the pool keeps.
 */
export const outboundPoolBufferBytes = 32 * 1024;
export const outboundPoolMaxBuffers = 16;
/** Flush a connection's outbound buffer straight away once it holds this much. */
export const outboundFlushThresholdBytes = 256 * 1024;

/** RTT is re-measured by a PING at most this often when the client is active. */
export const rttMeasurementIntervalMs = 60 * 60_000;

/** Fast-producer stall bounds (reference stallClientMinDuration / stallClientMaxDuration). */
export const stallMinMs = 100;
export const stallMaxMs = 1000;
