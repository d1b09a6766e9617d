// /metrics on the compiled server, parsed by a strict Prometheus text-format parser: every
// family typed and documented, and the numbers exactly what the clients did (connections,
// subscriptions, messages and bytes both ways, per account, a slow consumer).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { parsePrometheusText, sampleValue, type Family } from "../harness/prometheus.ts";
import { stalledSubscriber, waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
const clients: NatsConnection[] = [];
const N = 40;
const PAYLOAD = new Uint8Array(100).fill(7);

async function scrape(): Promise<{ families: Map<string, Family>; contentType: string | null }> {
  const r = await fetch(`${server.monitorUrl}/metrics`);
  expect(r.status).toBe(200);
  return { families: parsePrometheusText(await r.text()), contentType: r.headers.get("content-type") };
}

let internalSubs = 0;

beforeAll(async () => {
  server = await startServer({ args: ["-m", "-1"], config: 'max_pending: 1048576\nwrite_deadline: "1s"\n' });
  // The server's own subscriptions (its system account's) before any client.
  internalSubs = sampleValue((await scrape()).families, "nats_server_subscriptions")!;
  for (let i = 0; i < 3; i++) {
    const nc = await connect({ servers: server.url });
    nc.subscribe("m.a");
    nc.subscribe(`m.own.${i}`);
    await nc.flush();
    clients.push(nc);
  }
  for (let i = 0; i < N; i++) clients[0].publish("m.a", PAYLOAD);
  await Promise.all(clients.map((c) => c.flush()));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await server?.stop();
});

describe("/metrics", () => {
  test("is valid exposition text, each family typed and documented", async () => {
    const { families, contentType } = await scrape();
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    for (const f of families.values()) {
      expect(["counter", "gauge"]).toContain(f.type);
      expect(f.help.length).toBeGreaterThan(0);
      if (f.type === "counter") expect(f.name.endsWith("_total")).toBe(true);
    }
    expect(sampleValue(families, "nats_server_info", { version: "2.9.10" })).toBe(1);
  });

  test("connections, subscriptions, messages and bytes are exact", async () => {
    const { families } = await scrape();
    expect(sampleValue(families, "nats_server_connections")).toBe(3);
    expect(sampleValue(families, "nats_server_connections_total")).toBe(3);
    expect(sampleValue(families, "nats_server_subscriptions")).toBe(internalSubs + 6);
    expect(sampleValue(families, "nats_server_messages_received_total")).toBe(N);
    // Each of the 3 clients subscribes to m.a (echo on): every message reaches all three.
    expect(sampleValue(families, "nats_server_messages_sent_total")).toBe(3 * N);
    expect(sampleValue(families, "nats_server_bytes_received_total")).toBe(N * PAYLOAD.length);
    expect(sampleValue(families, "nats_server_bytes_sent_total")).toBe(3 * N * PAYLOAD.length);
    expect(sampleValue(families, "nats_server_slow_consumers_total")).toBe(0);
    expect(sampleValue(families, "nats_account_connections", { account: "$G" })).toBe(3);
    expect(sampleValue(families, "nats_account_subscriptions", { account: "$G" })).toBe(6);
    expect(sampleValue(families, "nats_account_messages_received_total", { account: "$G" })).toBe(N);
    expect(sampleValue(families, "nats_account_messages_sent_total", { account: "$G" })).toBe(3 * N);
    expect(sampleValue(families, "nats_jetstream_enabled")).toBe(0);
    expect(sampleValue(families, "nats_server_http_requests_total", { path: "/metrics" })).toBeGreaterThanOrEqual(2);
    expect(Math.abs(sampleValue(families, "nats_server_start_time_seconds") - Date.now() / 1000)).toBeLessThan(120);
  });

  test("a slow consumer is counted for the server and its account", async () => {
    const slow = await stalledSubscriber(server.port, "m.flood");
    const pub = clients[1];
    const big = new Uint8Array(16 * 1024).fill(1);
    // Bounded: 4000 × 16 KiB = 64 MiB at most, far beyond max_pending (1 MiB) plus socket buffers.
    for (let i = 0; i < 4000 && !slow.closed(); i++) {
      pub.publish("m.flood", big);
      if (i % 200 === 199) await pub.flush();
    }
    await pub.flush();
    await server.waitForLog(/Slow Consumer Detected/, 15_000);
    await waitUntil(async () => sampleValue((await scrape()).families, "nats_server_slow_consumers_total") === 1, "slow consumer counted");
    const { families } = await scrape();
    expect(sampleValue(families, "nats_account_slow_consumers_total", { account: "$G" })).toBe(1);
    slow.socket.destroy();
  }, 30_000);
});
