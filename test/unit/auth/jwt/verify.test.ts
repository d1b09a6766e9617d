// The reference's checks on user and account JWTs, as functions: each refusal with the
// reason nats-server 2.9.10 logs (its connection then gets -ERR 'Authorization Violation').
// Scoped-template substitutions, bearer tokens, source networks, time windows, default and
// response permissions were observed on the reference with the same JWTs.
import { describe, expect, test } from "bun:test";
import { encodeActivation, encodeOperator, encodeUser, newScopedSigner } from "@nats-io/jwt";
import { decodeAccountClaims, decodeOperatorClaims, decodeUserClaims } from "../../../../src/auth/jwt/decode.ts";
import type { AccountClaims, Import } from "../../../../src/auth/jwt/claims.ts";
import { trustFromOperators } from "../../../../src/auth/jwt/operator_config.ts";
import {
  accountLimitsOf,
  applyScopeTemplate,
  authenticateUserJwt,
  checkActivation,
  checkNonceSignature,
  isRevoked,
  isValidSubject,
  permissionsFromJwt,
  userDisconnectOnAccountUpdate,
  verifyAccountJwt,
  type ConnectionTypeValue,
  type Trust,
  type UserAuthRequest,
} from "../../../../src/auth/jwt/verify.ts";
import { createAccount, createOperator, createUser, issueAccount, makeOperator, nowSeconds, signRaw, unlimited, type KeyPair } from "./helpers.ts";

const nonce = "kXgZLkPm1nzYJ0Y";
const sigUrl = (kp: KeyPair, text = nonce): string => Buffer.from(kp.sign(new TextEncoder().encode(text))).toString("base64url");
const sigStd = (kp: KeyPair, text = nonce): string => Buffer.from(kp.sign(new TextEncoder().encode(text))).toString("base64");

const env = await makeOperator();
const trust: Trust = trustFromOperators([decodeOperatorClaims(env.jwt)]);

/** Accounts the lookup knows, by key. */
const known = new Map<string, AccountClaims>();
async function account(nats: Record<string, unknown> = {}, opts: Record<string, unknown> = {}, issuer: KeyPair = env.op, kp: KeyPair = createAccount()) {
  const { jwt } = await issueAccount("ACC", issuer, kp, nats, opts);
  const claims = decodeAccountClaims(jwt);
  known.set(kp.getPublicKey(), claims);
  return { kp, jwt, claims };
}

function request(jwt: string | undefined, sig: string | undefined, extra: Partial<UserAuthRequest> = {}): UserAuthRequest {
  return {
    jwt,
    sig,
    nonce,
    clientIp: "127.0.0.1",
    connectionType: "STANDARD",
    trust,
    lookupAccount: (key) => {
      const c = known.get(key);
      return c ? { claims: c } : { error: "account missing" };
    },
    nowMs: Date.now(),
    ...extra,
  };
}

async function user(issuer: KeyPair, nats: Record<string, unknown> = {}, opts: Record<string, unknown> = {}) {
  const kp = createUser();
  const jwt = await encodeUser("bob", kp, issuer, nats as never, opts as never);
  return { kp, jwt };
}

function refused(req: UserAuthRequest) {
  const r = authenticateUserJwt(req);
  if (r.ok) throw new Error("expected a refusal");
  return { reason: r.reason, level: r.level };
}

function admitted(req: UserAuthRequest) {
  const r = authenticateUserJwt(req);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.user;
}

