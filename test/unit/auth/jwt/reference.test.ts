// Differential check against the reference nats-server (skipped when it is not installed): the
// same JWTs pushed on $SYS.REQ.CLAIMS.UPDATE, deletes on $SYS.REQ.CLAIMS.DELETE, lookups and
// lists, answered by the reference's full resolver and by ours; the `data`/`error` bodies must
// be identical (the `server` part is the server's own and is compared for shape only).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { encodeAccount, encodeActivation, encodeUser, fmtCreds } from "@nats-io/jwt";
import { referenceBinary, startServer, type RunningServer } from "../../../harness/server.ts";
import { DeleteMode, DirResolver, memoryClaimUpdate } from "../../../../src/auth/jwt/resolver.ts";
import { verifyAccountJwt } from "../../../../src/auth/jwt/verify.ts";
import { trustFromOperators } from "../../../../src/auth/jwt/operator_config.ts";
import { decodeOperatorClaims } from "../../../../src/auth/jwt/decode.ts";
import { createAccount, createOperator, createUser, makeOperator, nowSeconds, signRaw, tempDir, unlimited, type KeyPair } from "./helpers.ts";

const requestTimeoutMs = 2_000;
const td = new TextDecoder();

interface Harness {
  server: RunningServer;
  nc: NatsConnection;
  ours: DirResolver;
  remove: () => void;
}

async function startReference(env: Awaited<ReturnType<typeof makeOperator>>, resolver: (dir: string) => string): Promise<Harness> {
  const t = tempDir();
  writeFileSync(join(t.dir, "op.jwt"), env.jwt);
  const sysJwt = await encodeAccount("SYS", env.sys, { limits: unlimited } as never, { signer: env.op });
  const server = await startServer({
    binary: referenceBinary!,
    config: `operator: ${join(t.dir, "op.jwt")}\nsystem_account: ${env.sys.getPublicKey()}\n${resolver(t.dir)}\nresolver_preload: { ${env.sys.getPublicKey()}: ${sysJwt} }\n`,
  });
  const sysUser = createUser();
  const creds = fmtCreds(await encodeUser("sys", sysUser, env.sys), sysUser);
  const nc = await connect({ servers: server.url, authenticator: credsAuthenticator(creds), timeout: requestTimeoutMs, reconnect: false });
  const ours = new DirResolver({
    dir: join(t.dir, "ours"),
    deleteMode: resolver("").includes("allow_delete: true") ? DeleteMode.rename : DeleteMode.none,
    operatorKey: env.op.getPublicKey(),
    operatorKeys: new Set([env.op.getPublicKey(), env.signingKey.getPublicKey()]),
    systemAccount: env.sys.getPublicKey(),
  });
  ours.handleUpdate("$SYS.REQ.CLAIMS.UPDATE", sysJwt);
  return { server, nc, ours, remove: t.remove };
}

/** The reference's reply without `server`, or "no reply" when none came in time. */
async function ask(nc: NatsConnection, subject: string, body: string): Promise<unknown> {
  try {
    const m = await nc.request(subject, body, { timeout: requestTimeoutMs });
    const text = td.decode(m.data);
    if (!text.startsWith("{")) return text;
    const reply = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(reply)).toEqual([Object.keys(reply)[0], "server"]);
    expect(Object.keys(reply.server as object)).toEqual(["name", "host", "id", "ver", "seq", "jetstream", "time"]);
    delete reply.server;
    return reply;
  } catch (e) {
    return `no reply: ${(e as Error).message}`;
  }
}

