// Claim validation (jwt v2 Validate as nats-server 2.9.10 uses it). The account texts below
// are the ones the reference returned, inside `jwt validation failed - validation errors: [..]`,
// for the same JWTs pushed on $SYS.REQ.CLAIMS.UPDATE (see reference.test.ts for the live check).
import { describe, expect, test } from "bun:test";
import { encodeActivation } from "@nats-io/jwt";
import { decodeJwt } from "../../../../src/auth/jwt/decode.ts";
import { requireValid, validateClaims, ValidationResults } from "../../../../src/auth/jwt/validate.ts";
import { createAccount, createOperator, createUser, nowSeconds, signRaw, unlimited } from "./helpers.ts";

const op = createOperator();
const other = createAccount();

function account(nats: Record<string, unknown>, extra: Record<string, unknown> = {}): { jwt: string; sub: string } {
  const a = createAccount();
  return { sub: a.getPublicKey(), jwt: signRaw({ iat: nowSeconds(), iss: op.getPublicKey(), name: "A", sub: a.getPublicKey(), ...extra, nats: { type: "account", version: 2, ...nats } }, op) };
}

const errorsOf = (jwt: string, nowMs = Date.now()): string => validateClaims(decodeJwt(jwt), nowMs).errorList();

describe("ValidationResults", () => {
  test("blocking, time checks and warnings", () => {
    const vr = new ValidationResults();
    expect(vr.isEmpty()).toBe(true);
    vr.addWarning("w");
    expect(vr.isBlocking(true)).toBe(false);
    vr.addTimeCheck("claim is expired");
    expect(vr.isBlocking(false)).toBe(false);
    expect(vr.isBlocking(true)).toBe(true);
    // Errors() leaves time checks out.
    expect(vr.errorList()).toBe("[]");
    vr.addError("e1");
    vr.addError("e2");
    expect(vr.isBlocking(false)).toBe(true);
    expect(vr.errorList()).toBe("[e1 e2]");
  });
});

describe("requireValid", () => {
  test("throws the blocking issues; time checks optional", () => {
    const a = createAccount();
    const u = createUser();
    const expired = decodeJwt(signRaw({ iat: 1, exp: 2, iss: a.getPublicKey(), sub: u.getPublicKey(), nats: { type: "user", version: 2, src: ["x"] } }, a));
    expect(() => requireValid(expired, Date.now())).toThrow('claim is expired; invalid cidr "x" in user src limits');
    expect(() => requireValid(expired, Date.now(), false)).toThrow('invalid cidr "x" in user src limits');
    const fine = decodeJwt(signRaw({ iat: 1, iss: a.getPublicKey(), sub: u.getPublicKey(), nats: { type: "user", version: 2 } }, a));
    expect(() => requireValid(fine, Date.now())).not.toThrow();
  });
});

describe("time checks", () => {
  test("exp is passed after its second, nbf before it", () => {
    const u = createUser();
    const a = createAccount();
    const now = 1_700_000_000;
    const token = (claims: Record<string, unknown>) => signRaw({ iat: now - 10, iss: a.getPublicKey(), sub: u.getPublicKey(), ...claims, nats: { type: "user", version: 2 } }, a);
    const issues = (jwt: string, nowSec: number) => validateClaims(decodeJwt(jwt), nowSec * 1000).issues.map((i) => [i.description, i.timeCheck]);
    expect(issues(token({ exp: now }), now)).toEqual([]);
    expect(issues(token({ exp: now }), now + 1)).toEqual([["claim is expired", true]]);
    expect(issues(token({ nbf: now }), now)).toEqual([]);
    expect(issues(token({ nbf: now + 1 }), now)).toEqual([["claim is not yet valid", true]]);
    expect(issues(token({ exp: 0, nbf: 0 }), now)).toEqual([]);
  });
});