describe("account JWTs", () => {
  test("trusted when issued by the operator or one of its signing keys, and valid now", async () => {
    const byOp = await account();
    const bySk = await account({}, {}, env.signingKey);
    expect(verifyAccountJwt(byOp.jwt, trust, Date.now()).sub).toBe(byOp.kp.getPublicKey());
    expect(verifyAccountJwt(bySk.jwt, trust, Date.now()).sub).toBe(bySk.kp.getPublicKey());
    const stranger = await issueAccount("X", createOperator());
    expect(() => verifyAccountJwt(stranger.jwt, trust, Date.now())).toThrow("account validation failed");
    const expired = await issueAccount("X", env.op, createAccount(), {}, { exp: nowSeconds() - 5 });
    expect(() => verifyAccountJwt(expired.jwt, trust, Date.now())).toThrow("account validation failed");
    expect(() => verifyAccountJwt("garbage", trust, Date.now())).toThrow("expected 3 chunks");
  });

  test("strict signing-key usage: the operator's identity key no longer issues accounts", async () => {
    const strict = await makeOperator({ strict: true });
    const strictTrust = trustFromOperators([decodeOperatorClaims(strict.jwt)]);
    expect(strictTrust.keys.has(strict.op.getPublicKey())).toBe(false);
    expect(strictTrust.keys.has(strict.signingKey.getPublicKey())).toBe(true);
    expect(strictTrust.strictIssuers.has(strict.signingKey.getPublicKey())).toBe(true);
    const byIdentity = await issueAccount("X", strict.op);
    expect(() => verifyAccountJwt(byIdentity.jwt, strictTrust, Date.now())).toThrow("account validation failed");
  });
});

