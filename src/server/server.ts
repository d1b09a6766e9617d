// The server: lifecycle, the client listener, accounts, the set of connections, the flush
// scheduler (dirty connections written once per read batch) and one housekeeping timer.
import type { Socket, TCPSocketListener, TLSOptions } from "bun";
import { unlinkSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { basename, join } from "node:path";
import { Authenticator, type Authenticated } from "../auth/authenticator.ts";
import { encodePublicKey, makeNonce, NKeyPrefix } from "../auth/nkeys.ts";
import { Permissions } from "../auth/permissions.ts";
import { plaintextPasswordsConfigured } from "../config/conf_auth.ts";
import type { MappingEntry, ServerOptions, UserEntry } from "../config/options.ts";
import * as C from "../constants.ts";
import { ClientInfoEncoder, infoLine } from "../protocol/encode.ts";
import { ClosedReason, ProtoError, type ClosedReasonText } from "../protocol/errors.ts";
import type { InfoJson } from "../protocol/wire_types.ts";
import type { Logger } from "../util/log.ts";
import { Account } from "./account.ts";
import { ClosedClients } from "./closed_clients.ts";
import { ClientConnection } from "./connection.ts";
import type { JetStreamMonitor } from "./monitor_provider.ts";
import type { Publisher } from "./deliver.ts";
import { installImports, sweepResponses } from "./imports.ts";
import { OperatorMode, type JwtLogin } from "./operator.ts";
import { SystemServices } from "./system.ts";
import { listenClients, upgradeToTls } from "./listener.ts";
import { JetStream, unlimited, type JsLimits } from "../jetstream/jetstream.ts";
import { JetStreamMonitorImpl } from "../jetstream/monitor.ts";
import { SubjectMapping } from "./subject_transform.ts";

/** Who a client authenticated as: a configured user, a JWT login, or false. */
export type ClientVerdict = (Authenticated & { jwt?: JwtLogin }) | false;

export class Server {
  /** Replaced as a whole by a configuration reload (see applyOptions). */
  opts: ServerOptions;
  readonly logger: Logger;
  readonly id: string;
  readonly name: string;
  readonly globalAccount: Account;
  readonly connections: Map<number, ClientConnection> = new Map();
  readonly startedAt = new Date();
  /** JetStream, when enabled (-js / jetstream {}). */
  jetstream: JetStream | null = null;

  // Statistics (reference /varz names: in_msgs, out_msgs, in_bytes, out_bytes, slow_consumers)
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  slowConsumers = 0;
  totalConnections = 0;

  /** Recently closed connections (/connz?state=closed). */
  readonly closedClients: ClosedClients;
  /** Set by JetStream when it runs; monitoring reports "disabled" shapes while null. */
  jetstreamMonitor: JetStreamMonitor | null = null;
  /** When the configuration was last loaded (start or reload): /varz `config_load_time`. */
  configLoadTime = new Date();
  /** Lame-duck mode entered: no new connections, clients being closed gradually. */
  lameDuck = false;
  /** Extra URLs for the ports file (the monitor's), by the reference's key ("monitoring"). */
  readonly portsFileExtras: Record<string, string[]> = {};

  /** A connection's outbound buffer is written straight away beyond this many bytes. */
  readonly outboundFlushThresholdBytes: number;
  /** Beyond this many pending bytes at a receiver, its producers are stalled (half of max_pending). */
  readonly stallThresholdBytes: number;

  /** Accounts by name: `$G`, the system account, and the configured (or JWT) accounts. */
  readonly accounts: Map<string, Account> = new Map();
  authenticator!: Authenticator;
  authRequired = false;
  /** Operator mode (decentralised JWT authentication), or null. */
  readonly operator: OperatorMode | null = null;
  /** The system account's services (advisories, $SYS requests), or null without one. */
  system: SystemServices | null = null;
  /** Sent as `ver` in system events. */
  readonly version = C.referenceVersion;
  /** INFO carries a per-connection nonce (nkey or JWT users must sign it). */
  nonceRequired = false;
  /** Compiled permissions of each configured user (shared by its connections). */
  #userPermissions = new Map<UserEntry, Permissions | null>();
  /** Authentication deadline after accept (or after the TLS handshake). */
  authTimeoutMs: number;
  /** Bun's TLS options for client connections (null: plain TCP). */
  #bunTls: TLSOptions | null = null;

  #listener: TCPSocketListener<ClientConnection> | null = null;
  #nextCid = 1;
  #dirty: ClientConnection[] = [];
  #housekeeping: ReturnType<typeof setInterval> | null = null;
  #shuttingDown = false;
  #infoTemplate: InfoJson;
  #info: ClientInfoEncoder;
  #portsFile = "";
  #port = 0;

  constructor(opts: ServerOptions, logger: Logger) {
    this.opts = opts;
    this.logger = logger;
    this.id = encodePublicKey(NKeyPrefix.server, crypto.getRandomValues(new Uint8Array(32)));
    this.name = opts.serverName !== "" ? opts.serverName : this.id;
    this.globalAccount = new Account(C.globalAccountName, !opts.noSublistCache);
    this.closedClients = new ClosedClients(opts.maxClosedClients);
    this.accounts.set(this.globalAccount.name, this.globalAccount);
    for (const a of opts.accounts) {
      const acc = new Account(a.name, !opts.noSublistCache);
      acc.limits = a.limits;
      acc.jetstreamLimits = a.jetstream;
      acc.exports = a.exports;
      acc.imports = a.imports;
      acc.mappings = this.#compileMappings(a.mappings);
      this.accounts.set(a.name, acc);
    }
    this.globalAccount.mappings = this.#compileMappings(opts.mappings);
    // Without configured accounts, JetStream (when on) is the global account's, unlimited.
    if (opts.accounts.length === 0) this.globalAccount.jetstreamLimits = { maxMemory: -1, maxStore: -1, maxStreams: -1, maxConsumers: -1 };
    this.outboundFlushThresholdBytes = Math.max(1024, Math.min(C.outboundFlushThresholdBytes, Math.floor(opts.maxPendingBytes / 4)));
    this.stallThresholdBytes = Math.floor(opts.maxPendingBytes / 2);
    if (opts.operatorJwts.length > 0 || opts.trustedKeys.length > 0) {
      try {
        this.operator = new OperatorMode(this, opts);
      } catch (e) {
        this.#configErrors.push(`error parsing operator JWT: ${(e as Error).message}`);
      }
    }
    this.#configureAuth(opts);
    // Without an explicit authorization timeout, TLS clients get the TLS timeout plus a second
    // (the reference's getDefaultAuthTimeout).
    this.authTimeoutMs = opts.tls !== null && !opts.explicit.has("authTimeoutMs") ? opts.tls.timeoutMs + 1000 : opts.authTimeoutMs;
    if (opts.tls !== null) {
      const t = opts.tls;
      this.#bunTls = { cert: t.cert, key: t.key, requestCert: t.verify, rejectUnauthorized: t.verify };
      if (t.ca !== "") this.#bunTls.ca = t.ca;
    }
    this.#infoTemplate = {
      server_id: this.id,
      server_name: this.name,
      version: C.referenceVersion,
      proto: C.protocolLevel,
      go: `bun${Bun.version}`,
      host: opts.host,
      port: opts.port,
      headers: !opts.noHeaderSupport,
      // With a no_auth_user, clients need not authenticate: INFO says so (as the reference).
      auth_required: this.authRequired && opts.noAuthUser === "",
      tls_required: opts.tls !== null,
      tls_verify: opts.tls?.verify ?? false,
      max_payload: opts.maxPayloadBytes,
      jetstream: opts.jetstream,
      nats_bun: C.natsBunVersion,
    };
    this.#info = new ClientInfoEncoder(this.#infoTemplate);
  }

  /** Configuration problems found when building the server, reported by start(). */
  #configErrors: string[] = [];

  #compileMappings(entries: MappingEntry[]): SubjectMapping[] | null {
    if (entries.length === 0) return null;
    const out: SubjectMapping[] = [];
    for (const m of entries) {
      try {
        out.push(new SubjectMapping(m.source, m.destinations));
      } catch (e) {
        this.#configErrors.push(`mapping ${JSON.stringify(m.source)}: ${(e as Error).message}`);
      }
    }
    return out;
  }

  /** The system account: the operator's, the configured one, or `$SYS`; null when disabled. */
  #systemAccount(): Account | null {
    if (this.opts.noSystemAccount) return null;
    if (this.operator !== null) return this.operator.systemAccount();
    const name = this.opts.systemAccount !== "" ? this.opts.systemAccount : C.systemAccountName;
    let acc = this.accounts.get(name);
    if (acc === undefined) {
      acc = new Account(name, !this.opts.noSublistCache);
      this.accounts.set(name, acc);
    }
    return acc;
  }

  /** The client port actually bound (useful with port -1). */
  get port(): number {
    return this.#port;
  }

  get running(): boolean {
    return this.#listener !== null;
  }

  // ---- Lifecycle ---------------------------------------------------------------------------

  /**
   * Logs the banner, runs `hooks.beforeListen` (the monitor starts there, as the reference
   * starts it before the client listener), listens for clients and writes the ports file.
   * Throws an Error with an actionable message when a port cannot be bound.
   */
  start(hooks: { beforeListen?: () => void } = {}): void {
    const opts = this.opts;
    const log = this.logger;
    log.info("Starting nats-bun");
    log.info(`  Version:  ${C.natsBunVersion} (nats-server ${C.referenceVersion} compatible)`);
    log.debug(`  Bun:      ${Bun.version}`);
    log.info(`  Name:     ${this.name}`);
    log.info(`  ID:       ${this.id}`);
    if (opts.configFile !== "") log.info(`Using configuration file: ${opts.configFile}`);
    if (plaintextPasswordsConfigured(opts)) log.warn("Plaintext passwords detected, use nkeys or bcrypt");
    for (const acc of this.accounts.values()) {
      for (const problem of installImports(this, acc, (name) => this.accounts.get(name))) this.#configErrors.push(`account ${JSON.stringify(acc.name)}: ${problem}`);
    }
    if (this.#configErrors.length > 0) throw new Error(this.#configErrors.join("\n"));
    const sys = this.#systemAccount();
    if (sys !== null) this.system = new SystemServices(this, sys);
    if (this.operator !== null) {
      log.info("Trusted Operators");
      if (this.operator.resolver.type === "full") log.info(`Managing all jwt in exclusive directory ${opts.resolver!.dir}`);
      this.operator.start();
    }
    if (opts.pidFile !== "") this.writePidFile(opts.pidFile);
    hooks.beforeListen?.();

    if (opts.jetstream) {
      const js = new JetStream(this, {
        storeDir: opts.storeDir,
        maxMemory: opts.jetstreamMaxMemoryBytes,
        maxStore: opts.jetstreamMaxStoreBytes,
        domain: opts.jetstreamDomain,
        syncIntervalMs: opts.jetstreamSyncIntervalMs,
        syncAlways: opts.jetstreamSyncAlways,
      });
      js.start();
      this.jetstream = js;
      this.jetstreamMonitor = new JetStreamMonitorImpl(js);
      // JetStream per account: the accounts whose config (or JWT) enables it.
      // The others answer $JS.API requests with "JetStream not enabled for account".
      for (const account of this.accounts.values()) {
        if (account.jetstreamLimits === null) js.serveApi(account);
        else js.enableAccount(account, jsLimitsFor(account.jetstreamLimits));
      }
    }

    const bindPort = opts.port === C.randomPort ? 0 : opts.port;
    try {
      this.#listener = listenClients(this, opts.host, bindPort);
    } catch (e) {
      throw new Error(`Error listening on port: ${opts.host}:${opts.port}, "${listenErrorText(e, opts.host, opts.port)}"`);
    }
    this.#port = this.#listener.port;
    this.#infoTemplate.port = this.#port;
    this.#info = new ClientInfoEncoder(this.#infoTemplate);
    log.info(`Listening for client connections on ${hostPort(opts.host, this.#port)}`);
    if (opts.tls !== null) log.info("TLS required for client connections");
    if (opts.clientAdvertise !== "") log.info(`Advertise address for clients: ${opts.clientAdvertise}`);
    this.#writePortsFile();
    this.#housekeeping = setInterval(() => this.#tick(), C.housekeepingTickMs);
    log.info("Server is ready");
  }

  /**
   * Stops accepting, closes every client (flushing what is buffered for it), removes the
   * ports file. Idempotent.
   */
  shutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.logger.info("Initiating Shutdown...");
    if (this.#housekeeping !== null) clearInterval(this.#housekeeping);
    for (const hook of this.shutdownHooks) {
      try {
        hook();
      } catch (e) {
        this.logger.error(`Error during shutdown: ${(e as Error).message}`);
      }
    }
    this.#listener?.stop(false);
    for (const conn of [...this.connections.values()]) conn.close(ClosedReason.serverShutdown);
    this.flushDirty();
    this.#listener?.stop(true);
    this.#listener = null;
    if (this.jetstream !== null) {
      try {
        this.jetstream.stop();
      } catch (e) {
        this.logger.error(`Error stopping JetStream: ${(e as Error).message}`);
      }
    }
    if (this.#portsFile !== "") {
      try {
        unlinkSync(this.#portsFile);
      } catch (e) {
        this.logger.error(`Error cleaning up ports file ${this.#portsFile}: ${(e as Error).message}`);
      }
    }
    this.logger.info("Server Exiting..");
  }

  /** Run by shutdown() before clients are closed (the monitor stops there). */
  readonly shutdownHooks: (() => void)[] = [];

  writePidFile(file: string): void {
    try {
      writeFileSync(file, String(process.pid), { mode: 0o660 });
    } catch (e) {
      throw new Error(`Could not write pidfile: ${(e as Error).message}`);
    }
  }

  /** Stops accepting client connections (lame-duck mode); existing ones stay. */
  stopAccepting(): void {
    this.#listener?.stop(false);
  }

  /**
   * Sends an asynchronous INFO to every client that understands it (CONNECT protocol >= 1),
   * with `extra` fields merged in: `{ ldm: true }` on entering lame-duck mode.
   */
  sendAsyncInfo(extra: Partial<InfoJson>): void {
    const encoder = new ClientInfoEncoder({ ...this.#infoTemplate, ...extra });
    for (const conn of this.connections.values()) {
      if (conn.closed || !conn.connectReceived || conn.opts.protocol < 1) continue;
      conn.sendProto(encoder.forClient(conn.cid, conn.host).slice(), "INFO");
    }
    this.flushDirty();
  }

  /** Accounts known to the server (for monitoring); the global one until accounts exist. */
  accountList(): Account[] {
    return [this.globalAccount];
  }

  /** Authentication from the options (at start and on reload). */
  #configureAuth(opts: ServerOptions): void {
    this.#userPermissions = new Map();
    this.authenticator = new Authenticator({
      username: opts.username,
      password: opts.password,
      authToken: opts.authToken,
      users: opts.users,
      noAuthUser: opts.noAuthUser,
      verifyAndMap: opts.tls?.verifyAndMap ?? false,
    });
    this.authRequired = this.operator !== null || this.authenticator.required;
    this.nonceRequired = this.operator !== null || this.authenticator.needsNonce;
    for (const u of opts.users) this.#userPermissions.set(u, u.permissions === null ? null : new Permissions(u.permissions));
  }

  /** An account appeared or its JWT changed: JetStream follows its limits (enabled, changed, or not). */
  accountChanged(account: Account): void {
    const js = this.jetstream;
    if (js === null) return;
    if (account.jetstreamLimits === null) {
      js.disableAccount(account);
      js.serveApi(account);
    } else js.enableAccount(account, jsLimitsFor(account.jetstreamLimits));
  }

  /** User/password configured (for the reference's auth error log line and /connz). */
  get hasUsers(): boolean {
    return this.authenticator.hasUsers || this.opts.username !== "";
  }

  /**
   * Takes reloaded options (config/reload.ts has checked that nothing unreloadable changed):
   * limits and INFO for new connections, the closed-connections bound, auth settings.
   * Existing connections keep the limits they were accepted with, as in the reference.
   */
  applyOptions(opts: ServerOptions): void {
    this.opts = opts;
    this.#configureAuth(opts);
    this.closedClients.max = opts.maxClosedClients;
    this.#infoTemplate.auth_required = this.authRequired && opts.noAuthUser === "";
    this.#infoTemplate.max_payload = opts.maxPayloadBytes;
    this.#info = new ClientInfoEncoder(this.#infoTemplate);
    this.configLoadTime = new Date();
    for (const conn of this.connections.values()) {
      conn.trace = this.logger.traceEnabled;
      conn.parser.checkPubLines = conn.opts.pedantic || conn.trace;
    }
  }

  /**
   * Re-checks every authenticated client against the current authorization (after a
   * reload) and closes, with `Authorization Violation`, those no longer allowed. Resolves
   * with the number closed.
   */
  async recheckClients(): Promise<number> {
    let closed = 0;
    const pending: Promise<void>[] = [];
    for (const conn of [...this.connections.values()]) {
      if (conn.closed || !conn.connectReceived || conn.awaitingAuth) continue;
      const verdict = this.authenticate(conn);
      const decide = (v: ClientVerdict): void => {
        if (v !== false || conn.closed) return;
        closed++;
        conn.authViolation();
      };
      if (verdict instanceof Promise) pending.push(verdict.then(decide, () => decide(false)));
      else decide(verdict);
    }
    await Promise.all(pending);
    this.flushDirty();
    return closed;
  }

  // ---- Connections -------------------------------------------------------------------------

  /** A client id for an in-process client (internal_client.ts). */
  allocateCid(): number {
    return this.#nextCid++;
  }

  acceptConnection(socket: Socket<ClientConnection>): void {
    if (this.#shuttingDown) {
      socket.end();
      return;
    }
    const now = Date.now();
    const conn = new ClientConnection(this, socket, this.#nextCid++, this.globalAccount, now);
    socket.data = conn;
    socket.setNoDelay(true);
    this.totalConnections++;
    this.globalAccount.totalConnections++;
    if (this.logger.debugEnabled) this.logger.debug(`${conn.description} - Client connection created`);
    // The INFO goes straight to the socket: a connection that then stays idle never needs an
    // outbound buffer (memory per idle connection is a budget we measure).
    const tls = this.opts.tls;
    if (this.nonceRequired) conn.nonce = makeNonce();
    if (tls === null || !tls.handshakeFirst) conn.sendDirect(this.#info.forClient(conn.cid, conn.host, conn.nonce));
    if (this.opts.maxConnections > 0 && this.connections.size >= this.opts.maxConnections) {
      this.logger.error(`${conn.description} - ${ProtoError.maxConnections.text}`);
      if (tls === null || !tls.handshakeFirst) conn.sendErr(ProtoError.maxConnections.text);
      conn.close(ClosedReason.maxConnectionsExceeded);
      this.flushDirty();
      return;
    }
    this.connections.set(conn.cid, conn);
    this.globalAccount.connections++;
    if (tls !== null) {
      // The client's TLS handshake comes next; authentication waits for it.
      if (this.logger.debugEnabled) this.logger.debug(`${conn.description} - Starting TLS client connection handshake`);
      conn.tlsHandshaking = true;
      conn.tlsDeadlineMs = now + tls.timeoutMs;
      conn.socket = upgradeToTls(this, conn, this.#bunTls!);
      return;
    }
    this.#startAuthTimer(conn, now);
    this.flushDirty();
  }

  /** An INFO for one client with its own max_payload (account or user limit). */
  sendInfo(conn: ClientConnection): void {
    const info: InfoJson = { ...this.#infoTemplate, max_payload: conn.maxPayload < 0 ? this.opts.maxPayloadBytes : conn.maxPayload, client_id: conn.cid, client_ip: conn.host };
    conn.sendProto(infoLine(info), "INFO");
  }

  /** TLS is up: INFO now when it was held back (handshake_first), then authentication. */
  afterTlsHandshake(conn: ClientConnection): void {
    if (this.opts.tls!.handshakeFirst) conn.sendDirect(this.#info.forClient(conn.cid, conn.host, conn.nonce));
    this.#startAuthTimer(conn, Date.now());
  }

  /** Whether a TLS client's certificate is one of `pinned_certs` (when configured). */
  tlsPeerAllowed(conn: ClientConnection): boolean {
    const pinned = this.opts.tls?.pinnedCerts ?? [];
    if (pinned.length === 0) return true;
    const cert = conn.socket.getPeerX509Certificate?.();
    if (cert === undefined || cert === null) return false;
    const digest = new Bun.CryptoHasher("sha256").update(cert.raw).digest("hex");
    return pinned.includes(digest);
  }

  #startAuthTimer(conn: ClientConnection, now: number): void {
    if (!this.authRequired) return;
    // With a no_auth_user a client acts as that user until its CONNECT says otherwise.
    const noAuth = this.opts.noAuthUser !== "" ? this.authenticator.user(this.opts.noAuthUser) : undefined;
    if (noAuth !== undefined) {
      this.bindClient(conn, { user: noAuth });
      return;
    }
    conn.awaitingAuth = true;
    conn.parser.requireConnect = true;
    conn.authDeadlineMs = now + this.authTimeoutMs;
  }


  removeConnection(conn: ClientConnection, reason: ClosedReasonText): void {
    if (this.connections.delete(conn.cid)) {
      conn.account.connections--;
      this.closedClients.record(conn, reason, this.hasUsers ? conn.opts.user : "", Date.now());
    }
    if (conn.announced && this.system !== null && !this.#shuttingDown) this.system.clientDisconnected(conn, reason);
    if (this.logger.debugEnabled) this.logger.debug(`${conn.description} - Client connection closed: ${reason}`);
  }

  /**
   * Checks the CONNECT credentials (auth/authenticator.ts): who the client is, or false. A
   * promise when a bcrypt hash has to be verified (kept off the event loop).
   */
  authenticate(conn: ClientConnection): ClientVerdict | Promise<ClientVerdict> {
    if (!this.authRequired) return { user: null };
    if (this.operator !== null) {
      const login = this.operator.authenticate(conn);
      return login === null ? false : { user: null, jwt: login };
    }
    return this.authenticator.authenticate(conn.opts, conn.nonce, () => conn.certificateIdentity());
  }

  /**
   * Binds an authenticated client to its account and permissions. False when the account
   * refuses it (connection limit): the connection is then closed.
   */
  bindClient(conn: ClientConnection, verdict: Authenticated & { jwt?: JwtLogin }): boolean {
    if (verdict.jwt !== undefined) return conn.applyLogin(verdict.jwt);
    const user = verdict.user;
    const account = user === null || user.account === "" ? this.globalAccount : this.accounts.get(user.account);
    if (account === undefined) {
      conn.sendErr(ProtoError.accountRegistration.text);
      conn.close(ClosedReason.authViolation);
      return false;
    }
    if (user !== null) {
      conn.authUser = user.nkey !== "" ? `Nkey ${JSON.stringify(user.nkey)}` : `User ${JSON.stringify(user.user)}`;
    }
    return conn.bind(account, user === null ? null : (this.#userPermissions.get(user) ?? null));
  }

  /** Logs an authentication failure as the reference does (authViolation). */
  logAuthFailure(conn: ClientConnection): void {
    let detail = "";
    if (this.operator !== null) detail = "";
    else if (this.authenticator.hasNkeys) detail = ` - Nkey ${JSON.stringify(conn.opts.nkey)}`;
    else if (this.authenticator.hasUsers || this.opts.username !== "") detail = ` - User ${JSON.stringify(conn.opts.user)}`;
    this.logger.error(`${conn.description} - authentication error${detail}`);
  }

  // ---- Flushing ----------------------------------------------------------------------------

  markDirty(conn: ClientConnection): void {
    if (conn.dirty) return;
    conn.dirty = true;
    this.#dirty.push(conn);
  }

  /** Writes every dirty connection's buffer: once per read batch, timer tick or event. */
  flushDirty(): void {
    const list = this.#dirty;
    if (list.length === 0) return;
    // Connections made dirty while flushing (none today) would land in the next batch.
    this.#dirty = [];
    for (let i = 0; i < list.length; i++) {
      const conn = list[i];
      if (conn.closed) {
        conn.dirty = false;
        continue;
      }
      conn.flush();
    }
  }

  /**
   * A receiver's buffer passed the flush threshold in the middle of a read batch: write now,
   * and if the socket cannot keep up, pause the producer or cut the slow consumer.
   */
  flushEarly(receiver: ClientConnection, producer: Publisher, _pending: number): void {
    if (!receiver.writeBlocked) receiver.flush();
    const pending = receiver.out.pending;
    if (pending > this.opts.maxPendingBytes) {
      this.slowConsumer(receiver);
      return;
    }
    if (pending > this.stallThresholdBytes) receiver.stallProducer(producer, stallDurationMs(pending, this.opts.maxPendingBytes));
  }

  slowConsumer(conn: ClientConnection): void {
    this.slowConsumers++;
    conn.account.slowConsumers++;
    this.logger.info(`${conn.description} - Slow Consumer Detected: MaxPending of ${this.opts.maxPendingBytes} Exceeded`);
    conn.close(ClosedReason.slowConsumerPendingBytes);
  }

  #tick(): void {
    const now = Date.now();
    for (const acc of this.accounts.values()) sweepResponses(acc, now);
    this.system?.tick(now);
    this.operator?.tick(now);
    for (const conn of this.connections.values()) {
      conn.housekeeping(now);
      // Write each connection's PING (or -ERR) before the next one's: thousands of
      // connections pinged in one tick then share one pooled buffer instead of each
      // borrowing its own.
      if (conn.dirty) conn.flush();
    }
    this.flushDirty();
  }

  // ---- Ports file --------------------------------------------------------------------------

  /** The reference's `<exe>_<pid>.ports` JSON, so test launchers can find a random port. */
  #writePortsFile(): void {
    const dir = this.opts.portsFileDir;
    if (dir === "") return;
    const file = join(dir, `${basename(process.execPath)}_${process.pid}.ports`);
    const ports = { nats: formatUrls("nats", this.opts.host, this.#port), ...this.portsFileExtras };
    try {
      writeFileSync(file, JSON.stringify(ports), { mode: 0o666 });
      this.#portsFile = file;
    } catch (e) {
      this.logger.error(`Error writing ports file (${file}): ${(e as Error).message}`);
    }
  }
}

/**
 * How long a producer waits for a full receiver (reference stallDuration): 100 ms past half
 * of max_pending, 100 ms more per further tenth of it, 1 s at the limit.
 */
export function stallDurationMs(pending: number, maxPending: number): number {
  if (pending >= maxPending) return C.stallMaxMs;
  const half = maxPending / 2;
  if (pending <= half) return C.stallMinMs;
  return C.stallMinMs * (1 + Math.floor((pending - half) / (half / 10)));
}

/** Why a listen failed, in words an operator can act on (Bun's errors name only the code). */
export function listenErrorText(e: unknown, host: string, port: number): string {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? "";
  const where = `listen tcp ${hostPort(host, port)}`;
  if (code === "EADDRINUSE" || /in use/i.test(err?.message ?? "")) return `${where}: bind: address already in use`;
  if (code === "EACCES") return `${where}: bind: permission denied`;
  if (code === "EADDRNOTAVAIL") return `${where}: bind: cannot assign requested address`;
  return `${where}: ${err?.message ?? String(e)}`;
}

export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** URLs for a listener; a wildcard host lists every local IPv4 address (reference formatURL). */
export function formatUrls(scheme: string, host: string, port: number): string[] {
  if (host !== "0.0.0.0" && host !== "::" && host !== "") return [`${scheme}://${hostPort(host, port)}`];
  const urls: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4") urls.push(`${scheme}://${a.address}:${port}`);
  }
  return urls;
}

/** An account's configured JetStream limits in JetStream's terms (-1: unlimited). */
function jsLimitsFor(l: { maxMemory: number; maxStore: number; maxStreams: number; maxConsumers: number }): JsLimits {
  return { ...unlimited, maxMemory: l.maxMemory, maxStore: l.maxStore, maxStreams: l.maxStreams, maxConsumers: l.maxConsumers };
}
