// Bounded property tests: whatever arrives as a JWT, a signature or a $SYS request body, the
// modules answer with a result or a JwtError — never another exception. The signed cases put
// random values into real claim fields, so the Go-style field decoding and every validation
// rule run on them (a random signature alone would stop at the signature check).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeAccountClaims, decodeGenericClaims, decodeJwt } from "../../../../src/auth/jwt/decode.ts";
import { isJwtError } from "../../../../src/auth/jwt/errors.ts";
import { DeleteMode, DirResolver, memoryClaimUpdate } from "../../../../src/auth/jwt/resolver.ts";
import { validateClaims } from "../../../../src/auth/jwt/validate.ts";
import { authenticateUserJwt, type Trust } from "../../../../src/auth/jwt/verify.ts";
import { b64url, createAccount, createOperator, createUser, signRaw, tempDir } from "./helpers.ts";

const op = createOperator();
const account = createAccount();
const user = createUser();
const trust: Trust = { keys: new Set([op.getPublicKey()]), strictIssuers: new Set() };
// Each property stops after this long (fewer runs on a loaded machine, never a timeout).
const runFor = { interruptAfterTimeLimit: 2_500 };
const testTimeoutMs = 10_000;

/** Runs `fn`; anything thrown must be a JwtError. */
function onlyJwtErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isJwtError(e)) throw e;
  }
}

const fieldNames = [
  "aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub", "type", "tags", "version", "nats", "limits", "imports", "exports", "signing_keys", "revocations",
  "default_permissions", "mappings", "pub", "sub", "resp", "allow", "deny", "max", "ttl", "src", "times", "times_location", "start", "end", "subs", "data",
  "payload", "bearer_token", "allowed_connection_types", "issuer_account", "subject", "account", "token", "to", "local_subject", "share", "token_req",
  "response_type", "response_threshold", "service_latency", "sampling", "results", "account_token_position", "kind", "key", "role", "template", "conn",
  "leaf", "wildcards", "disallow_bearer", "tiered_limits", "mem_storage", "weight", "cluster", "description", "info_url", "system_account",
  "operator_service_urls", "account_server_url", "strict_signing_key_usage", "accounts",
];
const scalar = fc.oneof(
  fc.constantFrom("account", "user", "operator", "activation", "stream", "service", "user_scope", "Singleton", "Chunked", "*", ">", "a.b", "a b", "", "headers", "10.0.0.0/8", "08:00:00", "UTC", "Foo/Bar"),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(1.5, 1e21, -1, 2, 255, 256, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(account.getPublicKey(), user.getPublicKey(), op.getPublicKey()),
);
const claimValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("value"), { maxLength: 3 }), tie("object")),
  object: fc.dictionary(fc.constantFrom(...fieldNames), tie("value"), { maxKeys: 5 }),
})).value;

describe("fuzz: nothing but JwtError escapes", () => {
  test("random strings as JWTs", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: "binary", maxLength: 40 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }).map((p) => p.join("."))), (token) => {
        onlyJwtErrors(() => decodeJwt(token));
        onlyJwtErrors(() => decodeGenericClaims(token));
      }),
      { numRuns: 3000, ...runFor },
    );
  }, testTimeoutMs);

  test("well-formed segments around random JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 2 }), fc.uint8Array({ maxLength: 70 }), (payload, header, sig) => {
        const h = b64url(JSON.stringify(header));
        const p = b64url(JSON.stringify(payload));
        const s = b64url(sig);
        onlyJwtErrors(() => decodeJwt(`${h}.${p}.${s}`));
        onlyJwtErrors(() => decodeJwt(`${b64url('{"typ":"JWT","alg":"ed25519-nkey"}')}.${p}.${s}`));
      }),
      { numRuns: 2000, ...runFor },
    );
  }, testTimeoutMs);

  test("validly signed claims with random field values decode, validate and authenticate without throwing", () => {
    fc.assert(
      fc.property(claimValue, fc.constantFrom("user", "account", "operator", "activation", "generic"), (nats, kind) => {
        const body = typeof nats === "object" && nats !== null && !Array.isArray(nats) ? { type: kind, version: 2, ...nats } : nats;
        const signer = kind === "user" ? account : op;
        const token = signRaw({ iat: 1_700_000_000, iss: signer.getPublicKey(), sub: kind === "user" ? user.getPublicKey() : account.getPublicKey(), nats: body }, signer);
        onlyJwtErrors(() => validateClaims(decodeJwt(token), Date.now()));
        if (kind === "user") {
          const r = authenticateUserJwt({
            jwt: token,
            sig: "AAAA",
            nonce: "nonce",
            clientIp: "127.0.0.1",
            connectionType: "STANDARD",
            trust,
            lookupAccount: () => ({ error: "none" }),
            nowMs: Date.now(),
          });
          expect(r.ok).toBe(false);
        }
      }),
      { numRuns: 400, ...runFor },
    );
  }, testTimeoutMs);

  test("mutated valid tokens", () => {
    const good = signRaw({ iat: 1_700_000_000, iss: op.getPublicKey(), sub: account.getPublicKey(), nats: { type: "account", version: 2, limits: { conn: -1 } } }, op);
    expect(decodeAccountClaims(good).sub).toBe(account.getPublicKey());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.constantFrom("A", ".", "=", "+", "/", "\n", "-", "_", "~", "é", "")), { minLength: 1, maxLength: 4 }), (edits) => {
        let t = good;
        for (const [at, ch] of edits) t = t.slice(0, at) + ch + t.slice(at + 1);
        onlyJwtErrors(() => decodeAccountClaims(t));
      }),
      { numRuns: 1500, ...runFor },
    );
  }, testTimeoutMs);

  test("the resolver's request handlers answer any body", () => {
    const t = tempDir();
    try {
      const r = new DirResolver({ dir: t.dir, deleteMode: DeleteMode.rename, operatorKey: op.getPublicKey(), operatorKeys: new Set([op.getPublicKey()]) });
      const loaded = { isLoaded: () => true, apply: () => null };
      fc.assert(
        fc.property(fc.string({ maxLength: 120 }), fc.constantFrom("$SYS.REQ.CLAIMS.UPDATE", `$SYS.REQ.ACCOUNT.${account.getPublicKey()}.CLAIMS.UPDATE`, "$SYS.ACCOUNT.x.CLAIMS.UPDATE", "a.b"), (body, subject) => {
          r.handleUpdate(subject, body);
          r.handleDelete(body);
          r.handleLookup(`$SYS.REQ.ACCOUNT.${body.replaceAll(".", "")}.CLAIMS.LOOKUP`);
          memoryClaimUpdate(subject, body, loaded);
          onlyJwtErrors(() => r.store(account.getPublicKey(), body));
        }),
        { numRuns: 800, ...runFor },
      );
    } finally {
      t.remove();
    }
  }, testTimeoutMs);
});