describe("user authentication", () => {
  test("a user signed by its account, proving its key by signing the nonce", async () => {
    const acc = await account();
    const u = await user(acc.kp);
    const admittedUser = admitted(request(u.jwt, sigUrl(u.kp)));
    expect(admittedUser.userKey).toBe(u.kp.getPublicKey());
    expect(admittedUser.accountKey).toBe(acc.kp.getPublicKey());
    expect(admittedUser.signingKey).toBeNull();
    expect(admittedUser.scope).toBeNull();
    expect(admittedUser.permissions).toBeNull();
    expect(admittedUser.limits).toEqual({ subs: -1, data: -1, payload: -1 });
    expect(admittedUser.expiresInMs).toBeNull();
    // Standard base64, as nats.js sends it, is accepted too.
    expect(admitted(request(u.jwt, sigStd(u.kp))).userKey).toBe(u.kp.getPublicKey());
    expect(admitted(request(u.jwt, sigUrl(u.kp), { nonce: new TextEncoder().encode(nonce) })).userKey).toBe(u.kp.getPublicKey());
  });

  test("the nonce signature", async () => {
    const acc = await account();
    const u = await user(acc.kp);
    expect(refused(request(u.jwt, undefined))).toEqual({ reason: "Signature missing", level: "debug" });
    expect(refused(request(u.jwt, ""))).toEqual({ reason: "Signature missing", level: "debug" });
    expect(refused(request(u.jwt, "!!not base64!!")).reason).toBe("Signature not valid base64");
    expect(refused(request(u.jwt, sigUrl(createUser()))).reason).toBe("Signature not verified");
    expect(refused(request(u.jwt, sigUrl(u.kp, "another nonce"))).reason).toBe("Signature not verified");
    expect(refused(request(u.jwt, Buffer.from("short").toString("base64url"))).reason).toBe("Signature not verified");
    expect(checkNonceSignature(u.kp.getPublicKey(), nonce, sigUrl(u.kp))).toBeNull();
    expect(checkNonceSignature("UBAD", nonce, sigUrl(u.kp))).toBe("User nkey not valid: nkeys: invalid encoded key");
  });

  test("bad user JWTs", async () => {
    const acc = await account();
    expect(refused(request(undefined, undefined)).reason).toBe("Authentication requires a user JWT");
    expect(refused(request("garbage", "x")).reason).toBe("User JWT not valid: expected 3 chunks");
    const expired = await user(acc.kp, {}, { exp: nowSeconds() - 2 });
    expect(refused(request(expired.jwt, sigUrl(expired.kp))).reason).toBe("User JWT no longer valid: &{Issues:[claim is expired]}");
    const notYet = await user(acc.kp, {}, { nbf: nowSeconds() + 100 });
    expect(refused(request(notYet.jwt, sigUrl(notYet.kp))).reason).toBe("User JWT no longer valid: &{Issues:[claim is not yet valid]}");
    const queue = await user(acc.kp, { pub: { allow: ["foo q"] } });
    expect(refused(request(queue.jwt, sigUrl(queue.kp))).reason).toBe('User JWT no longer valid: &{Issues:[Permission Subject "foo q" is not allowed to contain queue]}');
    const zone = await user(acc.kp, { times: [{ start: "00:00:00", end: "23:59:59" }], times_location: "Foo/Bar" });
    expect(refused(request(zone.jwt, sigUrl(zone.kp))).reason).toBe("User JWT no longer valid: &{Issues:[could not parse iana time zone by name: unknown time zone Foo/Bar]}");
  });

  test("the account: looked up, trusted, not expired", async () => {
    const orphan = await user(createAccount());
    expect(refused(request(orphan.jwt, sigUrl(orphan.kp))).reason).toBe("Account JWT lookup error: account missing");
    const stranger = await account({}, {}, createOperator());
    const u = await user(stranger.kp);
    expect(refused(request(u.jwt, sigUrl(u.kp))).reason).toBe("Account JWT not signed by trusted operator");
    // Expired at `exp` itself (Account.IsExpired), even if the lookup still handed it out.
    const now = nowSeconds();
    const ending = await account({}, { exp: now });
    const v = await user(ending.kp);
    expect(refused(request(v.jwt, sigUrl(v.kp), { nowMs: now * 1000 })).reason).toBe("Account JWT has expired");
  });

  test("signing keys: the account's, with issuer_account; strict operators drop the account's own key", async () => {
    const sk = createAccount();
    const acc = await account({ signing_keys: [sk.getPublicKey()] });
    const viaKey = await user(acc.kp, {}, { signer: sk });
    const u = admitted(request(viaKey.jwt, sigUrl(viaKey.kp)));
    expect(u.signingKey).toBe(sk.getPublicKey());
    expect(u.accountKey).toBe(acc.kp.getPublicKey());
    // A key the account does not list.
    const rogue = createAccount();
    const viaRogue = await user(acc.kp, {}, { signer: rogue });
    expect(refused(request(viaRogue.jwt, sigUrl(viaRogue.kp))).reason).toBe("User JWT issuer is not known");
    // Signed by the signing key but without issuer_account: the key is taken for the account.
    const noIssuerAccount = createUser();
    const bare = signRaw({ iat: nowSeconds(), iss: sk.getPublicKey(), sub: noIssuerAccount.getPublicKey(), nats: { type: "user", version: 2 } }, sk);
    expect(refused(request(bare, sigUrl(noIssuerAccount))).reason).toBe("Account JWT lookup error: account missing");

    const strict = await makeOperator({ strict: true });
    const strictTrust = trustFromOperators([decodeOperatorClaims(strict.jwt)]);
    const accSk = createAccount();
    const strictAcc = await account({ signing_keys: [accSk.getPublicKey()] }, {}, strict.signingKey);
    const direct = await user(strictAcc.kp);
    expect(refused(request(direct.jwt, sigUrl(direct.kp), { trust: strictTrust })).reason).toBe("User JWT issuer is not known");
    const viaAccSk = await user(strictAcc.kp, {}, { signer: accSk });
    expect(admitted(request(viaAccSk.jwt, sigUrl(viaAccSk.kp), { trust: strictTrust })).signingKey).toBe(accSk.getPublicKey());
  });

  test("scoped keys: permissions and limits come from the template, with substitutions", async () => {
    const scopedKey = createAccount();
    const scope = newScopedSigner(scopedKey, "dev", {
      sub: { allow: ["{{name()}}.>", "t.{{tag(team)}}", "acc.{{account-name()}}", "s.{{subject()}}", "as.{{account-subject()}}", "at.{{account-tag(env)}}", "x.{{tag(none)}}", "Y.{{NAME()}}"], deny: [] },
      pub: { allow: ["{{name()}}.>"] },
      subs: 5,
    });
    const acc = await account({ signing_keys: [scope], tags: ["env:prod", "env:dev"] });
    const u = createUser();
    const jwt = await encodeUser("bob", u, acc.kp, { tags: ["team:red", "team:blue"] } as never, { signer: scopedKey, scopedUser: true });
    const admittedUser = admitted(request(jwt, sigUrl(u)));
    expect(admittedUser.scope?.role).toBe("dev");
    expect(admittedUser.permissions).toEqual({
      publish: { allow: ["bob.>"], deny: null },
      subscribe: {
        allow: ["bob.>", "t.red", "t.blue", "acc.ACC", `s.${u.getPublicKey()}`, `as.${acc.kp.getPublicKey()}`, "at.prod", "at.dev", "Y.bob"],
        deny: null,
      },
      // The JS library writes `resp: {max: 0, ttl: 0}` into templates: present, so the
      // reference grants responses with its defaults.
      response: { maxMsgs: 1, expiresMs: 120_000 },
    });
    expect(admittedUser.limits).toEqual({ subs: 5, data: -1, payload: -1 });
    // A scoped user carrying its own permissions is refused.
    const own = await user(acc.kp, { pub: { allow: ["x"] } }, { signer: scopedKey });
    expect(refused(request(own.jwt, sigUrl(own.kp))).reason).toBe("User JWT is not valid: scoped users require no permissions or limits set");
  });

  test("scoped templates: an allow list emptied by bad substitutions denies all; a bad deny refuses", async () => {
    const k1 = createAccount();
    const k2 = createAccount();
    const acc = await account({
      signing_keys: [newScopedSigner(k1, "a", { pub: { allow: ["bad.{{foo()}}"] } }), newScopedSigner(k2, "b", { pub: { deny: ["x.{{tag(none)}}"] } })],
    });
    const u1 = createUser();
    const j1 = await encodeUser("u", u1, acc.kp, {}, { signer: k1, scopedUser: true });
    expect(admitted(request(j1, sigUrl(u1))).permissions?.publish).toEqual({ allow: [], deny: [">"] });
    const u2 = createUser();
    const j2 = await encodeUser("u", u2, acc.kp, {}, { signer: k2, scopedUser: true });
    expect(refused(request(j2, sigUrl(u2))).reason).toBe("User JWT generated invalid permissions");
  });

  test("scoped templates bring their bearer token, source networks and time windows", async () => {
    const bearerKey = createAccount();
    const srcKey = createAccount();
    const acc = await account({
      signing_keys: [newScopedSigner(bearerKey, "bearer", { bearer_token: true }), newScopedSigner(srcKey, "src", { src: ["10.0.0.0/8"] })],
    });
    const b = createUser();
    const bj = await encodeUser("b", b, acc.kp, {}, { signer: bearerKey, scopedUser: true });
    expect(admitted(request(bj, undefined)).userKey).toBe(b.getPublicKey());
    const s = createUser();
    const sj = await encodeUser("s", s, acc.kp, {}, { signer: srcKey, scopedUser: true });
    expect(refused(request(sj, sigUrl(s)))).toEqual({ reason: "Bad src Ip 127.0.0.1", level: "error" });
  });

  test("bearer tokens skip the nonce, unless the account disallows them", async () => {
    const open = await account();
    const b = await user(open.kp, { bearer_token: true });
    expect(admitted(request(b.jwt, undefined)).userKey).toBe(b.kp.getPublicKey());
    const closed = await account({ limits: { ...unlimited, disallow_bearer: true } });
    const c = await user(closed.kp, { bearer_token: true });
    expect(refused(request(c.jwt, sigUrl(c.kp))).reason).toBe("Account does not allow bearer token");
  });

  test("revocations: the user's key or '*', at or after the JWT's issue time", async () => {
    const u = createUser();
    const iat = nowSeconds();
    const probe = await account();
    const jwt = signRaw({ iat, iss: probe.kp.getPublicKey(), sub: u.getPublicKey(), nats: { type: "user", version: 2, subs: -1, data: -1, payload: -1 } }, probe.kp);
    for (const [revocations, revoked] of [
      [{ [u.getPublicKey()]: iat }, true],
      [{ [u.getPublicKey()]: iat + 10 }, true],
      [{ [u.getPublicKey()]: iat - 1 }, false],
      [{ "*": iat }, true],
      [{ "*": iat - 1 }, false],
      [{ [createUser().getPublicKey()]: iat + 10 }, false],
    ] as const) {
      await account({ revocations }, {}, env.op, probe.kp);
      const r = authenticateUserJwt(request(jwt, sigUrl(u)));
      expect({ revocations, ok: r.ok, reason: r.ok ? "" : r.reason }).toEqual({ revocations, ok: !revoked, reason: revoked ? "User authentication revoked" : "" });
    }
    expect(isRevoked(null, "U", 1)).toBe(false);
    expect(isRevoked(new Map(), "U", 1)).toBe(false);
  });

  test("source networks", async () => {
    const acc = await account();
    const u = await user(acc.kp, { src: ["10.0.0.0/8", "::1/128"] });
    expect(refused(request(u.jwt, sigUrl(u.kp)))).toEqual({ reason: "Bad src Ip 127.0.0.1", level: "error" });
    expect(admitted(request(u.jwt, sigUrl(u.kp), { clientIp: "10.1.2.3" })).userKey).toBe(u.kp.getPublicKey());
    expect(admitted(request(u.jwt, sigUrl(u.kp), { clientIp: "::1" })).userKey).toBe(u.kp.getPublicKey());
  });

  test("connection-time windows: refused outside; inside, the user expires at the window's end or the JWT's, the sooner", async () => {
    const acc = await account();
    const now = Date.parse("2024-05-01T12:00:00Z");
    const nowSec = now / 1000;
    const window = [{ start: "08:00:00", end: "13:00:00" }];
    const mk = async (nats: Record<string, unknown>, exp = 0) => {
      const kp = createUser();
      const claims: Record<string, unknown> = { iat: nowSec - 5, iss: acc.kp.getPublicKey(), sub: kp.getPublicKey(), nats: { type: "user", version: 2, ...nats } };
      if (exp) claims.exp = exp;
      return { kp, jwt: signRaw(claims, acc.kp) };
    };
    const outside = await mk({ times: [{ start: "14:00:00", end: "15:00:00" }], times_location: "UTC" });
    expect(refused(request(outside.jwt, sigUrl(outside.kp), { nowMs: now }))).toEqual({ reason: "Outside connect times", level: "error" });
    const inWindow = await mk({ times: window, times_location: "UTC" });
    expect(admitted(request(inWindow.jwt, sigUrl(inWindow.kp), { nowMs: now })).expiresInMs).toBe(3600_000);
    const expSooner = await mk({ times: window, times_location: "UTC" }, nowSec + 60);
    expect(admitted(request(expSooner.jwt, sigUrl(expSooner.kp), { nowMs: now })).expiresInMs).toBe(60_000);
    const expOnly = await mk({}, nowSec + 90);
    expect(admitted(request(expOnly.jwt, sigUrl(expOnly.kp), { nowMs: now })).expiresInMs).toBe(90_000);
  });

  test("allowed connection types", async () => {
    const acc = await account();
    const as = async (types: string[], connectionType: ConnectionTypeValue) => {
      const u = await user(acc.kp, { allowed_connection_types: types });
      return authenticateUserJwt(request(u.jwt, sigUrl(u.kp), { connectionType }));
    };
    expect((await as(["STANDARD"], "STANDARD")).ok).toBe(true);
    expect((await as(["standard"], "STANDARD")).ok).toBe(true);
    expect(await as(["WEBSOCKET"], "STANDARD")).toEqual({ ok: false, reason: "Connection type not allowed", level: "debug" });
    expect((await as(["WEBSOCKET"], "WEBSOCKET")).ok).toBe(true);
    // Unknown names are ignored while a known one is left; alone, they refuse.
    expect((await as(["IN_PROCESS", "STANDARD"], "STANDARD")).ok).toBe(true);
    expect(await as(["FOO", "bar"], "STANDARD")).toEqual({ ok: false, reason: 'invalid connection types ["FOO" "BAR"]', level: "debug" });
  });

  test("pinned accounts", async () => {
    const acc = await account();
    const u = await user(acc.kp);
    expect(refused(request(u.jwt, sigUrl(u.kp), { pinnedAccounts: new Set(["AOTHER"]) })).reason).toBe(`Account ${acc.kp.getPublicKey()} not listed as operator pinned account`);
    expect(admitted(request(u.jwt, sigUrl(u.kp), { pinnedAccounts: new Set([acc.kp.getPublicKey()]) })).accountKey).toBe(acc.kp.getPublicKey());
  });
});

