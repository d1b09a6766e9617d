// Decentralised JWT authentication with the official tooling's artefacts (@nats-io/nkeys,
// @nats-io/jwt, creds files, credsAuthenticator) against the compiled server: operator,
// system account, accounts with limits, signing keys and scoped keys, exports/imports,
// revocations, expiry, bearer tokens, user limits; account JWTs pushed over
// $SYS.REQ.CLAIMS.UPDATE changing permissions and limits live; the full resolver's directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createAccount, createUser } from "@nats-io/nkeys";
import { encodeActivation, newScopedSigner } from "@nats-io/jwt";
import { connect, jwtAuthenticator, PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";
import { connectCreds, Operator, UNLIMITED, type TestAccount, type TestUser } from "../harness/jwt.ts";
import { waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let op: Operator;
let app: TestAccount;
let svc: TestAccount;
let limited: TestAccount;
let server: RunningServer;
let alice: TestUser;
const appKey = createAccount();
const appSigner = createAccount();
const scopedSigner = createAccount();
const conns: NatsConnection[] = [];

async function updateClaims(sys: NatsConnection, jwt: string): Promise<Record<string, unknown>> {
  const r = await sys.request("$SYS.REQ.CLAIMS.UPDATE", jwt, { timeout: 2_000 });
  return r.json<Record<string, unknown>>();
}

async function login(user: TestUser): Promise<NatsConnection> {
  const nc = await connectCreds(server.url, user);
  conns.push(nc);
  return nc;
}

async function refused(user: TestUser | { jwt: string; seed?: Uint8Array }): Promise<string> {
  try {
    const nc = "creds" in user ? await connectCreds(server.url, user) : await connect({ servers: server.url, authenticator: jwtAuthenticator(user.jwt, user.seed), reconnect: false, timeout: 3_000 });
    await nc.close();
    return "connected";
  } catch (e) {
    return (e as Error).message;
  }
}

beforeAll(async () => {
  op = await Operator.create();
  svc = await op.account("SVC", { exports: [{ name: "time", subject: "time.>", type: "service" }, { name: "news", subject: "news.>", type: "stream" }, { name: "vip", subject: "vip.>", type: "stream", token_req: true }] });
  const scope = newScopedSigner(scopedSigner, "reader", { pub: { allow: ["read.>"] }, sub: { allow: ["read.>", "_INBOX.>"] } });
  app = await op.account("APP", {
    signing_keys: [appSigner.getPublicKey(), scope],
    imports: [
      { name: "time", subject: "time.now", account: svc.pub, type: "service", to: "now" },
      { name: "news", subject: "news.>", account: svc.pub, type: "stream", to: "svcnews" },
      { name: "vip", subject: "vip.>", account: svc.pub, type: "stream", token: await encodeActivation("vip", appKey, svc.key, "stream", { subject: "vip.>" }) },
    ],
  }, {}, appKey);
  limited = await op.account("LIMITED", { limits: { ...UNLIMITED, conn: 1, subs: 2, payload: 16 } });
  server = await startServer({ config: op.config([app, svc, limited], "full") });
  alice = await op.user(app, {}, "alice");
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await server?.stop();
});

describe("logins", () => {
  test("a creds file logs in; publish and subscribe work in the account", async () => {
    const nc = await login(alice);
    expect(nc.info?.nonce).toBeDefined();
    const sub = nc.subscribe("hello", { max: 1 });
    nc.publish("hello", "world");
    for await (const m of sub) expect(m.string()).toBe("world");
  });

  test("users signed by an account signing key", async () => {
    const bob = await op.user(app, {}, "bob", { signer: appSigner });
    const nc = await login(bob);
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
  });

  test("a scoped signing key imposes its template's permissions; its users may not carry their own", async () => {
    // The reference refuses a scoped user with permissions or limits of its own (see
    // test/compat/operator_differential.test.ts).
    expect(await refused(await op.user(app, { pub: { allow: [">"] } }, "own", { signer: scopedSigner, scoped: true }))).toMatch(/Authorization Violation/);
    const reader = await op.user(app, {}, "reader", { signer: scopedSigner, scoped: true });
    const nc = await login(reader);
    const sub = nc.subscribe("write.x");
    let err: unknown = null;
    try {
      for await (const _ of sub) break;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PermissionViolationError);
    const ok = nc.subscribe("read.x", { max: 1 });
    nc.publish("read.x", "r");
    for await (const m of ok) expect(m.string()).toBe("r");
  });

  test("bearer tokens log in without signing the nonce", async () => {
    const bearer = await op.user(app, { bearer_token: true }, "bearer");
    expect(await refused({ jwt: bearer.jwt })).toBe("connected");
    const notBearer = await op.user(app, {}, "plain");
    expect(await refused({ jwt: notBearer.jwt })).toMatch(/Authorization Violation/);
  });

  test("user limits: source addresses and allowed connection types", async () => {
    expect(await refused(await op.user(app, { src: ["10.0.0.0/8"] }, "far"))).toMatch(/Authorization Violation/);
    expect(await refused(await op.user(app, { src: ["127.0.0.0/8"] }, "near"))).toBe("connected");
    expect(await refused(await op.user(app, { allowed_connection_types: ["WEBSOCKET"] }, "ws"))).toMatch(/Authorization Violation/);
  });
});

describe("bad credentials are refused with Authorization Violation", () => {
  test.each([
    ["a user signed by a key the account does not know", async () => op.user(app, {}, "x", { signer: createAccount() })],
    ["a user of an unknown account", async () => op.user(await op.account("GHOST"), {}, "ghost")],
    ["a user of an account signed by another operator", async () => {
      const other = await Operator.create();
      return other.user(await other.account("FOREIGN"), {}, "foreign");
    }],
    ["an expired user", async () => op.user(app, {}, "old", { exp: Math.floor(Date.now() / 1000) - 10 })],
  ])("%s", async (_name, make) => {
    expect(await refused(await make())).toMatch(/Authorization Violation/);
  });

  test("a signature by another key, a garbage signature, a malformed JWT", async () => {
    const other = createUser();
    expect(await refused({ jwt: alice.jwt, seed: other.getSeed() })).toMatch(/Authorization Violation/);
    const garbage = { servers: server.url, reconnect: false, timeout: 3_000, authenticator: () => ({ jwt: alice.jwt, sig: "not-a-signature!" }) };
    await expect(connect(garbage)).rejects.toThrow(/Authorization Violation/);
    const tampered = alice.jwt.replace(/\.([^.]+)\./, (_m, p: string) => `.${p.slice(0, -4)}AAAA.`);
    expect(await refused({ jwt: tampered, seed: alice.key.getSeed() })).toMatch(/Authorization Violation/);
    expect(await refused({ jwt: "not.a.jwt", seed: alice.key.getSeed() })).toMatch(/Authorization Violation/);
  });
});

describe("exports and imports between accounts", () => {
  test("a service import answers requests across accounts", async () => {
    const service = await login(await op.user(svc, {}, "service"));
    service.subscribe("time.>", {
      callback: (_e, m) => {
        m.respond(`${m.subject} answered`);
      },
    });
    await service.flush();
    const nc = await login(alice);
    expect((await nc.request("now", "", { timeout: 2_000 })).string()).toBe("time.now answered");
  });

  test("stream imports, including a private one with an activation token", async () => {
    const nc = await login(alice);
    const got: string[] = [];
    nc.subscribe(">", {
      callback: (_e, m) => {
        got.push(m.subject);
      },
    });
    await nc.flush();
    const publisher = await login(await op.user(svc, {}, "publisher"));
    publisher.publish("news.today", "n");
    publisher.publish("vip.gold", "v");
    publisher.publish("secret.x", "s");
    await publisher.flush();
    await waitUntil(() => got.length >= 2, "imported messages");
    await nc.flush();
    expect(got.sort()).toEqual(["svcnews.news.today", "vip.gold"]);
  });
});

describe("account limits", () => {
  test("connections, subscriptions and payload of the account", async () => {
    const u = await op.user(limited, {}, "l1");
    const nc = await login(u);
    expect(nc.info?.max_payload).toBe(16);
    expect(await refused(await op.user(limited, {}, "l2"))).toMatch(/maximum account active connections exceeded/);
    nc.subscribe("a");
    nc.subscribe("b");
    await nc.flush();
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === "error") errors.push(String((s as { error: Error }).error.message));
    })();
    nc.subscribe("c");
    await nc.flush().catch(() => undefined);
    await waitUntil(() => errors.length > 0, "the subscription limit");
    expect(errors[0]).toContain("maximum subscriptions exceeded");
  });
});

