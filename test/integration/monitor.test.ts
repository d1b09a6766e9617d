// HTTP monitoring on the compiled server: every endpoint's JSON checked field by field against
// what the server did (3 clients × 2 subscriptions, N messages), paging and sorting of /connz,
// the ring of closed connections, /subsz with test=, errors as the reference words them,
// JSONP, http_base_path, and a clear error when the monitor port is taken.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
let base: string;
const clients: NatsConnection[] = [];
/** Messages client 0 publishes to client 1's subject. */
const N = 25;
const PAYLOAD = "hello"; // 5 bytes

async function get(path: string): Promise<Response> {
  return fetch(base + path);
}
async function json(path: string): Promise<Record<string, any>> {
  const r = await get(path);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("application/json");
  return (await r.json()) as Record<string, any>;
}

/** The server's own subscriptions (the system account's, as in the reference) before any client. */
let internalSubs = 0;

beforeAll(async () => {
  server = await startServer({ args: ["-m", "-1"] });
  base = server.monitorUrl!;
  internalSubs = ((await (await fetch(`${base}/varz`)).json()) as { subscriptions: number }).subscriptions;
  for (let i = 0; i < 3; i++) {
    const nc = await connect({ servers: server.url, name: `client-${i}` });
    nc.subscribe(`foo.${i}`);
    nc.subscribe("bar.*", { queue: "q" });
    await nc.flush();
    clients.push(nc);
  }
  for (let i = 0; i < N; i++) clients[0].publish("foo.1", PAYLOAD);
  await clients[0].flush();
  await clients[1].flush();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await server?.stop();
});

