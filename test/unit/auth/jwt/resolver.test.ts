// Account resolvers and the $SYS claims requests. Reply bodies and their order of checks are
// the reference's (nats-server 2.9.10, see reference.test.ts for the live comparison): a push
// is stored when it decodes, validates (time checks aside) and names its account — trust is
// checked when the account is used; `store` keeps the newer JWT; deletes rename the file.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeAccount, encodeGeneric } from "@nats-io/jwt";
import {
  accountOfLookupSubject,
  accountOfUpdateSubject,
  claimsOutcome,
  claimsReplyJson,
  DeleteMode,
  DirResolver,
  memoryClaimUpdate,
  MemoryResolver,
  type DeleteModeValue,
} from "../../../../src/auth/jwt/resolver.ts";
import { JwtError } from "../../../../src/auth/jwt/errors.ts";
import { createAccount, createOperator, issueAccount, makeOperator, nowSeconds, signRaw, tempDir, unlimited, type KeyPair } from "./helpers.ts";

const env = await makeOperator();
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function dirResolver(opts: { deleteMode?: DeleteModeValue; strict?: boolean; limit?: number; dir?: string } = {}): DirResolver {
  let dir = opts.dir;
  if (dir === undefined) {
    const t = tempDir();
    cleanups.push(t.remove);
    dir = join(t.dir, "jwt");
  }
  const keys = new Set([env.signingKey.getPublicKey()]);
  if (!opts.strict) keys.add(env.op.getPublicKey());
  return new DirResolver({ dir, deleteMode: opts.deleteMode, limit: opts.limit, operatorKey: env.op.getPublicKey(), operatorKeys: keys, strict: opts.strict, systemAccount: env.sys.getPublicKey() });
}

/** An account JWT with a chosen iat (the official encoder always uses now). */
function accountAt(kp: KeyPair, iat: number, name: string, issuer: KeyPair = env.op): string {
  return signRaw({ jti: `${name}-${iat}`, iat, iss: issuer.getPublicKey(), name, sub: kp.getPublicKey(), nats: { type: "account", version: 2, limits: unlimited } }, issuer);
}

const update = "$SYS.REQ.CLAIMS.UPDATE";
const accountUpdate = (key: string): string => `$SYS.REQ.ACCOUNT.${key}.CLAIMS.UPDATE`;

describe("subjects and reply shapes", () => {
  test("account keys in update and lookup subjects", () => {
    expect(accountOfUpdateSubject("$SYS.REQ.ACCOUNT.AXX.CLAIMS.UPDATE")).toBe("AXX");
    expect(accountOfUpdateSubject("$SYS.ACCOUNT.AXX.CLAIMS.UPDATE")).toBe("AXX");
    expect(accountOfUpdateSubject("$SYS.REQ.CLAIMS.UPDATE")).toBeNull();
    expect(accountOfLookupSubject("$SYS.REQ.ACCOUNT.AXX.CLAIMS.LOOKUP")).toBe("AXX");
    expect(accountOfLookupSubject("$SYS.REQ.ACCOUNT.CLAIMS.LOOKUP")).toBeNull();
  });

  test("outcomes, logs and the JSON reply (data/error before server, Go map order)", () => {
    const ok = claimsOutcome("AXX", "jwt updated", null);
    expect(ok).toEqual({ reply: { data: { account: "AXX", code: 200, message: "jwt updated" } }, log: { level: "debug", text: "jwt updated - AXX" } });
    const bad = claimsOutcome("n/a", "jwt update resulted in error", "expected 3 chunks");
    expect(bad).toEqual({ reply: { error: { account: "n/a", code: 500, description: "jwt update resulted in error - expected 3 chunks" } }, log: { level: "error", text: "jwt update resulted in error - n/a - expected 3 chunks" } });
    expect(claimsOutcome("", "deleted 2 accounts", null).reply).toEqual({ data: { code: 200, message: "deleted 2 accounts" } });
    const server = { name: "N", host: "127.0.0.1", id: "N", ver: "2.9.10", seq: 13, jetstream: false, time: "2026-01-01T00:00:00Z" };
    expect(claimsReplyJson(ok.reply, server)).toBe(
      '{"data":{"account":"AXX","code":200,"message":"jwt updated"},"server":{"name":"N","host":"127.0.0.1","id":"N","ver":"2.9.10","seq":13,"jetstream":false,"time":"2026-01-01T00:00:00Z"}}',
    );
    expect(claimsReplyJson(bad.reply, server).startsWith('{"error":{"account":"n/a","code":500,"description":')).toBe(true);
    expect(claimsReplyJson({ data: ["A1", "A2"] }, server).startsWith('{"data":["A1","A2"],"server":')).toBe(true);
  });
});

