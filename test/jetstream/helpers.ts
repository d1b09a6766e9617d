// Shared pieces of the JetStream tests: which server they run against, a JetStream server
// with its own store directory, unique names, message collectors and bounded waits.
//
// The suite runs against our compiled executable. With NATS_BUN_JS_TARGET=reference the same
// files run against the reference nats-server instead: that is how the expectations written
// here were checked (features newer than the reference's 2.9 are skipped there, see `newer`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "bun:test";
import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

export { waitUntil } from "../harness/protocol.ts";

/** True when this run checks the expectations against the reference server. */
export const onReference = process.env.NATS_BUN_JS_TARGET === "reference";
if (onReference && referenceBinary === null) throw new Error("NATS_BUN_JS_TARGET=reference but no nats-server is installed");

/** A test of a feature newer than the reference's 2.9 (filter_subjects, metadata, pause…): ours only. */
export const newer = onReference ? test.skip : test;

export interface JsServer extends RunningServer {
  storeDir: string;
}

/**
 * A JetStream-enabled server (ours, or the reference under NATS_BUN_JS_TARGET=reference).
 * With `storeDir` the server uses that directory and leaves it in place when stopped (restart
 * tests start the next server on it); otherwise a fresh one is made and removed.
 */
export async function startJsServer(extraArgs: string[] = [], opts: { storeDir?: string } = {}): Promise<JsServer> {
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), "nats-bun-js-"));
  const server = await startServer({ args: ["-js", "-sd", storeDir, ...extraArgs], binary: onReference ? referenceBinary! : undefined });
  const stop = server.stop;
  return Object.assign(server, {
    storeDir,
    async stop() {
      const code = await stop();
      if (opts.storeDir === undefined) rmSync(storeDir, { recursive: true, force: true });
      return code;
    },
  });
}

/** A fresh directory for a store that outlives one server (remove it with removeDir). */
export function makeStoreDir(): string {
  return mkdtempSync(join(tmpdir(), "nats-bun-js-"));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

let counter = 0;
/** A name unique within this process (streams, consumers, buckets). */
export function uniqueName(prefix: string): string {
  return `${prefix}${++counter}`;
}

/** A status message's code and description (from `NATS/1.0 <code> <description>`). */
export function statusOf(m: Msg): { code: number; description: string } | null {
  const h = m.headers;
  if (h === undefined || h.code === 0) return null;
  return { code: h.code, description: h.description };
}

/** The headers of `m` as [key, value] pairs in a stable order (keys sorted). */
export function headerPairs(h: MsgHdrs | undefined): [string, string][] {
  if (h === undefined) return [];
  const out: [string, string][] = [];
  for (const k of h.keys()) for (const v of h.values(k)) out.push([k, v]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export interface Collected {
  sub: Subscription;
  msgs: Msg[];
  /** Arrival times (Date.now()) parallel to msgs. */
  times: number[];
  /** Resolves when at least `n` messages arrived; rejects after `timeoutMs`. */
  next(n: number, timeoutMs?: number): Promise<Msg[]>;
}

/** Subscribes with a callback and records what arrives, with arrival times. */
export function collect(nc: NatsConnection, subject: string, opts: { queue?: string } = {}): Collected {
  const msgs: Msg[] = [];
  const times: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const sub = nc.subscribe(subject, {
    ...opts,
    callback: (err, m) => {
      if (err !== null) return;
      msgs.push(m);
      times.push(Date.now());
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (msgs.length >= waiters[i].n) {
          waiters[i].resolve();
          waiters.splice(i, 1);
        }
      }
    },
  });
  return {
    sub,
    msgs,
    times,
    async next(n, timeoutMs = 3_000) {
      if (msgs.length < n) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => waiters.push({ n, resolve })),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${subject}: ${msgs.length} of ${n} messages after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
      }
      return msgs.slice(0, n);
    },
  };
}

/** Rejects after `ms` unless `p` settles first. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** A `$JS.API` request with a JSON (or empty) body; the parsed response. */
export async function api(nc: NatsConnection, subject: string, body?: unknown): Promise<Record<string, any>> {
  const payload = body === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(body));
  const m = await nc.request(`$JS.API.${subject}`, payload, { timeout: 3_000 });
  return JSON.parse(dec.decode(m.data)) as Record<string, any>;
}

export interface PullResult {
  msgs: Msg[];
  /** The status that ended the request (404/408/409…), or null when the batch was filled. */
  status: { code: number; description: string; headers: [string, string][] } | null;
  /** Heartbeats (100) seen before the end. */
  heartbeats: Msg[];
}

/**
 * One raw pull request (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` with an inbox reply):
 * collects messages until a terminating status arrives or `batch` messages did.
 */
export async function pull(nc: NatsConnection, stream: string, consumer: string, body: Record<string, unknown> | string, timeoutMs = 3_000): Promise<PullResult> {
  const batch = typeof body === "string" ? 1 : typeof body.batch === "number" ? body.batch : 1;
  const inbox = `_INBOX.pull.${uniqueName("r")}`;
  const result: PullResult = { msgs: [], status: null, heartbeats: [] };
  let sub: Subscription | undefined;
  const done = new Promise<void>((resolve) => {
    sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err !== null) return;
        const st = statusOf(m);
        if (st === null) result.msgs.push(m);
        else if (st.code === 100) result.heartbeats.push(m);
        else result.status = { ...st, headers: headerPairs(m.headers) };
        if (result.status !== null || result.msgs.length >= batch) resolve();
      },
    });
  });
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, typeof body === "string" ? body : JSON.stringify(body), { reply: inbox });
  try {
    await within(done, timeoutMs, `pull from ${stream} > ${consumer}`);
  } finally {
    sub?.unsubscribe();
  }
  return result;
}

/** The stream sequence and delivery count of a delivered message, from its ack reply subject. */
export function ackInfo(m: Msg): { stream: string; consumer: string; deliveries: number; sseq: number; dseq: number; pending: number } {
  const t = (m.reply ?? "").split(".");
  if (t[0] !== "$JS" || t[1] !== "ACK" || t.length < 9) throw new Error(`not a JetStream delivery: ${m.reply}`);
  const n = t.length;
  return { stream: t[n - 7], consumer: t[n - 6], deliveries: Number(t[n - 5]), sseq: Number(t[n - 4]), dseq: Number(t[n - 3]), pending: Number(t[n - 1]) };
}
