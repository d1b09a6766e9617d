// One client connection: its socket, parse state, CONNECT options, subscriptions, outbound
// buffer, liveness (pings) and deadlines. It is the parser's sink; publishing is handed to
// deliver.ts, which writes into other connections' outbound buffers.
//
// Timers: none per connection. The server's housekeeping tick calls `housekeeping(now)`,
// which runs the auth timeout, the ping timer, the write deadline and buffer release —
// the reference's per-client timers, checked at housekeepingTickMs granularity.
import type { Socket } from "bun";
import * as C from "../constants.ts";
import { OK_LINE, PING_LINE, PONG_LINE, errLine } from "../protocol/encode.ts";
import type { Authenticated, CertificateIdentity } from "../auth/authenticator.ts";
import type { UserEntry } from "../config/options.ts";
import { ResponseTracker, type Permissions } from "../auth/permissions.ts";
import type { JwtLogin } from "./operator.ts";
import { ClosedReason, ProtoError, pubPermissionViolation, subPermissionRevoked, subPermissionViolation, type ClosedReasonText } from "../protocol/errors.ts";
import { Parser, type ParserSink, type PubArgs } from "../protocol/parser.ts";
import { applyConnectJson, defaultConnectOptions, type ConnectOptions } from "../protocol/wire_types.ts";
import { bytesEqual, decodeByteString, decodeUtf8, encodeByteString, quoteBytes } from "../util/bytes.ts";
import type { Account } from "./account.ts";
import { deliverMapped, deliverMessage, type Publisher } from "./deliver.ts";
import { writeHooks } from "./write_hooks.ts";
import { Outbound } from "./outbound.ts";
import { isValidLiteralSubject } from "./subject.ts";
import { emptyResult, Subscription, type SublistResult } from "./sublist.ts";
import type { Server } from "./server.ts";

/** Reasons for suspending a connection's input (bits). */
const Suspend = { auth: 1, stall: 2 } as const;

/** Bytes of the last published subject kept for the per-connection subject cache. */
const SUBJECT_CACHE_MAX_BYTES = 256;

export class ClientConnection implements ParserSink {
  readonly cid: number;
  readonly server: Server;
  /** The socket to read and write: the accepted one, or the TLS socket after the upgrade. */
  socket: Socket<ClientConnection>;
  readonly parser: Parser;
  readonly out = new Outbound();
  readonly host: string;
  readonly port: number;
  readonly startMs: number;
  account: Account;
  opts: ConnectOptions = defaultConnectOptions();
  /** Subscriptions by sid; created with the first one (most idle connections have none). */
  subs: Map<string, Subscription> | null = null;

  // Authorization (see bind)
  /** The nonce sent in INFO for nkey/JWT signatures ("" when none was needed). */
  nonce = "";
  /** Who the client authenticated as, for logs: `User "alice"`, `Nkey "U…"`, "" for none. */
  authUser = "";
  /** The configured user it logged in as (users list, nkey, no_auth_user); null for others. */
  user: UserEntry | null = null;
  /** Subject permissions of the user; null = everything allowed. */
  perms: Permissions | null = null;
  /** allow_responses: reply subjects this connection may publish to. */
  responses: ResponseTracker | null = null;
  /** Set when a wildcard subscription reaches denied subjects: deliveries are filtered. */
  deliveryFilter: Permissions | null = null;
  /** deliveryFilter or responses is set: deliveries to this connection take the slower path. */
  deliveryChecks = false;
  /** The system account announced this client's login (and will announce its logout). */
  announced = false;
  /** Operator mode: the user JWT login (null for other logins). */
  jwtLogin: JwtLogin | null = null;
  /** When the login expires (user JWT, connection times, account JWT); 0 = never. */
  authExpiresAtMs = 0;
  /** The message sent when it does. */
  authExpiredText = "";
  /** One-entry cache of the last publish permission verdict (same subject string as lastSubject). */
  #permSubject = "";
  #permAllowed = false;

  // Flags
  connectReceived = false;
  closed = false;
  /** Authentication required and not yet passed. */
  awaitingAuth = false;
  /** TLS handshake in progress (input is TLS records only). */
  tlsHandshaking = false;
  tlsDeadlineMs = 0;
  /**
   * The TLS settings the connection was accepted with (a reload changes them for new
   * connections only): a client certificate is required; INFO waits for the handshake.
   */
  tlsVerify = false;
  tlsHandshakeFirst = false;
  /** Why a TLS handshake is about to fail, when the plain bytes already tell (see onRawTlsData). */
  #tlsRawError = "";
  #tlsRawChecked = false;
  /** Effective header support (server and client both). */
  headers = false;
  echo = true;
  /** A flush is scheduled (in the server's dirty list). */
  dirty = false;
  /** The socket refused bytes; waiting for `drain`. */
  writeBlocked = false;
  writeBlockedSinceMs = 0;
  /** Producers stalled because this connection's outbound buffer is too full. */
  stalledProducers: Publisher[] | null = null;
  /** This connection, as a producer, is stalled (see stall()). */
  stalled = false;
  #stallTimer: ReturnType<typeof setTimeout> | null = null;
  /** Protocol trace on (-V). */
  trace: boolean;

