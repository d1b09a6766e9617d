// Operator-mode configuration: the `operator`, `trusted_keys`, `system_account`, `resolver`
// and `resolver_preload` options and creds files, with the texts nats-server 2.9.10 prints
// for the same configurations (`nats-server -c` / `-t`).
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { decodeOperatorClaims } from "../../../../src/auth/jwt/decode.ts";
import {
  checkOperatorMode,
  durationMs,
  operatorResolverKeys,
  operatorValues,
  parseCreds,
  parseDecoratedJwt,
  parseResolverConfig,
  parseResolverPreload,
  parseTrustedKeys,
  preloadWarnings,
  readOperatorJwt,
  systemAccountOf,
  trustFromOperators,
  type OperatorModeOptions,
} from "../../../../src/auth/jwt/operator_config.ts";
import { createAccount, createOperator, makeOperator, nowSeconds, tempDir, unlimited } from "./helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const env = await makeOperator();
const opClaims = decodeOperatorClaims(env.jwt);

describe("the operator option", () => {
  test("a file (with its newline), a decorated file, the JWT inline", () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const plain = join(t.dir, "op.jwt");
    writeFileSync(plain, `${env.jwt}\n`);
    const decorated = join(t.dir, "op_dec.jwt");
    writeFileSync(decorated, `-----BEGIN NATS OPERATOR JWT-----\n${env.jwt}\n------END NATS OPERATOR JWT------\n`);
    expect(readOperatorJwt(plain).claims.sub).toBe(env.op.getPublicKey());
    expect(readOperatorJwt(plain).jwt).toBe(`${env.jwt}\n`);
    expect(readOperatorJwt(decorated).jwt).toBe(env.jwt);
    expect(readOperatorJwt(env.jwt).claims.nats.system_account).toBe(env.sys.getPublicKey());
  });

  test("refusals", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const missing = join(t.dir, "nope.jwt");
    expect(() => readOperatorJwt(missing)).toThrow(`error parsing operator JWT: open ${missing}: no such file or directory`);
    const garbage = join(t.dir, "garbage.jwt");
    writeFileSync(garbage, "garbage");
    expect(() => readOperatorJwt(garbage)).toThrow("error parsing operator JWT: expected 3 chunks");
    const account = join(t.dir, "acc.jwt");
    writeFileSync(account, await encodeAccount("A", createAccount(), {}, { signer: env.op }));
    expect(() => readOperatorJwt(account)).toThrow("error parsing operator JWT: not operator claim");
    expect(() => readOperatorJwt(t.dir)).toThrow(`error parsing operator JWT: read ${t.dir}: is a directory`);
    expect(() => operatorValues(["a", "b"])).toThrow("error parsing operators: unsupported type []interface {}");
    expect(operatorValues("x")).toEqual(["x"]);
  });

  test("decorated contents", () => {
    expect(parseDecoratedJwt("eyJabc.def.ghi")).toBe("eyJabc.def.ghi");
    expect(parseDecoratedJwt("---- X ----\r\neyJabc.def.ghi\r\n---- Y ----")).toBe("eyJabc.def.ghi");
  });
});

describe("trusted keys and trust anchors", () => {
  test("trusted_keys: one key or a list, operator keys only", () => {
    const k = createOperator().getPublicKey();
    expect(parseTrustedKeys(k)).toEqual([k]);
    expect(parseTrustedKeys([k, env.op.getPublicKey()])).toEqual([k, env.op.getPublicKey()]);
    expect(() => parseTrustedKeys(["ABC"])).toThrow('trust key "ABC" required to be a valid public operator nkey');
    const acc = createAccount().getPublicKey();
    expect(() => parseTrustedKeys(acc)).toThrow(`trust key "${acc}" required to be a valid public operator nkey`);
  });

  test("anchors: operator identities and signing keys, or the trusted keys", () => {
    const t = trustFromOperators([opClaims]);
    expect([...t.keys].sort()).toEqual([env.op.getPublicKey(), env.signingKey.getPublicKey()].sort());
    const k = createOperator().getPublicKey();
    expect([...trustFromOperators([], [k]).keys]).toEqual([k]);
    expect(operatorResolverKeys(opClaims)).toEqual({ operatorKey: env.op.getPublicKey(), keys: new Set([env.signingKey.getPublicKey(), env.op.getPublicKey()]), strict: false });
  });
});