describe("account validation, with the reference's texts", () => {
  const cases: [string, { jwt: string }, string][] = [
    ["valid", account({ limits: unlimited }), "[]"],
    ["exports beyond the (absent = 0) limit", account({ exports: [{ subject: "a", type: "stream" }] }), "[the account contains more exports than allowed by the operator]"],
    ["imports beyond the limit (reported twice)", account({ limits: { conn: 1, imports: 0 }, imports: [{ subject: "a", type: "stream", account: other.getPublicKey() }] }), "[the account contains more imports than allowed by the operator the account contains more imports than allowed by the operator]"],
    ["wildcard exports not allowed", account({ limits: { exports: 5 }, exports: [{ subject: "a.*", type: "stream" }] }), "[the account contains wildcard exports that are not allowed by the operator]"],
    ["export without a type", account({ limits: unlimited, exports: [{ subject: "a" }] }), '[invalid export type: "unknown"]'],
    ["service response type", account({ limits: unlimited, exports: [{ subject: "a", type: "service", response_type: "Many" }] }), '[invalid response type for service: "Many"]'],
    ["stream response type", account({ limits: unlimited, exports: [{ subject: "a", type: "stream", response_type: "Stream" }] }), '[invalid response type for stream: "Stream"]'],
    ["latency on a stream", account({ limits: unlimited, exports: [{ subject: "a", type: "stream", service_latency: { sampling: 200, results: "r.*" } }] }), "[latency tracking only permitted for services sampling percentage needs to be between 1-100 results subject can not contain wildcards]"],
    ["response thresholds", account({ limits: unlimited, exports: [{ subject: "a", type: "service", response_threshold: -5 }, { subject: "b", type: "stream", response_threshold: 5 }] }), "[negative response threshold is invalid response threshold only valid for services]"],
    ["subjects", account({ limits: unlimited, exports: [{ subject: "a b", type: "stream" }, { subject: "", type: "service" }] }), '[subject "a b" cannot have spaces subject cannot be empty]'],
    [
      "account token positions",
      account({ limits: unlimited, exports: [{ subject: "a.b", type: "stream", account_token_position: 2 }, { subject: "x.*", type: "service", account_token_position: 3 }, { subject: "y.*.c", type: "service", account_token_position: 3 }] }),
      "[Account Token Position can only be used with wildcard subjects: a.b Account Token Position 3 exceeds length of subject 'x.*' Account Token Position 3 matches 'c' but must match a * in: y.*.c]",
    ],
    ["overlapping exports", account({ limits: unlimited, exports: [{ subject: "a.>", type: "stream" }, { subject: "a.b", type: "stream" }] }), '[stream export subject "a.>" already exports "a.b"]'],
    ["null export and import", account({ limits: unlimited, exports: [null], imports: [null] }), "[null import is not allowed null export is not allowed]"],
    ["import without account", account({ limits: unlimited, imports: [{ subject: "x y", type: "stream" }] }), '[account to import from is not specified subject "x y" cannot have spaces]'],
    ["share on a stream import", account({ limits: unlimited, imports: [{ subject: "a", type: "stream", account: other.getPublicKey(), share: true }] }), '[sharing information (for latency tracking) is only valid for services: "a"]'],
    ["local subject and to", account({ limits: unlimited, imports: [{ subject: "a.*", type: "stream", account: other.getPublicKey(), local_subject: "b.$1", to: "c" }] }), "[Local Subject replaces To]"],
    [
      "bad local subject",
      account({ limits: unlimited, imports: [{ subject: "a.*", type: "stream", account: other.getPublicKey(), local_subject: "b.$2.>" }] }),
      '[both, renaming subject and subject, need to end or not end in > Reference $2 in "b.$2.>" reference * in "a.*" that do not exist subject does not contain enough * or reference wildcards $[0-9]]',
    ],
    ["invalid activation token", account({ limits: unlimited, imports: [{ subject: "a", type: "service", account: other.getPublicKey(), token: "garbage" }] }), '[import "a" contains an invalid activation token]'],
    ["queue in publish permissions, too many spaces", account({ limits: unlimited, default_permissions: { pub: { allow: ["a q"] }, sub: { deny: ["a b c"] } } }), '[Permission Subject "a b c" contains too many spaces Permission Subject "a q" is not allowed to contain queue]'],
    ["mapping weights", account({ limits: unlimited, mappings: { a: [{ subject: "b", weight: 60 }, { subject: "c", weight: 60 }] } }), `[Mapping "a" exceeds 100% among all of it's weighted to mappings]`],
    ["mapping weights wrap at 256 (uint8)", account({ limits: unlimited, mappings: { a: [{ subject: "b", weight: 200 }, { subject: "c", weight: 100 }] } }), "[]"],
    ["signing keys", account({ limits: unlimited, signing_keys: ["AXXX", { kind: "user_scope", key: "UXX", role: "r", template: {} }] }), '["AXXX" is not a valid account signing key UXX is not an account public key]'],
    ["info url", account({ limits: unlimited, info_url: "nohost" }), "[error parsing info url: no hostname or scheme]"],
    ["tiered limits blank tier", account({ limits: { ...unlimited, tiered_limits: { R1: { mem_storage: 1 }, "": {} } } }), '[Tiered JetStream Limits can not contain a blank "" tier name]'],
    ["expiry is not listed among the errors", account({ exports: [{ subject: "a b", type: "stream" }], limits: unlimited }, { exp: nowSeconds() - 10 }), '[subject "a b" cannot have spaces]'],
  ];
  for (const [name, { jwt }, want] of cases) test(name, () => expect(errorsOf(jwt)).toBe(want));

  test("an expired account is blocking only with time checks", () => {
    const { jwt } = account({ limits: unlimited }, { exp: nowSeconds() - 10 });
    const vr = validateClaims(decodeJwt(jwt), Date.now());
    expect(vr.isBlocking(false)).toBe(false);
    expect(vr.isBlocking(true)).toBe(true);
  });

  test("a self-signed account with limits gets a warning only", () => {
    const a = createAccount();
    const jwt = signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: a.getPublicKey(), nats: { type: "account", version: 2, limits: { conn: 5 } } }, a);
    const vr = validateClaims(decodeJwt(jwt), Date.now());
    expect(vr.isBlocking(true)).toBe(false);
    expect(vr.issues.map((i) => i.description)).toContain("self-signed account JWTs shouldn't contain operator limits");
  });

  test("imports with activation tokens", async () => {
    const importer = createAccount();
    const exporter = createAccount();
    const withToken = async (imp: Record<string, unknown>, token: string) =>
      signRaw({ iat: nowSeconds(), iss: op.getPublicKey(), sub: importer.getPublicKey(), nats: { type: "account", version: 2, limits: unlimited, imports: [{ ...imp, token }] } }, op);
    const good = await encodeActivation("t", importer, exporter, "service", { subject: "svc.*" });
    expect(errorsOf(await withToken({ subject: "svc.a", type: "service", account: exporter.getPublicKey() }, good))).toBe("[]");
    const wrong = await encodeActivation("t", createAccount(), exporter, "service", { subject: "svc.*" });
    expect(errorsOf(await withToken({ subject: "q.a", type: "stream", account: createAccount().getPublicKey() }, wrong))).toBe(
      '[activation token doesn\'t match account for import "q.a" activation token doesn\'t match account it is being included in, "q.a" mismatch between token import type service and type of import stream activation token import subject "svc.*" doesn\'t match import "q.a"]',
    );
    // The token's own expiry is not checked here (only when the export is used).
    const expired = await encodeActivation("t", importer, exporter, "service", { subject: "svc.a" }, { exp: nowSeconds() - 5 });
    expect(errorsOf(await withToken({ subject: "svc.a", type: "service", account: exporter.getPublicKey() }, expired))).toBe("[]");
  });
});