describe("MEMORY resolver", () => {
  test("preloads, stores, change listeners", async () => {
    const a = await issueAccount("A", env.op);
    const r = new MemoryResolver([[a.account.getPublicKey(), a.jwt]]);
    expect(r.fetch(a.account.getPublicKey())).toBe(a.jwt);
    expect(r.fetch("AOTHER")).toBeNull();
    const seen: string[] = [];
    const off = r.onChange((key) => seen.push(key));
    const newer = await issueAccount("A2", env.op, a.account);
    r.store(a.account.getPublicKey(), newer.jwt);
    r.store(a.account.getPublicKey(), newer.jwt);
    expect(seen).toEqual([a.account.getPublicKey()]);
    off();
    r.store(a.account.getPublicKey(), a.jwt);
    expect(seen.length).toBe(1);
    expect(r.fetch(a.account.getPublicKey())).toBe(a.jwt);
  });

  test("pushed updates: applied to accounts in use, skipped otherwise", async () => {
    const a = await issueAccount("A", env.op);
    const key = a.account.getPublicKey();
    const applied: string[] = [];
    const loaded = new Set<string>();
    const accounts = { isLoaded: (k: string) => loaded.has(k), apply: (k: string, jwt: string) => (applied.push(k), jwt.includes("x") ? null : "account validation failed") };
    expect(memoryClaimUpdate("$SYS.REQ.CLAIMS.UPDATE", a.jwt, accounts)).toBeNull();
    expect(memoryClaimUpdate(accountUpdate(key), a.jwt, accounts)?.reply).toEqual({ data: { account: key, code: 200, message: "jwt update skipped" } });
    loaded.add(key);
    expect(memoryClaimUpdate(accountUpdate(key), a.jwt, accounts)?.reply).toEqual({ data: { account: key, code: 200, message: "jwt updated" } });
    expect(memoryClaimUpdate(`$SYS.ACCOUNT.${key}.CLAIMS.UPDATE`, a.jwt, accounts)?.reply).toEqual({ data: { account: key, code: 200, message: "jwt updated" } });
    expect(applied).toEqual([key, key]);
    expect(memoryClaimUpdate(accountUpdate(key), "", accounts)?.reply).toEqual({ error: { account: key, code: 500, description: "jwt update error - request body is empty" } });
    expect(memoryClaimUpdate(accountUpdate(key), "garbage", accounts)?.reply).toEqual({ error: { account: key, code: 500, description: "jwt update resulted in error - expected 3 chunks" } });
    const other = createAccount().getPublicKey();
    expect(memoryClaimUpdate(accountUpdate(other), a.jwt, accounts)?.reply).toEqual({ error: { account: other, code: 500, description: "jwt update resulted in error - subject does not match jwt content" } });
    const failing = { ...accounts, apply: () => "account validation failed" };
    expect(memoryClaimUpdate(accountUpdate(key), a.jwt, failing)?.reply).toEqual({ error: { account: key, code: 500, description: "jwt update resulted in error - account validation failed" } });
  });
});