describe("with 3 clients × 2 subscriptions and N messages", () => {
  test("/varz counts them exactly", async () => {
    const v = await json("/varz");
    expect(v.server_id).toMatch(/^N[A-Z0-9]{55}$/);
    expect(v.connections).toBe(3);
    expect(v.total_connections).toBe(3);
    expect(v.subscriptions).toBe(internalSubs + 6);
    expect(v.in_msgs).toBe(N);
    expect(v.out_msgs).toBe(N);
    expect(v.in_bytes).toBe(N * PAYLOAD.length);
    expect(v.out_bytes).toBe(N * PAYLOAD.length);
    expect(v.slow_consumers).toBe(0);
    expect(v.port).toBe(server.port);
    expect(v.http_port).toBe(Number(new URL(base).port));
    expect(v.http_host).toBe("127.0.0.1");
    expect(v.http_base_path).toBe("");
    expect(v.max_payload).toBe(1048576);
    expect(v.ping_interval).toBe(120_000_000_000);
    expect(v.write_deadline).toBe(10_000_000_000);
    expect(v.auth_timeout).toBe(2);
    expect(v.jetstream).toEqual({});
    expect(v.http_req_stats["/varz"]).toBeGreaterThanOrEqual(1);
    expect(Date.parse(v.start)).toBeLessThanOrEqual(Date.parse(v.now));
    expect(v.mem).toBeGreaterThan(0);
  });

  test("/connz lists each connection with its subscriptions and traffic", async () => {
    const c = await json("/connz?subs=1");
    expect(c.num_connections).toBe(3);
    expect(c.total).toBe(3);
    expect(c.offset).toBe(0);
    expect(c.limit).toBe(1024);
    const byName = new Map<string, any>(c.connections.map((x: any) => [x.name, x]));
    expect([...byName.keys()].sort()).toEqual(["client-0", "client-1", "client-2"]);
    for (const [name, info] of byName) {
      const i = Number(name.slice(-1));
      expect(info.kind).toBe("Client");
      expect(info.type).toBe("nats");
      expect(info.ip).toBe("127.0.0.1");
      expect(info.lang).toBe("nats.js");
      expect(info.subscriptions).toBe(2);
      expect(info.subscriptions_list.sort()).toEqual(["bar.*", `foo.${i}`].sort());
      expect(info.pending_bytes).toBe(0);
      expect(info.in_msgs).toBe(i === 0 ? N : 0);
      expect(info.out_msgs).toBe(i === 1 ? N : 0);
      expect(info.in_bytes).toBe(i === 0 ? N * PAYLOAD.length : 0);
      expect(info.out_bytes).toBe(i === 1 ? N * PAYLOAD.length : 0);
    }
    // Sorted by cid by default.
    const cids = c.connections.map((x: any) => x.cid);
    expect(cids).toEqual([...cids].sort((a: number, b: number) => a - b));
  });

  test("/connz?subs=detail gives each subscription's sid, queue and message count", async () => {
    const c = await json("/connz?subs=detail&sort=msgs_to");
    const first = c.connections[0];
    expect(first.name).toBe("client-1");
    const detail = first.subscriptions_list_detail;
    expect(detail).toHaveLength(2);
    const foo = detail.find((d: any) => d.subject === "foo.1");
    expect(foo).toEqual({ subject: "foo.1", sid: foo.sid, msgs: N, cid: first.cid });
    const bar = detail.find((d: any) => d.subject === "bar.*");
    expect(bar).toEqual({ subject: "bar.*", qgroup: "q", sid: bar.sid, msgs: 0, cid: first.cid });
  });

  test("/connz sorts and pages", async () => {
    const byIn = await json("/connz?sort=msgs_from");
    expect(byIn.connections[0].name).toBe("client-0");
    const page = await json("/connz?offset=1&limit=1");
    expect(page.num_connections).toBe(1);
    expect(page.total).toBe(3);
    expect(page.offset).toBe(1);
    expect(page.limit).toBe(1);
    const all = await json("/connz");
    expect(page.connections[0].cid).toBe(all.connections[1].cid);
    const one = await json(`/connz?cid=${all.connections[2].cid}`);
    expect(one.connections.map((x: any) => x.cid)).toEqual([all.connections[2].cid]);
    expect(one.limit).toBe(1);
    const byAcc = await json("/connz?acc=$G");
    expect(byAcc.num_connections).toBe(3);
  });

  test("/subsz counts subscriptions; subs=1 with test= lists those a subject reaches", async () => {
    const s = await json("/subsz");
    expect(s.num_subscriptions).toBe(internalSubs + 6);
    expect(s.num_inserts).toBe(internalSubs + 6);
    expect(s.num_removes).toBe(0);
    expect(s.server_id).toBeUndefined();
    const t = await json("/subsz?subs=1&test=foo.1");
    expect(t.server_id).toBe((await json("/varz")).server_id);
    expect(t.subscriptions_list).toHaveLength(1);
    expect(t.subscriptions_list[0]).toMatchObject({ account: "$G", subject: "foo.1", msgs: N });
    const bar = await json("/subsz?subs=1&test=bar.x");
    expect(bar.subscriptions_list.map((x: any) => x.qgroup)).toEqual(["q", "q", "q"]);
    const all = await json("/subsz?subs=1&limit=4&offset=2");
    expect(all.subscriptions_list).toHaveLength(4);
    expect(all.offset).toBe(2);
    expect(all.limit).toBe(4);
  });

  test("/accstatz and /accountz report the global account", async () => {
    const a = await json("/accstatz");
    expect(a.account_statz).toEqual([
      { acc: "$G", conns: 3, leafnodes: 0, total_conns: 3, sent: { msgs: N, bytes: N * PAYLOAD.length }, received: { msgs: N, bytes: N * PAYLOAD.length }, slow_consumers: 0 },
    ]);
    const z = await json("/accountz");
    expect(z.system_account).toBe("$SYS");
    expect(z.accounts).toEqual(["$G", "$SYS"]);
    const d = await json("/accountz?acc=$G");
    expect(d.account_detail).toMatchObject({ account_name: "$G", client_connections: 3, subscriptions: 6, jetstream_enabled: false });
    expect(d.account_detail.sublist_stats.num_subscriptions).toBe(6);
  });
});

describe("endpoints without the feature report the reference's empty shapes", () => {
  test("/jsz, /healthz, /routez, /gatewayz, /leafz", async () => {
    const js = await json("/jsz?accounts=true");
    const { server_id, now, ...rest } = js;
    expect(server_id).toMatch(/^N/);
    expect(typeof now).toBe("string");
    expect(rest).toEqual({
      disabled: true,
      config: { max_memory: 0, max_storage: 0 },
      memory: 0,
      storage: 0,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 0,
      ha_assets: 0,
      api: { total: 0, errors: 0 },
      streams: 0,
      consumers: 0,
      messages: 0,
      bytes: 0,
    });
    expect(await json("/healthz")).toEqual({ status: "ok" });
    expect(await json("/healthz?js-enabled-only=true")).toEqual({ status: "ok" });
    const r = await json("/routez");
    expect([r.num_routes, r.routes]).toEqual([0, []]);
    const g = await json("/gatewayz");
    expect([g.outbound_gateways, g.inbound_gateways]).toEqual([{}, {}]);
    const l = await json("/leafz");
    expect([l.leafnodes, l.leafs]).toEqual([0, null]);
  });
});

