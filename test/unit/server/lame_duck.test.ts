// Lame-duck mode in-process, with durations shorter than the configuration allows (the
// config's 30 s minimum would make the test slow; the compiled-binary test in
// test/integration/lifecycle.test.ts covers the signal and the INFO): official clients are
// told (`ldm` status), new connections are refused, and the clients are closed one by one
// after the grace period, spread over the rest of the duration; then the process "exits" 0.
import { afterEach, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ServerRuntime } from "../../../src/cli/lifecycle.ts";
import { defaultOptions } from "../../../src/config/options.ts";
import { silentLogger } from "../../../src/util/log.ts";
import { waitUntil } from "../../harness/protocol.ts";

const open: NatsConnection[] = [];
let runtime: ServerRuntime | null = null;

afterEach(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  open.length = 0;
  if (runtime !== null && runtime.server.running) runtime.server.shutdown();
  runtime = null;
});

function start(durationMs: number, graceMs: number): { runtime: ServerRuntime; exited: Promise<number> } {
  const opts = defaultOptions();
  opts.host = "127.0.0.1";
  opts.port = -1;
  opts.lameDuckDurationMs = durationMs;
  opts.lameDuckGracePeriodMs = graceMs;
  let resolve!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolve = r));
  const rt = new ServerRuntime([], opts, silentLogger(), resolve);
  rt.start();
  runtime = rt;
  return { runtime: rt, exited };
}

describe("lame-duck mode", () => {
  test("tells clients, refuses new ones, closes the rest gradually within the duration, then exits 0", async () => {
    const { runtime: rt, exited } = start(1_000, 200);
    const port = rt.server.port;
    const clients: NatsConnection[] = [];
    const ldmSeen: boolean[] = [];
    const closedAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
      open.push(nc);
      clients.push(nc);
      ldmSeen.push(false);
      void (async () => {
        for await (const s of nc.status()) if (s.type === "ldm") ldmSeen[i] = true;
      })();
      void nc.closed().then(() => closedAt.push(Date.now()));
    }
    const entered = Date.now();
    rt.enterLameDuckMode();
    expect(rt.server.lameDuck).toBe(true);
    await waitUntil(() => ldmSeen.every(Boolean), "every client to see ldm");
    // The listener is closed: a new client cannot connect.
    const refused = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 500 }).then(
      (nc) => nc.close().then(() => false),
      () => true,
    );
    expect(refused).toBe(true);
    const code = await Promise.race([exited, Bun.sleep(3_000).then(() => -1)]);
    expect(code).toBe(0);
    await waitUntil(() => closedAt.length === 5, "all clients closed");
    // None before the grace period; all within the duration (with scheduling slack), spread out.
    const sorted = [...closedAt].sort((a, b) => a - b);
    expect(sorted[0] - entered).toBeGreaterThanOrEqual(180);
    expect(sorted[4] - entered).toBeLessThan(1_000 + 500);
    expect(sorted[4] - sorted[0]).toBeGreaterThanOrEqual(4 * 100);
    expect(rt.server.running).toBe(false);
  });

  test("with no clients the server exits at once", async () => {
    const { runtime: rt, exited } = start(1_000, 200);
    rt.enterLameDuckMode();
    expect(await Promise.race([exited, Bun.sleep(500).then(() => -1)])).toBe(0);
  });
});
