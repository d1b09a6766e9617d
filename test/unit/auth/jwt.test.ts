// JWT decoding and the user-claim helpers: the reference's error texts, signature checks,
// validity times, source CIDRs, connection time windows, and permissions from claims.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { encodeAccount, encodeUser } from "@nats-io/jwt";
import { claimsTimeProblem, decodeClaims, JwtError, permissionsOfClaims, sourceAllowed, timesAllow } from "../../../src/auth/jwt.ts";

describe("decodeClaims", () => {
  test("verifies the issuer's signature and the claim type", async () => {
    const op = createOperator();
    const acc = createAccount();
    const jwt = await encodeAccount("A", acc, {}, { signer: op });
    const claims = decodeClaims<Record<string, unknown>>(jwt, "account");
    expect([claims.iss, claims.sub, claims.name]).toEqual([op.getPublicKey(), acc.getPublicKey(), "A"]);
    expect(() => decodeClaims(jwt, "user")).toThrow("not user claim");
    const [h, p, s] = jwt.split(".");
    const other = createOperator();
    const forged = `${h}.${p}.${Buffer.from(other.sign(new TextEncoder().encode(`${h}.${p}`))).toString("base64url")}`;
    expect(() => decodeClaims(forged)).toThrow("claim failed V2 signature verification");
    void s;
  });

  test("malformed tokens", () => {
    expect(() => decodeClaims("garbage")).toThrow("expected 3 chunks");
    expect(() => decodeClaims("a.b.c")).toThrow(JwtError);
  });

  test("fuzz: anything else throws a JwtError, never another error", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.base64String(), { maxLength: 4 }).map((a) => a.join("."))), (text) => {
        try {
          decodeClaims(text);
        } catch (e) {
          expect(e).toBeInstanceOf(JwtError);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("validity times", async () => {
    const acc = createAccount();
    const u = createUser();
    const now = Date.now();
    const expired = decodeClaims(await encodeUser("u", u, acc, {}, { exp: Math.floor(now / 1000) - 5 }));
    expect(claimsTimeProblem(expired, now)).toBe("claim is expired");
    const future = decodeClaims(await encodeUser("u", u, acc, {}, { nbf: Math.floor(now / 1000) + 60 }));
    expect(claimsTimeProblem(future, now)).toBe("claim is not yet valid");
    expect(claimsTimeProblem(decodeClaims(await encodeUser("u", u, acc, {})), now)).toBeNull();
  });
});

describe("user claims", () => {
  test("source CIDRs, IPv4 and IPv6", () => {
    expect(sourceAllowed(undefined, "1.2.3.4")).toBe(true);
    expect(sourceAllowed(["127.0.0.0/8"], "127.0.0.1")).toBe(true);
    expect(sourceAllowed("10.0.0.0/8, 192.168.1.0/24", "192.168.1.77")).toBe(true);
    expect(sourceAllowed(["10.0.0.0/8"], "127.0.0.1")).toBe(false);
    expect(sourceAllowed(["::1/128"], "::1")).toBe(true);
    expect(sourceAllowed(["2001:db8::/32"], "2001:db8:1::5")).toBe(true);
    expect(sourceAllowed(["127.0.0.1/32"], "::ffff:127.0.0.1")).toBe(true);
  });

  test("connection time windows", () => {
    const at = (h: number, m: number): number => Date.UTC(2026, 0, 1, h, m);
    const ranges = [{ start: "09:00:00", end: "17:00:00" }];
    expect(timesAllow(ranges, "UTC", at(10, 0))).toEqual({ allowed: true, validForMs: 7 * 3600_000 });
    expect(timesAllow(ranges, "UTC", at(18, 0)).allowed).toBe(false);
    expect(timesAllow([{ start: "22:00:00", end: "02:00:00" }], "UTC", at(1, 0)).allowed).toBe(true);
    expect(timesAllow(undefined, "UTC", at(1, 0))).toEqual({ allowed: true, validForMs: Infinity });
  });

  test("permissions from claims; allow_responses turns off the blanket publish allow", () => {
    expect(permissionsOfClaims({})).toBeNull();
    expect(permissionsOfClaims({ pub: { allow: [], deny: [] } })).toBeNull();
    expect(permissionsOfClaims({ pub: { allow: ["a"] }, sub: { deny: ["b"] } })).toEqual({
      publish: { allow: ["a"], deny: null },
      subscribe: { allow: null, deny: ["b"] },
      response: null,
    });
    expect(permissionsOfClaims({ resp: { max: 0, ttl: 0 } })).toEqual({ publish: { allow: [], deny: null }, subscribe: null, response: { maxMsgs: 1, expiresMs: 120_000 } });
  });
});
