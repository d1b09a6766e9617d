// Hostile and careless clients: random garbage, bytes that are not UTF-8, a subscriber that
// never reads while a publisher floods. Each must be dealt with without harming the others.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { RawClient } from "../harness/raw.ts";
import { closedWith, connectRaw, stalledSubscriber, waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
const open: RawClient[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await server?.stop();
});

async function client(s: RunningServer, connect: Record<string, unknown> | null = {}): Promise<RawClient> {
  const { c } = await connectRaw(s.port, connect);
  open.push(c);
  return c;
}

/** A small deterministic PRNG (mulberry32) so that every run sends the same "random" bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function garbage(seed: number, length: number): Uint8Array {
  const rnd = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rnd() * 256);
  // Make sure it does not start like an operation (those letters are tested elsewhere).
  if ("phsucimr+-PHSUCIMR".includes(String.fromCharCode(out[0]))) out[0] = 0x7e;
  return out;
}

/** Bytes from a string whose characters are all < 256 (no UTF-8 encoding). */
const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/** Counts MSG frames on a raw client as they arrive, whatever the chunking. */
class MsgCounter {
  count = 0;
  #rest = "";
  constructor(readonly c: RawClient) {}
  /** Consumes what arrived and returns the running count. */
  poll(): number {
    this.#rest += this.c.take();
    for (;;) {
      const nl = this.#rest.indexOf("\r\n");
      if (nl < 0) break;
      const m = /^MSG \S+ \S+ (?:\S+ )?(\d+)$/.exec(this.#rest.slice(0, nl));
      if (m === null) throw new Error(`unexpected line ${JSON.stringify(this.#rest.slice(0, nl))}`);
      const end = nl + 2 + Number(m[1]) + 2;
      if (this.#rest.length < end) break;
      this.#rest = this.#rest.slice(end);
      this.count++;
    }
    return this.count;
  }
}

describe("garbage input", () => {
  test("random bytes: a clear -ERR, the connection is closed, and others keep working", async () => {
    const sub = await client(server);
    sub.write("SUB alive 1\r\n");
    await sub.flush();
    const pub = await client(server);
    for (let seed = 1; seed <= 30; seed++) {
      const c = await client(server, seed % 2 === 0 ? {} : null);
      c.write(garbage(seed, 16 + ((seed * 97) % 4000)));
      expect({ seed, got: await closedWith(c) }).toEqual({ seed, got: "-ERR 'Unknown Protocol Operation'\r\n" });
      pub.write(`PUB alive ${String(seed).length}\r\n${seed}\r\n`);
      await pub.flush();
      expect(await sub.flush()).toBe(`MSG alive 1 ${String(seed).length}\r\n${seed}\r\n`);
    }
  });

  test("garbage in the middle of a session: what came before is answered, then -ERR", async () => {
    const c = await client(server);
    c.write("SUB g 1\r\nPUB g 2\r\nok\r\n");
    c.write(garbage(99, 512));
    expect(await closedWith(c)).toBe("MSG g 1 2\r\nok\r\n-ERR 'Unknown Protocol Operation'\r\n");
  });

  test("a flood of NUL bytes and a flood of CRLFs", async () => {
    for (const junk of [new Uint8Array(100_000), latin1("\r\n".repeat(1000))]) {
      const c = await client(server);
      c.write(junk);
      expect(await closedWith(c)).toBe("-ERR 'Unknown Protocol Operation'\r\n");
    }
  });

  test("a connection dropped mid-message does not disturb the server", async () => {
    const c = await client(server);
    c.write("SUB half 1\r\nPUB half 100\r\nonly part of it");
    await c.drained();
    c.close();
    await c.waitClosed();
    const other = await client(server);
    other.write("SUB half 1\r\nPUB half 2\r\nok\r\n");
    expect(await other.flush()).toBe("MSG half 1 2\r\nok\r\n");
  });
});

describe("subjects are bytes", () => {
  test("subjects that are not valid UTF-8 are told apart (the reference compares bytes)", async () => {
    const c = await client(server);
    c.write(latin1("SUB \xff 1\r\nSUB a.\xc3 2\r\nPUB \xfe 1\r\nx\r\nPUB a.\xc4 1\r\ny\r\nPUB \xff 1\r\nz\r\nPUB a.\xc3 1\r\nw\r\n"));
    expect(await c.flush()).toBe("MSG \xff 1 1\r\nz\r\nMSG a.\xc3 2 1\r\nw\r\n");
  });

  test("UTF-8 subjects are delivered byte for byte", async () => {
    const c = await client(server);
    const subject = "grüße.€.日本";
    c.write(`SUB ${subject} 1\r\nPUB ${subject} 2\r\nok\r\n`);
    const raw = String.fromCharCode(...new TextEncoder().encode(subject));
    expect(await c.flush()).toBe(`MSG ${raw} 1 2\r\nok\r\n`);
  });
});

async function floodScenario(s: RunningServer, payloadBytes: number, messages: number, perWrite: number): Promise<void> {
  const slow = await stalledSubscriber(s.port, "flood");
  const good = await client(s);
  good.write("SUB flood 1\r\n");
  await good.flush();
  const counter = new MsgCounter(good);
  const pub = await client(s);
  const payload = "x".repeat(payloadBytes);
  const batch = `PUB flood ${payloadBytes}\r\n${payload}\r\n`.repeat(perWrite);
  for (let i = 0; i < messages / perWrite; i++) {
    pub.write(batch);
    // Let the good subscriber read while the publisher writes (one process runs all three).
    await waitUntil(() => pub.unsentBytes < batch.length * 2, "the publisher's socket to take its batch", 15_000, 1);
    counter.poll();
  }
  // The slow subscriber is cut (pending bytes or write deadline; no -ERR either way) ...
  await s.waitForLog(/Slow Consumer Detected/, 15_000);
  // ... the publisher is still served ...
  expect(await pub.flush(15_000)).toBe("");
  // ... and the normal subscriber got every single message.
  await waitUntil(() => counter.poll() >= messages || good.closed, `${messages} messages at the normal subscriber`, 15_000);
  counter.poll();
  expect({ normalSubscriberClosed: good.closed, received: counter.count }).toEqual({ normalSubscriberClosed: false, received: messages });
  // (On a loaded machine the flood outlasts the server's first PING, 2 s after CONNECT: that
  // PING is the server keeping the connection alive, not a stray message.)
  expect((await good.flush()).replaceAll("PING\r\n", "")).toBe("");
  // Only one connection was cut.
  expect(s.logs().match(/Slow Consumer Detected/g)?.length).toBe(1);
  // Once it reads again, the stalled subscriber finds its connection closed.
  slow.socket.resume();
  await waitUntil(() => slow.closed(), "the slow consumer's connection to close", 10_000);
  expect(slow.received()).toBeGreaterThan(0);
}

describe("slow consumer", () => {
  let flood: RunningServer;
  let tight: RunningServer;

  beforeAll(async () => {
    [flood, tight] = await Promise.all([
      startServer({ config: 'max_pending: 2097152\nmax_payload: 65536\nwrite_deadline: "1s"\n' }),
      startServer({ config: 'max_pending: 262144\nmax_payload: 65536\nwrite_deadline: "1s"\n' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([flood?.stop(), tight?.stop()]);
  });

  test("a subscriber that never reads is cut; the publisher and a normal subscriber carry on", async () => {
    await floodScenario(flood, 1000, 20_000, 1000);
  }, 30_000);

  test("the same with large messages: max_pending only four messages deep (reference keeps the normal subscriber)", async () => {
    await floodScenario(tight, 60_000, 600, 50);
  }, 30_000);
});
