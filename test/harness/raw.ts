// A raw TCP client for protocol tests: write exact bytes, read exact bytes, with bounded waits.
import type { Socket } from "bun";

export class RawClient {
  #socket: Socket<undefined> | null = null;
  #buf = "";
  #closed = false;
  #waiters: (() => void)[] = [];
  /** Bytes the socket did not take yet (Bun's socket.write may write only part). */
  #unsent: Uint8Array[] = [];

  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    const c = new RawClient();
    c.#socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, d) => {
          // True latin1 (one char per byte, reversible), not TextDecoder's windows-1252 "latin1".
          c.#buf += Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("latin1");
          c.#wake();
        },
        drain: () => {
          c.#writeUnsent();
          c.#wake();
        },
        close: () => {
          c.#closed = true;
          c.#wake();
        },
        error: () => {
          c.#closed = true;
          c.#wake();
        },
      },
    });
    return c;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Everything received and not yet consumed. */
  get buffered(): string {
    return this.#buf;
  }

  /** Queues bytes for the socket; what it cannot take now is written on `drain`, in order. */
  write(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (bytes.length === 0) return;
    this.#unsent.push(bytes);
    if (this.#unsent.length === 1) this.#writeUnsent();
  }

  #writeUnsent(): void {
    while (this.#unsent.length > 0 && !this.#closed) {
      const head = this.#unsent[0];
      const n = this.#socket!.write(head);
      if (n >= head.length) this.#unsent.shift();
      else {
        if (n > 0) this.#unsent[0] = head.subarray(n);
        return;
      }
    }
  }

  /** Bytes written by the caller that the socket has not accepted yet. */
  get unsentBytes(): number {
    return this.#unsent.reduce((n, b) => n + b.length, 0);
  }

  /** Waits (bounded) until the socket has accepted everything written. */
  async drained(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#unsent.length > 0) {
      if (this.#closed) throw new Error("connection closed with unsent bytes");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.unsentBytes} bytes still unsent after ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Disables Nagle's algorithm so that small writes leave as separate segments. */
  setNoDelay(): void {
    this.#socket!.setNoDelay(true);
  }

  /**
   * Writes `data` in pieces of `pieceBytes`, yielding to the event loop (a timer turn) after
   * each so that the server gets them in separate reads as far as TCP allows. Set no-delay
   * first for small pieces.
   */
  async writeSlowly(data: string | Uint8Array, pieceBytes = 1): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let i = 0; i < bytes.length && !this.#closed; i += pieceBytes) {
      this.write(bytes.subarray(i, Math.min(i + pieceBytes, bytes.length)));
      this.#socket!.flush();
      await new Promise<void>((r) => setTimeout(r, 0));
    }
  }

  /** Consumes everything received so far. */
  take(): string {
    const s = this.#buf;
    this.#buf = "";
    return s;
  }

  /** Waits (bounded) until the received text satisfies `pred`; returns it without consuming. */
  async waitFor(pred: (received: string) => boolean, timeoutMs = 3_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.#buf)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; received so far: ${JSON.stringify(this.#buf)}`);
      if (this.#closed && !pred(this.#buf)) throw new Error(`connection closed; received: ${JSON.stringify(this.#buf)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.#buf;
  }

  /** Reads one line (up to and including \r\n), consuming it. */
  async readLine(timeoutMs = 3_000): Promise<string> {
    await this.waitFor((b) => b.includes("\r\n"), timeoutMs);
    const i = this.#buf.indexOf("\r\n");
    const line = this.#buf.slice(0, i + 2);
    this.#buf = this.#buf.slice(i + 2);
    return line;
  }

  /** Consumes exactly `n` characters. */
  async read(n: number, timeoutMs = 3_000): Promise<string> {
    await this.waitFor((b) => b.length >= n, timeoutMs);
    const s = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return s;
  }

  /** Waits for the server to close the connection (bounded). */
  async waitClosed(timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      if (Date.now() > deadline) throw new Error(`connection still open; received: ${JSON.stringify(this.#buf)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends PING and waits for everything up to its PONG; returns what came before it. */
  async flush(timeoutMs = 3_000): Promise<string> {
    this.write("PING\r\n");
    await this.waitFor((b) => b.endsWith("PONG\r\n"), timeoutMs);
    const out = this.#buf.slice(0, -6);
    this.#buf = "";
    return out;
  }

  close(): void {
    this.#socket?.end();
  }
}
