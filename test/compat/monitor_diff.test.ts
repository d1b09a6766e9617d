// Differential check of the monitoring endpoints: the same clients do the same things against
// our compiled server and the reference nats-server, then every endpoint's JSON is compared
// by field names (paths, with value types) and every bad query by status and text. Values
// differ by nature (ids, times, ports); the field-by-field value checks live in
// test/integration/monitor.test.ts. Skipped when the reference is not installed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { waitUntil } from "../harness/protocol.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

/** Fields only one side has, and why. Anything else that differs fails the test. */
const OURS_ONLY = new Set([
  "varz.nats_bun", // our release
  "varz.lame_duck_mode", // ours
  "varz.slow_consumer_stats", // 2.10+ field
  "varz.slow_consumer_stats.clients",
  "varz.slow_consumer_stats.routes",
  "varz.slow_consumer_stats.gateways",
  "varz.slow_consumer_stats.leafs",
]);
const REFERENCE_ONLY = new Set([
  // The reference always runs a system account ($SYS); nats-bun has none until accounts land.
  "varz.system_account",
  "accountz.system_account",
  "accountz?acc.system_account",
  "accountz?acc.account_detail.imports",
  "accountz?acc.account_detail.imports[]",
  "accountz?acc.account_detail.imports[].subject",
  "accountz?acc.account_detail.imports[].account",
  "accountz?acc.account_detail.imports[].to",
  "accountz?acc.account_detail.imports[].type",
  "accountz?acc.account_detail.imports[].invalid",
  "accountz?acc.account_detail.imports[].share",
  "accountz?acc.account_detail.imports[].tracking",
]);

type Side = { server: RunningServer; clients: NatsConnection[] };
const sides: Side[] = [];

/** `path: type` for every field, arrays merged as `[]`. */
function shape(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(value)) {
    out.set(path, "array");
    for (const v of value) shape(v, `${path}[]`, out);
  } else if (value !== null && typeof value === "object") {
    if (path !== "") out.set(path, "object");
    for (const [k, v] of Object.entries(value)) shape(v, path === "" ? k : `${path}.${k}`, out);
  } else {
    out.set(path, value === null ? "null" : typeof value);
  }
  return out;
}

async function drive(server: RunningServer): Promise<Side> {
  const clients: NatsConnection[] = [];
  for (let i = 0; i < 3; i++) {
    const nc = await connect({ servers: server.url, name: `c${i}` });
    nc.subscribe(`foo.${i}`);
    nc.subscribe("bar.*", { queue: "q" });
    clients.push(nc);
  }
  for (let i = 0; i < 10; i++) clients[0].publish("foo.1", "hello");
  await Promise.all(clients.map((c) => c.flush()));
  await clients[2].close();
  clients.pop();
  await waitUntil(async () => ((await (await fetch(`${server.monitorUrl}/connz`)).json()) as { num_connections: number }).num_connections === 2, "2 open connections");
  return { server, clients };
}

const skip = referenceBinary === null;
if (skip) console.warn("monitor_diff: reference nats-server not installed (apt-get install nats-server): skipped");

beforeAll(async () => {
  if (skip) return;
  const servers = await Promise.all([startServer({ args: ["-m", "-1"] }), startServer({ args: ["-m", "-1"], binary: referenceBinary! })]);
  for (const s of servers) sides.push(await drive(s));
});

afterAll(async () => {
  for (const s of sides) {
    await Promise.all(s.clients.map((c) => c.close().catch(() => undefined)));
    await s.server.stop();
  }
});

const endpoints: [string, string][] = [
  ["varz", "/varz"],
  ["connz", "/connz?subs=detail&auth=1"],
  ["connz?closed-list", "/connz?state=closed&subs=1"],
  ["connz?any", "/connz?state=any&sort=bytes_to&limit=2&offset=1"],
  ["subsz", "/subsz"],
  ["subsz?subs", "/subsz?subs=1&test=foo.1"],
  ["routez", "/routez"],
  ["gatewayz", "/gatewayz"],
  ["leafz", "/leafz"],
  ["accountz", "/accountz"],
  ["accountz?acc", "/accountz?acc=$G"],
  ["accstatz", "/accstatz"],
  ["jsz", "/jsz"],
  ["jsz?accounts", "/jsz?accounts=true&streams=true"],
  ["healthz", "/healthz"],
  ["healthz?js", "/healthz?js-enabled-only=true"],
  // Last: the reference keeps the detail list it computes for a closed connection and shows
  // it in later answers too (its closed-connection records are shared); not a behaviour to copy.
  ["connz?closed", "/connz?state=closed&subs=detail"],
];

describe.skipIf(skip)("monitoring endpoints: field names and types as the reference", () => {
  for (const [name, path] of endpoints) {
    test(path, async () => {
      const [ours, ref] = await Promise.all(sides.map(async (s) => shape(await (await fetch(s.server.monitorUrl + path)).json(), "", new Map())));
      const diffs: string[] = [];
      for (const [k, t] of ours) {
        const key = `${name}.${k}`;
        if (!ref.has(k)) {
          if (!OURS_ONLY.has(key)) diffs.push(`only ours: ${key} (${t})`);
        } else if (ref.get(k) !== t) diffs.push(`type of ${key}: ours ${t}, reference ${ref.get(k)}`);
      }
      for (const [k, t] of ref) if (!ours.has(k) && !REFERENCE_ONLY.has(`${name}.${k}`)) diffs.push(`only the reference: ${name}.${k} (${t})`);
      expect(diffs).toEqual([]);
    });
  }

  const bad = [
    "/connz?sort=bad",
    "/connz?sort=stop",
    "/connz?sort=reason",
    "/connz?state=any&sort=reason",
    "/connz?sort=rtt",
    "/connz?subs=x",
    "/connz?auth=x",
    "/connz?offset=x",
    "/connz?limit=1.5",
    "/connz?cid=x",
    "/connz?state=foo",
    "/subsz?subs=x",
    "/subsz?test=foo.*",
    "/subsz?test=foo..bar",
    "/accountz?acc=nope",
    "/nope",
    "/varz/extra",
  ];
  for (const path of bad) {
    test(`${path}: same status and text`, async () => {
      const [ours, ref] = await Promise.all(sides.map(async (s) => {
        const r = await fetch(s.server.monitorUrl + path);
        return `${r.status} ${await r.text()}`;
      }));
      expect(ours).toBe(ref);
    });
  }

  test("JSONP has the same wrapping and content type", async () => {
    const [ours, ref] = await Promise.all(sides.map(async (s) => {
      const r = await fetch(s.server.monitorUrl + "/healthz?callback=cb");
      return `${r.headers.get("content-type")} ${await r.text()}`;
    }));
    expect(ours).toBe(ref);
  });
});
