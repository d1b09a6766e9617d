// Security options of the config file: users and permissions, accounts (exports, imports,
// mappings, jetstream, limits), operator mode keys, and the reference's error texts.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { encodeAccount, encodeOperator } from "@nats-io/jwt";
import { applyConfigMap, validateOptions } from "../../../src/config/conf_options.ts";
import { ConfigError, parseConfigText } from "../../../src/config/conf_parser.ts";
import { defaultOptions, type ServerOptions } from "../../../src/config/options.ts";

function apply(text: string): ServerOptions {
  const opts = defaultOptions();
  applyConfigMap(opts, parseConfigText(text, "c.conf", { env: {} }));
  return opts;
}

function applyError(text: string): string {
  try {
    apply(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("expected an error");
}

const NKEY = createUser().getPublicKey();

describe("users and permissions", () => {
  test("users, nkeys, permission forms, default permissions", () => {
    const o = apply(`authorization {
  users: [
    {user: a, password: pa, permissions: {publish: "x.>", subscribe: ["y", "z q"]}}
    {user: b, pass: pb, permissions: {pub: {allow: ["p"], deny: ["p.secret"]}, allow_responses: {max: 3, expires: "5s"}}}
    {nkey: ${NKEY}}
    {user: c, password: pc, allowed_connection_types: ["standard", "websocket"]}
  ]
  default_permissions: { subscribe: { deny: ">" } }
}`);
    expect(o.users.map((u) => u.user || u.nkey)).toEqual(["a", "b", NKEY, "c"]);
    expect(o.users[0].permissions).toEqual({ publish: { allow: ["x.>"], deny: null }, subscribe: { allow: ["y", "z q"], deny: null }, response: null });
    expect(o.users[1].permissions).toEqual({ publish: { allow: ["p"], deny: ["p.secret"] }, subscribe: null, response: { maxMsgs: 3, expiresMs: 5000 } });
    // Users without permissions get the defaults.
    expect(o.users[2].permissions).toEqual({ publish: null, subscribe: { allow: null, deny: [">"] }, response: null });
    expect(o.users[3].allowedConnectionTypes).toEqual(["STANDARD", "WEBSOCKET"]);
  });

  test("allow_responses: true is one response within two minutes and turns off the publish allow", () => {
    const o = apply("authorization { users: [ {user: a, password: b, permissions: {allow_responses: true}} ] }");
    expect(o.users[0].permissions).toEqual({ publish: { allow: [], deny: null }, subscribe: null, response: { maxMsgs: 1, expiresMs: 120_000 } });
  });

  test("the reference's errors", () => {
    expect(applyError("authorization { users: [ {password: x} ] }")).toBe("c.conf:1:26: User entry requires a user");
    expect(applyError('authorization { users: [ {nkey: "UNOTVALID"} ] }')).toBe("c.conf:1:27: Not a valid public nkey for a user");
    expect(applyError("authorization { users: [ {user: a, bogus: 1} ] }")).toBe('c.conf:1:36: unknown field "bogus"');
    expect(applyError("authorization { users: [ {user: a, permissions: {bad: 1}} ] }")).toBe('c.conf:1:50: Unknown field "bad" parsing permissions');
    expect(applyError("authorization { users: [ {user: a, permissions: {publish: {allow: x, nope: 1}}} ] }")).toBe(
      `c.conf:1:70: Unknown field name "nope" parsing subject permissions, only 'allow' or 'deny' are permitted`,
    );
    expect(applyError("authorization { user: a, password: b, users: [] }")).toBe("c.conf:1:1: Can not have a single user/pass and a users array");
  });

  test("validation: duplicate users, no_auth_user", () => {
    const dup = apply("authorization { users: [ {user: a, password: b}, {user: a, password: c} ] }");
    expect(validateOptions(dup)).toBe('Duplicate user "a" detected');
    const noAuth = apply("authorization { users: [ {user: a, password: b} ] }\nno_auth_user: zed");
    expect(validateOptions(noAuth)).toBe('no_auth_user: "zed" not present as user in authorization block or account configuration');
    expect(validateOptions(apply("authorization { users: [ {user: a, password: b} ] }\nno_auth_user: a"))).toBeNull();
  });
});

describe("accounts", () => {
  test("users, exports, imports, mappings, jetstream, limits", () => {
    const o = apply(`accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "s.>"}, {service: "svc", response: stream, threshold: "3s", accounts: [B]} ]
    jetstream: { max_mem: 1024, max_file: 2048, max_streams: 3, max_consumers: 4 }
    limits: { max_connections: 5, max_subscriptions: 6, max_payload: 7 }
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [ {stream: {account: A, subject: "s.>"}, prefix: "p"}, {service: {account: A, subject: "svc"}, to: "local"} ]
    mappings: { "m.*": "n.$1", "w": [ {destination: "w1", weight: 40%}, {destination: "w2", weight: 60} ] }
    jetstream: enabled
  }
  C: { jetstream: disabled }
}`);
    const [a, b, c] = o.accounts;
    expect(o.users.map((u) => [u.user, u.account])).toEqual([["a", "A"], ["b", "B"]]);
    expect(a.exports).toEqual([
      { kind: "stream", subject: "s.>", accounts: null, responseType: "Singleton", responseThresholdMs: 120_000 },
      { kind: "service", subject: "svc", accounts: ["B"], responseType: "Stream", responseThresholdMs: 3000 },
    ]);
    expect(a.jetstream).toEqual({ maxMemory: 1024, maxStore: 2048, maxStreams: 3, maxConsumers: 4 });
    expect(a.limits).toEqual({ maxConnections: 5, maxSubscriptions: 6, maxPayload: 7 });
    expect(b.imports).toEqual([
      { kind: "stream", account: "A", subject: "s.>", to: "", prefix: "p" },
      { kind: "service", account: "A", subject: "svc", to: "local", prefix: "" },
    ]);
    expect(b.mappings).toEqual([
      { source: "m.*", destinations: [{ subject: "n.$1", weight: 100, cluster: "" }] },
      { source: "w", destinations: [{ subject: "w1", weight: 40, cluster: "" }, { subject: "w2", weight: 60, cluster: "" }] },
    ]);
    expect(b.jetstream).toEqual({ maxMemory: -1, maxStore: -1, maxStreams: -1, maxConsumers: -1 });
    expect(c.jetstream).toBeNull();
  });

  test("imports must be exported to the account (the reference's errors)", () => {
    expect(applyError("accounts {\n A: { exports: [ {stream: s, accounts: [C]} ] }\n B: { imports: [ {stream: {account: A, subject: s}} ] }\n}")).toBe(
      'c.conf:1:0: Error adding stream import "s": stream import not authorized',
    );
    expect(applyError("accounts {\n B: { imports: [ {service: {account: Z, subject: s}} ] }\n}")).toBe('c.conf:1:1: "Z" account not defined for service import');
  });

  test("mapping weights over 100%", () => {
    expect(applyError('mappings { "w": [ {destination: a, weight: 70%}, {destination: b, weight: 40%} ] }')).toBe('c.conf:1:12: Mapping destination weights exceed 100% for "w"');
  });
});

describe("operator mode", () => {
  test("operator file, trusted keys, resolvers, preload; the reference's conflicts", async () => {
    const op = createOperator();
    const dir = mkdtempSync(join(tmpdir(), "nats-bun-conf-"));
    const file = join(dir, "op.jwt");
    writeFileSync(file, `-----BEGIN NATS OPERATOR JWT-----\n${await encodeOperator("OP", op)}\n------END NATS OPERATOR JWT------\n`);
    const o = apply(`operator: "${file}"\nresolver: { type: full, dir: "${dir}/jwt", allow_delete: true }\ntrusted_keys: ["${op.getPublicKey()}"]`);
    expect(o.operatorJwts).toHaveLength(1);
    expect(o.operatorJwts[0].split(".")).toHaveLength(3);
    expect(o.trustedKeys).toEqual([op.getPublicKey()]);
    expect(o.resolver).toEqual({ type: "full", dir: `${dir}/jwt`, allowDelete: true, hardDelete: false, limit: 0 });
    expect(apply(`operator: "${file}"\nresolver: MEMORY`).resolver?.type).toBe("memory");
    expect(validateOptions(apply(`operator: "${file}"\nresolver: MEMORY\nauthorization { users: [ {user: a, password: b} ] }`))).toBe("operators do not allow users to be configured directly");
    expect(validateOptions(apply(`operator: "${file}"\nresolver: MEMORY\naccounts { A: {} }`))).toBe("operators do not allow Accounts to be configured directly");
    expect(applyError(`operator: "/nonexistent.jwt"`)).toBe("c.conf:1:0: error parsing operator JWT: open /nonexistent.jwt: no such file or directory");
    expect(applyError(`trusted_keys: ["XYZ"]`)).toBe('c.conf:1:1: trust key "XYZ" required to be a valid public operator nkey');
  });

  test("texts of nats-server 2.9.10 for operators, resolvers and preloads (checked by starting it with each)", async () => {
    const op = createOperator();
    const sys = createAccount();
    const dir = mkdtempSync(join(tmpdir(), "nats-bun-conf-"));
    const file = join(dir, "op.jwt");
    writeFileSync(file, await encodeOperator("OP", op, { system_account: sys.getPublicKey() }));
    const noSys = join(dir, "nosys.jwt");
    writeFileSync(noSys, await encodeOperator("OP2", createOperator()));
    const account = await encodeAccount("A", createAccount(), {}, { signer: op });
    const resolverShape = 'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])';
    expect(applyError(`operator: ["${file}", "${noSys}"]`)).toBe("c.conf:1:0: error parsing operators: unsupported type []interface {}");
    expect(applyError(`resolver: FOO`)).toBe(`c.conf:1:1: ${resolverShape}`);
    expect(applyError(`resolver: { type: foo, dir: "${dir}/x" }`)).toBe(`c.conf:1:1: ${resolverShape}`);
    expect(applyError(`resolver: { type: full }`)).toBe("c.conf:1:1: dir has no value and needs to point to a directory");
    expect(applyError(`resolver_preload: { ${sys.getPublicKey()}: "garbage" }`)).toBe("c.conf:1:21: invalid account JWT");
    // Unknown keys of the resolver map are ignored; hard_delete is read (and changes nothing).
    expect(apply(`resolver: { type: full, dir: "${dir}/j", hard_delete: true, foo: 1 }`).resolver).toEqual({ type: "full", dir: `${dir}/j`, allowDelete: false, hardDelete: true, limit: 0 });
    // A preload's key is not checked here (the reference fails later, if at all).
    expect(apply(`resolver_preload: { FOO: "${account}" }`).resolverPreload.get("FOO")).toBe(account);
    const check = (text: string): string | null => validateOptions(apply(text));
    expect(check(`operator: "${file}"\ntrusted_keys: ["${op.getPublicKey()}"]\nresolver: MEMORY`)).toBe("conflicting options for 'TrustedKeys' and 'TrustedOperators'");
    expect(check(`operator: "${file}"\nsystem_account: ${createAccount().getPublicKey()}\nresolver: MEMORY`)).toBe("system_account in config and operator JWT must be identical");
    expect(check(`operator: "${noSys}"\nresolver: { type: full, dir: "${dir}/f" }`)).toBe("using nats based account resolver - the system account needs to be specified in configuration or the operator jwt");
    expect(check(`operator: "${file}"\nresolver_preload: { ${sys.getPublicKey()}: "${account}" }`)).toBe("resolver preloads only available for writeable resolver types MEM/DIR/CACHE_DIR");
    expect(check(`operator: "${file}"`)).toBe("operators require an account resolver to be configured");
    // Trusted keys alone are not checked further; a resolver without an operator is ignored.
    expect(check(`trusted_keys: ["${op.getPublicKey()}"]\nresolver: MEMORY\naccounts { A: {} }`)).toBeNull();
    expect(check(`resolver: MEMORY`)).toBeNull();
  });
});