  // Limits (snapshotted at accept, as the reference does)
  maxPayload: number;
  maxSubs: number;

  // Statistics
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;

  // Liveness (reference: c.last, c.ping.*, c.rtt)
  lastActivityMs: number;
  lastPingReceivedMs = 0;
  pingsOut = 0;
  rttStartMs = 0;
  rttMs = 0;
  pingDueMs: number;
  authDeadlineMs = 0;
  firstPongSent = false;
  #subsTouched = false;
  /** CONNECT's verbose flag, kept at hand for the publish path. */
  verbose = true;

  // Per-connection one-entry cache of the last subject published (see deliver.ts).
  lastSubjectBytes: Uint8Array | null = null;
  lastSubjectLength = -1;
  lastSubject = "";
  lastResult: SublistResult = emptyResult;
  lastResultGeneration = -1;

  // Input stashed while parsing is suspended, and why it is (Suspend bits).
  #suspendedInput: Uint8Array[] | null = null;
  #suspendedFor = 0;

  constructor(server: Server, socket: Socket<ClientConnection>, cid: number, account: Account, nowMs: number) {
    this.server = server;
    this.socket = socket;
    this.cid = cid;
    this.account = account;
    const opts = server.opts;
    this.parser = new Parser(this, opts.maxControlLineBytes);
    this.parser.maxPayload = opts.maxPayloadBytes;
    this.parser.checkPubLines = this.opts.pedantic || server.logger.traceEnabled;
    this.host = socket.remoteAddress;
    this.port = socket.remotePort;
    this.startMs = nowMs;
    this.lastActivityMs = nowMs;
    this.pingDueMs = nowMs + opts.pingIntervalMs;
    this.maxPayload = opts.maxPayloadBytes;
    // -1 = unlimited (max_subscriptions 0 means none).
    this.maxSubs = opts.maxSubscriptions > 0 ? opts.maxSubscriptions : -1;
    this.trace = server.logger.traceEnabled;
  }

  /**
   * Log prefix: `ip:port - cid:N` plus, after CONNECT, the client's `"vX:lang:name"` (the
   * reference's form). Built when a line is logged, not kept: memory per idle connection.
   */
  get description(): string {
    const base = `${this.host}:${this.port} - cid:${this.cid}`;
    if (!this.connectReceived) return base;
    const { version, lang, name } = this.opts;
    let ncs = "";
    if (version !== "") ncs = `v${version}`;
    if (lang !== "") ncs = version === "" ? lang : `${ncs}:${lang}`;
    if (name !== "") ncs = version === "" && lang === "" ? name : `${ncs}:${name}`;
    return ncs !== "" ? `${base} - ${JSON.stringify(ncs)}` : base;
  }

  // ---- Reading ---------------------------------------------------------------------------

