// A raw TCP client for protocol tests: write exact bytes, read exact bytes, with bounded waits.
import type { Socket } from "bun";

export class RawClient {
  #socket: Socket<undefined> | null = null;
  #buf = "";
  #closed = false;
  #waiters: (() => void)[] = [];

  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    const c = new RawClient();
    c.#socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, d) => {
          c.#buf += new TextDecoder("latin1").decode(d);
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

  write(data: string | Uint8Array): void {
    this.#socket!.write(data);
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
      this.#socket!.write(bytes.subarray(i, Math.min(i + pieceBytes, bytes.length)));
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