describe("errors, JSONP", () => {
  const cases: [string, string][] = [
    ["/connz?sort=bad", "invalid sorting option: bad"],
    ["/connz?sort=stop", "sort by stop only valid on closed connections"],
    ["/connz?subs=x", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "x": invalid syntax`],
    ["/connz?offset=x", `Error decoding int for 'offset': strconv.Atoi: parsing "x": invalid syntax`],
    ["/connz?cid=x", `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "x": invalid syntax`],
    ["/connz?state=foo", "Error decoding state for foo"],
    ["/subsz?test=foo.*", "invalid test subject, must be valid publish subject: foo.*"],
    ["/accountz?acc=nope", "Account nope does not exist"],
  ];
  for (const [path, text] of cases) {
    test(`${path} → 400 ${text}`, async () => {
      const r = await get(path);
      expect(r.status).toBe(400);
      expect(await r.text()).toBe(text);
    });
  }

  test("unknown path → 404", async () => {
    const r = await get("/nope");
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("404 page not found\n");
  });

  test("callback= wraps the JSON (JSONP)", async () => {
    const r = await get("/varz?callback=cb");
    expect(r.headers.get("content-type")).toBe("application/javascript");
    const text = await r.text();
    expect(text.startsWith("cb({")).toBe(true);
    expect(text.endsWith("})")).toBe(true);
    expect(JSON.parse(text.slice(3, -1)).server_id).toMatch(/^N/);
  });
});

describe("closed connections", () => {
  test("state=closed keeps a closed connection with its reason and subscriptions; state=any has both", async () => {
    const gone = clients.pop()!;
    await gone.close();
    await waitUntil(async () => (await json("/varz")).connections === 2, "connections to drop to 2");
    const closed = await json("/connz?state=closed&subs=1");
    expect(closed.num_connections).toBe(1);
    const c = closed.connections[0];
    expect(c.name).toBe("client-2");
    expect(c.reason).toBe("Client Closed");
    expect(Date.parse(c.stop)).toBeGreaterThanOrEqual(Date.parse(c.start));
    expect(c.subscriptions).toBe(2);
    expect(c.subscriptions_list.sort()).toEqual(["bar.*", "foo.2"]);
    const any = await json("/connz?state=any");
    expect(any.total).toBe(3);
    const reasons = await json("/connz?state=closed&sort=reason");
    expect(reasons.connections[0].reason).toBe("Client Closed");
    const a = await json("/accstatz");
    expect(a.account_statz[0].conns).toBe(2);
    expect(a.account_statz[0].total_conns).toBe(3);
  });
});

describe("http_base_path and a taken port", () => {
  test("endpoints move under http_base_path", async () => {
    const s = await startServer({ config: `http: "127.0.0.1:-1"\nhttp_base_path: "/mon/"\n` });
    try {
      const b = s.monitorUrl!;
      const v = (await (await fetch(`${b}/mon/varz`)).json()) as Record<string, any>;
      expect(v.http_base_path).toBe("/mon");
      expect((await fetch(`${b}/varz`)).status).toBe(404);
      expect((await fetch(`${b}/mon/healthz`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test("a monitor port in use stops the server with the reference's message", async () => {
    const holder = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    try {
      const err = await startServer({ args: ["-m", String(holder.port)], startTimeoutMs: 5_000 }).then(
        async (s) => {
          await s.stop();
          return "";
        },
        (e: Error) => e.message,
      );
      expect(err).toContain(`Can't start monitoring: can't listen to the monitor port: listen tcp 127.0.0.1:${holder.port}: bind: address already in use`);
      expect(err).toContain("server exited with 1");
    } finally {
      holder.stop(true);
    }
  });
});
