// Live reload of the security configuration on the compiled binary, with the official client
// where a user would see it: permissions change under connected clients (a subscription no
// longer allowed is removed with the reference's -ERR, publishes follow the new permissions at
// once), users moved to another account or removed are disconnected, accounts with service
// imports, mappings and JetStream limits appear and change without reconnecting, and the TLS
// certificate is rotated for new connections. Where cheap, the same reloads run against the
// reference nats-server 2.9.10 and must give the same outcome and log lines.
import { afterEach, describe, expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ConnectionOptions, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { createUser } from "@nats-io/nkeys";
import { hasOpenssl, makePki } from "../harness/certs.ts";
import { countOf, waitUntil } from "../harness/protocol.ts";
import { RawClient } from "../harness/raw.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

const running: RunningServer[] = [];
const conns: NatsConnection[] = [];
const raws: RawClient[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  for (const r of raws) r.close();
  await Promise.all(running.map((s) => s.stop()));
  for (const f of cleanups.splice(0)) f();
  conns.length = 0;
  raws.length = 0;
  running.length = 0;
});

async function start(config: string, binary?: string): Promise<RunningServer> {
  const s = await startServer({ config, binary });
  running.push(s);
  return s;
}

/**
 * Rewrites the config file and sends SIGHUP; resolves when the server logged the outcome:
 * "ok", or its `Failed to reload server configuration: …` reason.
 */
async function reload(s: RunningServer, config: string): Promise<string> {
  const ok = countOf(s.logs(), "Reloaded server configuration");
  const failed = countOf(s.logs(), "Failed to reload server configuration: ");
  writeFileSync(s.configFile!, config);
  s.proc.kill("SIGHUP");
  await waitUntil(() => countOf(s.logs(), "Reloaded server configuration") > ok || countOf(s.logs(), "Failed to reload server configuration: ") > failed, `the reload to be logged:\n${s.logs()}`, 5_000);
  if (countOf(s.logs(), "Reloaded server configuration") > ok) return "ok";
  const lines = s.logs().split("\n").filter((l) => l.includes("Failed to reload server configuration: "));
  return lines[lines.length - 1].replace(/^.*Failed to reload server configuration: /, "");
}

async function as(s: RunningServer, opts: Partial<ConnectionOptions>): Promise<NatsConnection> {
  const nc = await connect({ servers: s.url, reconnect: false, timeout: 3_000, ...opts });
  conns.push(nc);
  return nc;
}

async function raw(s: RunningServer, connect: Record<string, unknown>): Promise<RawClient> {
  const c = await RawClient.connect(s.port);
  raws.push(c);
  c.write(`CONNECT ${JSON.stringify({ verbose: false, protocol: 1, ...connect })}\r\nPING\r\n`);
  await waitUntil(() => c.buffered.includes("PONG\r\n") || c.closed, "PONG or close");
  return c;
}

/** Sends a PING and waits for its PONG (or the close): everything before it has been handled. */
async function sync(c: RawClient): Promise<void> {
  const pongs = countOf(c.buffered, "PONG\r\n");
  c.write("PING\r\n");
  await waitUntil(() => countOf(c.buffered, "PONG\r\n") > pongs || c.closed, "PONG");
}

/** What the server sent after its INFO line. */
const afterInfo = (c: RawClient): string => c.buffered.replace(/^INFO .*\r\n/, "");

/** Log lines containing `pattern`, without the pid/time prefix. */
function logLines(s: RunningServer, pattern: RegExp): string[] {
  return s
    .logs()
    .split("\n")
    .map((l) => l.replace(/^\[\d+\] \S+ \S+ /, ""))
    .filter((l) => pattern.test(l));
}

