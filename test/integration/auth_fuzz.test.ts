// A short, bounded fuzz run (fast-check) over CONNECT JSON and JWT strings against the
// compiled server in operator mode and with nkey users: whatever arrives, the server answers
// with the reference's errors (or accepts), never crashes, and keeps serving a good client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createUser } from "@nats-io/nkeys";
import { encodeAccount, encodeUser, fmtCreds } from "@nats-io/jwt";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { connectCreds, Operator, type TestAccount, type TestUser } from "../harness/jwt.ts";
import { connectRaw } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

const RUNS = 150;
const BUDGET_MS = 20_000;

let op: Operator;
let app: TestAccount;
let user: TestUser;
let jwtServer: RunningServer;
let nkeyServer: RunningServer;
const nkeyUser = createUser();

beforeAll(async () => {
  op = await Operator.create();
  app = await op.account("APP");
  user = await op.user(app, {}, "fuzz");
  [jwtServer, nkeyServer] = await Promise.all([
    startServer({ config: op.config([app]) }),
    startServer({ config: `authorization { users: [ {nkey: ${nkeyUser.getPublicKey()}}, {user: u, password: p} ] }\n` }),
  ]);
});

afterAll(async () => {
  await Promise.all([jwtServer?.stop(), nkeyServer?.stop()]);
});

/** What the server may answer a bad CONNECT with (then it closes), or a PONG when accepted. */
const ACCEPTABLE = /^(-ERR '(Authorization Violation|Unknown Protocol Operation|invalid client protocol|no responders requires headers support|maximum control line exceeded)'\r\n)?$/;

async function exchange(server: RunningServer, connect: string): Promise<{ out: string; closed: boolean }> {
  const { c } = await connectRaw(server.port, null);
  try {
    c.write(`CONNECT ${connect}\r\nPING\r\n`);
    await c.waitFor((b) => b.includes("PONG\r\n") || b.includes("-ERR"), 3_000).catch(() => undefined);
    if (!c.buffered.includes("PONG")) await c.waitClosed(3_000).catch(() => undefined);
    return { out: c.take(), closed: c.closed };
  } finally {
    c.close();
  }
}

/** JWT-looking strings: segments of base64url, sometimes real pieces spliced in. */
function jwtLike(real: string): fc.Arbitrary<string> {
  const [h, p, s] = real.split(".");
  const segment = fc.oneof(fc.base64String().map((b) => b.replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "")), fc.constantFrom(h, p, s), fc.string());
  return fc.oneof(
    fc.tuple(segment, segment, segment).map((parts) => parts.join(".")),
    fc.array(segment, { maxLength: 5 }).map((parts) => parts.join(".")),
    fc.string(),
    fc.constant(real.slice(0, -2) + "AA"),
    fc.integer({ min: 0, max: real.length }).map((i) => real.slice(0, i) + real.slice(i + 1)),
  );
}

function connectJson(jwt: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
  const fields = fc.record(
    {
      jwt: fc.oneof(jwt, value),
      sig: fc.oneof(fc.string(), fc.base64String(), value),
      nkey: fc.oneof(fc.constant(nkeyUser.getPublicKey()), fc.string(), value),
      user: fc.oneof(fc.constant("u"), value),
      pass: fc.oneof(fc.constant("p"), value),
      verbose: fc.oneof(fc.boolean(), value),
      protocol: fc.oneof(fc.integer({ min: -2, max: 3 }), value),
      headers: fc.oneof(fc.boolean(), value),
      no_responders: fc.oneof(fc.boolean(), value),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    fields.map((o) => JSON.stringify(o)),
    fc.json(),
    fc.string(),
    fields.map((o) => JSON.stringify(o).slice(0, -1)),
  );
}

describe("fuzz: CONNECT JSON and JWT strings", () => {
  for (const which of ["operator mode", "nkey users"] as const) {
    test(`${which}: every answer is an accepted login or a reference error; the server survives`, async () => {
      const server = which === "operator mode" ? jwtServer : nkeyServer;
      const deadline = Date.now() + BUDGET_MS;
      const outcomes = new Set<string>();
      await fc.assert(
        fc.asyncProperty(connectJson(jwtLike(user.jwt)), async (connect) => {
          if (Date.now() > deadline) return;
          const { out } = await exchange(server, connect);
          outcomes.add(out.includes("PONG") ? "accepted" : out.replace(/\r\n$/, ""));
          const errors = out.replace(/PONG\r\n/g, "").replace(/\+OK\r\n/g, "").replace(/INFO [^\r]*\r\n/g, "");
          expect(ACCEPTABLE.test(errors) || errors.startsWith("-ERR 'Authorization Violation'")).toBe(true);
        }),
        { numRuns: RUNS },
      );
      // The run exercised refusals (and, for the JSON cases that log in, acceptance).
      expect(outcomes.has("-ERR 'Authorization Violation'")).toBe(true);
      // Still alive and serving a good client.
      if (which === "operator mode") {
        const nc = await connectCreds(server.url, user);
        await nc.flush();
        await nc.close();
      } else {
        const { c } = await connectRaw(server.port, { user: "u", pass: "p" });
        expect(await c.flush()).toBe("");
        c.close();
      }
      expect(server.proc.exitCode).toBeNull();
      expect(server.logs()).not.toMatch(/panic|TypeError|RangeError|uncaught/i);
    }, BUDGET_MS + 15_000);
  }
});

describe("fuzz: signed claims of any shape", () => {
  test("user JWTs and account JWTs with arbitrary `nats` content never crash the server", async () => {
    const deadline = Date.now() + BUDGET_MS;
    const sys = await connectCreds(jwtServer.url, op.sysUser);
    const anyValue = fc.jsonValue({ maxDepth: 3 });
    const fields = fc.dictionary(
      fc.constantFrom("pub", "sub", "resp", "src", "times", "subs", "payload", "bearer_token", "allowed_connection_types", "limits", "imports", "exports", "signing_keys", "revocations", "mappings", "default_permissions", "issuer_account", "tags"),
      anyValue,
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(fields, fields, async (userData, accountData) => {
        if (Date.now() > deadline) return;
        const u = createUser();
        const jwt = await encodeUser("f", u, app.key, userData as never);
        await connect({ servers: jwtServer.url, authenticator: credsAuthenticator(fmtCreds(jwt, u)), reconnect: false, timeout: 2_000 })
          .then((nc) => nc.close())
          .catch(() => undefined);
        const accJwt = await encodeAccount("APP", app.key, accountData as never, { signer: op.key });
        await sys.request(`$SYS.REQ.ACCOUNT.${app.pub}.CLAIMS.UPDATE`, accJwt, { timeout: 2_000 }).catch(() => undefined);
      }),
      { numRuns: 25 },
    );
    // Back to a sane account; the server still serves.
    const sane = await op.account("APP", {}, {}, app.key);
    await sys.request(`$SYS.REQ.ACCOUNT.${app.pub}.CLAIMS.UPDATE`, sane.jwt, { timeout: 2_000 });
    const nc = await connectCreds(jwtServer.url, user);
    await nc.flush();
    await nc.close();
    await sys.close();
    expect(jwtServer.proc.exitCode).toBeNull();
    expect(jwtServer.logs()).not.toMatch(/TypeError|RangeError|uncaught/i);
  }, BUDGET_MS + 15_000);
});
