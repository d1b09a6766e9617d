// Authentication and permissions with the official client against the compiled server:
// user/password (plain and bcrypt), token, nkey users signing the nonce (nkeyAuthenticator
// with keys from @nats-io/nkeys), no_auth_user, permissions as the client sees them
// (PermissionViolationError), and TLS certificates mapped to users (verify_and_map).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  connect, nkeyAuthenticator, PermissionViolationError, tokenAuthenticator, usernamePasswordAuthenticator, type ConnectionOptions,
  type NatsConnection,
} from "@nats-io/transport-node";
import { createUser } from "@nats-io/nkeys";
import { waitUntil } from "../harness/protocol.ts";
import { hasOpenssl, makePki, type TestPki } from "../harness/certs.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

const alice = createUser();
const mallory = createUser();
let users: RunningServer;
let token: RunningServer;
let tlsMap: RunningServer | null = null;
let pki: TestPki | null = null;
const conns: NatsConnection[] = [];

beforeAll(async () => {
  const hash = await Bun.password.hash("b-secret", { algorithm: "bcrypt", cost: 4 });
  const tokenHash = await Bun.password.hash("the-token", { algorithm: "bcrypt", cost: 4 });
  const started: Promise<RunningServer>[] = [
    startServer({
      config: `authorization {
  users: [
    {user: plain, password: p-secret}
    {user: hashed, password: "${hash}", permissions: {publish: "h.>", subscribe: ["h.>", "_INBOX.>"]}}
    {nkey: ${alice.getPublicKey()}, permissions: {publish: {deny: "forbidden.>"}, subscribe: {deny: "forbidden.>"}}}
    {user: svc, password: s, permissions: {subscribe: "svc.>", allow_responses: true}}
  ]
}
`,
    }),
    startServer({ config: `authorization { token: "${tokenHash}" }\n` }),
  ];
  [users, token] = await Promise.all(started);
  if (hasOpenssl) {
    pki = makePki();
    tlsMap = await startServer({
      config: `tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}", ca_file: "${pki.ca}", verify_and_map: true }
authorization { users: [
  {user: "carol@example.com", permissions: {publish: "carol.>"}}
  {user: "CN=dan,O=Acme,C=US", permissions: {publish: "dan.>"}}
] }
`,
    });
  }
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await Promise.all([users, token, tlsMap].map((s) => s?.stop()));
});

async function client(server: RunningServer, opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, reconnect: false, timeout: 3_000, ...opts });
  conns.push(nc);
  return nc;
}

async function refused(server: RunningServer, opts: Partial<ConnectionOptions>): Promise<string> {
  try {
    const nc = await client(server, opts);
    await nc.close();
  } catch (e) {
    return (e as Error).message;
  }
  return "connected";
}

async function echo(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, "ping");
  for await (const m of sub) return m.string();
  return "";
}

/** Errors the server sent to the client asynchronously (permission violations). */
function serverErrors(nc: NatsConnection): string[] {
  const out: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === "error") out.push(String((s as { error: Error }).error.message));
  })();
  return out;
}

describe("user and password", () => {
  test("plain and bcrypt passwords are accepted", async () => {
    expect(await echo(await client(users, { user: "plain", pass: "p-secret" }), "plain.x")).toBe("ping");
    expect(await echo(await client(users, { authenticator: usernamePasswordAuthenticator("hashed", "b-secret") }), "h.x")).toBe("ping");
  });

  test("wrong passwords and unknown users are refused with Authorization Violation", async () => {
    expect(await refused(users, { user: "plain", pass: "nope" })).toMatch(/Authorization Violation/);
    expect(await refused(users, { user: "hashed", pass: "p-secret" })).toMatch(/Authorization Violation/);
    expect(await refused(users, { user: "nobody", pass: "x" })).toMatch(/Authorization Violation/);
    expect(await refused(users, {})).toMatch(/Authorization Violation/);
  });
});

describe("token", () => {
  test("a bcrypt-hashed token", async () => {
    expect(await echo(await client(token, { authenticator: tokenAuthenticator("the-token") }), "t")).toBe("ping");
    expect(await refused(token, { token: "wrong" })).toMatch(/Authorization Violation/);
  });
});