describe("permissions change under connected clients", () => {
  const users = (alice: string): string => `authorization { users: [ {user: alice, password: a, permissions: ${alice}}, {user: bob, password: b} ] }\n`;
  const before = `{ publish: ["orders.>"], subscribe: ["orders.>", "audit"] }`;
  const after = `{ publish: { allow: ["audit.>", "reports"], deny: ["orders.>"] }, subscribe: ["audit"] }`;

  test("a subscription no longer allowed is removed with the reference's -ERR; publishes follow the new permissions", async () => {
    const s = await start(users(before));
    const alice = await as(s, { user: "alice", pass: "a" });
    const bob = await as(s, { user: "bob", pass: "b" });
    const errors: string[] = [];
    void (async () => {
      for await (const st of alice.status()) if (st.type === "error") errors.push(st.error.message);
    })();
    const orders = alice.subscribe("orders.new");
    const audit = alice.subscribe("audit");
    await alice.flush();
    const ordersClosed = orders.closed;

    expect(await reload(s, users(after))).toBe("ok");
    // The client learns it lost the subscription: nats.js closes it with the server's error.
    const why = await Promise.race([ordersClosed, Bun.sleep(3_000).then(() => "timeout")]);
    expect(String(why)).toContain('Permissions Violation for Subscription to "orders.new" (sid "1")');
    expect(orders.isClosed()).toBe(true);
    expect(logLines(s, /Removed sub/)).toEqual(['[INF] Removed sub "orders.new" (sid "1") for User "alice" - not authorized']);

    // Still allowed: the audit subscription receives; the removed one gets nothing more.
    bob.publish("audit", "kept");
    bob.publish("orders.new", "gone");
    const got = await next(audit);
    expect(got).toBe("kept");

    // Publishing: newly denied is refused at once, newly allowed goes through.
    const seen: string[] = [];
    bob.subscribe(">", {
      callback: (_e, m) => {
        seen.push(`${m.subject}:${m.string()}`);
      },
    });
    await bob.flush();
    alice.publish("orders.x", "denied");
    alice.publish("reports", "allowed");
    await alice.flush();
    await waitUntil(() => seen.includes("reports:allowed"), "the allowed publish to arrive");
    await waitUntil(() => errors.some((e) => e.includes('Permissions Violation for Publish to "orders.x"')), "the publish violation");
    expect(seen.filter((m) => m.startsWith("orders."))).toEqual([]);
    expect(alice.isClosed()).toBe(false);
  });

  test.skipIf(referenceBinary === null)("the same -ERR lines and logs as the reference (raw protocol)", async () => {
    const run = async (binary?: string): Promise<{ alice: string[]; removed: string[]; delivered: string }> => {
      const s = await start(users(`{ subscribe: ["foo.>", "bar", "q.*"] }`), binary);
      const alice = await raw(s, { user: "alice", pass: "a" });
      const bob = await raw(s, { user: "bob", pass: "b" });
      alice.write("SUB foo.x 1\r\nSUB bar 2\r\nSUB q.1 grp 3\r\nSUB foo.> 4\r\n");
      await sync(alice);
      expect(await reload(s, users(`{ subscribe: { allow: ["bar", "foo.y"], deny: ["foo.z"] } }`))).toBe("ok");
      await sync(alice);
      bob.write("PUB foo.x 1\r\n1\r\nPUB bar 1\r\n2\r\nPUB q.1 1\r\n3\r\n");
      await sync(bob);
      await sync(alice);
      // The reference removes in map order: compare the removals as sets.
      const lines = afterInfo(alice).split("\r\n").filter((l) => l !== "" && l !== "PONG");
      return { alice: lines.sort(), removed: logLines(s, /Removed sub/).sort(), delivered: lines.filter((l) => l.startsWith("MSG")).join() };
    };
    const [ours, ref] = await Promise.all([run(), run(referenceBinary!)]);
    expect(ours).toEqual(ref);
    expect(ours.alice).toContain(`-ERR 'Permissions Violation for Subscription to "q.1" (sid "3")'`);
  });
});

async function next(sub: Subscription): Promise<string> {
  const it = sub[Symbol.asyncIterator]();
  const r = await Promise.race([it.next(), Bun.sleep(3_000).then(() => null)]);
  if (r === null || r.done === true) throw new Error(`no message on ${sub.getSubject()}`);
  return r.value.string();
}