describe("live account updates over $SYS.REQ.CLAIMS.UPDATE", () => {
  test("the system account pushes a JWT; default permissions apply to connected users", async () => {
    const sys = await login(op.sysUser);
    const carol = await op.user(app, {}, "carol");
    const nc = await login(carol);
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === "error") errors.push(String((s as { error: Error }).error.message));
    })();
    const restricted = await op.account("APP", { ...decodeNats(app.jwt), default_permissions: { pub: { deny: ["forbidden.>"] } } }, {}, app.key);
    const res = await updateClaims(sys, restricted.jwt);
    expect(res.data).toEqual({ account: app.pub, code: 200, message: "jwt updated" });
    nc.publish("forbidden.x", "");
    await nc.flush();
    await waitUntil(() => errors.length > 0, "the permission error");
    expect(errors[0]).toContain('Permissions Violation for Publish to "forbidden.x"');
    // Stored in the full resolver's directory, and returned by a lookup.
    expect(readFileSync(join(op.dir, "jwt", `${app.pub}.jwt`), "utf8")).toBe(restricted.jwt);
    const lookup = await sys.request(`$SYS.REQ.ACCOUNT.${app.pub}.CLAIMS.LOOKUP`, "", { timeout: 2_000 });
    expect(lookup.string()).toBe(restricted.jwt);
    // Put the account back as it was for the other tests.
    await updateClaims(sys, (await op.account("APP", decodeNats(app.jwt), {}, app.key)).jwt);
  });

  test("a revocation closes the user's connection; it cannot log in again", async () => {
    const sys = await login(op.sysUser);
    const dave = await op.user(app, {}, "dave");
    const nc = await login(dave);
    const closed = nc.closed();
    const revoked = await op.account("APP", { ...decodeNats(app.jwt), revocations: { [dave.key.getPublicKey()]: Math.floor(Date.now() / 1000) + 1 } }, {}, app.key);
    await updateClaims(sys, revoked.jwt);
    const err = await closed;
    expect(String(err)).toMatch(/User Authentication Revoked/);
    expect(await refused(dave)).toMatch(/Authorization Violation/);
    await updateClaims(sys, (await op.account("APP", decodeNats(app.jwt), {}, app.key)).jwt);
  });

  test("garbage and user JWTs are refused with the reference's errors", async () => {
    const sys = await login(op.sysUser);
    expect((await updateClaims(sys, "garbage")).error).toEqual({ account: "n/a", code: 500, description: "jwt update resulted in error - expected 3 chunks" });
    expect((await updateClaims(sys, alice.jwt)).error).toEqual({ account: "n/a", code: 500, description: "jwt update resulted in error - not account claim" });
    const list = await sys.request("$SYS.REQ.CLAIMS.LIST", "", { timeout: 2_000 });
    expect((list.json<{ data: string[] }>().data)).toEqual([app.pub, svc.pub, limited.pub, op.sys.pub].sort());
  });
});

