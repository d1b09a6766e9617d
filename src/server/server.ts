// The server: lifecycle, the client listener, accounts, the set of connections, the flush
// scheduler (dirty connections written once per read batch) and one housekeeping timer.
import type { Socket, TCPSocketListener, TLSOptions } from "bun";
import assert from "node:assert/strict";
import { unlinkSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { basename, join } from "node:path";
import { Authenticator, type Authenticated } from "../auth/authenticator.ts";
import { encodePublicKey, makeNonce, NKeyPrefix } from "../auth/nkeys.ts";
import { Permissions } from "../auth/permissions.ts";
import { plaintextPasswordsConfigured } from "../config/conf_auth.ts";
import { authTimeoutMsOf, type MappingEntry, type ServerOptions, type UserEntry } from "../config/options.ts";
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
import { importRouteProblem, installImports, removeImports, sweepResponses } from "./imports.ts";
import type { InternalClient } from "./internal_client.ts";
import { OperatorMode, type JwtLogin } from "./operator.ts";
import { SystemServices } from "./system.ts";
import { listenClients, upgradeToTls } from "./listener.ts";
// JetStream is loaded (require) only when enabled: a server without it does not evaluate it.
import type { JetStream, JsLimits } from "../jetstream/jetstream.ts";
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
    this.#configureAccounts(opts, this.#configErrors);
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
    this.authTimeoutMs = authTimeoutMsOf(opts);
    this.#bunTls = bunTlsOptions(opts);
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

  /**
   * Creates or updates the configured accounts (at start, and on reload where an account that
   * stays keeps its object, subscriptions and clients): limits, JetStream limits, exports,
   * imports and mappings; top-level mappings are the global account's. Accounts no longer
   * configured leave the registry and are returned. Problems go to `errors`.
   */
  #configureAccounts(opts: ServerOptions, errors: string[]): Account[] {
    const configured = new Set(opts.accounts.map((a) => a.name));
    const removed: Account[] = [];
    for (const acc of this.accounts.values()) {
      if (acc === this.globalAccount || acc === this.system?.account || configured.has(acc.name)) continue;
      removed.push(acc);
    }
    for (const acc of removed) this.accounts.delete(acc.name);
    const now = new Date();
    for (const a of opts.accounts) {
      let acc = this.accounts.get(a.name);
      if (acc === undefined) {
        acc = new Account(a.name, !opts.noSublistCache);
        this.accounts.set(a.name, acc);
      }
      acc.limits = a.limits;
      acc.jetstreamLimits = a.jetstream;
      acc.exports = a.exports;
      acc.imports = a.imports;
      acc.mappings = compileMappings(a.mappings, errors);
      acc.updatedAt = now;
    }
    this.globalAccount.mappings = compileMappings(opts.mappings, errors);
    // Without configured accounts, JetStream (when on) is the global account's, unlimited.
    this.globalAccount.jetstreamLimits = opts.accounts.length === 0 ? { maxMemory: -1, maxStore: -1, maxStreams: -1, maxConsumers: -1 } : null;
    return removed;
  }

  /**
   * What in reloaded options would fail when applied and that the config reader does not
   * check (mapping destinations, import `to` subjects), in start()'s words; null when none.
   */
  reloadProblems(opts: ServerOptions): string | null {
    const errors: string[] = [];
    compileMappings(opts.mappings, errors);
    for (const a of opts.accounts) {
      compileMappings(a.mappings, errors);
      for (const im of a.imports) {
        const problem = importRouteProblem(im);
        if (problem !== null) errors.push(`account ${JSON.stringify(a.name)}: ${problem}`);
      }
    }
    return errors.length > 0 ? errors.join("\n") : null;
  }

  /** An account removed by a reload: its imports, service routes and JetStream go. */
  #dropAccount(acc: Account): void {
    removeImports(acc);
    if (acc.responseSub !== null) {
      (acc.responseSub.conn as InternalClient).unsubscribe(acc.responseSub);
      acc.responseSub = null;
    }
    acc.responses.clear();
    this.jetstream?.forgetAccount(acc);
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
      const { JetStream } = require("../jetstream/jetstream.ts") as typeof import("../jetstream/jetstream.ts");
      const { JetStreamMonitorImpl } = require("../jetstream/monitor.ts") as typeof import("../jetstream/monitor.ts");
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
    return [...this.accounts.values()];
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
   * Takes reloaded options (config/reload.ts has checked that nothing unreloadable changed,
   * reloadProblems that they apply): limits and INFO for new connections, the closed-
   * connections bound, accounts (with their imports, mappings and JetStream), users and TLS.
   * Existing connections keep the limits they were accepted with, as in the reference; their
   * authorization is re-checked by recheckClients, which must follow at once.
   */
  applyOptions(opts: ServerOptions): void {
    this.opts = opts;
    // Operator mode: accounts come from JWTs, and operator settings are not reloadable.
    if (this.operator === null) {
      const errors: string[] = [];
      const removed = this.#configureAccounts(opts, errors);
      assert(errors.length === 0, `reload applied with problems: ${errors.join("; ")}`);
      for (const acc of removed) this.#dropAccount(acc);
      // Imports wired again over the new exports (the reference's configureAccounts(true)).
      for (const acc of this.accounts.values()) {
        const problems = installImports(this, acc, (name) => this.accounts.get(name));
        assert(problems.length === 0, `reload wired imports with problems: ${problems.join("; ")}`);
      }
      for (const acc of this.accounts.values()) this.accountChanged(acc);
    }
    this.#configureAuth(opts);
    this.authTimeoutMs = authTimeoutMsOf(opts);
    this.#bunTls = bunTlsOptions(opts);
    this.closedClients.max = opts.maxClosedClients;
    this.#infoTemplate.auth_required = this.authRequired && opts.noAuthUser === "";
    this.#infoTemplate.max_payload = opts.maxPayloadBytes;
    this.#infoTemplate.tls_required = opts.tls !== null;
    this.#infoTemplate.tls_verify = opts.tls?.verify ?? false;
    this.#info = new ClientInfoEncoder(this.#infoTemplate);
    this.configLoadTime = new Date();
    for (const conn of this.connections.values()) {
      conn.trace = this.logger.traceEnabled;
      conn.parser.checkPubLines = conn.opts.pedantic || conn.trace;
    }
  }

  /**
   * Re-checks every client after a reload, as the reference's reloadAuthorization: a client
   * whose user is gone or now belongs to another account is closed (it reconnects into the
   * right one); the others are authenticated again, and those who no longer pass are closed
   * with `Authorization Violation`; the rest take their user's new permissions, losing the
   * subscriptions these no longer allow. Resolves with the number of clients closed. (Changed
   * pinned_certs apply to new connections only, as in the reference 2.9.)
   *
   * JWT logins are not re-checked: operator settings cannot change by reload. (The reference
   * 2.9 closes every JWT client on any reload, its users lookup not finding them; they
   * reconnect. We keep them.)
   */
  async recheckClients(): Promise<number> {
    let closed = 0;
    const staying: ClientConnection[] = [];
    for (const conn of [...this.connections.values()]) {
      if (conn.closed || !conn.connectReceived || conn.awaitingAuth || conn.jwtLogin !== null) continue;
      if (this.#movedAccount(conn)) {
        closed++;
        conn.close(ClosedReason.clientClosed);
      } else staying.push(conn);
    }
    const pending: Promise<void>[] = [];
    for (const conn of staying) {
      const decide = (v: ClientVerdict): void => {
        if (conn.closed) return;
        if (v === false) {
          closed++;
          conn.authViolation();
          return;
        }
        const user = v.user;
        const account = user === null || user.account === "" ? this.globalAccount : this.accounts.get(user.account);
        if (account !== conn.account) {
          // Mapped to another user now (verify_and_map): into its account by reconnecting.
          closed++;
          conn.close(ClosedReason.clientClosed);
          return;
        }
        conn.user = user;
        if (user !== null) conn.reauthorize(this.#permissionsOf(user));
      };
      const verdict = this.#stillAuthenticated(conn) ?? this.authenticate(conn);
      if (verdict instanceof Promise) pending.push(verdict.then(decide, () => decide(false)));
      else decide(verdict);
    }
    await Promise.all(pending);
    this.flushDirty();
    return closed;
  }

  /**
   * Whether a reload moved the client's user: gone, or now in another account (the
   * reference's clientHasMovedToDifferentAccount). Token and single-user clients never move.
   */
  #movedAccount(conn: ClientConnection): boolean {
    const before = conn.user;
    if (before === null) return false;
    const now = before.nkey !== "" ? this.authenticator.nkeyUser(before.nkey) : this.authenticator.user(before.user);
    if (now === undefined) return true;
    const account = now.account === "" ? this.globalAccount : this.accounts.get(now.account);
    return account !== conn.account;
  }

  /**
   * The client's verdict without authenticating it again, when its user's credentials are
   * those it passed with (the same password or bcrypt hash, nkey and connection types): a
   * reload then costs no bcrypt per client. Null when it must be authenticated again.
   */
  #stillAuthenticated(conn: ClientConnection): ClientVerdict | null {
    const before = conn.user;
    if (before === null || (this.opts.tls?.verifyAndMap ?? false)) return null;
    const now = before.nkey !== "" ? this.authenticator.nkeyUser(before.nkey) : this.authenticator.user(before.user);
    if (now === undefined || now.password !== before.password || !Bun.deepEquals(now.allowedConnectionTypes, before.allowedConnectionTypes)) return null;
    return { user: now };
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
      conn.tlsVerify = tls.verify;
      conn.tlsHandshakeFirst = tls.handshakeFirst;
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
    if (conn.tlsHandshakeFirst) conn.sendDirect(this.#info.forClient(conn.cid, conn.host, conn.nonce));
    this.#startAuthTimer(conn, Date.now());
  }

  /**
   * Whether a TLS client's certificate is one of `pinned_certs` (when configured): the hex
   * SHA-256 of its DER SubjectPublicKeyInfo, as the reference's matchesPinnedCert.
   */
  tlsPeerAllowed(conn: ClientConnection): boolean {
    const pinned = this.opts.tls?.pinnedCerts ?? [];
    if (pinned.length === 0) return true;
    const cert = conn.socket.getPeerX509Certificate?.();
    if (cert === undefined || cert === null) {
      this.logger.debug(`${conn.description} - Failed pinned cert test as client did not provide a certificate`);
      return false;
    }
    const spki = cert.publicKey.export({ type: "spki", format: "der" });
    const keyId = new Bun.CryptoHasher("sha256").update(spki).digest("hex");
    if (pinned.includes(keyId)) return true;
    this.logger.debug(`${conn.description} - Failed pinned cert test for key id: ${keyId}`);
    return false;
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
    conn.user = user;
    if (user !== null) {
      conn.authUser = user.nkey !== "" ? `Nkey ${JSON.stringify(user.nkey)}` : `User ${JSON.stringify(user.user)}`;
    }
    return conn.bind(account, user === null ? null : this.#permissionsOf(user));
  }

  /**
   * The compiled permissions of a configured user. A user entry of the configuration before a
   * reload (a bcrypt check that was still running) gets its own compiled copy, never none.
   */
  #permissionsOf(user: UserEntry): Permissions | null {
    const perms = this.#userPermissions.get(user);
    if (perms !== undefined) return perms;
    return user.permissions === null ? null : new Permissions(user.permissions);
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
  return {
    maxMemory: l.maxMemory,
    maxStore: l.maxStore,
    maxStreams: l.maxStreams,
    maxConsumers: l.maxConsumers,
    maxAckPending: -1,
    memoryMaxStreamBytes: -1,
    storeMaxStreamBytes: -1,
    maxBytesRequired: false,
  };
}

/** Compiles subject mappings; those that do not compile are reported in `errors`. */
function compileMappings(entries: MappingEntry[], errors: string[]): SubjectMapping[] | null {
  if (entries.length === 0) return null;
  const out: SubjectMapping[] = [];
  for (const m of entries) {
    try {
      out.push(new SubjectMapping(m.source, m.destinations));
    } catch (e) {
      errors.push(`mapping ${JSON.stringify(m.source)}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Bun's TLS options for client connections from `tls {}`; null for plain TCP. */
function bunTlsOptions(opts: ServerOptions): TLSOptions | null {
  const t = opts.tls;
  if (t === null) return null;
  const o: TLSOptions = { cert: t.cert, key: t.key, requestCert: t.verify, rejectUnauthorized: t.verify };
  if (t.ca !== "") o.ca = t.ca;
  return o;
}