describe("permissions", () => {
  test("the user's own, else the account's defaults", async () => {
    const acc = await account({ default_permissions: { pub: { deny: ["dp"] } } });
    const plain = await user(acc.kp);
    expect(admitted(request(plain.jwt, sigUrl(plain.kp))).permissions).toEqual({ publish: { allow: null, deny: ["dp"] }, subscribe: null, response: null });
    const own = await user(acc.kp, { sub: { allow: ["a.>"] } });
    expect(admitted(request(own.jwt, sigUrl(own.kp))).permissions).toEqual({ publish: null, subscribe: { allow: ["a.>"], deny: null }, response: null });
  });

  test("publish `allow: []` allows nothing; subscribe `allow: []` is no list; `resp` alone allows replies only", () => {
    const perms = (p: Record<string, unknown>) =>
      permissionsFromJwt({ pub: { allow: null, deny: null }, sub: { allow: null, deny: null }, resp: null, ...p } as never);
    expect(perms({})).toBeNull();
    expect(perms({ pub: { allow: [], deny: ["x"] } })).toEqual({ publish: { allow: [], deny: ["x"] }, subscribe: null, response: null });
    expect(perms({ sub: { allow: [], deny: ["x"] } })).toEqual({ publish: null, subscribe: { allow: null, deny: ["x"] }, response: null });
    expect(perms({ pub: { allow: [], deny: [] } })).toBeNull();
    expect(perms({ resp: { max: 0, ttl: 0 } })).toEqual({ publish: { allow: [], deny: null }, subscribe: null, response: { maxMsgs: 1, expiresMs: 120_000 } });
    expect(perms({ pub: { allow: ["a"], deny: null }, resp: { max: 5, ttl: 3_000_000_000 } })).toEqual({ publish: { allow: ["a"], deny: null }, subscribe: null, response: { maxMsgs: 5, expiresMs: 3000 } });
  });

  test("template helpers", async () => {
    expect(["a", "a.*", "a.>", "*", ">", "a.b.>"].every(isValidSubject)).toBe(true);
    expect(["", "a.", ".a", "a..b", "a.>.b", "a b", "a.\t", " "].some(isValidSubject)).toBe(false);
    const acc = await account({ tags: ["env:x"] });
    const u = decodeUserClaims(await encodeUser("n", createUser(), acc.kp, { tags: ["k:1", "k:2", "j:a", "j:b"] } as never));
    const t = applyScopeTemplate(
      { pub: { allow: ["p.{{tag(k)}}.{{tag(j)}}"], deny: null }, sub: { allow: null, deny: ["d.{{account-tag(env)}}"] }, resp: null, src: null, times: null, times_location: "", subs: -1, data: -1, payload: -1, bearer_token: false, allowed_connection_types: null },
      u,
      acc.claims,
    );
    expect(t.pub.allow).toEqual(["p.1.a", "p.1.b", "p.2.a", "p.2.b"]);
    expect(t.sub.deny).toEqual(["d.x"]);
  });
});