describe("resolver options", () => {
  test("MEMORY, URL, full and cache", () => {
    expect(parseResolverConfig("MEMORY")).toEqual({ type: "memory" });
    expect(parseResolverConfig("memory")).toEqual({ type: "memory" });
    expect(parseResolverConfig("MEM")).toEqual({ type: "memory" });
    expect(parseResolverConfig('URL("http://127.0.0.1:9090/jwt/v1/accounts/")')).toEqual({ type: "url", url: "http://127.0.0.1:9090/jwt/v1/accounts/" });
    expect(parseResolverConfig({ type: "full", dir: "./jwt" })).toEqual({ type: "full", dir: "./jwt", deleteMode: "none", hardDelete: false, limit: 0, intervalMs: 60_000, timeoutMs: 1_900, ttlMs: 0 });
    expect(parseResolverConfig({ type: "full", dir: "/j", allow_delete: true, hard_delete: true, interval: "2m", timeout: "1.5s", limit: 5 })).toEqual({
      type: "full",
      dir: "/j",
      deleteMode: "rename",
      hardDelete: true,
      limit: 5,
      intervalMs: 120_000,
      timeoutMs: 1_500,
      ttlMs: 0,
    });
    expect(parseResolverConfig({ type: "CACHE", dir: "/c", ttl: "1h" })).toMatchObject({ type: "cache", limit: 1000, ttlMs: 3_600_000 });
    const shape = 'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])';
    expect(() => parseResolverConfig({ type: "fulll", dir: "/x" })).toThrow(shape);
    expect(() => parseResolverConfig("DIR")).toThrow(shape);
    expect(() => parseResolverConfig({ type: "full" })).toThrow("dir has no value and needs to point to a directory");
  });

  test("durations", () => {
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("250ms")).toBe(250);
    expect(durationMs("0")).toBe(0);
    expect(durationMs(3)).toBe(3000);
    expect(durationMs("3")).toBeNull();
    expect(durationMs("x")).toBeNull();
  });

  test("preloads", async () => {
    const a = createAccount();
    const good = await encodeAccount("A", a, { limits: unlimited } as never, { signer: env.op });
    expect(parseResolverPreload({ [a.getPublicKey()]: good })).toEqual(new Map([[a.getPublicKey(), good]]));
    expect(() => parseResolverPreload(5)).toThrow("preload should be a map of account_public_key:account_jwt");
    expect(() => parseResolverPreload({ A: 5 })).toThrow("preload map value should be a string JWT");
    expect(() => parseResolverPreload({ A: "garbage" })).toThrow("invalid account JWT");
    expect(preloadWarnings(a.getPublicKey(), good, Date.now())).toEqual([]);
    const expired = await encodeAccount("A", a, { limits: unlimited } as never, { signer: env.op, exp: nowSeconds() - 5 });
    expect(preloadWarnings(a.getPublicKey(), expired, Date.now())).toEqual([`Account [${a.getPublicKey()}] has validation issues:`, "  - claim is expired"]);
  });
});

describe("operator mode checks", () => {
  const base: OperatorModeOptions = { operators: [opClaims], trustedKeys: [], resolver: { type: "memory" }, hasAccounts: false, hasUsers: false, systemAccount: "" };
  test("each refusal, as the reference prints it", async () => {
    expect(checkOperatorMode(base)).toBeNull();
    expect(checkOperatorMode({ ...base, operators: [] })).toBeNull();
    expect(checkOperatorMode({ ...base, resolver: null })).toBe("operators require an account resolver to be configured");
    expect(checkOperatorMode({ ...base, hasAccounts: true })).toBe("operators do not allow Accounts to be configured directly");
    expect(checkOperatorMode({ ...base, hasUsers: true })).toBe("operators do not allow users to be configured directly");
    expect(checkOperatorMode({ ...base, trustedKeys: [createOperator().getPublicKey()] })).toBe("conflicting options for 'TrustedKeys' and 'TrustedOperators'");
    expect(checkOperatorMode({ ...base, systemAccount: createAccount().getPublicKey() })).toBe("system_account in config and operator JWT must be identical");
    expect(checkOperatorMode({ ...base, systemAccount: env.sys.getPublicKey() })).toBeNull();
    const noSys = decodeOperatorClaims(await encodeOperator("O", createOperator()));
    const full = parseResolverConfig({ type: "full", dir: "/j" });
    expect(checkOperatorMode({ ...base, operators: [noSys], resolver: full })).toBe("using nats based account resolver - the system account needs to be specified in configuration or the operator jwt");
    expect(checkOperatorMode({ ...base, operators: [noSys], resolver: full, systemAccount: env.sys.getPublicKey() })).toBeNull();
    expect(systemAccountOf(base)).toBe(env.sys.getPublicKey());
    expect(systemAccountOf({ operators: [noSys], systemAccount: "" })).toBe("");
  });
});

describe("creds files", () => {
  test("the official format, and refusals", async () => {
    const a = createAccount();
    const u = createUser();
    const jwt = await encodeUser("u", u, a);
    const creds = new TextDecoder().decode(fmtCreds(jwt, u));
    expect(parseCreds(creds)).toEqual({ jwt, seed: new TextDecoder().decode(u.getSeed()) });
    expect(() => parseCreds("nothing here")).toThrow("no user jwt found in creds");
    expect(() => parseCreds(`-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n`)).toThrow("no nkey seed found");
    const accountSeed = new TextDecoder().decode(a.getSeed());
    expect(() => parseCreds(`-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${accountSeed}\n------END USER NKEY SEED------\n`)).toThrow("nkeys: not a valid user seed");
    // An undecorated seed line is found by its prefix.
    const seed = new TextDecoder().decode(u.getSeed());
    expect(parseCreds(`-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n${seed}\n`).seed).toBe(seed);
  });
});
