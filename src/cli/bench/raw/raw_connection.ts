// A minimal NATS client connection on a raw `Bun.connect` socket, for the load generator's
// core pub/sub path: handshake, PING/PONG flushes, writes that honour backpressure, and
// deliveries counted by InboundParser. No reconnects, no TLS: a benchmark connection that
// breaks fails the run. The official client (`--client official`) covers everything else.
import type { Socket } from "bun";
import { nowMs } from "../clock.ts";
import { InboundParser } from "./inbound_parser.ts";
import { encoder, pingBytes, pongBytes } from "./protocol_bytes.ts";
import { parseServerUrl } from "./server_url.ts";

export interface RawConnectionOptions {
  url: string;
  name: string;
  /** Called once per delivery with the time of the read that completed it. */
  onMsg?: (totalBytes: number, timestampMs: number, receivedMs: number) => void;
  /** Copy payload timestamps out of deliveries (subscribers with end-to-end latency). */
  readTimestamps?: boolean;
  /** Keep each delivery's reply subject (see `replyBytes`), for responders. */
  captureReply?: boolean;
  /** Keep each delivery's subject (see `subjectBytes`). */
  captureSubject?: boolean;
  /** Keep the first this-many bytes of each payload (see `payloadBytes`). */
  payloadCaptureBytes?: number;
  /** Called after each read has been parsed: the place to flush replies coalesced per read. */
  onReadEnd?: () => void;
  /** Called once if the connection breaks (server closed it, -ERR, socket error). */
  onFailure?: (error: Error) => void;
  /** Bound on the handshake (connect, INFO, CONNECT, PONG). */
  connectTimeoutMs?: number;
}

export class RawConnectionError extends Error {
  override name = "RawConnectionError";
}

/** Bytes handed to write() but refused by the socket, waiting for `drain`. */
interface PendingWrite {
  bytes: Uint8Array;
  offset: number;
  end: number;
}

export class RawConnection {
  #socket: Socket<undefined> | null = null;
  readonly #parser: InboundParser;
  readonly #options: RawConnectionOptions;
  /** FIFO of writes the socket could not take yet; order on the wire must be kept. */
  readonly #pending: PendingWrite[] = [];
  #drainWaiters: Array<() => void> = [];
  /** One resolver per PING sent, resolved in order by PONGs. */
  readonly #pongWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #failure: Error | null = null;
  #closed = false;
  #infoResolve: ((json: string) => void) | null = null;
  /** Time of the read being parsed, so deliveries in one read share one clock call. */
  #readMs = 0;
  serverInfo: Record<string, unknown> = {};

  private constructor(options: RawConnectionOptions) {
    this.#options = options;
    const onMsg = options.onMsg;
    this.#parser = new InboundParser(
      {
        onMsg: onMsg === undefined ? () => {} : (total, timestamp) => onMsg(total, timestamp, this.#readMs),
        onPing: () => this.#writeControl(pongBytes),
        onPong: () => this.#pongWaiters.shift()?.resolve(),
        onInfo: (json) => {
          const resolve = this.#infoResolve;
          this.#infoResolve = null;
          resolve?.(json);
        },
        onErr: (text) => this.#fail(new RawConnectionError(`server error: ${text}`)),
      },
      {
        readTimestamps: options.readTimestamps,
        captureReply: options.captureReply,
        captureSubject: options.captureSubject,
        payloadCaptureBytes: options.payloadCaptureBytes,
      },
    );
  }

  static async connect(options: RawConnectionOptions): Promise<RawConnection> {
    const connection = new RawConnection(options);
    await connection.#open();
    return connection;
  }

