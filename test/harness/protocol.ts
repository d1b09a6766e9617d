// Helpers for raw-protocol tests: a connected client past its INFO line, bounded polling, and
// a script runner whose outcome (every byte received, and whether the server closed) can be
// compared exactly — against an expectation, or between our server and the reference.
import net from "node:net";
import { RawClient } from "./raw.ts";

export const CRLF = "\r\n";

/** Polls `pred` until it holds (bounded); the reference's checkFor. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

/** Non-overlapping occurrences of `needle` in `haystack`. */
export function countOf(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

export interface Connected {
  c: RawClient;
  /** The INFO the server greeted with. */
  info: Record<string, unknown>;
}

/**
 * Connects, consumes the INFO line and, unless `connect` is null, sends CONNECT with the given
 * options (verbose and pedantic off by default, so that tests see only what they ask for).
 */
export async function connectRaw(port: number, connect: Record<string, unknown> | null = {}): Promise<Connected> {
  const c = await RawClient.connect(port);
  const line = await c.readLine();
  if (!line.startsWith("INFO ")) throw new Error(`expected INFO, got ${JSON.stringify(line)}`);
  const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
  if (connect !== null) c.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...connect })}\r\n`);
  return { c, info };
}

/** Waits for the server to close `c` and returns everything received (bounded). */
export async function closedWith(c: RawClient, timeoutMs = 3_000): Promise<string> {
  await c.waitClosed(timeoutMs);
  return c.take();
}

/** A raw protocol script: bytes written in order, and how the exchange is expected to end. */
export interface Script {
  name: string;
  /** Written in order, one write each (the server may still read them together). */
  steps: string[];
  /** The server closes the connection: wait for that instead of sending the PING sentinel. */
  closes?: boolean;
  /** PONGs the script itself provokes (default: lines starting with "ping", any case). */
  pongs?: number;
  /** Which server configuration the script runs under (a key of the caller's config table). */
  server?: string;
  /** Steps are raw bytes spelled as characters < 256 (not UTF-8 encoded). */
  latin1?: boolean;
  /** Write each step in pieces of this many bytes (see RunOptions.pieceBytes). */
  pieceBytes?: number;
}

export interface Outcome {
  /** The INFO line's JSON, or null if the first line was not INFO. */
  info: Record<string, unknown> | null;
  /** Everything after the INFO line, including the sentinel's PONG. */
  output: string;
  closed: boolean;
}

function pingsIn(steps: string[]): number {
  return (steps.join("").match(/(^|\n)ping[^\n]*\n/gi) ?? []).length;
}

export interface RunOptions {
  /** Write every step in pieces of this many bytes, each in its own event-loop turn. */
  pieceBytes?: number;
  /** Bound on waiting for the sentinel or the close. */
  timeoutMs?: number;
}

/**
 * Runs a script on a fresh connection. Non-closing scripts end with a PING sentinel: the
 * exchange is complete when the PONGs the script provoked plus the sentinel's have arrived
 * (or the server closed). Closing scripts wait for the close; a connection still open at the
 * bound is reported as `closed: false`, not thrown, so that a difference shows as data.
 */
export async function runScript(port: number, script: Script, opts: RunOptions = {}): Promise<Outcome> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const c = await RawClient.connect(port);
  try {
    await c.waitFor((b) => b.includes(CRLF));
    const first = await c.readLine();
    let info: Record<string, unknown> | null = null;
    let output = "";
    if (first.startsWith("INFO ")) info = JSON.parse(first.slice(5)) as Record<string, unknown>;
    else output = first;
    const pieceBytes = opts.pieceBytes ?? script.pieceBytes;
    if (pieceBytes !== undefined) c.setNoDelay();
    for (const text of script.steps) {
      if (c.closed) break;
      const step = script.latin1 ? Uint8Array.from(text, (ch) => ch.charCodeAt(0)) : text;
      if (pieceBytes !== undefined) await c.writeSlowly(step, pieceBytes);
      else {
        c.write(step);
        await c.drained().catch(() => undefined);
        await new Promise<void>((r) => setTimeout(r, 0));
      }
    }
    if (script.closes) {
      await c.waitClosed(timeoutMs).catch(() => undefined);
    } else {
      const want = (script.pongs ?? pingsIn(script.steps)) + 1;
      if (!c.closed) c.write("PING\r\n");
      await c.waitFor((b) => countOf(b, "PONG\r\n") >= want, timeoutMs).catch(() => undefined);
    }
    return { info, output: output + c.take(), closed: c.closed };
  } finally {
    c.close();
  }
}

/**
 * Splits server output into protocol frames: one string per INFO/+OK/-ERR/PING/PONG line, and
 * per MSG/HMSG including its payload. Unparseable rest is returned as one last frame.
 */
export function frames(output: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < output.length) {
    const nl = output.indexOf("\r\n", i);
    if (nl < 0) {
      out.push(output.slice(i));
      break;
    }
    const line = output.slice(i, nl + 2);
    const m = /^(MSG|HMSG) .* (\d+)\r\n$/.exec(line);
    if (m !== null) {
      const end = nl + 2 + Number(m[2]) + 2;
      out.push(output.slice(i, end));
      i = end;
    } else {
      out.push(line);
      i = nl + 2;
    }
  }
  return out;
}

/**
 * Frames with each run of consecutive MSG/HMSG frames sorted: the order in which one
 * publish reaches several subscriptions of the same connection is not part of the protocol.
 */
export function canonicalFrames(output: string): string[] {
  const f = frames(output);
  const out: string[] = [];
  let run: string[] = [];
  const isMsg = (s: string): boolean => s.startsWith("MSG ") || s.startsWith("HMSG ");
  for (const x of f) {
    if (isMsg(x)) run.push(x);
    else {
      out.push(...run.sort(), x);
      run = [];
    }
  }
  out.push(...run.sort());
  return out;
}

/**
 * A subscriber that reads its INFO and PONG and then stops reading: its socket is paused so
 * that the kernel buffers fill and the server's outbound buffer for it grows.
 */
export async function stalledSubscriber(port: number, subject: string): Promise<{ socket: net.Socket; closed: () => boolean; received: () => number }> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  let got = "";
  let closed = false;
  socket.on("data", (d: Buffer) => {
    got += d.toString("latin1");
  });
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => {
    closed = true;
  });
  socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${subject} 1\r\nPING\r\n`);
  await waitUntil(() => got.includes("PONG\r\n"), "the stalled subscriber's PONG");
  socket.pause();
  return { socket, closed: () => closed, received: () => got.length };
}

