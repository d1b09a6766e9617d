// planReload: every option is either applied live or refused — none is silently ignored —
// with the reference's names and spellings.
import { describe, expect, test } from "bun:test";
import { defaultTlsOptions } from "../../../src/config/conf_tls.ts";
import { defaultOptions, type ServerOptions, type UserEntry } from "../../../src/config/options.ts";
import { planReload, reloadRuleFields } from "../../../src/config/reload.ts";

/** Options that are not configuration values (compared by other means or not at all). */
const notCompared = new Set(["configFile", "checkConfig", "explicit"]);

const user = (name: string, extra: Partial<UserEntry> = {}): UserEntry => ({ user: name, password: "p", nkey: "", permissions: null, account: "", allowedConnectionTypes: null, ...extra });

/** Default options with `key` given another value of its type. */
function changed(key: keyof ServerOptions): ServerOptions {
  const o = defaultOptions();
  const v = o[key];
  const set = (x: unknown): void => {
    (o as unknown as Record<string, unknown>)[key] = x;
  };
  if (key === "tls") set({ ...defaultTlsOptions(), cert: "C", key: "K" });
  else if (key === "resolver") set({ type: "memory", dir: "", allowDelete: false, hardDelete: false, limit: 0 });
  else if (key === "users") set([user("alice")]);
  else if (key === "accounts") set([{ name: "A", nkey: "", users: [], exports: [], imports: [], mappings: [], jetstream: null, defaultPermissions: null, limits: { maxConnections: -1, maxSubscriptions: -1, maxPayload: -1 } }]);
  else if (key === "mappings") set([{ source: "a", destinations: [{ subject: "b", weight: 100, cluster: "" }] }]);
  else if (key === "defaultPermissions") set({ publish: { allow: ["x"], deny: null }, subscribe: null, response: null });
  else if (key === "resolverPreload") set(new Map([["A", "jwt"]]));
  else if (Array.isArray(v)) set([...v, "x"]);
  else set(typeof v === "boolean" ? !v : typeof v === "number" ? v + 1 : `${String(v)}x`);
  return o;
}

const texts = (current: ServerOptions, next: ServerOptions): string[] | string => {
  const plan = planReload(current, next);
  return plan.ok ? plan.changes.map((c) => c.text) : plan.error;
};

