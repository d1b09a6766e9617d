// Raw pull requests: an inbox subscription and a publish to
// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` with that reply, against the compiled server
// and, when installed, the reference at the same time. Each scenario's transcript — the
// messages (subject, delivery count, sequences, pending) and the status replies (code,
// description, headers) in arrival order — must equal the expectation written here on both
// servers: 404 No Messages, 408 Request Timeout / Requests Pending with
// Nats-Pending-Messages/Nats-Pending-Bytes, the 409s (MaxRequestBatch, MaxRequestExpires,
// MaxRequestMaxBytes, MaxWaiting, Message Size Exceeds MaxBytes, Consumer Deleted, push
// based), 400 for a heartbeat too large, and 100 Idle Heartbeat with Nats-Last-Consumer and
// Nats-Last-Stream.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { referenceBinary } from "../harness/server.ts";
import { api, headerPairs, onReference, startJsServer, statusOf, within, type JsServer } from "./helpers.ts";

interface Target {
  name: string;
  server: JsServer;
  nc: NatsConnection;
}

const targets: Target[] = [];

beforeAll(async () => {
  // Ours (or the reference alone under NATS_BUN_JS_TARGET=reference), plus the reference.
  const main = await startJsServer();
  targets.push({ name: onReference ? "reference" : "ours", server: main, nc: await connect({ servers: main.url }) });
  if (!onReference && referenceBinary !== null) {
    const { startServer } = await import("../harness/server.ts");
    const { mkdtempSync, rmSync } = await import("node:fs");
    const dir = mkdtempSync(`${(await import("node:os")).tmpdir()}/nats-bun-js-ref-`);
    const s = await startServer({ args: ["-js", "-sd", dir], binary: referenceBinary });
    const stop = s.stop;
    const server = Object.assign(s, {
      storeDir: dir,
      async stop() {
        const code = await stop();
        rmSync(dir, { recursive: true, force: true });
        return code;
      },
    });
    targets.push({ name: "reference", server, nc: await connect({ servers: server.url }) });
  } else if (!onReference) {
    console.warn("pull.test.ts: no reference nats-server installed; expectations are checked against ours only");
  }
});

afterAll(async () => {
  for (const t of targets) {
    await t.nc.close();
    await t.server.stop();
  }
});

const ms = (n: number): number => n * 1_000_000;
const enc = new TextEncoder();

interface Transcript {
  /** "MSG <subject> <deliveries>.<sseq>.<dseq> pending=<n>", "<code> <description> [k=v …]", or "no reply". */
  events: string[];
  /** Arrival times (ms after the request) parallel to events. */
  at: number[];
}

/**
 * Sends one pull request and records what comes back until a terminating status (anything but
 * 100), `batch` messages when `untilBatch`, or `quietMs` (then "no reply" is recorded if
 * nothing came at all).
 */
async function transcript(nc: NatsConnection, stream: string, consumer: string, body: Record<string, unknown> | string, opts: { untilBatch?: number; quietMs?: number } = {}): Promise<Transcript> {
  const inbox = `_INBOX.${stream}.${Math.random().toString(36).slice(2)}`;
  const out: Transcript = { events: [], at: [] };
  const t0 = Date.now();
  let messages = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const sub = nc.subscribe(inbox, {
    callback: (err, m) => {
      if (err !== null) return;
      const st = statusOf(m);
      if (st === null) {
        const t = (m.reply ?? "").split(".");
        out.events.push(`MSG ${m.subject} ${t[4]}.${t[5]}.${t[6]} pending=${t[8]}`);
        messages++;
      } else {
        const h = headerPairs(m.headers).map(([k, v]) => `${k}=${v}`);
        out.events.push([String(st.code), st.description, ...h].join(" "));
      }
      out.at.push(Date.now() - t0);
      if ((st !== null && st.code !== 100) || (opts.untilBatch !== undefined && messages >= opts.untilBatch)) finish();
    },
  });
  await nc.flush();
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, typeof body === "string" ? enc.encode(body) : JSON.stringify(body), { reply: inbox });
  const quiet = opts.quietMs ?? 3_000;
  await Promise.race([done, Bun.sleep(quiet)]);
  sub.unsubscribe();
  if (out.events.length === 0) out.events.push("no reply");
  return out;
}