/**
 * A script over several connections of one server. Steps run one at a time; after each, every
 * open connection is synchronised with a PING, so that what each receives is ordered by the
 * steps and the outcome is deterministic.
 */
export interface MultiScript {
  name: string;
  server?: string;
  /** Number of connections, opened (and greeted by INFO) in order before the first step. */
  conns: number;
  /**
   * CONNECT lines (with CRLF) sent by each connection when it opens, before its registration
   * PING: needed where authentication is required (a PING before CONNECT is a violation).
   */
  connects?: string[];
  /**
   * [connection index, bytes]; a third element `true` marks a step after which that connection
   * is closed by the server. The bytes may be computed from what each connection received so
   * far (e.g. to answer a reply subject the server made up).
   */
  steps: [number, string | ((received: string[]) => string), true?][];
}

export interface MultiOutcome {
  infos: (Record<string, unknown> | null)[];
  outputs: string[];
  closed: boolean[];
}

export async function runMultiScript(port: number, script: MultiScript, timeoutMs = 1_500): Promise<MultiOutcome> {
  const clients: RawClient[] = [];
  const infos: (Record<string, unknown> | null)[] = [];
  const pongs: number[] = [];
  try {
    for (let i = 0; i < script.conns; i++) {
      const c = await RawClient.connect(port);
      clients.push(c);
      await c.waitFor((b) => b.includes(CRLF));
      const first = await c.readLine();
      infos.push(first.startsWith("INFO ") ? (JSON.parse(first.slice(5)) as Record<string, unknown>) : null);
      pongs.push(0);
      // The reference sends INFO before it registers the connection (createClient): a PONG
      // proves registration, so that the next connection is counted after this one. Servers
      // requiring auth get the script's CONNECT first (a PING before it is a violation).
      c.write((script.connects?.[i] ?? "") + "PING\r\n");
      await c.waitFor((b) => b.includes("PONG\r\n"), timeoutMs).catch(() => undefined);
      if (c.buffered.startsWith("PONG\r\n")) c.read(6);
    }
    const outputs = clients.map(() => "");
    const sync = async (i: number): Promise<void> => {
      const c = clients[i];
      if (c.closed) return;
      c.write("PING\r\n");
      pongs[i]++;
      await c.waitFor((b) => countOf(outputs[i] + b, "PONG\r\n") >= pongs[i], timeoutMs).catch(() => undefined);
    };
    for (const [i, step, closes] of script.steps) {
      const c = clients[i];
      if (c.closed) continue;
      const text = typeof step === "function" ? step(outputs) : step;
      c.write(text);
      pongs[i] += pingsIn([text]);
      if (closes) await c.waitClosed(timeoutMs).catch(() => undefined);
      // The writer first, then everyone: a PONG on a connection comes after whatever the step
      // sent to it, since the server queued that before it read the PING.
      await sync(i);
      for (let k = 0; k < clients.length; k++) if (k !== i) await sync(k);
      for (let k = 0; k < clients.length; k++) outputs[k] += clients[k].take();
    }
    return { infos, outputs, closed: clients.map((c) => c.closed) };
  } finally {
    for (const c of clients) c.close();
  }
}