  async #open(): Promise<void> {
    const address = parseServerUrl(this.#options.url);
    if (address.tls) throw new RawConnectionError("the raw client does not speak TLS; use --client official");
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const infoJson = new Promise<string>((resolve) => {
      this.#infoResolve = resolve;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RawConnectionError(`no handshake with ${address.host}:${address.port} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      this.#socket = await Promise.race([
        Bun.connect({
          hostname: address.host,
          port: address.port,
          socket: {
            binaryType: "uint8array",
            data: (_socket, chunk) => this.#onData(chunk),
            drain: () => this.#onDrain(),
            close: () => this.#onClose(),
            error: (_socket, error) => this.#fail(new RawConnectionError(`socket error: ${error.message}`)),
            end: () => this.#onClose(),
          },
        }),
        timeout,
      ]);
      // Small writes (PING, single requests) must leave at once, not wait for Nagle.
      this.#socket.setNoDelay(true);
      const info = JSON.parse(await Promise.race([infoJson, timeout])) as Record<string, unknown>;
      this.serverInfo = info;
      if (info.tls_required === true) throw new RawConnectionError("server requires TLS; use --client official");
      const connect: Record<string, unknown> = {
        verbose: false, pedantic: false, echo: true, protocol: 1, headers: true, no_responders: true,
        lang: "nats-bun-bench", version: "0.1.0", name: this.#options.name,
      };
      if (address.user !== "") Object.assign(connect, { user: address.user, pass: address.pass });
      if (address.token !== "") connect.auth_token = address.token;
      this.#writeControl(encoder.encode(`CONNECT ${JSON.stringify(connect)}\r\n`));
      await Promise.race([this.flush(), timeout]);
    } catch (error) {
      this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #onData(chunk: Uint8Array): void {
    this.#readMs = nowMs();
    try {
      this.#parser.push(chunk);
      this.#options.onReadEnd?.();
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  /** Reply subject of the delivery being reported to onMsg: `replyBytes[0, replyLength)`. */
  get replyBytes(): Uint8Array {
    return this.#parser.replyBytes;
  }

  get replyLength(): number {
    return this.#parser.replyLength;
  }

  /** Subject of the delivery being reported to onMsg: `subjectBytes[0, subjectLength)`. */
  get subjectBytes(): Uint8Array {
    return this.#parser.subjectBytes;
  }

  get subjectLength(): number {
    return this.#parser.subjectLength;
  }

  /** Start of the payload (headers included) of the delivery being reported to onMsg. */
  get payloadBytes(): Uint8Array {
    return this.#parser.payloadBytes;
  }

  get payloadLength(): number {
    return this.#parser.payloadLength;
  }

  /** Header bytes of the delivery being reported to onMsg (HMSG), 0 for MSG. */
  get headerBytes(): number {
    return this.#parser.headerBytes;
  }

  /** True while written bytes wait for `drain`: a caller must not reuse a buffer it handed over. */
  get pushedBack(): boolean {
    return this.#pending.length > 0;
  }

  /**
   * Writes `bytes[offset, end)`. Returns null when the socket took everything now, else a
   * promise resolved once the rest went out on `drain`. The caller must not modify the bytes
   * until then: they are queued by reference, not copied.
   */
  write(bytes: Uint8Array, offset: number, end: number): Promise<void> | null {
    if (this.#failure !== null) throw this.#failure;
    if (this.#pending.length === 0) {
      const written = this.#writeNow(bytes, offset, end);
      if (written === end) return null;
      this.#pending.push({ bytes, offset: written, end });
    } else {
      this.#pending.push({ bytes, offset, end });
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Sends PING and resolves on its PONG: everything written before has been processed. */
  flush(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const done = new Promise<void>((resolve, reject) => this.#pongWaiters.push({ resolve, reject }));
    this.#writeControl(pingBytes);
    return done;
  }

  /** Small protocol writes (PING, PONG, SUB, CONNECT) keep their place behind queued data. */
  #writeControl(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#pending.length > 0) {
      this.#pending.push({ bytes, offset: 0, end: bytes.length });
      return;
    }
    const written = this.#writeNow(bytes, 0, bytes.length);
    if (written < bytes.length) this.#pending.push({ bytes, offset: written, end: bytes.length });
  }

  writeText(text: string): void {
    this.#writeControl(encoder.encode(text));
  }

  #writeNow(bytes: Uint8Array, offset: number, end: number): number {
    const socket = this.#socket;
    if (socket === null || this.#closed) throw new RawConnectionError("connection closed");
    const written = socket.write(bytes, offset, end - offset);
    if (written < 0) {
      const error = new RawConnectionError("connection closed while writing");
      this.#fail(error);
      throw error;
    }
    return offset + written;
  }

  #onDrain(): void {
    while (this.#pending.length > 0) {
      const head = this.#pending[0];
      let written: number;
      try {
        written = this.#writeNow(head.bytes, head.offset, head.end);
      } catch {
        return;
      }
      if (written < head.end) {
        head.offset = written;
        return;
      }
      this.#pending.shift();
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #onClose(): void {
    if (!this.#closed) this.#fail(new RawConnectionError("connection closed by the server"));
  }

  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    this.#closed = true;
    for (const waiter of this.#pongWaiters.splice(0)) waiter.reject(error);
    // Writers waiting for drain must not hang: wake them, their next write() throws.
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
    this.#socket?.end();
    this.#options.onFailure?.(error);
  }

  /** The error that ended this connection, if any. */
  get failure(): Error | null {
    return this.#failure;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.end();
    for (const waiter of this.#pongWaiters.splice(0)) waiter.reject(new RawConnectionError("connection closed"));
    // A writer still waiting for drain must not hang on a closed connection.
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