/** Heartbeats in a row collapsed to one entry (their number depends on timing). */
function collapsed(t: Transcript): string[] {
  return t.events.filter((e, i) => !(e.startsWith("100 ") && t.events[i - 1] === e));
}

/** A memory stream `name` on `name.>` with `count` messages of `size` bytes on `name.x`. */
async function streamWith(nc: NatsConnection, name: string, count: number, size = 0): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.Memory });
  const js = jetstream(nc);
  for (let i = 0; i < count; i++) await js.publish(`${name}.x`, new Uint8Array(size));
}

async function durable(nc: NatsConnection, stream: string, name: string, config: Record<string, unknown> = {}): Promise<void> {
  const r = await api(nc, `CONSUMER.CREATE.${stream}.${name}`, { stream_name: stream, config: { durable_name: name, ack_policy: "explicit", ...config } });
  if (r.error !== undefined) throw new Error(`${stream} > ${name}: ${JSON.stringify(r.error)}`);
}

/** Runs `scenario` on every target at once; each result must equal `expected`. */
async function onAll(scenario: (t: Target) => Promise<string[]>, expected: string[]): Promise<void> {
  const results = await Promise.all(targets.map(async (t) => ({ target: t.name, events: await scenario(t) })));
  for (const r of results) expect(r).toEqual({ target: r.target, events: expected });
}