  onData(buf: Uint8Array): void {
    if (this.closed) return;
    if (this.#suspendedInput !== null) {
      this.#suspendedInput.push(buf);
      return;
    }
    const msgsBefore = this.inMsgs;
    const bytesBefore = this.inBytes;
    this.#subsTouched = false;
    const consumed = this.parser.parse(buf);
    // Parsing may have been suspended by this very chunk's CONNECT (see #suspend).
    const stash = this.#suspendedInput as Uint8Array[] | null;
    if (consumed < buf.length && stash !== null) stash.push(buf.subarray(consumed));
    // Server totals are updated once per read, not per message.
    if (this.inMsgs !== msgsBefore) {
      const server = this.server;
      const msgs = this.inMsgs - msgsBefore;
      const bytes = this.inBytes - bytesBefore;
      server.inMsgs += msgs;
      server.inBytes += bytes;
      const account = this.account;
      account.inMsgs += msgs;
      account.inBytes += bytes;
      this.lastActivityMs = Date.now();
    } else if (this.#subsTouched) this.lastActivityMs = Date.now();
  }

  // ---- Authorization -----------------------------------------------------------------------

  /**
   * Moves the connection into `account` with `perms` (after authentication, or when a JWT
   * update changes them). False when the account refuses it: the connection is closed.
   */
  bind(account: Account, perms: Permissions | null, userMaxSubs = -1, userMaxPayload = -1): boolean {
    if (account !== this.account) {
      const max = account.limits.maxConnections;
      if (max >= 0 && account.connections >= max) {
        this.server.logger.error(`${this.description} - ${ProtoError.maxAccountConnections.text}`);
        this.sendErr(ProtoError.maxAccountConnections.text);
        this.close(ClosedReason.maxAccountConnectionsExceeded);
        return false;
      }
      this.account.connections--;
      account.connections++;
      // Subscriptions made before (as the no_auth_user) move with the connection.
      if (this.subs !== null) {
        for (const sub of this.subs.values()) {
          this.account.sublist.remove(sub);
          account.sublist.insert(sub);
        }
      }
      this.account = account;
      this.lastResultGeneration = -1;
    }
    this.perms = perms;
    this.#permSubject = "";
    this.responses = perms?.response ? new ResponseTracker(perms.response) : null;
    this.deliveryFilter = null;
    this.deliveryChecks = this.responses !== null;
    // The strictest of the user's, the account's and the server's limits (-1 = none).
    const limits = account.limits;
    const opts = this.server.opts;
    this.maxSubs = minLimit(minLimit(opts.maxSubscriptions > 0 ? opts.maxSubscriptions : -1, limits.maxSubscriptions), userMaxSubs);
    this.maxPayload = minLimit(minLimit(opts.maxPayloadBytes, limits.maxPayload), userMaxPayload);
    this.parser.maxPayload = this.maxPayload < 0 ? Number.MAX_SAFE_INTEGER : this.maxPayload;
    return true;
  }

  /**
   * Applies a JWT login (at CONNECT, or again after its account changed): account,
   * permissions, limits and expiry. Subscriptions the new permissions no longer allow are
   * removed; a connection over its new subscription limit is closed.
   */
  applyLogin(login: JwtLogin): boolean {
    if (!this.bind(login.account, login.permissions, login.maxSubs, login.maxPayload)) return false;
    this.jwtLogin = login;
    this.authUser = `JWT User ${JSON.stringify(login.publicKey)}`;
    const accountExpiry = login.account.jwtState?.expiresAtMs ?? 0;
    const userFirst = login.expiresAtMs !== 0 && (accountExpiry === 0 || login.expiresAtMs <= accountExpiry);
    this.authExpiresAtMs = userFirst ? login.expiresAtMs : accountExpiry;
    this.authExpiredText = userFirst ? ProtoError.userExpired.text : ProtoError.accountExpired.text;
    const perms = this.perms;
    if (this.subs !== null && perms !== null) {
      for (const sub of [...this.subs.values()]) {
        if (perms.canSubscribe(sub.subject, sub.queue)) {
          if (this.deliveryFilter === null && perms.needsDeliveryFilter(sub.subject)) {
            this.deliveryFilter = perms;
            this.deliveryChecks = true;
          }
          continue;
        }
        this.sendErr(subPermissionViolation(sub.subject, sub.queue ?? undefined));
        this.unsubscribe(sub);
      }
    }
    if (this.maxSubs >= 0 && (this.subs?.size ?? 0) >= this.maxSubs) {
      // As the reference: what is being processed now goes first (the CONNECT's PING gets its
      // PONG), then the -ERR, then the close.
      setTimeout(() => {
        if (this.closed) return;
        this.sendErr(ProtoError.maxSubscriptions.text);
        this.server.logger.error(`${this.description} - ${ProtoError.maxSubscriptions.text}`);
        setTimeout(() => this.close(ClosedReason.maxSubscriptionsExceeded), C.maxSubscriptionsCloseDelayMs);
      }, 0);
    }
    return true;
  }

  /**
   * A configuration reload changed the user's permissions (the reference's
   * processSubsOnConfigReload): publishes are checked against `perms` from now on, and each
   * subscription they no longer allow is removed, told to the client with its sid and logged.
   * Returns the number of subscriptions removed.
   */
  reauthorize(perms: Permissions | null): number {
    const response = perms?.response ?? null;
    const previous = this.perms?.response ?? null;
    this.perms = perms;
    this.#permSubject = "";
    // Replies already granted stay answerable while allow_responses keeps its limits.
    if (response === null) this.responses = null;
    else if (this.responses === null || !Bun.deepEquals(previous, response)) this.responses = new ResponseTracker(response);
    this.deliveryFilter = null;
    let removed = 0;
    if (this.subs !== null && perms !== null) {
      for (const sub of [...this.subs.values()]) {
        // As the reference: allowed as a plain subscription, or as a queue subscription.
        const allowed = perms.canSubscribe(sub.subject, null) || (sub.queue !== null && perms.canSubscribe(sub.subject, sub.queue));
        if (allowed) {
          if (this.deliveryFilter === null && perms.needsDeliveryFilter(sub.subject)) this.deliveryFilter = perms;
          continue;
        }
        this.unsubscribe(sub);
        removed++;
        this.sendErr(subPermissionRevoked(sub.subject, sub.sid));
        this.server.logger.info(`Removed sub ${JSON.stringify(sub.subject)} (sid ${JSON.stringify(sub.sid)}) for ${this.authUserText} - not authorized`);
      }
    }
    this.deliveryChecks = this.deliveryFilter !== null || this.responses !== null;
    return removed;
  }

  /** The verified client certificate's identities (verify_and_map), or null. */
  certificateIdentity(): CertificateIdentity | null {
    const cert = this.socket.getPeerX509Certificate?.();
    if (cert === undefined || cert === null) return null;
    const id: CertificateIdentity = { emails: [], dnsNames: [], uris: [], subject: [] };
    for (const line of cert.subject.split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) id.subject.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
    for (const part of (cert.subjectAltName ?? "").split(/,\s*/)) {
      if (part.startsWith("email:")) id.emails.push(part.slice(6));
      else if (part.startsWith("DNS:")) id.dnsNames.push(part.slice(4));
      else if (part.startsWith("URI:")) id.uris.push(part.slice(4));
    }
    return id;
  }

  /** The publish permission check (reference pubAllowedFullCheck), with a one-subject cache. */
  #publishAllowed(pa: PubArgs): boolean {
    const subject = this.subjectString(pa.buf, pa.subjectStart, pa.subjectEnd);
    if (subject === this.#permSubject) return this.#permAllowed;
    const perms = this.perms!;
    if (perms.canPublish(subject)) {
      this.#permSubject = subject;
      this.#permAllowed = true;
      return true;
    }
    // Responses are allowed per reply subject and counted: never cached.
    if (this.responses !== null && this.responses.allow(subject, Date.now())) return true;
    this.sendErr(pubPermissionViolation(subject));
    this.server.logger.error(`${this.description} - Publish Violation - ${this.authUserText}, Subject ${JSON.stringify(subject)}`);
    return false;
  }

  /** `User "alice"` as the reference's getAuthUser, for violation logs. */
  get authUserText(): string {
    if (this.authUser !== "") return this.authUser;
    if (this.opts.nkey !== "") return `Nkey ${JSON.stringify(this.opts.nkey)}`;
    if (this.opts.user !== "") return `User ${JSON.stringify(this.opts.user)}`;
    if (this.opts.auth_token !== "") return `Token ${JSON.stringify(this.opts.auth_token)}`;
    return `User "N/A"`;
  }

  // ---- TLS -------------------------------------------------------------------------------

  /** Encrypted bytes seen on the plain socket after the upgrade: only the first read matters. */
  onRawTlsData(buf: Uint8Array): void {
    if (this.#tlsRawChecked || buf.length === 0) return;
    this.#tlsRawChecked = true;
    // A TLS record starts with content type 22 (handshake); a client speaking the NATS
    // protocol in the clear does not.
    if (buf[0] !== 0x16) this.#tlsRawError = "tls: first record does not look like a TLS handshake";
  }

  onTlsHandshake(success: boolean, authorizationError: Error | null): void {
    if (this.closed || !this.tlsHandshaking) return;
    const server = this.server;
    const verify = this.tlsVerify;
    let failure = "";
    if (this.#tlsRawError !== "") failure = this.#tlsRawError;
    else if (!success && (verify || authorizationError !== null)) failure = authorizationError?.message ?? "handshake failed";
    else if (!server.tlsPeerAllowed(this)) failure = "certificate not pinned";
    if (failure !== "") {
      server.logger.error(`${this.description} - TLS handshake error: ${failure}`);
      this.close(ClosedReason.tlsHandshakeError);
      return;
    }
    this.tlsHandshaking = false;
    if (server.logger.debugEnabled) server.logger.debug(`${this.description} - TLS handshake complete`);
    server.afterTlsHandshake(this);
  }

  // ---- ParserSink ------------------------------------------------------------------------

  onAuthViolation(): void {
    this.authViolation();
  }

  onParseError(snippet: string): void {
    this.sendErr(ProtoError.unknownOp.text);
    this.server.logger.error(`${this.description} - Client parser ERROR, proto=${snippet}`);
    this.close(ClosedReason.protocolViolation);
  }

  onMaxControlLine(argLength: number, snippet: string): void {
    this.sendErr(ProtoError.maxControlLine.text);
    this.server.logger.error(`${this.description} - maximum control line exceeded: max_control_line ${this.parser.maxControlLine}, length ${argLength} (snip: ${snippet}...)`);
    this.close(ClosedReason.maxControlLineExceeded);
  }

  onProtocolViolation(reason: string): void {
    this.server.logger.error(`${this.description} - ${reason}`);
    this.close(ClosedReason.protocolViolation);
  }

  onConnect(buf: Uint8Array, start: number, end: number): void {
    const text = decodeUtf8(buf, start, end);
    if (this.trace) this.#traceIn("CONNECT", redactPassword(text));
    const now = Date.now();
    this.lastActivityMs = now;
    this.rttMs = Math.max(now - this.startMs, 0.001);
    const opts = this.server.opts;
    // The first PING follows CONNECT quickly (reference setFirstPingTimer).
    this.pingDueMs = now + (opts.disableShortFirstPing ? opts.pingIntervalMs : Math.min(opts.pingIntervalMs, C.firstClientPingIntervalMs));

    const err = applyConnectJson(this.opts, text);
    if (err !== null) {
      this.server.logger.error(`${this.description} - ${err}`);
      this.close(ClosedReason.protocolViolation);
      return;
    }
    this.connectReceived = true;
    this.echo = this.opts.echo;
    this.verbose = this.opts.verbose;
    this.parser.checkPubLines = this.opts.pedantic || this.trace;
    this.headers = !opts.noHeaderSupport && this.opts.headers;
    this.parser.headers = this.headers;

    const verdict = this.server.authenticate(this);
    if (verdict === false) this.authViolation();
    else if (!(verdict instanceof Promise)) this.#afterAuth(verdict);
    else {
      // Asynchronous check (bcrypt): hold further input until it is decided.
      this.#suspend(Suspend.auth);
      verdict.then(
        (v) => {
          if (this.closed) return;
          if (v === false) this.authViolation();
          else this.#afterAuth(v);
          this.#resume(Suspend.auth);
          this.server.flushDirty();
        },
        (e: unknown) => {
          this.server.logger.error(`${this.description} - authentication error: ${(e as Error).message}`);
          this.authViolation();
          this.server.flushDirty();
        },
      );
    }
  }

  #afterAuth(verdict: Authenticated & { jwt?: JwtLogin }): void {
    if (this.closed) return;
    // Account designation in CONNECT is refused by the reference (legacy sandbox feature).
    if (this.opts.new_account || this.opts.account !== "") {
      this.authViolation();
      return;
    }
    if (!this.server.bindClient(this, verdict)) return;
    this.awaitingAuth = false;
    this.parser.requireConnect = false;
    const proto = this.opts.protocol;
    if (proto < 0 || proto > C.protocolLevel) {
      this.sendErr(ProtoError.badProtocol.text);
      this.close(ClosedReason.badClientProtocolVersion);
      return;
    }
    if (this.opts.no_responders && !this.headers) {
      this.sendErr(ProtoError.noRespondersNeedHeaders.text);
      this.close(ClosedReason.noRespondersRequiresHeaders);
      return;
    }
    if (this.opts.verbose) this.sendOk();
    // A JWT login with its own payload limit learns it from a new INFO (as the reference;
    // not for accounts of the config file).
    if (this.jwtLogin !== null && this.maxPayload !== this.server.opts.maxPayloadBytes) this.server.sendInfo(this);
    if (!this.announced) {
      this.announced = true;
      this.server.system?.clientConnected(this);
    }
  }

  /**
   * Stops parsing after the operation in hand and stops reading the socket; input already
   * read is stashed and parsed again by #resume once no reason is left.
   */
  #suspend(reason: number): void {
    if (this.#suspendedFor === 0) {
      this.#suspendedInput = [];
      this.parser.suspend();
      (this.socket as unknown as { pause(): void }).pause();
    }
    this.#suspendedFor |= reason;
  }

  #resume(reason: number): void {
    if ((this.#suspendedFor & reason) === 0) return;
    this.#suspendedFor &= ~reason;
    if (this.#suspendedFor !== 0 || this.closed) return;
    const pending = this.#suspendedInput;
    this.#suspendedInput = null;
    this.parser.resume();
    (this.socket as unknown as { resume(): void }).resume();
    if (pending !== null) for (const chunk of pending) this.onData(chunk);
  }

  onInfo(buf: Uint8Array, start: number, end: number): void {
    // Clients may send INFO; the reference decodes and ignores it, closing only on bad JSON.
    try {
      JSON.parse(decodeUtf8(buf, start, end));
    } catch (e) {
      this.server.logger.error(`${this.description} - ${(e as Error).message}`);
      this.close(ClosedReason.protocolViolation);
    }
  }

  onClientError(buf: Uint8Array, start: number, end: number): void {
    this.server.logger.error(`${this.description} - Client Error ${decodeUtf8(buf, start, end)}`);
    this.close(ClosedReason.parseError);
  }

  onPing(): void {
    if (this.trace) this.#traceIn("PING", "");
    this.sendProto(PONG_LINE, "PONG");
    this.lastPingReceivedMs = Date.now();
    if (this.connectReceived && !this.firstPongSent) this.firstPongSent = true;
  }

  onPong(): void {
    if (this.trace) this.#traceIn("PONG", "");
    this.pingsOut = 0;
    this.rttMs = Math.max(Date.now() - this.rttStartMs, 0.001);
  }

  onSub(buf: Uint8Array, ss: number, se: number, qs: number, qe: number, sids: number, side: number): void {
    const subject = decodeByteString(buf, ss, se);
    const queue = qs >= 0 ? decodeByteString(buf, qs, qe) : null;
    const sid = decodeByteString(buf, sids, side);
    if (this.trace) this.#traceIn("SUB", queue === null ? `${subject} ${sid}` : `${subject} ${queue} ${sid}`);
    this.#subsTouched = true;
    const maxTokens = this.server.opts.maxSubTokens;
    if (maxTokens > 0 && subject.split(".").length > maxTokens) {
      this.sendErr(`Permissions Violation for Subscription to "${subject}", too many tokens`);
      this.server.logger.error(`${this.description} - Subscription Violation Too Many Tokens - User "${this.opts.user}", Subject "${subject}", SID ${sid}`);
      return;
    }
    const perms = this.perms;
    if (perms !== null && !perms.canSubscribe(subject, queue)) {
      this.sendErr(subPermissionViolation(subject, queue ?? undefined));
      const q = queue === null ? "" : `, Queue: ${JSON.stringify(queue)}`;
      this.server.logger.error(`${this.description} - Subscription Violation - ${this.authUserText}, Subject ${JSON.stringify(subject)}${q}, SID ${sid}`);
      return;
    }
    if (this.maxSubs >= 0 && (this.subs?.size ?? 0) >= this.maxSubs) {
      this.sendErr(ProtoError.maxSubscriptions.text);
      this.server.logger.error(`${this.description} - ${ProtoError.maxSubscriptions.text}`);
      return;
    }
    const subs = (this.subs ??= new Map());
    if (!subs.has(sid)) {
      if (!isValidSubscriptionSubject(subject)) {
        this.sendErr(ProtoError.invalidSubject.text);
        return;
      }
      const sub = new Subscription(this, subject, queue, sid, encodeByteString(sid));
      subs.set(sid, sub);
      this.account.sublist.insert(sub);
      if (perms !== null && this.deliveryFilter === null && perms.needsDeliveryFilter(subject)) {
        this.deliveryFilter = perms;
        this.deliveryChecks = true;
      }
    }
    if (this.opts.verbose) this.sendOk();
  }

  onUnsub(buf: Uint8Array, sids: number, side: number, max: number, hasMax: boolean): void {
    const sid = decodeByteString(buf, sids, side);
    if (this.trace) this.#traceIn("UNSUB", hasMax ? `${sid} ${max}` : sid);
    this.#subsTouched = true;
    const sub = this.subs?.get(sid);
    let unsubscribeNow = false;
    if (sub !== undefined) {
      if (max > 0 && max > sub.delivered) sub.max = max;
      else {
        sub.max = 0;
        unsubscribeNow = true;
      }
    }
    if (this.opts.verbose) this.sendOk();
    if (unsubscribeNow) this.unsubscribe(sub!);
  }

  onPubLine(pa: PubArgs): void {
    if (this.trace) this.#traceIn(pa.hdr >= 0 ? "HPUB" : "PUB", decodeUtf8(pa.buf, pa.subjectStart, pa.subjectEnd) + (pa.replyEnd > pa.replyStart ? " " + decodeUtf8(pa.buf, pa.replyStart, pa.replyEnd) : "") + (pa.hdr >= 0 ? ` ${pa.hdr}` : "") + ` ${pa.size}`);
    if (this.maxPayload >= 0 && pa.size > this.maxPayload) {
      this.server.logger.error(`${this.description} - maximum payload exceeded: ${pa.size} vs ${this.maxPayload}`);
      this.sendErr(ProtoError.maxPayload.text);
      this.close(ClosedReason.maxPayloadExceeded);
      return;
    }
    if (this.opts.pedantic && !isValidLiteralSubject(decodeByteString(pa.buf, pa.subjectStart, pa.subjectEnd))) this.sendErr(ProtoError.invalidPublishSubject.text);
  }

  onMsg(pa: PubArgs, payload: Uint8Array, payloadStart: number): void {
    if (this.trace) this.#traceMsgPayload(payload, payloadStart, pa.size);
    this.inMsgs++;
    this.inBytes += pa.size;
    if (this.perms !== null && this.perms.checksPublish && !this.#publishAllowed(pa)) return;
    // Reply subjects of the form `_R_.…` are the server's (service imports).
    if (pa.replyEnd - pa.replyStart > 3 && isReservedReply(pa.buf, pa.replyStart)) {
      const reply = decodeByteString(pa.buf, pa.replyStart, pa.replyEnd);
      this.sendErr(`Permissions Violation for Publish with Reply of ${JSON.stringify(reply)}`);
      this.server.logger.error(`${this.description} - Publish Violation - ${this.authUserText}, Reply ${JSON.stringify(reply)}`);
      return;
    }
    if (this.verbose) this.sendOk();
    if (this.account.mappings !== null) {
      const mapped = this.account.mapSubject(this.subjectString(pa.buf, pa.subjectStart, pa.subjectEnd));
      if (mapped !== null) {
        deliverMapped(this, pa, payload, payloadStart, mapped);
        return;
      }
    }
    deliverMessage(this, pa, payload, payloadStart);
  }

  // ---- Subject cache ---------------------------------------------------------------------

  /** The subject at argBuf[ss, se) as a string, reusing the last one when the bytes repeat. */
  subjectString(argBuf: Uint8Array, ss: number, se: number): string {
    const len = se - ss;
    const cached = this.lastSubjectBytes;
    if (len === this.lastSubjectLength && cached !== null && bytesEqual(argBuf, ss, se, cached, len)) return this.lastSubject;
    const subject = decodeByteString(argBuf, ss, se);
    this.lastSubject = subject;
    this.lastResultGeneration = -1;
    if (len <= SUBJECT_CACHE_MAX_BYTES) {
      const bytes = cached !== null && cached.length >= len ? cached : new Uint8Array(SUBJECT_CACHE_MAX_BYTES);
      for (let i = 0; i < len; i++) bytes[i] = argBuf[ss + i];
      this.lastSubjectBytes = bytes;
      this.lastSubjectLength = len;
    } else {
      this.lastSubjectLength = -1;
    }
    return subject;
  }

  // ---- Writing ---------------------------------------------------------------------------

  /** Queues a protocol line and schedules a flush. */
  sendProto(line: Uint8Array, traceText?: string): void {
    if (this.closed) return;
    if (this.trace && traceText !== undefined) this.server.logger.trace(`${this.description} - ->> [${traceText}]`);
    this.out.append(line);
    this.server.markDirty(this);
  }

  /** Writes a line to the socket now if nothing is queued, else queues it. */
  sendDirect(line: Uint8Array): void {
    if (this.out.pending === 0 && !this.writeBlocked) {
      const n = this.socket.write(line);
      if (n === line.length || n < 0) return;
      this.out.append(n > 0 ? line.subarray(n) : line);
      this.writeBlocked = true;
      this.writeBlockedSinceMs = Date.now();
      return;
    }
    this.sendProto(line);
  }

  sendOk(): void {
    this.sendProto(OK_LINE, "OK");
  }

  sendErr(text: string): void {
    this.sendProto(errLine(text), `-ERR ${text}`);
  }

  /**
   * Writes pending bytes to the socket. Returns false if the socket refused some (the rest
   * waits for `drain`).
   */
  flush(): boolean {
    this.dirty = false;
    // JetStream acks may be in this buffer: the file store's coalesced appends reach the OS first.
    const before = writeHooks.beforeSocketWrite;
    if (before !== null) before();
    if (this.writeBlocked) return false;
    const out = this.out;
    const pending = out.tail - out.head;
    if (pending === 0 || out.buf === null) return true;
    const n = this.socket.write(out.buf, out.head, pending);
    if (n === pending) {
      out.consumed(n);
      return true;
    }
    if (n < 0) {
      // Socket already closed; its close handler cleans up.
      out.consumed(pending);
      return true;
    }
    out.consumed(n);
    this.writeBlocked = true;
    this.writeBlockedSinceMs = Date.now();
    return false;
  }

  /** The socket can take more bytes. */
  onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    this.flush();
    if (this.out.pending <= this.server.stallThresholdBytes) this.#releaseStalledProducers();
  }

  /**
   * Fast-producer stall (reference: stalledWait, 2.9): `producer` filled this connection's
   * buffer past half of max_pending, so it stops — after the message in hand, even in the
   * middle of a read — until this connection drains or `ms` pass, whichever is first. A
   * burst from one producer then costs the receiver at most one message beyond the
   * threshold instead of a slow-consumer cut.
   */
  stallProducer(producer: Publisher, ms: number): void {
    if (producer === this || producer.stalled || producer.closed) return;
    (this.stalledProducers ??= []).push(producer);
    producer.stall(ms);
  }

  stall(ms: number): void {
    this.stalled = true;
    this.#suspend(Suspend.stall);
    this.server.logger.debug(`${this.description} - Fast producer stalled for up to ${ms}ms`);
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = null;
      this.endStall();
      this.server.flushDirty();
    }, ms);
  }

  endStall(): void {
    if (!this.stalled) return;
    this.stalled = false;
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
    this.#resume(Suspend.stall);
  }

  #releaseStalledProducers(): void {
    const list = this.stalledProducers;
    if (list === null) return;
    this.stalledProducers = null;
    for (const p of list) p.endStall();
  }