describe.skipIf(referenceBinary === null)("against the reference nats-server", () => {
  let env: Awaited<ReturnType<typeof makeOperator>>;
  let h: Harness;
  beforeAll(async () => {
    env = await makeOperator();
    h = await startReference(env, (dir) => `resolver: { type: full, dir: '${join(dir, "jwt")}', allow_delete: true }`);
  });
  afterAll(async () => {
    await h?.nc.close();
    await h?.server.stop();
    h?.remove();
  });

  test("claims updates", async () => {
    const now = nowSeconds();
    const other = createAccount();
    const acc = (nats: Record<string, unknown>, extra: Record<string, unknown> = {}, signer: KeyPair = env.op): string => {
      const a = createAccount();
      return signRaw({ jti: `j${Math.random()}`, iat: now, iss: signer.getPublicKey(), name: "A", sub: a.getPublicKey(), ...extra, nats: { type: "account", version: 2, ...nats } }, signer);
    };
    const importer = createAccount();
    const token = await encodeActivation("t", importer, other, "service", { subject: "svc.*" });
    const cases: [string, string][] = [
      ["valid", acc({ limits: unlimited })],
      ["by a signing key", acc({ limits: unlimited }, {}, env.signingKey)],
      ["by another operator (stored: trust is checked on use)", acc({ limits: unlimited }, {}, createOperator())],
      ["expired (stored)", acc({ limits: unlimited }, { exp: now - 10 })],
      ["garbage", "garbage"],
      ["empty", ""],
      ["exports over the absent limit", acc({ exports: [{ subject: "a", type: "stream" }] })],
      ["imports over a set limit", acc({ limits: { conn: 1, imports: 0 }, imports: [{ subject: "a", type: "stream", account: other.getPublicKey() }] })],
      ["bad export type", acc({ limits: unlimited, exports: [{ subject: "a", type: "foo" }] })],
      ["export without type", acc({ limits: unlimited, exports: [{ subject: "a" }] })],
      ["export latency", acc({ limits: unlimited, exports: [{ subject: "a", type: "stream", service_latency: { sampling: 200, results: "r.*" } }] })],
      ["export subjects", acc({ limits: unlimited, exports: [{ subject: "a..b", type: "stream" }, { subject: "", type: "service" }, { subject: "x y", type: "stream" }] })],
      ["account token position", acc({ limits: unlimited, exports: [{ subject: "a.b", type: "stream", account_token_position: 2 }, { subject: "a.*.c", type: "service", account_token_position: 3 }] })],
      ["overlapping exports", acc({ limits: unlimited, exports: [{ subject: "a.>", type: "stream" }, { subject: "a.b", type: "stream" }] })],
      ["null import", acc({ limits: unlimited, imports: [null] })],
      ["local subject", acc({ limits: unlimited, imports: [{ subject: "a.*", type: "stream", account: other.getPublicKey(), local_subject: "b.$2.>" }] })],
      ["activation token", signRaw({ iat: now, iss: env.op.getPublicKey(), sub: importer.getPublicKey(), nats: { type: "account", version: 2, limits: unlimited, imports: [{ subject: "svc.a", type: "service", account: other.getPublicKey(), token }] } }, env.op)],
      ["activation token elsewhere", acc({ limits: unlimited, imports: [{ subject: "q.a", type: "stream", account: createAccount().getPublicKey(), token }] })],
      ["default permissions", acc({ limits: unlimited, default_permissions: { pub: { allow: ["a q"] }, sub: { deny: ["a b c"] } } })],
      ["mappings", acc({ limits: unlimited, mappings: { a: [{ subject: "b", weight: 60 }, { subject: "c", weight: 60 }] } })],
      ["signing keys", acc({ limits: unlimited, signing_keys: ["AXXX"] })],
      ["unknown scope kind", acc({ limits: unlimited, signing_keys: [{ kind: "foo", key: "UXX" }] })],
      ["wrong field type", acc({ limits: { conn: "x" } })],
      ["float for an integer", acc({ limits: { conn: 1.5 } })],
      ["tags not a list", acc({ limits: unlimited, tags: "x" })],
      ["newer version", signRaw({ iat: now, iss: env.op.getPublicKey(), sub: createAccount().getPublicKey(), nats: { type: "account", version: 3 } }, env.op)],
      ["no version", signRaw({ iat: now, iss: env.op.getPublicKey(), sub: createAccount().getPublicKey(), nats: { type: "account" } }, env.op)],
      ["signed by a user key", signRaw({ iat: now, iss: createUser().getPublicKey(), sub: createAccount().getPublicKey(), nats: { type: "account", version: 2 } }, createUser())],
      ["user claims", signRaw({ iat: now, iss: other.getPublicKey(), sub: createUser().getPublicKey(), nats: { type: "user", version: 2 } }, other)],
      ["header algorithm", signRaw({ iat: now, iss: env.op.getPublicKey(), sub: createAccount().getPublicKey(), nats: { type: "account", version: 2 } }, env.op, { header: { typ: "JWT", alg: "HS256" } })],
      ["subject not a key", signRaw({ iat: now, iss: env.op.getPublicKey(), sub: "hello", nats: { type: "account", version: 2, limits: unlimited } }, env.op)],
      ["newline in the signature", (() => { const j = acc({ limits: unlimited }); return `${j.slice(0, -10)}\n${j.slice(-10)}`; })()],
    ];
    for (const [name, jwt] of cases) {
      const ref = await ask(h.nc, "$SYS.REQ.CLAIMS.UPDATE", jwt);
      expect({ name, reply: h.ours.handleUpdate("$SYS.REQ.CLAIMS.UPDATE", jwt)?.reply }).toEqual({ name, reply: ref as never });
    }
    // The per-account subject, matching and not.
    const a = createAccount();
    const jwt = await encodeAccount("A", a, { limits: unlimited } as never, { signer: env.op });
    for (const subject of [`$SYS.REQ.ACCOUNT.${a.getPublicKey()}.CLAIMS.UPDATE`, `$SYS.REQ.ACCOUNT.${other.getPublicKey()}.CLAIMS.UPDATE`, `$SYS.ACCOUNT.${a.getPublicKey()}.CLAIMS.UPDATE`]) {
      expect({ subject, reply: h.ours.handleUpdate(subject, jwt)?.reply }).toEqual({ subject, reply: (await ask(h.nc, subject, jwt)) as never });
    }
    // A push replaces a newer JWT in both.
    const b = createAccount();
    const at = (iat: number, name: string) => signRaw({ jti: name, iat, iss: env.op.getPublicKey(), name, sub: b.getPublicKey(), nats: { type: "account", version: 2, limits: unlimited } }, env.op);
    for (const t of [at(now, "new"), at(now - 100, "old")]) {
      await ask(h.nc, "$SYS.REQ.CLAIMS.UPDATE", t);
      h.ours.handleUpdate("$SYS.REQ.CLAIMS.UPDATE", t);
    }
    const lookup = `$SYS.REQ.ACCOUNT.${b.getPublicKey()}.CLAIMS.LOOKUP`;
    expect(await ask(h.nc, lookup, "")).toBe(at(now - 100, "old"));
    expect(h.ours.handleLookup(lookup)).toEqual({ reply: at(now - 100, "old") });
  }, 30_000);

  test("lookups of unknown accounts get no reply", async () => {
    for (const key of [createAccount().getPublicKey(), "foo"]) {
      const subject = `$SYS.REQ.ACCOUNT.${key}.CLAIMS.LOOKUP`;
      expect(String(await ask(h.nc, subject, ""))).toStartWith("no reply");
      expect(h.ours.handleLookup(subject)?.reply).toBeNull();
    }
  }, 15_000);

  test("deletes and the list", async () => {
    const accounts = [createAccount(), createAccount(), createAccount()];
    for (const a of accounts) {
      const jwt = await encodeAccount("X", a, { limits: unlimited } as never, { signer: env.op });
      await ask(h.nc, "$SYS.REQ.CLAIMS.UPDATE", jwt);
      h.ours.handleUpdate("$SYS.REQ.CLAIMS.UPDATE", jwt);
    }
    const del = (signer: KeyPair, nats: Record<string, unknown>, sub?: string): string =>
      signRaw({ iat: nowSeconds(), iss: signer.getPublicKey(), sub: sub ?? signer.getPublicKey(), nats: { type: "generic", version: 2, ...nats } }, signer);
    const cases: [string, string][] = [
      ["garbage", "garbage"],
      ["one account", del(env.op, { accounts: [accounts[0].getPublicKey()] })],
      ["already gone", del(env.op, { accounts: [accounts[0].getPublicKey()] })],
      ["by a signing key", del(env.signingKey, { accounts: [accounts[1].getPublicKey()] })],
      ["not self-signed", del(env.op, { accounts: [accounts[2].getPublicKey()] }, createOperator().getPublicKey())],
      ["untrusted", del(createOperator(), { accounts: [accounts[2].getPublicKey()] })],
      ["no list", del(env.op, {})],
      ["not a list", del(env.op, { accounts: "x" })],
      ["bad entry", del(env.op, { accounts: [accounts[2].getPublicKey(), "foo"] })],
      ["the system account", del(env.op, { accounts: [env.sys.getPublicKey()] })],
      ["empty list", del(env.op, { accounts: [] })],
    ];
    for (const [name, body] of cases) {
      expect({ name, reply: h.ours.handleDelete(body).reply }).toEqual({ name, reply: (await ask(h.nc, "$SYS.REQ.CLAIMS.DELETE", body)) as never });
    }
    const list = (await ask(h.nc, "$SYS.REQ.CLAIMS.LIST", "")) as { data: string[] };
    expect(h.ours.handleList().data).toEqual(list.data);
  }, 30_000);
});