describe("accounts change under connected clients", () => {
  const v1 = `accounts {
  A { users: [ {user: a1, password: p}, {user: a2, password: p}, {user: a3, password: p}, {user: a4, password: p} ] }
  B { users: [ {user: b1, password: p} ] }
  C { users: [ {user: c1, password: p} ] }
}
`;
  // a2 moves to B, a3 is removed, a4's password changes, C goes away; D is new, exporting a
  // service that A now imports.
  const v2 = `accounts {
  A { users: [ {user: a1, password: p}, {user: a4, password: q} ], imports: [ {service: {account: D, subject: "svc.>"}} ] }
  B { users: [ {user: b1, password: p}, {user: a2, password: p} ] }
  D { users: [ {user: d1, password: p} ], exports: [ {service: "svc.>"} ] }
}
`;

  const outcomes = async (binary?: string): Promise<Record<string, string>> => {
    const s = await start(v1, binary);
    const clients: Record<string, RawClient> = {};
    for (const u of ["a1", "a2", "a3", "a4", "b1", "c1"]) clients[u] = await raw(s, { user: u, pass: "p", name: u });
    expect(await reload(s, v2)).toBe("ok");
    const out: Record<string, string> = {};
    for (const [u, c] of Object.entries(clients)) {
      await sync(c);
      if (!c.closed) await c.waitClosed(200).catch(() => undefined);
      out[u] = `${c.closed ? "closed" : "open"} ${JSON.stringify(afterInfo(c).replaceAll("PONG\r\n", ""))}`;
    }
    return out;
  };

  test("moved or removed users are disconnected; a changed password is an Authorization Violation; the others stay", async () => {
    expect(await outcomes()).toEqual({
      a1: 'open ""',
      a2: 'closed ""',
      a3: 'closed ""',
      a4: `closed "-ERR 'Authorization Violation'\\r\\n"`,
      b1: 'open ""',
      c1: 'closed ""',
    });
  });

  test.skipIf(referenceBinary === null)("the same outcome as the reference", async () => {
    const [ours, ref] = await Promise.all([outcomes(), outcomes(referenceBinary!)]);
    expect(ours).toEqual(ref);
  });

  test("a new account's service import, new mappings and a moved user work without reconnecting", async () => {
    const s = await start(v1);
    const a1 = await as(s, { user: "a1", pass: "p" });
    const b1 = await as(s, { user: "b1", pass: "p" });
    const a2 = await as(s, { user: "a2", pass: "p", reconnect: true, maxReconnectAttempts: 20, reconnectTimeWait: 50 });
    let reconnected = false;
    void (async () => {
      for await (const st of a2.status()) if (st.type === "reconnect") reconnected = true;
    })();
    // Before: no responders for the service A will import.
    await expect(a1.request("svc.echo", "x", { timeout: 1_000 })).rejects.toThrow();

    const withMapping = v2.replace("A { users", 'A { mappings: { "old.*": "new.$1" }, users');
    expect(await reload(s, withMapping)).toBe("ok");
    // D is new: its user connects and serves what A imports, and a1 asks on its connection.
    const d1 = await as(s, { user: "d1", pass: "p" });
    d1.subscribe("svc.>", {
      callback: (_e, m) => {
        m.respond(`echo ${m.subject} ${m.string()}`);
      },
    });
    await d1.flush();
    expect((await a1.request("svc.echo", "hi", { timeout: 2_000 })).string()).toBe("echo svc.echo hi");
    // A's new mapping applies to what a1 publishes now.
    const mapped = a1.subscribe("new.>", { max: 1 });
    await a1.flush();
    a1.publish("old.x", "m");
    expect(await next(mapped)).toBe("m");
    // a2 was closed (moved to B) and its client reconnected into B: it now shares b1's subjects.
    await waitUntil(() => reconnected, "a2 to reconnect", 5_000);
    const inB = b1.subscribe("in.b", { max: 1 });
    await b1.flush();
    a2.publish("in.b", "moved");
    expect(await next(inB)).toBe("moved");
  });

  test("top-level mappings reload for the global account", async () => {
    const s = await start(`mappings: { "in": "out.one" }\n`);
    const nc = await as(s, {});
    const one = nc.subscribe("out.one", { max: 1 });
    const two = nc.subscribe("out.two", { max: 1 });
    await nc.flush();
    nc.publish("in", "1");
    expect(await next(one)).toBe("1");
    expect(await reload(s, `mappings: { "in": "out.two" }\n`)).toBe("ok");
    nc.publish("in", "2");
    expect(await next(two)).toBe("2");
  });

  test("a bad mapping refuses the reload and keeps the running configuration", async () => {
    const s = await start(`mappings: { "in": "out" }\n`);
    expect(await reload(s, `mappings: { "in.*": "out.$2" }\n`)).toStartWith('mapping "in.*": ');
    const nc = await as(s, {});
    const out = nc.subscribe("out", { max: 1 });
    await nc.flush();
    nc.publish("in", "still");
    expect(await next(out)).toBe("still");
  });
});

