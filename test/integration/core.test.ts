// Core NATS with the official client (@nats-io/transport-node) against the compiled server:
// pub/sub, wildcards, queues, request/reply, headers, no responders, max payload, echo,
// auto-unsubscribe, volume, large payloads, fan-out and a slow consumer among good ones.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, headers, InvalidArgumentError, RequestError, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { stalledSubscriber, waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
let small: RunningServer;
let nc: NatsConnection;
const extra: NatsConnection[] = [];

const SMALL_MAX_PAYLOAD = 1000;

beforeAll(async () => {
  [server, small] = await Promise.all([startServer(), startServer({ config: `max_payload: ${SMALL_MAX_PAYLOAD}\n` })]);
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await Promise.all([nc, ...extra].map((c) => c?.close().catch(() => undefined)));
  await Promise.all([server?.stop(), small?.stop()]);
});

async function another(opts: Parameters<typeof connect>[0] = {}): Promise<NatsConnection> {
  const c = await connect({ servers: server.url, ...opts });
  extra.push(c);
  return c;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Collects the messages of a subscription via its callback. */
function collect(conn: NatsConnection, subject: string, opts: { queue?: string; max?: number } = {}): { sub: Subscription; msgs: Msg[] } {
  const msgs: Msg[] = [];
  const sub = conn.subscribe(subject, {
    ...opts,
    callback: (err, m) => {
      if (err === null) msgs.push(m);
    },
  });
  return { sub, msgs };
}

describe("publish and subscribe", () => {
  test("messages arrive with subject, data and reply intact", async () => {
    const { msgs } = collect(nc, "core.ps");
    await nc.flush();
    for (let i = 0; i < 10; i++) nc.publish("core.ps", `m${i}`, i % 2 === 0 ? { reply: `r.${i}` } : undefined);
    await nc.flush();
    await waitUntil(() => msgs.length === 10, "10 messages");
    expect(msgs.map((m) => m.string())).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(msgs.map((m) => m.reply ?? "")).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `r.${i}` : "")));
    expect(new Set(msgs.map((m) => m.subject))).toEqual(new Set(["core.ps"]));
  });

  test("wildcards: '*' one token, '>' one or more", async () => {
    const star = collect(nc, "core.w.*");
    const gt = collect(nc, "core.w.>");
    await nc.flush();
    for (const s of ["core.w", "core.w.a", "core.w.b", "core.w.a.b", "core.x.a"]) nc.publish(s, s);
    await nc.flush();
    await waitUntil(() => star.msgs.length === 2 && gt.msgs.length === 3, "wildcard deliveries");
    expect(star.msgs.map((m) => m.subject)).toEqual(["core.w.a", "core.w.b"]);
    expect(gt.msgs.map((m) => m.subject)).toEqual(["core.w.a", "core.w.b", "core.w.a.b"]);
  });

  test("echo false (noEcho): the connection does not get its own messages, others do", async () => {
    const quiet = await another({ noEcho: true });
    const own = collect(quiet, "core.echo");
    const other = collect(nc, "core.echo");
    await quiet.flush();
    await nc.flush();
    quiet.publish("core.echo", "from quiet");
    await quiet.flush();
    nc.publish("core.echo", "from nc");
    await nc.flush();
    await waitUntil(() => other.msgs.length === 2 && own.msgs.length === 1, "echo deliveries");
    await quiet.flush();
    expect(own.msgs.map((m) => m.string())).toEqual(["from nc"]);
    expect(other.msgs.map((m) => m.string()).sort()).toEqual(["from nc", "from quiet"]);
  });

  test("auto-unsubscribe after max messages", async () => {
    const { sub, msgs } = collect(nc, "core.max", { max: 3 });
    await nc.flush();
    for (let i = 0; i < 10; i++) nc.publish("core.max", String(i));
    await nc.flush();
    await sub.closed;
    expect(msgs.map((m) => m.string())).toEqual(["0", "1", "2"]);
    expect(sub.isClosed()).toBe(true);
    // The server dropped the subscription too: a raw look at the interest is a request with no responders.
    const err = await nc.request("core.max", "", { timeout: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).isNoResponders()).toBe(true);
  });
});