describe("expiry while connected", () => {
  test("a user JWT expiring while connected: User Authentication Expired", async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const short = await op.user(app, {}, "short", { exp });
    const nc = await login(short);
    const err = await nc.closed();
    expect(String(err)).toMatch(/User Authentication Expired/);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
  });
});

describe("system account", () => {
  test("CONNECT and DISCONNECT advisories, and SERVER.PING", async () => {
    const sys = await login(op.sysUser);
    const events: { subject: string; body: Record<string, unknown> }[] = [];
    sys.subscribe(`$SYS.ACCOUNT.${app.pub}.>`, {
      callback: (_e, m) => {
        events.push({ subject: m.subject, body: m.json() });
      },
    });
    await sys.flush();
    const nc = await connectCreds(server.url, alice, { name: "advised" });
    await nc.flush();
    await nc.close();
    await waitUntil(() => events.some((e) => e.subject.endsWith(".DISCONNECT")), "the disconnect advisory");
    const connect = events.find((e) => e.subject === `$SYS.ACCOUNT.${app.pub}.CONNECT`)!.body;
    expect(connect.type).toBe("io.nats.server.advisory.v1.client_connect");
    const client = connect.client as Record<string, unknown>;
    expect(client).toMatchObject({ acc: app.pub, user: alice.key.getPublicKey(), name: "advised", lang: "nats.js", kind: "Client", client_type: "nats", name_tag: "alice", jwt: alice.jwt, issuer_key: app.pub });
    const disconnect = events.find((e) => e.subject.endsWith(".DISCONNECT"))!.body;
    expect(disconnect.type).toBe("io.nats.server.advisory.v1.client_disconnect");
    expect(disconnect.reason).toBe("Client Closed");
    expect(Object.keys(disconnect)).toEqual(["type", "id", "timestamp", "server", "client", "sent", "received", "reason"]);
    const ping = (await sys.request("$SYS.REQ.SERVER.PING", "", { timeout: 2_000 })).json<Record<string, Record<string, unknown>>>();
    expect(Object.keys(ping)).toEqual(["server", "statsz"]);
    expect(Object.keys(ping.server)).toEqual(["name", "host", "id", "ver", "seq", "jetstream", "time"]);
    expect(ping.statsz.active_servers).toBe(1);
  });

  test("other accounts cannot reach $SYS subjects", async () => {
    const nc = await login(alice);
    await expect(nc.request("$SYS.REQ.SERVER.PING", "", { timeout: 500 })).rejects.toThrow();
  });
});

describe("the full resolver's directory", () => {
  test("pushed JWTs survive a restart", async () => {
    const fresh = await Operator.create();
    const acc = await fresh.account("LATE");
    const config = fresh.config([], "full");
    const first = await startServer({ config });
    try {
      const sys = await connectCreds(first.url, fresh.sysUser);
      await updateClaims(sys, acc.jwt);
      await sys.close();
    } finally {
      await first.stop();
    }
    expect(existsSync(join(fresh.dir, "jwt", `${acc.pub}.jwt`))).toBe(true);
    const second = await startServer({ config });
    try {
      const nc = await connectCreds(second.url, await fresh.user(acc, {}, "late"));
      await nc.flush();
      await nc.close();
    } finally {
      await second.stop();
    }
  });
});

/** The `nats` section of a JWT (to re-issue an account with changes). */
function decodeNats(jwt: string): Record<string, unknown> {
  const claims = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()) as { nats: Record<string, unknown> };
  const { type: _t, version: _v, ...rest } = claims.nats;
  return rest;
}