describe("user validation", () => {
  const a = createAccount();
  const user = (nats: Record<string, unknown>) => signRaw({ iat: nowSeconds(), iss: a.getPublicKey(), sub: createUser().getPublicKey(), nats: { type: "user", version: 2, ...nats } }, a);

  test("source networks, time windows and their zone", () => {
    expect(errorsOf(user({ src: ["10.0.0.0/8", "nope", "1.2.3.4"] }))).toBe('[invalid cidr "nope" in user src limits invalid cidr "1.2.3.4" in user src limits]');
    expect(errorsOf(user({ times: [{ start: "", end: "" }, { start: "25:00:00", end: "1:2:3" }] }))).toBe('[time ranges start must contain a start time ranges end must contain an end start in time range is invalid "25:00:00" end in time range is invalid "1:2:3"]');
    expect(errorsOf(user({ times_location: "Foo/Bar" }))).toBe("[could not parse iana time zone by name: unknown time zone Foo/Bar]");
    expect(errorsOf(user({ times_location: "America/New_York", times: [{ start: "9:00:00", end: "17:00:00.5" }] }))).toBe("[]");
  });

  test("permissions: queues only for subscriptions", () => {
    expect(errorsOf(user({ sub: { allow: ["foo q"] }, pub: { allow: ["foo"] } }))).toBe("[]");
    expect(errorsOf(user({ pub: { allow: ["foo q"] } }))).toBe('[Permission Subject "foo q" is not allowed to contain queue]');
    expect(errorsOf(user({ sub: { deny: [""] } }))).toBe("[subject cannot be empty]");
  });

  test("issuer_account must be an account key", () => {
    expect(errorsOf(user({ issuer_account: createUser().getPublicKey() }))).toBe("[account_id is not an account public key]");
  });
});

describe("operator validation", () => {
  test("urls, signing keys, system account", () => {
    const o = createOperator();
    const jwt = signRaw(
      {
        iat: nowSeconds(),
        iss: o.getPublicKey(),
        sub: o.getPublicKey(),
        nats: { type: "operator", version: 2, account_server_url: "localhost:9090", operator_service_urls: ["http://x:4222", "nats://u:p@x:4222", "nats://x:4222/path", "tls://x:4222"], signing_keys: [createAccount().getPublicKey()], system_account: "AXX" },
      },
      o,
    );
    const errors = validateClaims(decodeJwt(jwt), Date.now()).errors();
    expect(errors).toEqual([
      `operator service url "http://x:4222" - protocol not supported (only 'nats' or 'tls' only)`,
      `operator service url "nats://u:p@x:4222" - credentials are not supported`,
      `operator service url "nats://x:4222/path" - paths are not supported`,
      expect.stringMatching(/^A[A-Z2-7]{55} is not an operator public key$/),
      "AXX is not an account public key",
    ]);
  });
});