describe("account JetStream limits", () => {
  test("limits change, JetStream is enabled for a new account and disabled for a removed setting", async () => {
    const store = mkdtempSync(join(tmpdir(), "nats-bun-reload-js-"));
    cleanups.push(() => rmSync(store, { recursive: true, force: true }));
    const conf = (a: string, more = ""): string => `jetstream { store_dir: "${store}" }\naccounts { A { ${a}\n users: [ {user: a, password: p} ] } ${more} }\n`;
    const s = await start(conf("jetstream: { max_streams: 1 }"));
    const a = await as(s, { user: "a", pass: "p" });
    const jsm = await jetstreamManager(a);
    await jsm.streams.add({ name: "one", subjects: ["one"] });
    await expect(jsm.streams.add({ name: "two", subjects: ["two"] })).rejects.toThrow("maximum number of streams reached");

    expect(await reload(s, conf("jetstream: { max_streams: 3, max_mem: 1M }", "\nB { jetstream: enabled, users: [ {user: b, password: p} ] }"))).toBe("ok");
    const info = await jsm.getAccountInfo();
    expect([info.limits.max_streams, info.limits.max_memory]).toEqual([3, 1_000_000]);
    await jsm.streams.add({ name: "two", subjects: ["two"] });
    const b = await as(s, { user: "b", pass: "p" });
    expect((await (await jetstreamManager(b)).getAccountInfo()).streams).toBe(0);

    expect(await reload(s, conf("", "\nB { jetstream: enabled, users: [ {user: b, password: p} ] }"))).toBe("ok");
    await expect(jsm.getAccountInfo()).rejects.toThrow("JetStream not enabled for account");
    expect(await reload(s, conf("jetstream: { max_streams: 1 }", "\nB { jetstream: enabled, users: [ {user: b, password: p} ] }"))).toBe("ok");
    // Enabled again: its streams are recovered (over the new limit, as in the reference).
    expect((await jsm.getAccountInfo()).streams).toBe(2);
    expect(a.isClosed()).toBe(false);
  });
});

describe("users, no_auth_user and nkeys", () => {
  test("no_auth_user cannot change, but goes with its user; its clients are then disconnected", async () => {
    const conf = (body: string): string => `authorization { users: [ ${body} ] }\n`;
    const s = await start(conf("{user: guest, password: g}, {user: n, password: p}") + "no_auth_user: guest\n");
    const guest = await raw(s, {});
    expect(await reload(s, conf("{user: guest, password: g}, {user: n, password: p}") + "no_auth_user: n\n")).toBe("config reload not supported for NoAuthUser: old=guest, new=n");
    expect(await reload(s, conf("{user: guest, password: g}, {user: n, password: p}"))).toBe("config reload not supported for NoAuthUser: old=guest, new=");
    await sync(guest);
    expect(guest.closed).toBe(false);
    expect(await reload(s, conf("{user: n, password: p}"))).toBe("ok");
    await guest.waitClosed(3_000);
    expect(afterInfo(guest).replaceAll("PONG\r\n", "")).toBe("");
  });

  test("an nkey user whose permissions change loses the subscriptions no longer allowed", async () => {
    const kp = createUser();
    const conf = (sub: string): string => `authorization { users: [ {nkey: ${kp.getPublicKey()}, permissions: { subscribe: ${sub} } } ] }\n`;
    const s = await start(conf(`["a", "b"]`));
    const { nkeyAuthenticator } = await import("@nats-io/transport-node");
    const nc = await as(s, { authenticator: nkeyAuthenticator(kp.getSeed()) });
    const a = nc.subscribe("a");
    const b = nc.subscribe("b");
    await nc.flush();
    expect(await reload(s, conf(`["b"]`))).toBe("ok");
    expect(String(await a.closed)).toContain('Permissions Violation for Subscription to "a" (sid "1")');
    expect(logLines(s, /Removed sub/)).toEqual([`[INF] Removed sub "a" (sid "1") for Nkey "${kp.getPublicKey()}" - not authorized`]);
    expect(b.isClosed()).toBe(false);
  });
});

