// Operator-mode decisions against the reference nats-server, scenario by scenario, over raw
// sockets (exact `-ERR` lines) and $SYS requests (exact `data`/`error` bodies): scoped signing
// keys, connection-time windows, account JWTs pushed older / untrusted / expired / invalid,
// accounts and users whose JWTs leave limits out, signing keys and scopes changed under a
// connected user, and the MEMORY resolver's answers. Each server runs the same scenario with
// the same JWTs; only what identifies a server is left out of the comparison.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { encodeAccount, newScopedSigner } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectCreds, Operator, UNLIMITED, type TestAccount, type TestUser } from "../harness/jwt.ts";
import { connectRaw } from "../harness/protocol.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";
import { signRaw } from "../unit/auth/jwt/helpers.ts";

const d = referenceBinary === null ? describe.skip : describe;
if (referenceBinary === null) console.warn("operator differential tests skipped: the reference nats-server is not installed");

const encoder = new TextEncoder();
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Logs in over a raw socket with a user JWT (signing the nonce unless `sig` is given), then
 * runs `steps` each followed by a PING, then waits up to `lingerMs` for the server to close.
 * Returns what the server sent, INFO lines left out.
 */
async function rawSession(server: RunningServer, user: { jwt: string; key: { sign(b: Uint8Array): Uint8Array } }, steps: string[] = [], lingerMs = 0): Promise<string> {
  const { c, info } = await connectRaw(server.port, null);
  try {
    const sig = Buffer.from(user.key.sign(encoder.encode(String(info.nonce)))).toString("base64url");
    const pongs = (): number => c.buffered.split("PONG\r\n").length - 1;
    let want = 1;
    c.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, headers: true, jwt: user.jwt, sig })}\r\nPING\r\n`);
    for (const step of [null, ...steps]) {
      if (step !== null) {
        want++;
        c.write(`${step}\r\nPING\r\n`);
      }
      await c.waitFor(() => pongs() >= want || c.closed, 3_000).catch(() => undefined);
      if (c.closed) break;
    }
    if (lingerMs > 0) await c.waitClosed(lingerMs).catch(() => undefined);
    if (c.buffered.includes("-ERR") && !c.closed) await c.waitClosed(300).catch(() => undefined);
    return c.take().replace(/INFO [^\r]*\r\n/g, "") + (c.closed ? "<closed>" : "");
  } finally {
    c.close();
  }
}

/** A request's reply without its `server` part, or "no reply". */
async function ask(nc: NatsConnection, subject: string, body: string): Promise<unknown> {
  try {
    const m = await nc.request(subject, body, { timeout: 1_500 });
    const text = m.string();
    if (!text.startsWith("{")) return text;
    const reply = JSON.parse(text) as Record<string, unknown>;
    delete reply.server;
    return reply;
  } catch {
    return "no reply";
  }
}

/** Seconds since midnight UTC, as "HH:MM:SS". */
function clock(secondsOfDay: number): string {
  const s = ((secondsOfDay % 86_400) + 86_400) % 86_400;
  return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, "0")).join(":");
}

/** Ours and the reference, started with the same config (a full resolver each its own directory). */
class Pair {
  ours: RunningServer | null = null;
  reference: RunningServer | null = null;

  async start(config: string): Promise<void> {
    [this.ours, this.reference] = await Promise.all([
      startServer({ config }),
      startServer({ config: config.replace(/dir: "([^"]+)"/, 'dir: "$1-ref"'), binary: referenceBinary! }),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.ours?.stop(), this.reference?.stop()]);
  }

  /** Runs `scenario` on both servers (ours first), expects the same result, returns it. */
  async same(scenario: (s: RunningServer) => Promise<unknown>): Promise<unknown> {
    const a = await scenario(this.ours!);
    const b = await scenario(this.reference!);
    expect(a).toEqual(b as never);
    return b;
  }
}

let op: Operator;
let app: TestAccount;
let invalid: TestAccount;
let bare: TestAccount;
let barePayload: TestAccount;
const scopedKey = createAccount();
const plainSigner = createAccount();
const pair = new Pair();

d("operator-mode decisions: ours vs the reference", () => {
  beforeAll(async () => {
    op = await Operator.create();
    const scope = newScopedSigner(scopedKey, "reader", { pub: { allow: ["read.>"] }, sub: { allow: ["read.>", "_INBOX.>"] } });
    app = await op.account("APP", { signing_keys: [plainSigner.getPublicKey(), scope] });
    // Preloaded although its JWT does not validate (overlapping exports).
    invalid = await op.account("INVALID", { exports: [{ name: "x", subject: "x.>", type: "stream" }, { name: "y", subject: "x.y", type: "stream" }] });
    // Accounts whose JWTs leave limits out (0: nothing allowed) but for connections (and subscriptions).
    const rawAccount = (name: string, limits: Record<string, number>): TestAccount => {
      const key = createAccount();
      return { name, key, pub: key.getPublicKey(), jwt: signRaw({ jti: name, iat: nowSeconds(), iss: op.key.getPublicKey(), name, sub: key.getPublicKey(), nats: { type: "account", version: 2, limits } }, op.key) };
    };
    bare = rawAccount("BARE", { conn: -1 });
    barePayload = rawAccount("BAREPAYLOAD", { conn: -1, subs: -1 });
    const config = op.config([app, invalid, bare, barePayload], "full");
    await pair.start(config);
  });

  afterAll(async () => {
    await pair.stop();
  });

  test("scoped signing keys: a user with its own permissions is refused; the template applies", async () => {
    const withPerms = await op.user(app, { pub: { allow: [">"] } }, "own", { signer: scopedKey, scoped: true });
    const plain = await op.user(app, {}, "plain", { signer: scopedKey, scoped: true });
    const got = await pair.same(async (s) => ({
      withPerms: await rawSession(s, withPerms),
      plain: await rawSession(s, plain, ["SUB write.x 1", "SUB read.x 2", "PUB read.x 1\r\nr"]),
    }));
    expect(got).toEqual({
      withPerms: "-ERR 'Authorization Violation'\r\n<closed>",
      plain: "PONG\r\n-ERR 'Permissions Violation for Subscription to \"write.x\"'\r\nPONG\r\nPONG\r\nMSG read.x 2 1\r\nr\r\nPONG\r\n",
    });
  });

  test("connection-time windows (UTC)", async () => {
    const now = new Date();
    const s = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
    // Windows that would cross midnight from the clock's point of view are not meaningful here.
    if (s < 1_800 || s > 86_400 - 1_800) return;
    const window = async (start: number, end: number): Promise<TestUser> => op.user(app, { times: [{ start: clock(start), end: clock(end) }], times_location: "UTC" } as never, "timed");
    const users = {
      inside: await window(s - 600, s + 600),
      outside: await window(s + 600, s + 1200),
      // Starts later today, ends tomorrow: this morning's part belongs to yesterday's window.
      overnightBefore: await window(s + 1200, s + 600),
      // Started earlier today, ends tomorrow.
      overnightAfter: await window(s - 600, s - 1200),
    };
    await pair.same(async (srv) => Object.fromEntries(await Promise.all(Object.entries(users).map(async ([k, u]) => [k, await rawSession(srv, u)]))));
  });

  test("pushed account JWTs: older, untrusted, expired, invalid; logins with them", async () => {
    const now = nowSeconds();
    const b = createAccount();
    const at = (iat: number, name: string): string => signRaw({ jti: name, iat, iss: op.key.getPublicKey(), name, sub: b.getPublicKey(), nats: { type: "account", version: 2, limits: UNLIMITED } }, op.key);
    const stranger = createAccount();
    const strangerJwt = await encodeAccount("STRANGER", stranger, { limits: UNLIMITED }, { signer: createOperator() });
    const expired = createAccount();
    const expiredJwt = signRaw({ jti: "e", iat: now - 100, exp: now - 10, iss: op.key.getPublicKey(), name: "EXPIRED", sub: expired.getPublicKey(), nats: { type: "account", version: 2, limits: UNLIMITED } }, op.key);
    const badJwt = signRaw({ jti: "bad", iat: now, iss: op.key.getPublicKey(), name: "BAD", sub: createAccount().getPublicKey(), nats: { type: "account", version: 2, limits: UNLIMITED, exports: [{ subject: "x", type: "foo" }] } }, op.key);
    const userOf = async (key: ReturnType<typeof createAccount>): Promise<TestUser> => op.user({ name: "X", key, pub: key.getPublicKey(), jwt: "" }, {}, "u");
    const strangerUser = await userOf(stranger);
    const expiredUser = await userOf(expired);
    await pair.same(async (s) => {
      const sys = await connectCreds(s.url, op.sysUser);
      try {
        const out: Record<string, unknown> = {};
        out.newer = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", at(now, "new"));
        out.older = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", at(now - 100, "old"));
        out.lookup = (await ask(sys, `$SYS.REQ.ACCOUNT.${b.getPublicKey()}.CLAIMS.LOOKUP`, "")) === at(now - 100, "old") ? "older stored" : "newer kept";
        out.untrusted = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", strangerJwt);
        out.untrustedLogin = await rawSession(s, strangerUser);
        out.expired = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", expiredJwt);
        out.expiredLogin = await rawSession(s, expiredUser);
        out.invalid = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", badJwt);
        return out;
      } finally {
        await sys.close();
      }
    });
  });

  test("an account JWT that does not validate is not used", async () => {
    const u = await op.user(invalid, {}, "u");
    await pair.same(async (s) => rawSession(s, u));
  });

  test("limits left out of account and user JWTs are 0: no subscription, no payload", async () => {
    const userWith = (nats: Record<string, unknown>): { key: ReturnType<typeof createUser>; jwt: string } => {
      const u = createUser();
      return { key: u, jwt: signRaw({ jti: `raw${Math.random()}`, iat: nowSeconds(), iss: app.pub, name: "raw", sub: u.getPublicKey(), nats: { type: "user", version: 2, ...nats } }, app.key) };
    };
    const users = {
      // Over the subscription limit from the start: closed shortly after the login.
      accountWithoutSubs: await op.user(bare, {}, "u"),
      userWithoutSubs: userWith({}),
      accountWithoutPayload: await op.user(barePayload, {}, "u"),
      userWithoutPayload: userWith({ subs: -1 }),
    };
    // The reference sends that -ERR from a goroutine: before or after the login's PONG.
    const unordered = (text: string): string[] => text.split("\r\n").sort();
    await pair.same(async (s) => ({
      accountWithoutSubs: unordered(await rawSession(s, users.accountWithoutSubs, [], 300)),
      userWithoutSubs: unordered(await rawSession(s, users.userWithoutSubs, [], 300)),
      accountWithoutPayload: await rawSession(s, users.accountWithoutPayload, ["SUB a 1", "PUB a 0\r\n", "PUB a 1\r\nx"]),
      userWithoutPayload: await rawSession(s, users.userWithoutPayload, ["SUB a 1", "PUB a 0\r\n", "PUB a 1\r\nx"]),
    }));
  });

  test("a connected user whose signing key is removed, or whose scope changes", async () => {
    const sk = createAccount();
    const scoped = createAccount();
    const key = createAccount();
    const account = async (signingKeys: unknown[]): Promise<TestAccount> => op.account("CHANGING", { signing_keys: signingKeys as never }, {}, key);
    const before = await account([sk.getPublicKey(), newScopedSigner(scoped, "r", { sub: { allow: ["a.>"] } })]);
    const acc: TestAccount = { ...before };
    const bySk = await op.user(acc, {}, "sk", { signer: sk });
    const byScope = await op.user(acc, {}, "scoped", { signer: scoped, scoped: true });
    await pair.same(async (s) => {
      const sys = await connectCreds(s.url, op.sysUser);
      try {
        await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", before.jwt);
        const sessions = [rawSession(s, bySk, ["SUB a.1 1"]), rawSession(s, byScope, ["SUB a.1 1"])];
        const out = await Promise.all(sessions);
        // Reconnect both and change the account under them.
        const { c: c1, info: i1 } = await connectRaw(s.port, null);
        const { c: c2, info: i2 } = await connectRaw(s.port, null);
        const sign = (u: TestUser, nonce: unknown): string => Buffer.from(u.key.sign(encoder.encode(String(nonce)))).toString("base64url");
        c1.write(`CONNECT ${JSON.stringify({ verbose: false, jwt: bySk.jwt, sig: sign(bySk, i1.nonce) })}\r\nPING\r\n`);
        c2.write(`CONNECT ${JSON.stringify({ verbose: false, jwt: byScope.jwt, sig: sign(byScope, i2.nonce) })}\r\nPING\r\n`);
        await Promise.all([c1.waitFor((x) => x.includes("PONG"), 3_000), c2.waitFor((x) => x.includes("PONG"), 3_000)]);
        c1.take();
        c2.take();
        const changed = await account([newScopedSigner(scoped, "r", { sub: { allow: ["b.>"] } })]);
        const reply = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", changed.jwt);
        await Promise.all([c1.waitClosed(2_000).catch(() => undefined), c2.waitClosed(2_000).catch(() => undefined)]);
        const after = [c1, c2].map((c) => c.take().replace(/INFO [^\r]*\r\n/g, "") + (c.closed ? "<closed>" : "<open>"));
        c1.close();
        c2.close();
        return { before: out, reply, after };
      } finally {
        await sys.close();
      }
    });
  }, 20_000);
});

d("MEMORY resolver updates: ours vs the reference", () => {
  let mop: Operator;
  let mapp: TestAccount;
  const servers = new Pair();
  beforeAll(async () => {
    mop = await Operator.create();
    mapp = await mop.account("MAPP");
    await servers.start(mop.config([mapp], "MEMORY"));
  });
  afterAll(async () => {
    await servers.stop();
  });

  test("skipped for accounts not in use, applied to accounts in use, no generic subject", async () => {
    const fresh = await mop.account("FRESH");
    const freshUser = await mop.user(fresh, {}, "f");
    const appUser = await mop.user(mapp, {}, "a");
    const stranger = await encodeAccount("MAPP", mapp.key, { limits: UNLIMITED }, { signer: createOperator() });
    await servers.same(async (s) => {
      const sys = await connectCreds(s.url, mop.sysUser);
      try {
        const out: Record<string, unknown> = {};
        out.unknown = await ask(sys, `$SYS.REQ.ACCOUNT.${fresh.pub}.CLAIMS.UPDATE`, fresh.jwt);
        out.unknownLogin = await rawSession(s, freshUser);
        out.notInUse = await ask(sys, `$SYS.REQ.ACCOUNT.${mapp.pub}.CLAIMS.UPDATE`, mapp.jwt);
        out.generic = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", mapp.jwt);
        const nc = await connectCreds(s.url, appUser);
        await nc.flush();
        out.inUse = await ask(sys, `$SYS.REQ.ACCOUNT.${mapp.pub}.CLAIMS.UPDATE`, mapp.jwt);
        out.untrusted = await ask(sys, `$SYS.REQ.ACCOUNT.${mapp.pub}.CLAIMS.UPDATE`, stranger);
        out.old = await ask(sys, `$SYS.ACCOUNT.${mapp.pub}.CLAIMS.UPDATE`, mapp.jwt);
        await nc.close();
        return out;
      } finally {
        await sys.close();
      }
    });
  }, 20_000);
});

d("account changes under connected users, deletes: ours vs the reference", () => {
  let dop: Operator;
  const servers = new Pair();
  beforeAll(async () => {
    dop = await Operator.create();
    await servers.start(dop.config([], "full").replace(/dir: "([^"]+)" \}/, 'dir: "$1", allow_delete: true }'));
  });
  afterAll(async () => {
    await servers.stop();
  });

  test("bearer tokens disallowed, every user revoked, the account deleted", async () => {
    const key = createAccount();
    const account = async (data: Record<string, unknown>): Promise<TestAccount> => dop.account("CHANGES", data as never, {}, key);
    const first = await account({});
    const bearer = await dop.user(first, { bearer_token: true }, "bearer");
    const plain = await dop.user(first, {}, "plain");
    const del = signRaw({ iat: nowSeconds(), iss: dop.key.getPublicKey(), sub: dop.key.getPublicKey(), nats: { type: "generic", version: 2, accounts: [key.getPublicKey()] } }, dop.key);
    await servers.same(async (s) => {
      const sys = await connectCreds(s.url, dop.sysUser);
      const out: Record<string, unknown> = {};
      const watch = async (u: TestUser, bearerLogin: boolean): Promise<{ read: () => Promise<string> }> => {
        const { c, info } = await connectRaw(s.port, null);
        const sig = bearerLogin ? undefined : Buffer.from(u.key.sign(encoder.encode(String(info.nonce)))).toString("base64url");
        c.write(`CONNECT ${JSON.stringify({ verbose: false, jwt: u.jwt, sig })}\r\nPING\r\n`);
        await c.waitFor((x) => x.includes("PONG"), 3_000);
        c.take();
        return {
          // After the change: closed (bounded wait), or still open.
          read: async () => {
            await c.waitClosed(1_000).catch(() => undefined);
            const text = c.take().replace(/INFO [^\r]*\r\n/g, "").replace(/PING\r\n/g, "") + (c.closed ? "<closed>" : "<open>");
            c.close();
            return text;
          },
        };
      };
      try {
        await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", first.jwt);
        let b = await watch(bearer, true);
        out.noBearer = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", (await account({ limits: { ...UNLIMITED, disallow_bearer: true } })).jwt);
        out.bearerAfter = await b.read();
        await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", (await account({})).jwt);
        b = await watch(plain, false);
        out.revokeAll = await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", (await account({ revocations: { "*": nowSeconds() } })).jwt);
        out.revokedAfter = await b.read();
        await ask(sys, "$SYS.REQ.CLAIMS.UPDATE", (await account({})).jwt);
        const fresh = await dop.user(first, {}, "fresh");
        b = await watch(fresh, false);
        out.deleted = await ask(sys, "$SYS.REQ.CLAIMS.DELETE", del);
        out.deletedAfter = await b.read();
        out.loginAfterDelete = await rawSession(s, await dop.user(first, {}, "later"));
        return out;
      } finally {
        await sys.close();
      }
    });
  }, 30_000);
});