  // ---- Subscriptions ---------------------------------------------------------------------

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs?.delete(sub.sid);
    this.account.sublist.remove(sub);
    if (this.trace) this.server.logger.trace(`${this.description} - <-> [DELSUB ${sub.sid}]`);
  }

  // ---- Errors and closing ----------------------------------------------------------------

  authViolation(): void {
    this.server.logAuthFailure(this);
    this.server.system?.authError(this);
    this.sendErr(ProtoError.authViolation.text);
    this.close(ClosedReason.authViolation);
  }

  /**
   * Closes the connection: stops parsing, removes its subscriptions, writes what is still
   * buffered (an -ERR, typically) and ends the socket.
   */
  close(reason: ClosedReasonText): void {
    if (this.closed) return;
    this.parser.stop();
    // Write what is queued (the -ERR that explains the close) before the socket goes.
    if (!this.writeBlocked && this.out.pending > 0) this.flush();
    this.closed = true;
    this.closeReason = reason;
    if (this.subs !== null) {
      for (const sub of this.subs.values()) {
        sub.closed = true;
        this.account.sublist.remove(sub);
      }
      if (this.trace) for (const sub of this.subs.values()) this.server.logger.trace(`${this.description} - <-> [DELSUB ${sub.sid}]`);
    }
    this.#releaseStalledProducers();
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    this.server.removeConnection(this, reason);
    closeGracefully(this.socket);
    this.out.release();
  }

  closeReason: ClosedReasonText | "" = "";

  /** The socket went away (peer closed, or our end()). */
  onSocketClosed(): void {
    if (!this.closed) this.close(ClosedReason.clientClosed);
  }

  // ---- Timers (driven by the server's housekeeping tick) -----------------------------------

  housekeeping(now: number): void {
    if (this.closed) return;
    const opts = this.server.opts;
    if (this.tlsHandshaking) {
      if (now >= this.tlsDeadlineMs) {
        this.server.logger.error(`${this.description} - TLS handshake timeout`);
        this.close(ClosedReason.tlsHandshakeError);
      }
      return;
    }
    if (this.authExpiresAtMs !== 0 && now >= this.authExpiresAtMs) {
      this.sendErr(this.authExpiredText);
      this.server.logger.debug(`${this.description} - ${this.authExpiredText}`);
      this.close(ClosedReason.authenticationExpired);
      return;
    }
    if (this.awaitingAuth && now >= this.authDeadlineMs) {
      this.sendErr(ProtoError.authTimeout.text);
      this.server.logger.debug(`${this.description} - ${ProtoError.authTimeout.text}`);
      this.close(ClosedReason.authTimeout);
      return;
    }
    if (this.writeBlocked && now - this.writeBlockedSinceMs >= opts.writeDeadlineMs) {
      this.server.logger.info(`${this.description} - Slow Consumer Detected: WriteDeadline of ${formatDuration(opts.writeDeadlineMs)} exceeded with ${this.out.pending} total bytes.`);
      this.server.slowConsumers++;
      this.account.slowConsumers++;
      this.close(ClosedReason.slowConsumerWriteDeadline);
      return;
    }
    if (now >= this.pingDueMs) this.#pingTimer(now);
    if (!this.closed) this.out.releaseIfIdle();
  }

  /** The reference's processPingTimer. */
  #pingTimer(now: number): void {
    const opts = this.server.opts;
    const needRtt = this.rttMs === 0 || now - this.rttStartMs > C.rttMeasurementIntervalMs;
    let sendPing = true;
    if (!needRtt && (now - this.lastActivityMs < opts.pingIntervalMs || now - this.lastPingReceivedMs < opts.pingIntervalMs)) {
      sendPing = false;
      if (this.server.logger.debugEnabled) this.server.logger.debug(`${this.description} - Delaying PING due to client activity`);
    }
    if (sendPing) {
      if (this.pingsOut + 1 > opts.pingMax) {
        this.server.logger.debug(`${this.description} - Stale Client Connection - Closing`);
        this.sendErr(ProtoError.staleConnection.text);
        this.close(ClosedReason.staleConnection);
        return;
      }
      this.pingsOut++;
      this.rttStartMs = now;
      this.sendProto(PING_LINE, "PING");
    }
    this.pingDueMs = now + opts.pingIntervalMs;
  }

  /** `<<- MSG_PAYLOAD: ["…"]`, cut at max_traced_msg_len as the reference does. */
  #traceMsgPayload(payload: Uint8Array, start: number, size: number): void {
    const max = this.server.opts.maxTracedMsgLen;
    const text = max > 0 && size > max ? `${quoteBytes(payload, start, start + max).slice(0, -1)}..."` : quoteBytes(payload, start, start + size);
    this.server.logger.trace(`${this.description} - <<- MSG_PAYLOAD: [${text}]`);
  }

  #traceIn(op: string, arg: string): void {
    this.server.logger.trace(`${this.description} - <<- [${arg === "" ? op : `${op} ${arg}`}]`);
  }
}

