// Single-user and token authorization: Authorization Violation and Authentication Timeout,
// with plain and bcrypt-hashed secrets (hashes made with Bun.password, as a user would).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { RawClient } from "../harness/raw.ts";
import { closedWith, connectRaw } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

const AUTH_TIMEOUT_MS = 500;
let userPass: RunningServer;
let token: RunningServer;
let bcryptPass: RunningServer;
let bcryptToken: RunningServer;
const open: RawClient[] = [];

beforeAll(async () => {
  const passHash = await Bun.password.hash("s3cret", { algorithm: "bcrypt", cost: 4 });
  const tokenHash = await Bun.password.hash("t0ken", { algorithm: "bcrypt", cost: 4 });
  [userPass, token, bcryptPass, bcryptToken] = await Promise.all([
    startServer({ config: "authorization { user: a, password: b, timeout: 0.5 }\n" }),
    startServer({ config: 'authorization { token: "secret-token", timeout: 0.5 }\n' }),
    startServer({ config: `authorization { user: alice, password: "${passHash}" }\n` }),
    startServer({ config: `authorization { token: "${tokenHash}" }\n` }),
  ]);
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await Promise.all([userPass, token, bcryptPass, bcryptToken].map((s) => s?.stop()));
});

async function client(server: RunningServer, connect: Record<string, unknown> | null): Promise<{ c: RawClient; info: Record<string, unknown> }> {
  const r = await connectRaw(server.port, connect);
  open.push(r.c);
  return r;
}

const VIOLATION = "-ERR 'Authorization Violation'\r\n";
const TIMEOUT = "-ERR 'Authentication Timeout'\r\n";

describe("user and password", () => {
  test("INFO announces auth_required", async () => {
    const { info } = await client(userPass, null);
    expect(info.auth_required).toBe(true);
  });

  test("the right credentials are accepted (+OK when verbose) and the connection works", async () => {
    const { c } = await client(userPass, { user: "a", pass: "b", verbose: true });
    expect(await c.readLine()).toBe("+OK\r\n");
    c.write("SUB x 1\r\nPUB x 2\r\nok\r\n");
    expect(await c.flush()).toBe("+OK\r\n+OK\r\nMSG x 1 2\r\nok\r\n");
  });

  test("a wrong password, a wrong user, or none at all: Authorization Violation, closed", async () => {
    for (const creds of [{ user: "a", pass: "x" }, { user: "b", pass: "b" }, {}, { user: "a" }, { auth_token: "b" }]) {
      const { c } = await client(userPass, creds);
      expect({ creds, got: await closedWith(c) }).toEqual({ creds, got: VIOLATION });
    }
  });

  test("anything before CONNECT is an Authorization Violation", async () => {
    for (const first of ["PING\r\n", "SUB x 1\r\n", "PUB x 0\r\n\r\n"]) {
      const { c } = await client(userPass, null);
      c.write(first);
      expect({ first, got: await closedWith(c) }).toEqual({ first, got: VIOLATION });
    }
  });

  test("commands pipelined behind a good CONNECT are processed", async () => {
    const { c } = await client(userPass, null);
    c.write('CONNECT {"user":"a","pass":"b","verbose":false}\r\nSUB p 1\r\nPUB p 2\r\nhi\r\nPING\r\n');
    await c.waitFor((b) => b.endsWith("PONG\r\n"));
    expect(c.take()).toBe("MSG p 1 2\r\nhi\r\nPONG\r\n");
  });

  test("Authentication Timeout: a silent client is closed after the configured 0.5 s", async () => {
    const started = Date.now();
    const { c } = await client(userPass, null);
    expect(await closedWith(c, 5_000)).toBe(TIMEOUT);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(AUTH_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(AUTH_TIMEOUT_MS + 1_500);
  });

  test("an authenticated client outlives the auth timeout", async () => {
    const { c } = await client(userPass, { user: "a", pass: "b" });
    await c.flush();
    // A silent client connected after it is closed at its timeout: by then ours is past its own.
    const silent = await client(userPass, null);
    expect(await closedWith(silent.c, 5_000)).toBe(TIMEOUT);
    expect(await c.flush()).toBe("");
    expect(c.closed).toBe(false);
  });
});

describe("token", () => {
  test("the right token is accepted", async () => {
    const { c, info } = await client(token, { auth_token: "secret-token" });
    expect(info.auth_required).toBe(true);
    expect(await c.flush()).toBe("");
  });

  test("a wrong or missing token, or user/pass instead: Authorization Violation", async () => {
    for (const creds of [{ auth_token: "nope" }, {}, { user: "secret-token", pass: "secret-token" }]) {
      const { c } = await client(token, creds);
      expect({ creds, got: await closedWith(c) }).toEqual({ creds, got: VIOLATION });
    }
  });

  test("Authentication Timeout with a token configured", async () => {
    const { c } = await client(token, null);
    expect(await closedWith(c, 5_000)).toBe(TIMEOUT);
  });
});

describe("bcrypt hashes", () => {
  test("password: the plain text matches the hash; the hash itself does not", async () => {
    const { c } = await client(bcryptPass, { user: "alice", pass: "s3cret", verbose: true });
    expect(await c.readLine()).toBe("+OK\r\n");
    const bad = await client(bcryptPass, { user: "alice", pass: "s3cret!" });
    expect(await closedWith(bad.c)).toBe(VIOLATION);
  });

  test("password: commands pipelined behind CONNECT wait for the (asynchronous) check, in order", async () => {
    const { c } = await client(bcryptPass, null);
    c.write('CONNECT {"user":"alice","pass":"s3cret","verbose":true}\r\nSUB b 1\r\nPUB b 2\r\nhi\r\nUNSUB 1\r\nPUB b 2\r\nno\r\nPING\r\n');
    await c.waitFor((b) => b.endsWith("PONG\r\n"));
    expect(c.take()).toBe("+OK\r\n+OK\r\n+OK\r\nMSG b 1 2\r\nhi\r\n+OK\r\n+OK\r\nPONG\r\n");
  });

  test("password: nothing pipelined behind a bad CONNECT is processed", async () => {
    const watcher = await client(bcryptPass, { user: "alice", pass: "s3cret" });
    watcher.c.write("SUB leak 1\r\n");
    await watcher.c.flush();
    const { c } = await client(bcryptPass, null);
    c.write('CONNECT {"user":"alice","pass":"wrong"}\r\nPUB leak 4\r\nleak\r\nPING\r\n');
    expect(await closedWith(c)).toBe(VIOLATION);
    expect(await watcher.c.flush()).toBe("");
  });

  test("token: the plain text matches the hash", async () => {
    const { c } = await client(bcryptToken, { auth_token: "t0ken" });
    expect(await c.flush()).toBe("");
    const bad = await client(bcryptToken, { auth_token: "t0ken2" });
    expect(await closedWith(bad.c)).toBe(VIOLATION);
  });
});
