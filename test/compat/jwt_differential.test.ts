// Operator mode against the reference nats-server: the same operator, accounts and users
// (made with @nats-io/jwt) on both servers, and the same scenario with the official client on
// each. Compared: which logins are accepted, the JSON shapes (keys in order, value types) of
// $SYS advisories and responses, claim-update answers, and what a connected client sees when
// its account changes. Values that identify a server or a moment are not compared.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createAccount, createUser } from "@nats-io/nkeys";
import { connect, jwtAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { connectCreds, Operator, UNLIMITED, type TestAccount, type TestUser } from "../harness/jwt.ts";
import { waitUntil } from "../harness/protocol.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

const d = referenceBinary === null ? describe.skip : describe;
if (referenceBinary === null) console.warn("jwt differential tests skipped: the reference nats-server is not installed");

let op: Operator;
let app: TestAccount;
let limited: TestAccount;
let alice: TestUser;
let ours: RunningServer;
let reference: RunningServer;

/** The shape of a JSON value: object keys in order with the shapes of their values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

async function outcome(server: RunningServer, auth: () => Promise<NatsConnection>, attempts = 3): Promise<string> {
  try {
    const nc = await auth();
    await nc.flush();
    await nc.close();
    return "accepted";
  } catch (e) {
    const m = (e as Error).message;
    // A server that closes with the client's PING unread resets the connection, and the -ERR
    // before it may be lost (the reference, now and then, under load): ask again.
    if (/ECONNRESET/.test(m) && attempts > 1) return outcome(server, auth, attempts - 1);
    return /Authorization Violation/.test(m) ? "Authorization Violation" : /maximum account active connections exceeded/.test(m) ? "max account connections" : m;
  }
}

d("operator mode: ours vs the reference", () => {
  beforeAll(async () => {
    op = await Operator.create();
    app = await op.account("APP", { exports: [{ name: "s", subject: "svc", type: "service" }] });
    limited = await op.account("LIMITED", { limits: { ...UNLIMITED, conn: 0 } });
    alice = await op.user(app, {}, "alice");
    // Each server its own resolver directory.
    const config = op.config([app, limited], "full");
    [ours, reference] = await Promise.all([startServer({ config }), startServer({ config: config.replace(/dir: "([^"]+)"/, 'dir: "$1-ref"'), binary: referenceBinary! })]);
  });

  afterAll(async () => {
    await Promise.all([ours?.stop(), reference?.stop()]);
  });

  test("which logins are accepted", async () => {
    const cases: [string, (s: RunningServer) => Promise<NatsConnection>][] = [
      ["creds", (s) => connectCreds(s.url, alice)],
      ["wrong key signs", (s) => connect({ servers: s.url, reconnect: false, authenticator: jwtAuthenticator(alice.jwt, createUser().getSeed()) })],
      ["no signature", (s) => connect({ servers: s.url, reconnect: false, authenticator: jwtAuthenticator(alice.jwt) })],
      ["garbage jwt", (s) => connect({ servers: s.url, reconnect: false, authenticator: jwtAuthenticator("x.y.z", alice.key.getSeed()) })],
      ["no jwt", (s) => connect({ servers: s.url, reconnect: false })],
      ["user and password", (s) => connect({ servers: s.url, reconnect: false, user: "a", pass: "b" })],
      ["unknown signer", async (s) => connectCreds(s.url, await op.user(app, {}, "x", { signer: createAccount() }))],
      ["unknown account", async (s) => connectCreds(s.url, await op.user(await op.account("GHOST"), {}, "g"))],
      ["expired", async (s) => connectCreds(s.url, await op.user(app, {}, "old", { exp: Math.floor(Date.now() / 1000) - 5 }))],
      ["account without connections", async (s) => connectCreds(s.url, await op.user(limited, {}, "l"))],
    ];
    for (const [name, auth] of cases) {
      const [a, b] = await Promise.all([outcome(ours, () => auth(ours)), outcome(reference, () => auth(reference))]);
      expect({ name, outcome: a }).toEqual({ name, outcome: b });
    }
  });

  test("advisories, SERVER.PING and claim updates have the reference's shapes", async () => {
    const run = async (server: RunningServer): Promise<Record<string, unknown>> => {
      const sys = await connectCreds(server.url, op.sysUser);
      const events: Record<string, unknown> = {};
      sys.subscribe(`$SYS.ACCOUNT.${app.pub}.>`, {
        callback: (_e, m) => {
          events[m.subject.replace(app.pub, "<acc>")] ??= m.json();
        },
      });
      await sys.flush();
      const nc = await connectCreds(server.url, alice, { name: "shapes" });
      await nc.flush();
      await nc.close();
      await waitUntil(() => `$SYS.ACCOUNT.<acc>.DISCONNECT` in events, "the disconnect advisory");
      const ping = (await sys.request("$SYS.REQ.SERVER.PING", "", { timeout: 2_000 })).json();
      const updated = (await sys.request("$SYS.REQ.CLAIMS.UPDATE", app.jwt, { timeout: 2_000 })).json();
      const garbage = (await sys.request("$SYS.REQ.CLAIMS.UPDATE", "garbage", { timeout: 2_000 })).json<{ error: unknown }>();
      await sys.close();
      return { events: shape(events), ping: shape(ping), updated: shape(updated), garbage: shape(garbage), garbageError: garbage.error };
    };
    const [a, b] = [await run(ours), await run(reference)];
    // statsz differs in what a Go runtime reports beyond the reference's fields: none expected.
    expect(a).toEqual(b);
  });

  test("a connected user sees its account's new limits and revocations the same way", async () => {
    const run = async (server: RunningServer): Promise<string[]> => {
      const sys = await connectCreds(server.url, op.sysUser);
      const bob = await op.user(app, {}, "bob");
      const nc = await connectCreds(server.url, bob);
      const seen: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === "error" || s.type === "disconnect") seen.push(`${s.type}: ${String((s as { error?: Error }).error?.message ?? "")}`);
      })();
      const revoked = await op.account("APP", { exports: [{ name: "s", subject: "svc", type: "service" }], revocations: { [bob.key.getPublicKey()]: Math.floor(Date.now() / 1000) + 1 } }, {}, app.key);
      await sys.request("$SYS.REQ.CLAIMS.UPDATE", revoked.jwt, { timeout: 2_000 });
      const err = await nc.closed();
      seen.push(`closed: ${String((err as Error | undefined)?.message ?? "")}`);
      await sys.request("$SYS.REQ.CLAIMS.UPDATE", app.jwt, { timeout: 2_000 }).catch(() => undefined);
      await sys.close();
      return seen.filter((x) => !x.startsWith("disconnect"));
    };
    const [a, b] = [await run(ours), await run(reference)];
    expect(a).toEqual(b);
  });
});