describe.skipIf(referenceBinary === null)("against the reference: deletes disabled, MEMORY updates", () => {
  test("delete must be enabled", async () => {
    const env = await makeOperator();
    const h = await startReference(env, (dir) => `resolver: { type: full, dir: '${join(dir, "jwt")}' }`);
    try {
      const body = signRaw({ iat: nowSeconds(), iss: env.op.getPublicKey(), sub: env.op.getPublicKey(), nats: { type: "generic", version: 2, accounts: [] } }, env.op);
      expect(h.ours.handleDelete(body).reply).toEqual((await ask(h.nc, "$SYS.REQ.CLAIMS.DELETE", body)) as never);
    } finally {
      await h.nc.close();
      await h.server.stop();
      h.remove();
    }
  }, 20_000);

  test("MEMORY resolver updates", async () => {
    const env = await makeOperator();
    const trust = trustFromOperators([decodeOperatorClaims(env.jwt)]);
    const h = await startReference(env, () => "resolver: MEMORY");
    try {
      const a = createAccount();
      const key = a.getPublicKey();
      const jwt = await encodeAccount("A", a, { limits: unlimited } as never, { signer: env.op });
      const stranger = await encodeAccount("A", a, { limits: unlimited } as never, { signer: createOperator() });
      // Nothing is loaded: every well-formed update is skipped.
      const loaded = new Set<string>();
      const accounts = {
        isLoaded: (k: string) => loaded.has(k),
        apply: (_k: string, j: string) => {
          try {
            verifyAccountJwt(j, trust, Date.now());
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        },
      };
      for (const [subject, body] of [
        [`$SYS.REQ.ACCOUNT.${key}.CLAIMS.UPDATE`, jwt],
        [`$SYS.REQ.ACCOUNT.${key}.CLAIMS.UPDATE`, ""],
        [`$SYS.REQ.ACCOUNT.${key}.CLAIMS.UPDATE`, "garbage"],
        [`$SYS.REQ.ACCOUNT.${createAccount().getPublicKey()}.CLAIMS.UPDATE`, jwt],
      ] as const) {
        expect({ subject, body, reply: memoryClaimUpdate(subject, body, accounts)?.reply }).toEqual({ subject, body, reply: (await ask(h.nc, subject, body)) as never });
      }
      // No one answers the generic subject with a MEMORY resolver.
      expect(memoryClaimUpdate("$SYS.REQ.CLAIMS.UPDATE", jwt, accounts)).toBeNull();
      expect(String(await ask(h.nc, "$SYS.REQ.CLAIMS.UPDATE", jwt))).toStartWith("no reply");
      // Once a user of the account connected, updates apply (and untrusted ones fail).
      const u = createUser();
      const userNc = await connect({ servers: h.server.url, authenticator: credsAuthenticator(fmtCreds(await encodeUser("u", u, a), u)), timeout: requestTimeoutMs, reconnect: false }).catch(() => null);
      // The account was not preloaded: the user is refused and the account stays unloaded.
      expect(userNc).toBeNull();
      expect(memoryClaimUpdate(`$SYS.REQ.ACCOUNT.${key}.CLAIMS.UPDATE`, stranger, accounts)?.reply).toEqual((await ask(h.nc, `$SYS.REQ.ACCOUNT.${key}.CLAIMS.UPDATE`, stranger)) as never);
    } finally {
      await h.nc.close();
      await h.server.stop();
      h.remove();
    }
  }, 20_000);
});
