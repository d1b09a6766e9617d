// Server PINGs and Stale Connection: with ping_interval 200ms and ping_max 1, a client that
// never answers is closed after its second missed interval; one that answers PONG stays.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { RawClient } from "../harness/raw.ts";
import { closedWith, connectRaw, countOf } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

const PING_INTERVAL_MS = 200;
let server: RunningServer;
const open: RawClient[] = [];

beforeAll(async () => {
  server = await startServer({ config: 'ping_interval: "200ms"\nping_max: 1\n' });
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await server?.stop();
});

test("a silent client gets one PING, then -ERR 'Stale Connection', and is closed", async () => {
  const started = Date.now();
  const { c } = await connectRaw(server.port);
  open.push(c);
  expect(await closedWith(c, 5_000)).toBe("PING\r\n-ERR 'Stale Connection'\r\n");
  const elapsed = Date.now() - started;
  // Two intervals: the PING, then the check that finds it unanswered.
  expect(elapsed).toBeGreaterThanOrEqual(2 * PING_INTERVAL_MS - 50);
  expect(elapsed).toBeLessThan(2_000);
});

test("a silent client that never sent CONNECT is treated the same", async () => {
  const { c } = await connectRaw(server.port, null);
  open.push(c);
  expect(await closedWith(c, 5_000)).toBe("PING\r\n-ERR 'Stale Connection'\r\n");
});

test("a client that answers every PING with PONG is kept", async () => {
  const started = Date.now();
  const { c } = await connectRaw(server.port);
  open.push(c);
  // Answer six PINGs (more than a second of intervals), one at a time.
  for (let n = 1; n <= 6; n++) {
    await c.waitFor((b) => countOf(b, "PING\r\n") >= 1, 2_000);
    expect(c.take()).toBe("PING\r\n");
    c.write("PONG\r\n");
  }
  expect(Date.now() - started).toBeGreaterThanOrEqual(5 * PING_INTERVAL_MS);
  expect(c.closed).toBe(false);
  // Still fully working.
  c.write("SUB alive 1\r\nPUB alive 2\r\nok\r\n");
  const out = await c.flush();
  expect(out.replaceAll("PING\r\n", "")).toBe("MSG alive 1 2\r\nok\r\n");
});

test("the silent client is closed while the answering one on the same server is kept", async () => {
  const silent = await connectRaw(server.port);
  const alive = await connectRaw(server.port);
  open.push(silent.c, alive.c);
  const answer = setInterval(() => {
    const pings = countOf(alive.c.take(), "PING\r\n");
    for (let i = 0; i < pings; i++) alive.c.write("PONG\r\n");
  }, 20);
  try {
    expect(await closedWith(silent.c, 5_000)).toBe("PING\r\n-ERR 'Stale Connection'\r\n");
  } finally {
    clearInterval(answer);
  }
  alive.c.take();
  alive.c.write("PING\r\n");
  await alive.c.waitFor((b) => b.includes("PONG\r\n"));
  expect(alive.c.closed).toBe(false);
});