(hasOpenssl ? describe : describe.skip)("TLS", () => {
  test("a rotated certificate is served to new connections; existing ones keep their session", async () => {
    const first = makePki();
    const second = makePki();
    // The server's certificate files are rewritten in place, as a certificate rotation does.
    const cert = `${first.dir}/live.pem`;
    const key = `${first.dir}/live-key.pem`;
    writeFileSync(cert, first.read(first.server.cert));
    writeFileSync(key, first.read(first.server.key));
    const conf = `tls { cert_file: "${cert}", key_file: "${key}" }\n`;
    const s = await start(conf);
    const old = await as(s, { tls: { ca: first.read(first.ca) } });
    writeFileSync(cert, second.read(second.server.cert));
    writeFileSync(key, second.read(second.server.key));
    expect(await reload(s, conf)).toBe("ok");
    expect(logLines(s, /Reloaded: tls/)).toEqual(["[INF] Reloaded: tls = enabled"]);
    const fresh = await as(s, { tls: { ca: second.read(second.ca) } });
    await expect(as(s, { tls: { ca: first.read(first.ca) } })).rejects.toThrow();
    // The connection made before the rotation goes on.
    const sub = fresh.subscribe("rotated", { max: 1 });
    await fresh.flush();
    old.publish("rotated", "still here");
    expect(await next(sub)).toBe("still here");
  });

  test("TLS enabled and disabled for new connections; a plain client stays connected", async () => {
    const pki = makePki();
    const s = await start("");
    const plain = await raw(s, {});
    expect(await reload(s, `tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}" }\n`)).toBe("ok");
    const info = await RawClient.connect(s.port);
    raws.push(info);
    expect(JSON.parse((await info.readLine()).slice(5)).tls_required).toBe(true);
    const secure = await as(s, { tls: { ca: pki.read(pki.ca) } });
    await secure.flush();
    expect(await reload(s, "")).toBe("ok");
    await as(s, {});
    await sync(plain);
    expect(plain.closed).toBe(false);
    expect(logLines(s, /Reloaded: (tls|authorization timeout)/)).toEqual([
      "[INF] Reloaded: authorization timeout = 3",
      "[INF] Reloaded: tls = enabled",
      "[INF] Reloaded: authorization timeout = 2",
      "[INF] Reloaded: tls = disabled",
    ]);
  });

  test("pinned_certs apply to new connections: an unpinned certificate is refused", async () => {
    const pki = makePki();
    const alice = pki.client("alice", "/CN=alice");
    const bob = pki.client("bob", "/CN=bob");
    // The reference pins the SHA-256 of the certificate's DER SubjectPublicKeyInfo.
    const spki = (pem: string): string => createHash("sha256").update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" })).digest("hex");
    const conf = (pinned: string): string => `tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}", ca_file: "${pki.ca}", verify: true ${pinned} }\n`;
    const s = await start(conf(""));
    const tlsAs = (c: { cert: string; key: string }): Promise<NatsConnection> => as(s, { tls: { ca: pki.read(pki.ca), cert: pki.read(c.cert), key: pki.read(c.key) } });
    const bobBefore = await tlsAs(bob);
    expect(await reload(s, conf(`, pinned_certs: ["${spki(pki.read(alice.cert))}"]`))).toBe("ok");
    await (await tlsAs(alice)).flush();
    await expect(tlsAs(bob)).rejects.toThrow();
    await s.waitForLog("TLS handshake error: certificate not pinned");
    // As the reference 2.9: connections made before keep going.
    await bobBefore.flush();
  });
});

describe.skipIf(referenceBinary === null || !hasOpenssl)("reload log lines of security changes, as the reference's", () => {
  test("the same refusals and Reloaded: lines", async () => {
    const pki = makePki();
    const nkey = createUser().getPublicKey();
    const tls = (extra: string): string => `tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}" ${extra} }\n`;
    const steps = [
      `authorization { users: [ {nkey: ${nkey}}, {user: x, password: p} ] }\n`,
      `authorization { users: [ {nkey: ${nkey}, permissions: { publish: foo } }, {user: x, password: p} ] }\n`,
      `accounts { A { users: [ {nkey: ${nkey}}, {user: x, password: p} ] } }\n`,
      `accounts { A { users: [ {nkey: ${nkey}}, {user: x, password: p} ] } }\nmappings: { a: b }\n`,
      `accounts { A { users: [ {user: x, password: p} ] } }\nsystem_account: A\n`,
      `accounts { A { users: [ {user: x, password: p} ] } }\nno_auth_user: x\n`,
      tls(""),
      tls(", timeout: 3"),
      tls(", timeout: 3, verify: true"),
      tls(", verify_and_map: true"),
      tls(`, ca_file: "${pki.ca}"`),
      tls(`, ca_file: "${pki.ca}", pinned_certs: ["${"ab".repeat(32)}"]`),
      "",
    ];
    const lines = async (binary?: string): Promise<string[]> => {
      const s = await start("", binary);
      for (const step of steps) await reload(s, step);
      return logLines(s, /Reloaded: |Failed to reload/).map((l) => l.replace(s.configFile!, "FILE"));
    };
    const [ours, ref] = await Promise.all([lines(), lines(referenceBinary!)]);
    expect(ours).toEqual(ref);
  }, 20_000);
});