describe("full resolver (directory store)", () => {
  test("updates are stored as <dir>/<key>.jwt; listeners see changes only", async () => {
    const r = dirResolver();
    const changes: string[] = [];
    r.onChange((key, jwt) => changes.push(`${key}:${jwt.length}`));
    const a = await issueAccount("A", env.op);
    const key = a.account.getPublicKey();
    expect(r.handleUpdate(update, a.jwt)?.reply).toEqual({ data: { account: key, code: 200, message: "jwt updated" } });
    expect(readFileSync(join(r.dir, `${key}.jwt`), "utf8")).toBe(a.jwt);
    expect(r.fetch(key)).toBe(a.jwt);
    // The same JWT again: answered the same, nothing changes.
    expect(r.handleUpdate(accountUpdate(key), a.jwt)?.reply).toEqual({ data: { account: key, code: 200, message: "jwt updated" } });
    expect(r.handleUpdate(`$SYS.ACCOUNT.${key}.CLAIMS.UPDATE`, a.jwt)?.reply).toEqual({ data: { account: key, code: 200, message: "jwt updated" } });
    expect(changes).toEqual([`${key}:${a.jwt.length}`]);
    expect(r.handleUpdate("$SYS.REQ.ACCOUNT.X.Y.CLAIMS.UPDATE", a.jwt)).toBeNull();
  });

  test("a push replaces even a newer JWT (as the reference); store keeps the newer one", async () => {
    const r = dirResolver();
    const kp = createAccount();
    const key = kp.getPublicKey();
    const now = nowSeconds();
    r.handleUpdate(update, accountAt(kp, now, "new"));
    r.handleUpdate(update, accountAt(kp, now - 100, "old"));
    expect(r.fetch(key)).toBe(accountAt(kp, now - 100, "old"));
    // store(): older is ignored, the same jti is ignored, newer replaces.
    r.store(key, accountAt(kp, now - 200, "older"));
    expect(r.fetch(key)).toBe(accountAt(kp, now - 100, "old"));
    r.store(key, accountAt(kp, now, "newest"));
    expect(r.fetch(key)).toBe(accountAt(kp, now, "newest"));
    const other = createAccount();
    expect(() => r.store(key, accountAt(other, now + 5, "stranger"))).toThrow("jwt subject nkey and provided nkey do not match");
    expect(() => r.store("nope", accountAt(kp, now, "x"))).toThrow("invalid public key");
    // Nothing stored yet: stored as is.
    const fresh = createAccount();
    r.store(fresh.getPublicKey(), accountAt(fresh, now, "fresh"));
    expect(r.fetch(fresh.getPublicKey())).toBe(accountAt(fresh, now, "fresh"));
  });

  test("refusals: decode errors, validation, subject mismatch, strict operators", async () => {
    const r = dirResolver();
    expect(r.handleUpdate(update, "garbage")?.reply).toEqual({ error: { account: "n/a", code: 500, description: "jwt update resulted in error - expected 3 chunks" } });
    expect(r.handleUpdate(update, "")?.reply).toEqual({ error: { account: "n/a", code: 500, description: "jwt update resulted in error - expected 3 chunks" } });
    const bad = await encodeAccount("B", createAccount(), { limits: unlimited, exports: [{ name: "x", subject: "a b", type: "stream" }] } as never, { signer: env.op });
    const badKey = JSON.parse(Buffer.from(bad.split(".")[1], "base64url").toString()).sub;
    expect(r.handleUpdate(update, bad)?.reply).toEqual({ error: { account: badKey, code: 500, description: 'jwt validation failed - validation errors: [subject "a b" cannot have spaces]' } });
    const a = await issueAccount("A", env.op);
    const other = createAccount().getPublicKey();
    expect(r.handleUpdate(accountUpdate(other), a.jwt)?.reply).toEqual({ error: { account: other, code: 500, description: "jwt update resulted in error - subject does not match jwt content" } });
    // Untrusted issuers and expired accounts are stored: they are refused when used.
    const stranger = await issueAccount("S", createOperator());
    expect(r.handleUpdate(update, stranger.jwt)?.reply).toEqual({ data: { account: stranger.account.getPublicKey(), code: 200, message: "jwt updated" } });
    const expired = await issueAccount("E", env.op, createAccount(), {}, { exp: nowSeconds() - 10 });
    expect(r.handleUpdate(update, expired.jwt)?.reply).toEqual({ data: { account: expired.account.getPublicKey(), code: 200, message: "jwt updated" } });
    // An account JWT whose subject is not a key cannot be stored.
    const noKey = signRaw({ iat: nowSeconds(), iss: env.op.getPublicKey(), sub: "hello", nats: { type: "account", version: 2, limits: unlimited } }, env.op);
    expect(r.handleUpdate(update, noKey)?.reply).toEqual({ error: { account: "hello", code: 500, description: "jwt update resulted in error - invalid public key" } });

    const strict = dirResolver({ strict: true });
    const byIdentity = await issueAccount("I", env.op);
    const key = byIdentity.account.getPublicKey();
    expect(strict.handleUpdate(update, byIdentity.jwt)?.reply).toEqual({ error: { account: key, code: 500, description: "jwt update resulted in error - operator requires issuer to be a signing key" } });
    expect(strict.handleUpdate(accountUpdate(key), byIdentity.jwt)?.reply).toEqual({ error: { account: key, code: 500, description: "jwt update resulted in error - operator requires issuer to be a signing key" } });
    const bySigningKey = await issueAccount("K", env.signingKey);
    expect(strict.handleUpdate(update, bySigningKey.jwt)?.reply).toEqual({ data: { account: bySigningKey.account.getPublicKey(), code: 200, message: "jwt updated" } });
  });

  test("lookups and the list", async () => {
    const r = dirResolver();
    const a = await issueAccount("A", env.op);
    const b = await issueAccount("B", env.op);
    r.handleUpdate(update, a.jwt);
    r.handleUpdate(update, b.jwt);
    expect(r.handleLookup(`$SYS.REQ.ACCOUNT.${a.account.getPublicKey()}.CLAIMS.LOOKUP`)).toEqual({ reply: a.jwt });
    const missing = createAccount().getPublicKey();
    expect(r.handleLookup(`$SYS.REQ.ACCOUNT.${missing}.CLAIMS.LOOKUP`)).toEqual({ reply: null, log: `Merging resulted in error: open ${join(r.dir, `${missing}.jwt`)}: no such file or directory` });
    expect(r.handleLookup("$SYS.REQ.ACCOUNT.foo.CLAIMS.LOOKUP")).toEqual({ reply: null, log: "Merging resulted in error: invalid public key" });
    expect(r.handleLookup("$SYS.REQ.ACCOUNT.CLAIMS.LOOKUP")).toBeNull();
    expect(r.handleList()).toEqual({ data: [a.account.getPublicKey(), b.account.getPublicKey()].sort() });
    // Stored, looked up, but not listed once expired.
    const expired = await issueAccount("E", env.op, createAccount(), {}, { exp: nowSeconds() - 10 });
    expect(r.handleUpdate(update, expired.jwt)?.reply).toHaveProperty("data");
    expect(r.handleLookup(`$SYS.REQ.ACCOUNT.${expired.account.getPublicKey()}.CLAIMS.LOOKUP`)).toEqual({ reply: expired.jwt });
    expect(r.handleList()).toEqual({ data: [a.account.getPublicKey(), b.account.getPublicKey()].sort() });
  });

  test("the store is re-read on start; the limit refuses new accounts", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const first = dirResolver({ dir: t.dir, limit: 2 });
    const accounts = await Promise.all([1, 2, 3].map((i) => issueAccount(`A${i}`, env.op)));
    expect(first.handleUpdate(update, accounts[0].jwt)?.reply).toHaveProperty("data");
    expect(first.handleUpdate(update, accounts[1].jwt)?.reply).toHaveProperty("data");
    expect(first.handleUpdate(update, accounts[2].jwt)?.reply).toEqual({ error: { account: accounts[2].account.getPublicKey(), code: 500, description: "jwt update resulted in error - jwt store is full" } });
    // Updating a stored account is not a new one.
    const again = await issueAccount("A1b", env.op, accounts[0].account);
    expect(first.handleUpdate(update, again.jwt)?.reply).toHaveProperty("data");
    writeFileSync(join(t.dir, "notes.txt"), "ignored");
    const second = dirResolver({ dir: t.dir });
    expect(second.list()).toEqual([accounts[0].account.getPublicKey(), accounts[1].account.getPublicKey()].sort());
    expect(second.fetch(accounts[0].account.getPublicKey())).toBe(again.jwt);
    // Re-writing identical content is no change.
    const seen: string[] = [];
    second.onChange((k) => seen.push(k));
    second.handleUpdate(update, again.jwt);
    expect(seen).toEqual([]);
  });

  test("deletes: operator-signed generic JWT listing accounts; renamed to .jwt.deleted", async () => {
    const r = dirResolver({ deleteMode: DeleteMode.rename });
    const deleted: string[] = [];
    r.onDelete((k) => deleted.push(k));
    const [a, b, c] = await Promise.all([1, 2, 3].map((i) => issueAccount(`A${i}`, env.op)));
    for (const x of [a, b, c]) r.handleUpdate(update, x.jwt);
    const del = (signer: KeyPair, nats: Record<string, unknown>, sub?: string): string =>
      signRaw({ iat: nowSeconds(), iss: signer.getPublicKey(), sub: sub ?? signer.getPublicKey(), nats: { type: "generic", version: 2, ...nats } }, signer);
    const opKey = env.op.getPublicKey();
    const failed = (by: string, why: string) => ({ error: { code: 500 as const, description: `delete accounts request by ${by} failed - ${why}` } });
    expect(r.handleDelete("garbage").reply).toEqual(failed("", "expected 3 chunks"));
    expect(r.handleDelete(del(env.op, { accounts: [a.account.getPublicKey()] })).reply).toEqual({ data: { code: 200, message: "deleted 1 accounts" } });
    expect(existsSync(join(r.dir, `${a.account.getPublicKey()}.jwt`))).toBe(false);
    expect(existsSync(join(r.dir, `${a.account.getPublicKey()}.jwt.deleted`))).toBe(true);
    expect(deleted).toEqual([a.account.getPublicKey()]);
    // Already gone: still counted, no listener call.
    expect(r.handleDelete(del(env.op, { accounts: [a.account.getPublicKey()] })).reply).toEqual({ data: { code: 200, message: "deleted 1 accounts" } });
    expect(deleted.length).toBe(1);
    expect(r.handleDelete(await encodeGeneric("del", env.signingKey, "generic", { accounts: [b.account.getPublicKey()] } as never)).reply).toEqual({ data: { code: 200, message: "deleted 1 accounts" } });
    const imposter = createOperator().getPublicKey();
    expect(r.handleDelete(del(env.op, { accounts: [c.account.getPublicKey()] }, imposter)).reply).toEqual(failed(imposter, "not self signed"));
    const stranger = createOperator();
    expect(r.handleDelete(del(stranger, { accounts: [c.account.getPublicKey()] })).reply).toEqual(failed(stranger.getPublicKey(), "not trusted"));
    expect(r.handleDelete(del(env.op, {})).reply).toEqual(failed(opKey, "malformed request"));
    expect(r.handleDelete(del(env.op, { accounts: "x" })).reply).toEqual(failed(opKey, "malformed request"));
    expect(r.handleDelete(del(env.op, { accounts: [c.account.getPublicKey(), "foo"] })).reply).toEqual(failed(opKey, "malformed request"));
    expect(r.handleDelete(del(env.op, { accounts: [env.sys.getPublicKey()] })).reply).toEqual(failed(opKey, "not allowed to delete system account"));
    expect(r.handleDelete(del(env.op, { accounts: [] })).reply).toEqual({ data: { code: 200, message: "deleted 0 accounts" } });
    expect(r.list()).toEqual([c.account.getPublicKey()]);

    const none = dirResolver();
    expect(none.handleDelete(del(env.op, { accounts: [c.account.getPublicKey()] })).reply).toEqual(failed(opKey, "delete must be enabled in server config"));
    const hard = dirResolver({ deleteMode: DeleteMode.hard });
    hard.handleUpdate(update, c.jwt);
    hard.handleDelete(del(env.op, { accounts: [c.account.getPublicKey()] }));
    expect(readdirSync(hard.dir)).toEqual([]);
  });

  test("expired JWTs are swept from the directory (the reference does it every minute)", async () => {
    let now = Date.now();
    const t = tempDir();
    cleanups.push(t.remove);
    const r = new DirResolver({ dir: t.dir, operatorKey: env.op.getPublicKey(), operatorKeys: new Set([env.op.getPublicKey()]), now: () => now });
    const deleted: string[] = [];
    r.onDelete((k) => deleted.push(k));
    const soon = await issueAccount("S", env.op, createAccount(), {}, { exp: Math.floor(now / 1000) + 3 });
    const never = await issueAccount("N", env.op);
    r.handleUpdate(update, soon.jwt);
    r.handleUpdate(update, never.jwt);
    expect(r.sweepExpired()).toEqual([]);
    now += 3_000;
    expect(r.sweepExpired()).toEqual([soon.account.getPublicKey()]);
    expect(r.fetch(soon.account.getPublicKey())).toBeNull();
    expect(readdirSync(t.dir)).toEqual([`${never.account.getPublicKey()}.jwt`]);
    expect(deleted).toEqual([]);
  });

  test("store() refusals are JwtErrors", () => {
    const r = dirResolver();
    try {
      r.store("nope", "x.y.z");
      throw new Error("expected a refusal");
    } catch (e) {
      expect(e).toBeInstanceOf(JwtError);
    }
  });
});