describe("planReload", () => {
  test("every option is compared by some rule", () => {
    const covered = new Set(reloadRuleFields.flat());
    for (const key of Object.keys(defaultOptions())) {
      if (notCompared.has(key)) continue;
      expect({ key, covered: covered.has(key as keyof ServerOptions) }).toEqual({ key, covered: true });
    }
  });

  test("every option is either reloadable or refused", () => {
    for (const key of Object.keys(defaultOptions()) as (keyof ServerOptions)[]) {
      if (notCompared.has(key)) continue;
      const plan = planReload(defaultOptions(), changed(key));
      if (plan.ok) expect({ key, applied: plan.changes.some((c) => c.fields.includes(key)) }).toEqual({ key, applied: true });
      else expect(plan.error).toStartWith("config reload ");
    }
  });

  test("users and accounts are reloaded every time, as the reference compares them by pointer", () => {
    expect(texts(defaultOptions(), defaultOptions())).toEqual(["Reloaded: authorization users", "Reloaded: accounts"]);
  });

  test("the reference's wording and order", () => {
    const next = defaultOptions();
    next.port = 5000;
    expect(planReload(defaultOptions(), next)).toEqual({ ok: false, error: "config reload not supported for Port: old=4222, new=5000" });
    const ld = defaultOptions();
    ld.lameDuckDurationMs = 40_000;
    expect(planReload(defaultOptions(), ld)).toEqual({ ok: false, error: "config reload not supported for LameDuckDuration: old=2m0s, new=40s" });
    const live = defaultOptions();
    live.pingIntervalMs = 60_000;
    live.debug = true;
    live.password = "secret";
    live.maxConnections = 10;
    expect(texts(defaultOptions(), live)).toEqual([
      "Reloaded: debug = true",
      "Reloaded: max_connections = 10",
      "Reloaded: authorization users",
      "Reloaded: accounts",
      "Reloaded: authorization password",
      "Reloaded: ping_interval = 1m0s",
    ]);
  });

  test("TLS: timeout, certificate settings, pinned certificates; verify_and_map refused", () => {
    const plain = defaultOptions();
    const tls = defaultOptions();
    tls.tls = { ...defaultTlsOptions(), cert: "C1", key: "K1", certFile: "/a.pem", keyFile: "/a.key" };
    // Enabling TLS also moves the authorization timeout to the TLS timeout plus a second.
    expect(texts(plain, tls)).toEqual(["Reloaded: authorization users", "Reloaded: accounts", "Reloaded: authorization timeout = 3", "Reloaded: tls = enabled"]);
    // The same certificate from other paths is no change (the reference compares what it loaded).
    const moved = defaultOptions();
    moved.tls = { ...tls.tls, certFile: "/b.pem", keyFile: "/b.key" };
    expect(texts(tls, moved)).toEqual(["Reloaded: authorization users", "Reloaded: accounts"]);
    const rotated = defaultOptions();
    rotated.tls = { ...tls.tls, cert: "C2", timeoutMs: 500, pinnedCerts: ["ab"] };
    expect(texts(tls, rotated)).toEqual([
      "Reloaded: authorization users",
      "Reloaded: accounts",
      "Reloaded: authorization timeout = 1.5",
      "Reloaded: tls timeout = 0.5",
      "Reloaded: tls = enabled",
      "Reloaded: 1 pinned_certs",
    ]);
    expect(texts(rotated, plain)).toContain("Reloaded: tls = disabled");
    const mapped = defaultOptions();
    mapped.tls = { ...tls.tls, verify: true, verifyAndMap: true };
    expect(texts(tls, mapped)).toBe("config reload not supported for TLSMap: old=false, new=true");
  });

  test("nkey users: by content in the global account, changed every time in a configured one", () => {
    const nkey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
    const global = defaultOptions();
    global.users = [user("", { password: "", nkey })];
    const again = defaultOptions();
    again.users = [user("", { password: "", nkey })];
    expect(texts(global, again)).toEqual(["Reloaded: authorization users", "Reloaded: accounts"]);
    const inAccount = defaultOptions();
    inAccount.users = [user("", { password: "", nkey, account: "A" })];
    expect(texts(inAccount, inAccount)).toEqual(["Reloaded: authorization nkey users", "Reloaded: authorization users", "Reloaded: accounts"]);
  });

  test("no_auth_user: refused, unless removed together with its user", () => {
    const withA = defaultOptions();
    withA.users = [user("a"), user("n")];
    withA.noAuthUser = "a";
    const toN = defaultOptions();
    toN.users = [user("a"), user("n")];
    toN.noAuthUser = "n";
    expect(texts(withA, toN)).toBe("config reload not supported for NoAuthUser: old=a, new=n");
    const keepUser = defaultOptions();
    keepUser.users = [user("a"), user("n")];
    expect(texts(withA, keepUser)).toBe("config reload not supported for NoAuthUser: old=a, new=");
    const dropUser = defaultOptions();
    dropUser.users = [user("n")];
    expect(texts(withA, dropUser)).toEqual(["Reloaded: authorization users", "Reloaded: accounts"]);
    expect(texts(dropUser, withA)).toBe("config reload not supported for NoAuthUser: old=, new=a");
  });

  test("system account and operator settings are refused", () => {
    const sys = defaultOptions();
    sys.systemAccount = "X";
    expect(texts(defaultOptions(), sys)).toBe("config reload not supported for SystemAccount: old=, new=X");
    const resolver = changed("resolver");
    expect(texts(defaultOptions(), resolver)).toBe("config reload does not support moving to or from an account resolver");
    // An unchanged resolver is "changed" in the reference too (compared by pointer).
    expect(texts(resolver, changed("resolver"))).toEqual(["Reloaded: authorization users", "Reloaded: accounts", "Reloaded: accounts"]);
  });
});
