// The monitoring endpoints as `$SYS.REQ.SERVER.<id|PING>.<EP>` requests, in-process: the
// handlers are installed on an in-process client of the global account (nats-bun has no
// system account until accounts land) and an official client asks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ServerRuntime } from "../../../src/cli/lifecycle.ts";
import { defaultOptions } from "../../../src/config/options.ts";
import { installSystemRequests, systemEndpoints } from "../../../src/monitor/sys_requests.ts";
import { InternalClient } from "../../../src/server/internal_client.ts";
import { silentLogger } from "../../../src/util/log.ts";

let runtime: ServerRuntime;
let nc: NatsConnection;

beforeAll(async () => {
  const opts = defaultOptions();
  opts.host = "127.0.0.1";
  opts.port = -1;
  opts.serverName = "sys-test";
  runtime = new ServerRuntime([], opts, silentLogger(), () => {});
  runtime.start();
  const server = runtime.server;
  const sys = new InternalClient(server, server.globalAccount, "System");
  installSystemRequests(server, sys, () => ({ httpHost: "", httpPort: 0, httpsPort: 0, basePath: "", requestStats: {} }));
  nc = await connect({ servers: `127.0.0.1:${server.port}`, name: "asker" });
});

afterAll(async () => {
  await nc?.close();
  runtime?.server.shutdown();
});

async function ask(subject: string, body: unknown = ""): Promise<Record<string, any>> {
  const m = await nc.request(subject, typeof body === "string" ? body : JSON.stringify(body), { timeout: 2_000 });
  return m.json<Record<string, any>>();
}

describe("$SYS.REQ.SERVER requests", () => {
  test("PING.VARZ and <id>.VARZ answer with the server header and the /varz data", async () => {
    const id = runtime.server.id;
    for (const subject of ["$SYS.REQ.SERVER.PING.VARZ", `$SYS.REQ.SERVER.${id}.VARZ`]) {
      const r = await ask(subject);
      expect(r.server).toMatchObject({ name: "sys-test", id, ver: "2.9.10", jetstream: false });
      expect(typeof r.server.seq).toBe("number");
      expect(r.data.server_id).toBe(id);
      expect(r.data.connections).toBe(1);
    }
  });

  test("CONNZ takes the reference's option names", async () => {
    const r = await ask("$SYS.REQ.SERVER.PING.CONNZ", { subscriptions: true, state: 0, sort: "cid" });
    expect(r.data.num_connections).toBe(1);
    expect(r.data.connections[0].name).toBe("asker");
    expect(r.data.connections[0].subscriptions_list.length).toBe(1); // the request inbox
    const bad = await ask("$SYS.REQ.SERVER.PING.CONNZ", { sort: "bad" });
    expect(bad.error).toEqual({ code: 400, description: "invalid sorting option: bad" });
  });

  test("SUBSZ, HEALTHZ, JSZ, ACCOUNTZ", async () => {
    const s = await ask(`$SYS.REQ.SERVER.${runtime.server.id}.SUBSZ`, { subscriptions: true, test: "$SYS.REQ.SERVER.PING.VARZ" });
    // This test's client in $G, and the live system account's own in $SYS.
    expect(s.data.subscriptions_list.map((x: { account: string }) => x.account).sort()).toEqual(["$G", "$SYS"]);
    expect((await ask("$SYS.REQ.SERVER.PING.HEALTHZ")).data).toEqual({ status: "ok" });
    expect((await ask("$SYS.REQ.SERVER.PING.JSZ")).data.disabled).toBe(true);
    expect((await ask("$SYS.REQ.SERVER.PING.ACCOUNTZ")).data.accounts).toEqual(["$G", "$SYS"]);
  });

  test("a PING filtered to another server gets no answer from this one", async () => {
    const err = await nc.request("$SYS.REQ.SERVER.PING.VARZ", JSON.stringify({ server_name: "other" }), { timeout: 300 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
  });

  test("every endpoint answers", async () => {
    for (const ep of systemEndpoints) expect((await ask(`$SYS.REQ.SERVER.PING.${ep}`)).data).toBeDefined();
  });
});
