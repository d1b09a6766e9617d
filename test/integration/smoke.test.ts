// Smoke test: the compiled executable serves the official nats.js client.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

test("INFO identifies the reference version and our own", () => {
  expect(nc.info?.version).toBe("2.9.10");
  expect((nc.info as unknown as Record<string, unknown>).nats_bun).toBe("0.1.0");
  expect(nc.info?.server_id).toMatch(/^N[A-Z2-7]{55}$/);
  expect(nc.info?.headers).toBe(true);
  expect(nc.info?.max_payload).toBe(1048576);
});

test("request/reply round trip", async () => {
  const sub = nc.subscribe("smoke.svc", {
    callback: (_e, m) => {
      m.respond(`echo:${m.string()}`);
    },
  });
  const reply = await nc.request("smoke.svc", "hi", { timeout: 2000 });
  expect(reply.string()).toBe("echo:hi");
  sub.unsubscribe();
});