describe("queue groups", () => {
  test("1000 messages over 4 members: each exactly once, roughly uniform", async () => {
    const members = await Promise.all([0, 1, 2, 3].map(() => another()));
    const subs = members.map((m) => collect(m, "core.q", { queue: "workers" }));
    await Promise.all(members.map((m) => m.flush()));
    const total = 1000;
    for (let i = 0; i < total; i++) nc.publish("core.q", String(i));
    await nc.flush();
    await waitUntil(() => subs.reduce((n, s) => n + s.msgs.length, 0) >= total, `${total} queue deliveries`, 10_000);
    await Promise.all(members.map((m) => m.flush()));
    const all = subs.flatMap((s) => s.msgs.map((m) => m.string()));
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);
    // Expected 250 each; fewer than 150 has a probability around 1e-14 for a uniform choice.
    for (const s of subs) expect(s.msgs.length).toBeGreaterThan(total * 0.15);
  });
});

describe("request and reply", () => {
  test("requests are answered; many in flight at once", async () => {
    const svc = await another();
    svc.subscribe("core.svc", {
      callback: (_e, m) => {
        m.respond(`echo:${m.string()}`);
      },
    });
    await svc.flush();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => nc.request("core.svc", String(i), { timeout: 5_000 })));
    expect(replies.map((r) => r.string())).toEqual(Array.from({ length: 100 }, (_, i) => `echo:${i}`));
  });

  test("headers round trip, with repeated keys and case kept", async () => {
    const svc = await another();
    svc.subscribe("core.hdr", {
      callback: (_e, m) => {
        const h = headers();
        for (const [k, values] of m.headers ?? []) for (const v of values) h.append(k, v);
        h.append("X-Seen", "yes");
        m.respond(m.data, { headers: h });
      },
    });
    await svc.flush();
    const h = headers();
    h.append("X-Multi", "a");
    h.append("X-Multi", "b");
    h.append("X-Multi", "c d");
    h.set("lower-case-key", "v");
    const reply = await nc.request("core.hdr", "payload", { headers: h, timeout: 5_000 });
    expect(reply.string()).toBe("payload");
    expect(reply.headers?.values("X-Multi")).toEqual(["a", "b", "c d"]);
    expect(reply.headers?.get("lower-case-key")).toBe("v");
    expect(reply.headers?.get("X-Seen")).toBe("yes");
    expect(reply.headers?.keys().sort()).toEqual(["X-Multi", "X-Seen", "lower-case-key"].sort());
  });

  test("a request nobody listens to fails at once with no responders", async () => {
    const started = Date.now();
    const err = await nc.request("core.nobody.home", "x", { timeout: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).isNoResponders()).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("payload limits and sizes", () => {
  test("the client refuses a payload over the announced max_payload; at the limit it is delivered", async () => {
    const c = await connect({ servers: small.url });
    extra.push(c);
    expect(c.info?.max_payload).toBe(SMALL_MAX_PAYLOAD);
    const { msgs } = collect(c, "core.mp");
    await c.flush();
    expect(() => c.publish("core.mp", new Uint8Array(SMALL_MAX_PAYLOAD + 1))).toThrow(InvalidArgumentError);
    c.publish("core.mp", new Uint8Array(SMALL_MAX_PAYLOAD).fill(7));
    await c.flush();
    await waitUntil(() => msgs.length === 1, "the message at the limit");
    expect(msgs[0].data.length).toBe(SMALL_MAX_PAYLOAD);
    expect(c.isClosed()).toBe(false);
  });

  test("the server closes a client that ignores max_payload", async () => {
    const c = await connect({ servers: small.url, reconnect: false });
    extra.push(c);
    // Pretend the server allowed more, so that the client sends it.
    (c.info as { max_payload: number }).max_payload = SMALL_MAX_PAYLOAD * 10;
    const closed = c.closed();
    c.publish("core.mp", new Uint8Array(SMALL_MAX_PAYLOAD + 1));
    const err = await closed;
    // The -ERR, or a reset when the server closes with the payload still unread (the
    // reference does that; the client then never sees the -ERR).
    expect(String(err)).toMatch(/Maximum Payload Violation|ECONNRESET/);
    expect(c.isClosed()).toBe(true);
  });

  test("1 MiB payloads arrive byte-exact", async () => {
    const max = nc.info!.max_payload;
    expect(max).toBe(1048576);
    const { msgs } = collect(nc, "core.big");
    await nc.flush();
    const payloads = [0, 1, 2, 3].map((k) => {
      const p = new Uint8Array(max);
      for (let i = 0; i < p.length; i++) p[i] = (i * 31 + k * 7 + (i >> 9)) & 0xff;
      return p;
    });
    for (const p of payloads) nc.publish("core.big", p);
    await nc.flush();
    await waitUntil(() => msgs.length === payloads.length, "4 large messages", 10_000);
    for (let k = 0; k < payloads.length; k++) {
      expect(msgs[k].data.length).toBe(max);
      expect(Buffer.compare(Buffer.from(msgs[k].data), Buffer.from(payloads[k]))).toBe(0);
    }
  });

  test("100,000 messages on one subject arrive complete and in order", async () => {
    const sub = await another();
    const n = 100_000;
    let next = 0;
    let outOfOrder = 0;
    sub.subscribe("core.volume", {
      callback: (_e, m) => {
        if (Number(dec.decode(m.data)) !== next) outOfOrder++;
        next++;
      },
    });
    await sub.flush();
    for (let i = 0; i < n; i++) {
      nc.publish("core.volume", enc.encode(String(i)));
      if (i % 10_000 === 9_999) await nc.flush();
    }
    await nc.flush();
    await waitUntil(() => next >= n, `${n} messages (got ${next})`, 20_000);
    expect(next).toBe(n);
    expect(outOfOrder).toBe(0);
  }, 30_000);
});

describe("fan-out", () => {
  test("50 subscriber connections each get every message, in order", async () => {
    const conns = await Promise.all(Array.from({ length: 50 }, () => another()));
    const subs = conns.map((c) => collect(c, "core.fan"));
    await Promise.all(conns.map((c) => c.flush()));
    const n = 200;
    for (let i = 0; i < n; i++) nc.publish("core.fan", String(i));
    await nc.flush();
    await waitUntil(() => subs.every((s) => s.msgs.length >= n), "200 messages at each of 50 subscribers", 10_000);
    const expected = Array.from({ length: n }, (_, i) => String(i));
    for (const s of subs) expect(s.msgs.map((m) => m.string())).toEqual(expected);
  });
});

describe("slow consumer", () => {
  let flood: RunningServer;

  beforeAll(async () => {
    flood = await startServer({ config: 'max_pending: 2097152\nwrite_deadline: "1s"\n' });
  });

  afterAll(async () => {
    await flood?.stop();
  });

  test("a subscriber that stops reading is cut; the publisher and the other subscribers are unharmed", async () => {
    const slow = await stalledSubscriber(flood.port, "core.flood");
    const pub = await connect({ servers: flood.url });
    const good = await connect({ servers: flood.url });
    extra.push(pub, good);
    let received = 0;
    good.subscribe("core.flood", {
      callback: () => {
        received++;
      },
    });
    await good.flush();
    const n = 20_000;
    const payload = new Uint8Array(1024).fill(120);
    for (let i = 0; i < n; i++) {
      pub.publish("core.flood", payload);
      if (i % 1_000 === 999) await pub.flush();
    }
    await pub.flush();
    await flood.waitForLog(/Slow Consumer Detected/, 15_000);
    await waitUntil(() => received >= n || good.isClosed(), `${n} messages at the good subscriber`, 15_000);
    expect({ received, goodClosed: good.isClosed(), pubClosed: pub.isClosed() }).toEqual({ received: n, goodClosed: false, pubClosed: false });
    expect(flood.logs().match(/Slow Consumer Detected/g)?.length).toBe(1);
    // Both still work.
    const r = collect(good, "core.after");
    await good.flush();
    pub.publish("core.after", "still here");
    await pub.flush();
    await waitUntil(() => r.msgs.length === 1, "a message after the cut");
    slow.socket.resume();
    await waitUntil(() => slow.closed(), "the slow consumer's connection to close", 10_000);
  }, 30_000);
});