describe("nkeys", () => {
  test("INFO carries a nonce; the client signs it with its seed", async () => {
    const nc = await client(users, { authenticator: nkeyAuthenticator(alice.getSeed()) });
    expect(typeof nc.info?.nonce).toBe("string");
    expect(nc.info!.nonce!.length).toBe(15);
    expect(await echo(nc, "n.x")).toBe("ping");
  });

  test("an unknown nkey is refused", async () => {
    expect(await refused(users, { authenticator: nkeyAuthenticator(mallory.getSeed()) })).toMatch(/Authorization Violation/);
  });

  test("a signature by another key is refused", async () => {
    const forged = { authenticator: () => ({ nkey: alice.getPublicKey(), sig: Buffer.from(mallory.sign(new TextEncoder().encode("x"))).toString("base64url") }) };
    expect(await refused(users, forged)).toMatch(/Authorization Violation/);
  });
});

describe("permissions seen by the client", () => {
  test("a denied subscription ends with a PermissionViolationError", async () => {
    const nc = await client(users, { authenticator: nkeyAuthenticator(alice.getSeed()) });
    const sub = nc.subscribe("forbidden.x");
    let error: unknown = null;
    try {
      for await (const _ of sub) break;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PermissionViolationError);
    expect((error as PermissionViolationError).operation).toBe("subscription");
    expect((error as PermissionViolationError).subject).toBe("forbidden.x");
  });

  test("a denied publish is reported and not delivered; the connection stays", async () => {
    const watcher = await client(users, { user: "plain", pass: "p-secret" });
    const seen: string[] = [];
    watcher.subscribe("forbidden.>", { callback: (_e, m) => {
      seen.push(m.subject);
    } });
    await watcher.flush();
    const nc = await client(users, { authenticator: nkeyAuthenticator(alice.getSeed()) });
    const errors = serverErrors(nc);
    nc.publish("forbidden.y", "no");
    nc.publish("allowed.y", "yes");
    await nc.flush();
    await waitUntil(() => errors.length > 0, "the permission error");
    expect(errors[0]).toContain('Permissions Violation for Publish to "forbidden.y"');
    await watcher.flush();
    expect(seen).toEqual([]);
    expect(nc.isClosed()).toBe(false);
  });

  test("allow_responses: a service that may not publish answers requests", async () => {
    const service = await client(users, { user: "svc", pass: "s" });
    service.subscribe("svc.time", { callback: (_e, m) => {
      m.respond("now");
    } });
    await service.flush();
    const requester = await client(users, { user: "plain", pass: "p-secret" });
    const reply = await requester.request("svc.time", "", { timeout: 2_000 });
    expect(reply.string()).toBe("now");
    const errors = serverErrors(service);
    service.publish("svc.other", "x");
    await service.flush();
    await waitUntil(() => errors.length > 0, "the permission error");
    expect(errors[0]).toContain('Permissions Violation for Publish to "svc.other"');
  });
});

describe("verify_and_map: users from client certificates", () => {
  const t = hasOpenssl ? test : test.skip;
  t("the certificate's email address is the user", async () => {
    const carol = pki!.client("carol", "/CN=carol", "email:carol@example.com");
    const nc = await client(tlsMap!, { tls: { ca: pki!.read(pki!.ca), cert: pki!.read(carol.cert), key: pki!.read(carol.key) } });
    expect(await echo(nc, "carol.x")).toBe("ping");
    const errors = serverErrors(nc);
    nc.publish("dan.x", "");
    await nc.flush();
    await waitUntil(() => errors.length > 0, "the permission error");
    expect(errors[0]).toContain('Permissions Violation for Publish to "dan.x"');
  });

  t("the certificate's subject is the user, in any attribute order", async () => {
    const dan = pki!.client("dan", "/C=US/O=Acme/CN=dan");
    const nc = await client(tlsMap!, { tls: { ca: pki!.read(pki!.ca), cert: pki!.read(dan.cert), key: pki!.read(dan.key) } });
    expect(await echo(nc, "dan.x")).toBe("ping");
  });

  t("a valid certificate of no configured user is refused", async () => {
    const eve = pki!.client("eve", "/CN=eve", "email:eve@example.com");
    expect(await refused(tlsMap!, { tls: { ca: pki!.read(pki!.ca), cert: pki!.read(eve.cert), key: pki!.read(eve.key) } })).toMatch(/Authorization Violation/);
  });
});