describe("account updates for connected users", () => {
  test("revoked users and disallowed bearer tokens are cut", async () => {
    const acc = await account();
    const u = await user(acc.kp);
    const b = await user(acc.kp, { bearer_token: true });
    const revoking = decodeAccountClaims((await issueAccount("ACC", env.op, acc.kp, { revocations: { [u.kp.getPublicKey()]: nowSeconds() + 5 } })).jwt);
    expect(userDisconnectOnAccountUpdate(u.jwt, revoking)).toBe("revoked");
    expect(userDisconnectOnAccountUpdate(b.jwt, revoking)).toBeNull();
    const noBearer = decodeAccountClaims((await issueAccount("ACC", env.op, acc.kp, { limits: { ...unlimited, disallow_bearer: true } })).jwt);
    expect(userDisconnectOnAccountUpdate(b.jwt, noBearer)).toBe("bearer");
    expect(userDisconnectOnAccountUpdate(u.jwt, noBearer)).toBeNull();
    expect(userDisconnectOnAccountUpdate(u.jwt, acc.claims)).toBeNull();
    expect(userDisconnectOnAccountUpdate("garbage", revoking)).toBe("invalid");
  });
});

describe("activation tokens", () => {
  test("good, expired, revoked, for someone else, from a signing key", async () => {
    const exporterSk = createAccount();
    const exporter = await account({ signing_keys: [exporterSk.getPublicKey()], exports: [{ subject: "svc.>", type: "service", token_req: true }] });
    const importer = createAccount();
    const imp = (token: string): Import => ({ name: "", subject: "svc.a", account: exporter.kp.getPublicKey(), token, to: "", local_subject: "", type: "service", share: false });
    // One fixed "now" for every check and every token (no race with a second boundary).
    const nowS = nowSeconds();
    const base = { importer: importer.getPublicKey(), exporter: exporter.claims, trust, exportRevocations: null, nowMs: nowS * 1000 };
    const good = await encodeActivation("t", importer, exporter.kp, "service", { subject: "svc.a" }, { exp: nowS + 60 });
    const r = checkActivation({ ...base, importClaim: imp(good) });
    expect(r.ok).toBe(true);
    expect(r.ok && r.expiresInMs).toBe(60_000);
    const expired = await encodeActivation("t", importer, exporter.kp, "service", { subject: "svc.a" }, { exp: nowS });
    // Expired from its `exp` second on (Validate would still pass it: checkActivation does not).
    expect(checkActivation({ ...base, importClaim: imp(expired) })).toEqual({ ok: false, reason: "activation expired" });
    const longExpired = await encodeActivation("t", importer, exporter.kp, "service", { subject: "svc.a" }, { exp: nowS - 5 });
    expect(checkActivation({ ...base, importClaim: imp(longExpired) })).toEqual({ ok: false, reason: "activation not valid" });
    expect(checkActivation({ ...base, importClaim: imp(good), exportRevocations: new Map([[importer.getPublicKey(), nowS + 1]]) })).toEqual({ ok: false, reason: "activation revoked" });
    const forOther = await encodeActivation("t", createAccount(), exporter.kp, "service", { subject: "svc.a" });
    const other = checkActivation({ ...base, importClaim: imp(forOther) });
    expect(other.ok).toBe(false);
    const viaKey = await encodeActivation("t", importer, exporter.kp, "service", { subject: "svc.a" }, { signer: exporterSk });
    expect(checkActivation({ ...base, importClaim: imp(viaKey) }).ok).toBe(true);
    const rogue = createAccount();
    const viaRogue = await encodeActivation("t", importer, exporter.kp, "service", { subject: "svc.a" }, { signer: rogue });
    expect(checkActivation({ ...base, importClaim: imp(viaRogue) })).toEqual({ ok: false, reason: "activation issuer is not a signing key of the account" });
    expect(checkActivation({ ...base, importClaim: imp("") })).toEqual({ ok: false, reason: "no activation token" });
  });
});