describe("pull request statuses (ours and the reference)", () => {
  test("404 No Messages: no_wait with nothing to deliver", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PE", 0);
      await durable(nc, "PE", "c");
      return (await transcript(nc, "PE", "c", { batch: 1, no_wait: true })).events;
    }, ["404 No Messages"]);
  });

  test("408 Request Timeout at expires, with Nats-Pending-Messages and Nats-Pending-Bytes", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PT", 0);
      await durable(nc, "PT", "c");
      const t = await transcript(nc, "PT", "c", { batch: 3, expires: ms(200) });
      expect(t.at[0]).toBeGreaterThanOrEqual(150);
      expect(t.at[0]).toBeLessThan(1_000);
      return t.events;
    }, ["408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=3"]);
  });

  test("a partly filled batch: the messages, then 408 with what is left (no_wait at once, else at expires)", async () => {
    const msgs = ["MSG PP.x 1.1.1 pending=2", "MSG PP.x 1.2.2 pending=1", "MSG PP.x 1.3.3 pending=0"];
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PP", 3);
      await durable(nc, "PP", "nw");
      await durable(nc, "PP", "ex");
      const noWait = await transcript(nc, "PP", "nw", { batch: 5, no_wait: true });
      const expires = await transcript(nc, "PP", "ex", { batch: 5, expires: ms(300) });
      expect(expires.at[3]).toBeGreaterThanOrEqual(250);
      return [...noWait.events, ...expires.events];
    }, [...msgs, "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=2", ...msgs, "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=2"]);
  });

  test("no_wait with expires: waits for a first message, then ends with 408", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PO", 0);
      await durable(nc, "PO", "c");
      const pending = transcript(nc, "PO", "c", { batch: 3, no_wait: true, expires: ms(1_500) });
      await Bun.sleep(200);
      await jetstream(nc).publish("PO.x", "late");
      const t = await pending;
      expect(t.at[0]).toBeGreaterThanOrEqual(150);
      expect(t.at[1] - t.at[0]).toBeLessThan(300);
      // And alone, it runs to its expiry.
      const alone = await transcript(nc, "PO", "c", { batch: 1, no_wait: true, expires: ms(200) });
      return [...t.events, ...alone.events];
    }, ["MSG PO.x 1.1.1 pending=0", "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=2", "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=1"]);
  });

  test("bodies: a bare number is the batch, an empty body asks for one message", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PB", 3);
      await durable(nc, "PB", "c");
      const two = await transcript(nc, "PB", "c", "2", { untilBatch: 2 });
      const one = await transcript(nc, "PB", "c", "", { untilBatch: 1 });
      return [...two.events, ...one.events];
    }, ["MSG PB.x 1.1.1 pending=2", "MSG PB.x 1.2.2 pending=1", "MSG PB.x 1.3.3 pending=0"]);
  });

  test("409 Message Size Exceeds MaxBytes, with what was left of the request", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PM", 3, 100);
      await durable(nc, "PM", "small");
      await durable(nc, "PM", "part");
      const tooSmall = await transcript(nc, "PM", "small", { batch: 5, max_bytes: 50, expires: ms(300) });
      // 250 bytes: the first message (100 bytes of payload, its subject and reply) fits, the second not.
      const partly = await transcript(nc, "PM", "part", { batch: 5, max_bytes: 250, expires: ms(300) });
      return [...tooSmall.events, ...partly.events];
    }, [
      "409 Message Size Exceeds MaxBytes Nats-Pending-Bytes=50 Nats-Pending-Messages=5",
      "MSG PM.x 1.1.1 pending=2",
      "409 Message Size Exceeds MaxBytes Nats-Pending-Bytes=103 Nats-Pending-Messages=4",
    ]);
  });

  test("409 Exceeded MaxRequestBatch / MaxRequestExpires / MaxRequestMaxBytes", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PL", 1);
      await durable(nc, "PL", "lim", { max_batch: 2, max_expires: ms(1_000), max_bytes: 1_000 });
      const events: string[] = [];
      for (const body of [{ batch: 5 }, { batch: 1, expires: ms(2_000) }, { batch: 1, max_bytes: 2_000 }]) events.push(...(await transcript(nc, "PL", "lim", body)).events);
      return events;
    }, ["409 Exceeded MaxRequestBatch of 2", "409 Exceeded MaxRequestExpires of 1s", "409 Exceeded MaxRequestMaxBytes of 1000"]);
  });

  test("409 Exceeded MaxWaiting; the waiting one ends at its expiry", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PW", 0);
      await durable(nc, "PW", "c", { max_waiting: 1 });
      const first = transcript(nc, "PW", "c", { batch: 1, expires: ms(400) });
      await within(
        (async () => {
          while ((await api(nc, "CONSUMER.INFO.PW.c")).num_waiting !== 1) await Bun.sleep(10);
        })(),
        2_000,
        "the first request to wait",
      );
      const second = await transcript(nc, "PW", "c", { batch: 1, expires: ms(400) });
      return [...second.events, ...(await first).events];
    }, ["409 Exceeded MaxWaiting", "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=1"]);
  });

  test("408 Requests Pending: no_wait when waiting requests already claim what is pending", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PR", 3);
      await durable(nc, "PR", "c", { max_ack_pending: 1 });
      const one = await transcript(nc, "PR", "c", { batch: 1, no_wait: true }, { untilBatch: 1 });
      // At max_ack_pending: this one waits for room.
      const waiting = transcript(nc, "PR", "c", { batch: 5, expires: ms(400) });
      await within(
        (async () => {
          while ((await api(nc, "CONSUMER.INFO.PR.c")).num_waiting !== 1) await Bun.sleep(10);
        })(),
        2_000,
        "the request to wait",
      );
      const noWait = await transcript(nc, "PR", "c", { batch: 1, no_wait: true });
      return [...one.events, ...noWait.events, ...(await waiting).events];
    }, ["MSG PR.x 1.1.1 pending=2", "408 Requests Pending", "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=5"]);
  });

  test("100 Idle Heartbeat: every idle_heartbeat without a message, with Nats-Last-Consumer and Nats-Last-Stream", async () => {
    await onAll(async ({ nc, name }) => {
      await streamWith(nc, "PH", 2);
      await durable(nc, "PH", "c");
      const t = await transcript(nc, "PH", "c", { batch: 5, expires: ms(700), idle_heartbeat: ms(200) });
      const beats = t.at.filter((_, i) => t.events[i].startsWith("100 "));
      // Two messages at once, then heartbeats ~200 ms apart until the expiry at 700 ms.
      const gaps = beats.slice(1).map((b, i) => b - beats[i]);
      const inBounds = beats.length >= 2 && beats.length <= 3 && beats[0] >= 150 && beats[0] < 450 && gaps.every((g) => g >= 150 && g < 450);
      expect({ target: name, at: t.at, inBounds }).toEqual({ target: name, at: t.at, inBounds: true });
      return collapsed(t);
    }, [
      "MSG PH.x 1.1.1 pending=1",
      "MSG PH.x 1.2.2 pending=0",
      "100 Idle Heartbeat Nats-Last-Consumer=2 Nats-Last-Stream=2",
      "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=3",
    ]);
  });

  test("a delivery moves the heartbeat deadline", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PD", 0);
      await durable(nc, "PD", "c");
      const pending = transcript(nc, "PD", "c", { batch: 2, expires: ms(1_000), idle_heartbeat: ms(300) });
      await Bun.sleep(200);
      await jetstream(nc).publish("PD.x", "m");
      const t = await pending;
      // Message at ~200 ms; the first heartbeat ~300 ms after it, not at 300 ms.
      const msgAt = t.at[0];
      const beatAt = t.at[1];
      expect(beatAt - msgAt).toBeGreaterThanOrEqual(250);
      return collapsed(t);
    }, ["MSG PD.x 1.1.1 pending=0", "100 Idle Heartbeat Nats-Last-Consumer=1 Nats-Last-Stream=1", "408 Request Timeout Nats-Pending-Bytes=0 Nats-Pending-Messages=1"]);
  });

  test("a waiting request whose requester unsubscribed no longer counts in num_waiting", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PU", 0);
      await durable(nc, "PU", "c");
      const sub = nc.subscribe("_INBOX.PU.gone");
      await nc.flush();
      nc.publish("$JS.API.CONSUMER.MSG.NEXT.PU.c", JSON.stringify({ batch: 5, expires: ms(5_000) }), { reply: "_INBOX.PU.gone" });
      await nc.flush();
      const before = (await api(nc, "CONSUMER.INFO.PU.c")).num_waiting;
      sub.unsubscribe();
      await nc.flush();
      const after = (await api(nc, "CONSUMER.INFO.PU.c")).num_waiting;
      return [`waiting ${before}`, `waiting ${after}`];
    }, ["waiting 1", "waiting 0"]);
  });

  test("400 Bad Request - heartbeat value too large (more than half of expires, or no expires)", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PX", 0);
      await durable(nc, "PX", "c");
      const a = await transcript(nc, "PX", "c", { batch: 1, expires: ms(200), idle_heartbeat: ms(150) });
      const b = await transcript(nc, "PX", "c", { batch: 1, idle_heartbeat: ms(200) });
      return [...a.events, ...b.events];
    }, ["400 Bad Request - heartbeat value too large", "400 Bad Request - heartbeat value too large"]);
  });

  test("409 Consumer Deleted to a waiting request; 409 Consumer is push based; no reply without a consumer", async () => {
    await onAll(async ({ nc }) => {
      await streamWith(nc, "PC", 0);
      await durable(nc, "PC", "gone");
      await durable(nc, "PC", "push", { deliver_subject: "deliver.PC" });
      const waiting = transcript(nc, "PC", "gone", { batch: 1, expires: ms(2_000) });
      await within(
        (async () => {
          while ((await api(nc, "CONSUMER.INFO.PC.gone")).num_waiting !== 1) await Bun.sleep(10);
        })(),
        2_000,
        "the request to wait",
      );
      await api(nc, "CONSUMER.DELETE.PC.gone");
      const deleted = await waiting;
      expect(deleted.at[0]).toBeLessThan(1_000);
      const push = await transcript(nc, "PC", "push", { batch: 1 });
      const none = await transcript(nc, "PC", "nope", { batch: 1 }, { quietMs: 300 });
      return [...deleted.events, ...push.events, ...none.events];
    }, ["409 Consumer Deleted", "409 Consumer is push based", "no reply"]);
  });
});
