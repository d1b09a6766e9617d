// Decoding NATS JWTs: every claim kind as @nats-io/jwt writes it, and every kind of bad token
// refused with the reference's text (the texts were taken from nats-server 2.9.10 replies to
// $SYS.REQ.CLAIMS.UPDATE, which carry the decoder's error verbatim).
import { describe, expect, test } from "bun:test";
import { Algorithms, encodeAccount, encodeActivation, encodeGeneric, encodeOperator, encodeUser, newScopedSigner } from "@nats-io/jwt";
import { decodeAccountClaims, decodeActivationClaims, decodeGenericClaims, decodeJwt, decodeOperatorClaims, decodeUserClaims } from "../../../../src/auth/jwt/decode.ts";
import { JwtError, JwtErrorId } from "../../../../src/auth/jwt/errors.ts";
import { b64url, createAccount, createOperator, createUser, nowSeconds, signRaw, unlimited, v2Header } from "./helpers.ts";

function refusal(fn: () => unknown): { id: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(JwtError);
    return { id: (e as JwtError).id, message: (e as JwtError).message };
  }
  throw new Error("expected a refusal");
}

describe("claim kinds from @nats-io/jwt", () => {
  test("operator", async () => {
    const op = createOperator();
    const sk = createOperator();
    const sys = createAccount();
    const jwt = await encodeOperator("OP", op, {
      system_account: sys.getPublicKey(),
      signing_keys: [sk.getPublicKey()],
      account_server_url: "http://localhost:9090/jwt/v1",
      operator_service_urls: ["nats://localhost:4222"],
      tags: ["a:b"],
    });
    const c = decodeOperatorClaims(jwt);
    expect(c.kind).toBe("operator");
    expect(c.claimVersion).toBe(2);
    expect(c.iss).toBe(op.getPublicKey());
    expect(c.sub).toBe(op.getPublicKey());
    expect(c.name).toBe("OP");
    expect(c.nats).toEqual({
      tags: ["a:b"],
      type: "operator",
      version: 2,
      signing_keys: [sk.getPublicKey()],
      account_server_url: "http://localhost:9090/jwt/v1",
      operator_service_urls: ["nats://localhost:4222"],
      system_account: sys.getPublicKey(),
      assert_server_version: "",
      strict_signing_key_usage: false,
    });
  });

  test("account: limits, signing and scoped keys, imports, exports, revocations, default permissions, mappings", async () => {
    const op = createOperator();
    const a = createAccount();
    const other = createAccount();
    const sk = createAccount();
    const scopedKey = createAccount();
    const revokedUser = createUser().getPublicKey();
    const token = await encodeActivation("tok", a, other, "service", { subject: "svc.a" });
    const jwt = await encodeAccount(
      "A",
      a,
      {
        limits: { ...unlimited, disallow_bearer: true, mem_storage: 1024, disk_storage: 2048, streams: 3, consumer: 4, max_ack_pending: 5, mem_max_stream_bytes: 6, disk_max_stream_bytes: 7, max_bytes_required: true },
        signing_keys: [sk.getPublicKey(), newScopedSigner(scopedKey, "dev", { pub: { allow: ["dev.>"] }, sub: { allow: ["{{name()}}.>"] }, bearer_token: true })],
        imports: [{ name: "svc", subject: "svc.a", account: other.getPublicKey(), token, type: "service", local_subject: "local.svc" } as never],
        exports: [
          { name: "s", subject: "stream.>", type: "stream", token_req: true, revocations: { [other.getPublicKey()]: 1234 } },
          { name: "q", subject: "req.*", type: "service", response_type: "Chunked", response_threshold: 5_000_000_000, service_latency: { sampling: "headers" as never, results: "lat" }, account_token_position: 2, description: "d", info_url: "https://x.io" } as never,
        ],
        revocations: { [revokedUser]: 99, "*": 7 },
        default_permissions: { pub: { allow: ["a.>"], deny: ["a.b"] }, sub: { deny: ["x"] }, resp: { max: 2, ttl: 3 } },
        tags: ["env:prod"],
        mappings: { "m.a": [{ subject: "m.b", weight: 40 }, { subject: "m.c", weight: 60, cluster: "east" }] },
        description: "account A",
        info_url: "https://example.com",
      } as never,
      { signer: op },
    );
    const c = decodeAccountClaims(jwt);
    expect(c.sub).toBe(a.getPublicKey());
    expect(c.iss).toBe(op.getPublicKey());
    const n = c.nats;
    expect(n.limits).toEqual({
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      disallow_bearer: true,
      conn: -1,
      leaf: -1,
      mem_storage: 1024,
      disk_storage: 2048,
      streams: 3,
      consumer: 4,
      max_ack_pending: 5,
      mem_max_stream_bytes: 6,
      disk_max_stream_bytes: 7,
      max_bytes_required: true,
      tiered_limits: null,
    });
    expect([...n.signing_keys.keys()]).toEqual([sk.getPublicKey(), scopedKey.getPublicKey()]);
    expect(n.signing_keys.get(sk.getPublicKey())).toBeNull();
    const scope = n.signing_keys.get(scopedKey.getPublicKey())!;
    expect(scope.role).toBe("dev");
    expect(scope.template.pub.allow).toEqual(["dev.>"]);
    expect(scope.template.sub.allow).toEqual(["{{name()}}.>"]);
    expect(scope.template.bearer_token).toBe(true);
    expect(n.imports).toEqual([{ name: "svc", subject: "svc.a", account: other.getPublicKey(), token, to: "", local_subject: "local.svc", type: "service", share: false }]);
    expect(n.exports![0]).toMatchObject({ subject: "stream.>", type: "stream", token_req: true, revocations: new Map([[other.getPublicKey(), 1234]]) });
    expect(n.exports![1]).toMatchObject({ subject: "req.*", type: "service", response_type: "Chunked", response_threshold: 5_000_000_000, service_latency: { sampling: 0, results: "lat" }, account_token_position: 2, description: "d", info_url: "https://x.io" });
    expect(n.revocations).toEqual(new Map([[revokedUser, 99], ["*", 7]]));
    expect(n.default_permissions).toEqual({ pub: { allow: ["a.>"], deny: ["a.b"] }, sub: { allow: null, deny: ["x"] }, resp: { max: 2, ttl: 3 } });
    expect(n.mappings).toEqual(new Map([["m.a", [{ subject: "m.b", weight: 40, cluster: "" }, { subject: "m.c", weight: 60, cluster: "east" }]]]));
    expect(n.tags).toEqual(["env:prod"]);
    expect(n.description).toBe("account A");
    expect(n.info_url).toBe("https://example.com");
  });

  test("account without limits reads them as 0, as the reference (no connection allowed)", async () => {
    const c = decodeAccountClaims(await encodeAccount("A", createAccount(), {}, { signer: createOperator() }));
    expect(c.nats.limits.conn).toBe(0);
    expect(c.nats.limits.subs).toBe(0);
    expect(c.nats.signing_keys.size).toBe(0);
  });

  test("user: permissions, limits, source networks, times, bearer, connection types, issuer account", async () => {
    const a = createAccount();
    const sk = createAccount();
    const u = createUser();
    const jwt = await encodeUser(
      "bob",
      u,
      a,
      {
        pub: { allow: ["p.>"], deny: ["p.x"] },
        sub: { allow: ["s.>", "q.* grp"] },
        resp: { max: 3, ttl: 1_000_000_000 },
        src: ["10.0.0.0/8", "::1/128"],
        times: [{ start: "08:00:00", end: "17:00:00" }],
        subs: 10,
        data: 1000,
        payload: 100,
        bearer_token: true,
        allowed_connection_types: ["STANDARD", "WEBSOCKET"],
        tags: ["team:red"],
      } as never,
      { signer: sk },
    );
    const c = decodeUserClaims(jwt);
    expect(c.iss).toBe(sk.getPublicKey());
    expect(c.sub).toBe(u.getPublicKey());
    expect(c.nats).toEqual({
      tags: ["team:red"],
      type: "user",
      version: 2,
      pub: { allow: ["p.>"], deny: ["p.x"] },
      sub: { allow: ["s.>", "q.* grp"], deny: null },
      resp: { max: 3, ttl: 1_000_000_000 },
      src: ["10.0.0.0/8", "::1/128"],
      times: [{ start: "08:00:00", end: "17:00:00" }],
      times_location: "",
      subs: 10,
      data: 1000,
      payload: 100,
      bearer_token: true,
      allowed_connection_types: ["STANDARD", "WEBSOCKET"],
      issuer_account: a.getPublicKey(),
    });
    expect(c.permissionLimitsEmpty).toBe(false);
  });

  test("user src as one comma-separated string; times_location (not the JS library's `locale`)", () => {
    const a = createAccount();
    const jwt = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: createUser().getPublicKey(), nats: { type: "user", version: 2, src: " 10.0.0.0/8 ,127.0.0.1/32,, 10.0.0.0/8", times_location: "Europe/Berlin", locale: "ignored" } }, a);
    const c = decodeUserClaims(jwt);
    expect(c.nats.src).toEqual(["10.0.0.0/8", "127.0.0.1/32"]);
    expect(c.nats.times_location).toBe("Europe/Berlin");
  });

  test("scoped user: no permissions or limits at all", async () => {
    const a = createAccount();
    const sk = createAccount();
    const c = decodeUserClaims(await encodeUser("s", createUser(), a, {}, { signer: sk, scopedUser: true }));
    expect(c.nats.issuer_account).toBe(a.getPublicKey());
    expect(c.permissionLimitsEmpty).toBe(true);
    // A present but empty list is not a zero value (reflect.DeepEqual with nil).
    const raw = signRaw({ iat: nowSeconds(), iss: sk.getPublicKey(), sub: createUser().getPublicKey(), nats: { type: "user", version: 2, issuer_account: a.getPublicKey(), src: [] } }, sk);
    expect(decodeUserClaims(raw).permissionLimitsEmpty).toBe(false);
  });

  test("activation", async () => {
    const exporter = createAccount();
    const importer = createAccount();
    const c = decodeActivationClaims(await encodeActivation("act", importer, exporter, "stream", { subject: "feed.>" }));
    expect(c.sub).toBe(importer.getPublicKey());
    expect(c.iss).toBe(exporter.getPublicKey());
    expect(c.nats).toEqual({ tags: null, type: "activation", version: 2, subject: "feed.>", kind: "stream", issuer_account: "" });
  });

  test("generic claims (the resolver's delete requests)", async () => {
    const op = createOperator();
    const accounts = [createAccount().getPublicKey()];
    const jwt = await encodeGeneric("del", op, "foo", { accounts } as never);
    const c = decodeGenericClaims(jwt);
    expect(c.sub).toBe(op.getPublicKey());
    expect(c.nats).toEqual({ accounts, type: "foo", version: 2 });
    // decodeJwt reads an unknown kind as generic too, checking the signature the v1 way.
    expect(refusal(() => decodeJwt(jwt))).toEqual({ id: JwtErrorId.signature, message: "claim failed V1 signature verification" });
  });

  test("v1 tokens: signature over the claims alone, kind at the top level", async () => {
    const a = createAccount();
    const c = decodeUserClaims(await encodeUser("old", createUser(), a, { pub: { allow: ["x"] } }, { algorithm: Algorithms.v1 }));
    expect(c.claimVersion).toBe(1);
    expect(c.nats.type).toBe("user");
    expect(c.nats.pub.allow).toEqual(["x"]);
    const withMax = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: createUser().getPublicKey(), type: "user", nats: { max: 5 } }, a, { header: { typ: "JWT", alg: "ed25519" }, v1: true });
    expect(refusal(() => decodeUserClaims(withMax))).toEqual({ id: JwtErrorId.deprecated, message: "jwtV1 user: deprecated Max/Times in jwtV2" });
    // The version of the claims, not the header's algorithm, decides what was signed.
    const v2Claims = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: createUser().getPublicKey(), nats: { type: "user", version: 2 } }, a, { header: { typ: "jwt", alg: "ED25519" } });
    expect(decodeUserClaims(v2Claims).claimVersion).toBe(2);
  });

  test("a token read from a file keeps its newline: base64 decoding skips it", async () => {
    const op = createOperator();
    const jwt = await encodeOperator("OP", op);
    expect(decodeOperatorClaims(`${jwt}\n`).sub).toBe(op.getPublicKey());
  });
});