test("account limits as the server applies them", async () => {
  const none = (await account({ limits: {} })).claims;
  expect(accountLimitsOf(none)).toEqual({ maxPayload: 0, maxSubscriptions: 0, maxConnections: 0, maxLeafNodes: 0, disallowBearer: false, jetstream: null });
  const js = (await account({ limits: { ...unlimited, mem_storage: 1024, disk_storage: -1, streams: 5, consumer: -1, max_ack_pending: 0 } })).claims;
  expect(accountLimitsOf(js)).toEqual({
    maxPayload: -1,
    maxSubscriptions: -1,
    maxConnections: -1,
    maxLeafNodes: -1,
    disallowBearer: false,
    jetstream: new Map([["", { maxMemory: 1024, maxStore: -1, maxStreams: 5, maxConsumers: -1, memoryMaxStreamBytes: -1, storeMaxStreamBytes: -1, maxBytesRequired: false, maxAckPending: -1 }]]),
  });
  const tiered = (await account({ limits: { ...unlimited, tiered_limits: { R1: { disk_storage: 10, streams: 1 }, R3: { mem_storage: 0 } } } })).claims;
  expect([...(accountLimitsOf(tiered).jetstream ?? new Map()).keys()]).toEqual(["R1", "R3"]);
  const tieredOff = (await account({ limits: { ...unlimited, tiered_limits: { R1: { streams: 1 } } } })).claims;
  expect(accountLimitsOf(tieredOff).jetstream).toBeNull();
});

test("an operator JWT from @nats-io/jwt gives the trust anchors", async () => {
  const op = createOperator();
  const sk = createOperator();
  const t = trustFromOperators([decodeOperatorClaims(await encodeOperator("O", op, { signing_keys: [sk.getPublicKey()] }))], []);
  expect([...t.keys].sort()).toEqual([op.getPublicKey(), sk.getPublicKey()].sort());
  expect(t.strictIssuers.size).toBe(0);
});