/**
 * The reference inserts SUB subjects into its sublist unchecked except for empty tokens and
 * tokens after '>' (Sublist.Insert); whitespace cannot occur since arguments are split on it.
 */
function isValidSubscriptionSubject(subject: string): boolean {
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].length === 0) return false;
    if (tokens[i] === ">" && i !== tokens.length - 1) return false;
  }
  return true;
}

/** Removes the password from a CONNECT line for tracing (reference removePassFromTrace). */
function redactPassword(text: string): string {
  return text.replace(/("pass"\s*:\s*")((?:[^"\\]|\\.)*)(")/, "$1[REDACTED]$3");
}

/** Go's time.Duration String() for whole milliseconds: 10s, 1m0s, 250ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const sText = Number.isInteger(s) ? `${s}s` : `${s.toFixed(3).replace(/0+$/, "")}s`;
  if (h > 0) return `${h}h${m}m${sText}`;
  if (m > 0) return `${m}m${sText}`;
  return sText;
}

/** The stricter of two limits, -1 meaning none. */
function minLimit(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

/** `_R_.` at buf[at]: a reply subject reserved for service imports. */
function isReservedReply(buf: Uint8Array, at: number): boolean {
  return buf[at] === 0x5f && buf[at + 1] === 0x52 && buf[at + 2] === 0x5f && buf[at + 3] === 0x2e;
}

/** How long a closed connection's socket keeps reading (and discarding) after its FIN. */
const LINGER_MS = 2_000;

/**
 * Sends FIN after what is written (the -ERR explaining the close) and keeps reading until the
 * peer closes or LINGER_MS pass. Closing at once would make the kernel answer bytes the client
 * sent meanwhile (a PING behind its CONNECT) with a reset, and a reset can make the client
 * drop the -ERR unread.
 */
function closeGracefully(socket: Socket<ClientConnection>): void {
  const s = socket as unknown as { shutdown?: () => void };
  if (typeof s.shutdown !== "function") {
    socket.end();
    return;
  }
  s.shutdown();
  setTimeout(() => socket.end(), LINGER_MS).unref();
}