describe("bad tokens, refused with the reference's text", () => {
  const a = createAccount();
  const user = createUser();
  const good = (): string => signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: user.getPublicKey(), nats: { type: "user", version: 2 } }, a);
  const h = b64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }));

  test("segments", () => {
    for (const t of ["", "a", "a.b", "a.b.c.d", "garbage"]) expect(refusal(() => decodeJwt(t))).toEqual({ id: JwtErrorId.chunks, message: "expected 3 chunks" });
  });

  test("malformed base64 in each segment", () => {
    const [hh, pp, ss] = good().split(".");
    expect(refusal(() => decodeJwt(`!!.${pp}.${ss}`)).message).toBe("illegal base64 data at input byte 0");
    expect(refusal(() => decodeJwt(`${hh}.${pp}=.${ss}`)).message).toBe(`illegal base64 data at input byte ${pp.length}`);
    expect(refusal(() => decodeJwt(`${hh}.${pp}.${ss}==`)).message).toBe(`illegal base64 data at input byte ${ss.length}`);
    // '+' is not in the URL alphabet (a signature may or may not contain '-' or '_' to replace).
    expect(refusal(() => decodeJwt(`${hh}.${pp}.+${ss.slice(1)}`))).toEqual({ id: JwtErrorId.base64, message: "illegal base64 data at input byte 0" });
  });

  test("malformed JSON", () => {
    expect(refusal(() => decodeJwt(`${h}.${b64url("{nope")}.AA`))).toEqual({ id: JwtErrorId.json, message: "invalid character 'n' looking for beginning of object key string" });
    expect(refusal(() => decodeJwt(`xx.${b64url("{}")}.AA`)).message).toBe("invalid character '\u00c7' looking for beginning of value");
    expect(refusal(() => decodeJwt(`${h}.${b64url("")}.AA`)).message).toBe("unexpected end of JSON input");
    expect(refusal(() => decodeJwt(`${b64url("[1]")}.${b64url("{}")}.AA`)).message).toBe("json: cannot unmarshal array into Go value of type jwt.Header");
    expect(refusal(() => decodeJwt(`${b64url('{"typ":1}')}.${b64url("{}")}.AA`)).message).toBe("json: cannot unmarshal number into Go struct field Header.typ of type string");
    expect(refusal(() => decodeJwt(`${h}.${b64url("[1]")}.AA`)).message).toBe("json: cannot unmarshal array into Go value of type jwt.identifier");
    expect(refusal(() => decodeJwt(`${h}.${b64url('{"nats":5}')}.AA`)).message).toBe("json: cannot unmarshal number into Go struct field identifier.nats of type jwt.GenericFields");
  });

  test("header type and algorithm", () => {
    const claims = { iat: nowSeconds(), iss: a.getPublicKey(), sub: user.getPublicKey(), nats: { type: "user", version: 2 } };
    expect(refusal(() => decodeJwt(signRaw(claims, a, { header: { typ: "x", alg: "ed25519-nkey" } })))).toEqual({ id: JwtErrorId.headerType, message: 'not supported type "x"' });
    expect(refusal(() => decodeJwt(signRaw(claims, a, { header: { typ: "JWT", alg: "HS256" } })))).toEqual({ id: JwtErrorId.headerAlg, message: 'unexpected "HS256" algorithm' });
    expect(refusal(() => decodeJwt(signRaw(claims, a, { header: { typ: "JWT", alg: "ed25519-nkeys" } }))).message).toBe('unexpected "ed25519-nkeys" algorithm');
    expect(refusal(() => decodeJwt(signRaw(claims, a, { header: { alg: "ed25519-nkey" } }))).message).toBe('not supported type ""');
  });

  test("versions and kinds", () => {
    const sign = (nats: unknown): string => signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: user.getPublicKey(), nats }, a);
    expect(refusal(() => decodeJwt(sign({ type: "user", version: 3 })))).toEqual({ id: JwtErrorId.version, message: "JWT was generated by a newer version " });
    expect(refusal(() => decodeJwt(sign({ type: "user" })))).toEqual({ id: JwtErrorId.version, message: "library supports version 2 or less - received 0" });
    expect(refusal(() => decodeJwt(sign({ type: "cluster", version: 2 })))).toEqual({ id: JwtErrorId.unsupported, message: "ClusterClaims are not supported" });
    expect(refusal(() => decodeJwt(sign({ type: "server", version: 2 })))).toEqual({ id: JwtErrorId.unsupported, message: "ServerClaims are not supported" });
    expect(refusal(() => decodeAccountClaims(good()))).toEqual({ id: JwtErrorId.wrongKind, message: "not account claim" });
    expect(refusal(() => decodeOperatorClaims(good())).message).toBe("not operator claim");
    expect(refusal(() => decodeActivationClaims(good())).message).toBe("not activation claim");
  });

  test("wrong signature", async () => {
    const [hh, pp, ss] = good().split(".");
    // Another key's signature, a tampered payload, a truncated signature.
    const forged = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: user.getPublicKey(), nats: { type: "user", version: 2 } }, createAccount());
    expect(refusal(() => decodeJwt(forged))).toEqual({ id: JwtErrorId.signature, message: "claim failed V2 signature verification" });
    const tampered = b64url(JSON.stringify({ iat: nowSeconds(), iss: a.getPublicKey(), sub: user.getPublicKey(), name: "x", nats: { type: "user", version: 2 } }));
    expect(refusal(() => decodeJwt(`${hh}.${tampered}.${ss}`)).message).toBe("claim failed V2 signature verification");
    expect(refusal(() => decodeJwt(`${hh}.${pp}.${ss.slice(0, 20)}`)).message).toBe("claim failed V2 signature verification");
    // An issuer that is not a key at all.
    const noKey = signRaw({ iat: nowSeconds(), iss: "hello", sub: user.getPublicKey(), nats: { type: "user", version: 2 } }, a);
    expect(refusal(() => decodeJwt(noKey)).message).toBe("claim failed V2 signature verification");
  });

  test("issuer of the wrong kind", async () => {
    const u = createUser();
    const op = createOperator();
    const accountByUser = signRaw({ iat: nowSeconds(), iss: u.getPublicKey(), sub: createAccount().getPublicKey(), nats: { type: "account", version: 2 } }, u);
    expect(refusal(() => decodeJwt(accountByUser))).toEqual({ id: JwtErrorId.issuerKind, message: "unable to validate expected prefixes - [account operator]" });
    const userByOperator = signRaw({ iat: nowSeconds(), iss: op.getPublicKey(), sub: u.getPublicKey(), nats: { type: "user", version: 2 } }, op);
    expect(refusal(() => decodeJwt(userByOperator)).message).toBe("unable to validate expected prefixes - [account]");
    const operatorByAccount = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: op.getPublicKey(), nats: { type: "operator", version: 2 } }, a);
    expect(refusal(() => decodeJwt(operatorByAccount)).message).toBe("unable to validate expected prefixes - [operator]");
    // A self-signed account is a valid account JWT (trust is decided later).
    const selfSigned = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: a.getPublicKey(), nats: { type: "account", version: 2 } }, a);
    expect(decodeAccountClaims(selfSigned).iss).toBe(a.getPublicKey());
  });

  test("fields of the wrong JSON type, with Go's texts", () => {
    const op = createOperator();
    const sign = (claims: Record<string, unknown>): string => signRaw({ iat: nowSeconds(), iss: op.getPublicKey(), sub: createAccount().getPublicKey(), ...claims }, op);
    const account = (nats: Record<string, unknown>, extra: Record<string, unknown> = {}): string => sign({ ...extra, nats: { type: "account", version: 2, ...nats } });
    const cases: [string, string][] = [
      [account({}, { exp: "x" }), "json: cannot unmarshal string into Go struct field AccountClaims.exp of type int64"],
      [account({}, { iat: 1.5 }), "json: cannot unmarshal number 1.5 into Go struct field AccountClaims.iat of type int64"],
      [account({}, { name: 5 }), "json: cannot unmarshal number into Go struct field AccountClaims.name of type string"],
      [account({ limits: { conn: "x" } }), "json: cannot unmarshal string into Go struct field OperatorLimits.nats.limits.conn of type int64"],
      [account({ exports: {} }), "json: cannot unmarshal object into Go struct field Account.nats.exports of type jwt.Exports"],
      [account({ exports: [{ name: 2, type: "stream" }] }), "json: cannot unmarshal number into Go struct field Export.nats.exports.name of type string"],
      [account({ exports: [{ type: "x" }] }), 'unknown export type "x"'],
      [account({ exports: [{ subject: "a", type: null }] }), 'unknown export type ""'],
      [account({ exports: [{ account_token_position: -1, type: "service" }] }), "json: cannot unmarshal number -1 into Go struct field Export.nats.exports.account_token_position of type uint"],
      [account({ revocations: { a: "x" } }), "json: cannot unmarshal string into Go struct field Account.nats.revocations of type int64"],
      [account({ default_permissions: { pub: { allow: [1] } } }), "json: cannot unmarshal number into Go struct field Permission.nats.default_permissions.pub.allow of type string"],
      [account({ signing_keys: { a: 1 } }), "json: cannot unmarshal object into Go struct field Account.nats.signing_keys of type []interface {}"],
      [account({ signing_keys: [{ kind: "foo" }] }), "unknown signing key scope %!q(<nil>)"],
      [account({ tags: "x" }), "json: cannot unmarshal string into Go struct field GenericFields.nats.tags of type jwt.TagList"],
    ];
    for (const [token, message] of cases) expect(refusal(() => decodeJwt(token)).message).toBe(message);
    // Numbers keep their literal: Go refuses 1e3 for an int64 even though it is whole.
    const literal = `${b64url(JSON.stringify(v2Header))}.${b64url(`{"iat":1e3,"nats":{"type":"account","version":2}}`)}.AA`;
    expect(refusal(() => decodeJwt(literal)).message).toBe("json: cannot unmarshal number 1e3 into Go struct field AccountClaims.iat of type int64");
    // A custom decoder's failure wins over an earlier type mismatch (Go aborts on it).
    expect(refusal(() => decodeJwt(account({ exports: [{ type: "x" }] }, { exp: "x" }))).message).toBe('unknown export type "x"');
    // Keys match field names case-insensitively; unknown keys are ignored.
    const c = decodeAccountClaims(account({ LIMITS: { CONN: 3 }, whatever: [1, 2] }, { Name: "n" }));
    expect(c.nats.limits.conn).toBe(3);
    expect(c.name).toBe("n");
  });
});
