// TLS for client connections against the compiled server: the NATS upgrade after a plain INFO,
// TLS-first (handshake_first), client certificate verification, the handshake timeout, and a
// client that speaks plain NATS to a TLS port (closed without a reply, as the reference does).
// Certificates are made with openssl for each run (test/harness/certs.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import tls from "node:tls";
import { RawClient } from "../harness/raw.ts";
import { hasOpenssl, makePki, type TestPki } from "../harness/certs.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

const describeTls = hasOpenssl ? describe : describe.skip;
if (!hasOpenssl) console.warn("tls.test.ts: skipped, openssl is not installed");

let pki: TestPki;
let plainTls: RunningServer;
let verify: RunningServer;
let first: RunningServer;
let flags: RunningServer;
const conns: NatsConnection[] = [];

function tlsBlock(extra = ""): string {
  return `tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}", ca_file: "${pki.ca}", timeout: 0.5 ${extra} }\n`;
}

beforeAll(async () => {
  if (!hasOpenssl) return;
  pki = makePki();
  [plainTls, verify, first, flags] = await Promise.all([
    startServer({ config: tlsBlock() }),
    startServer({ config: tlsBlock(", verify: true") }),
    startServer({ config: tlsBlock(", handshake_first: true") }),
    startServer({ args: ["--tls", "--tlscert", pki.server.cert, "--tlskey", pki.server.key] }),
  ]);
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await Promise.all([plainTls, verify, first, flags].map((s) => s?.stop()));
});

async function client(server: RunningServer, opts: ConnectionOptions["tls"]): Promise<NatsConnection> {
  const nc = await connect({ servers: `127.0.0.1:${server.port}`, tls: opts, reconnect: false, timeout: 3_000 });
  conns.push(nc);
  return nc;
}

async function roundTrip(nc: NatsConnection): Promise<string> {
  const sub = nc.subscribe("tls.echo", { max: 1 });
  nc.publish("tls.echo", "over tls");
  for await (const m of sub) return m.string();
  return "";
}

/** Reads the plain INFO line of a TLS server. */
async function plainInfo(server: RunningServer): Promise<Record<string, unknown>> {
  const c = await RawClient.connect(server.port);
  try {
    const line = await c.readLine();
    return JSON.parse(line.slice(5)) as Record<string, unknown>;
  } finally {
    c.close();
  }
}

describeTls("TLS upgrade after INFO", () => {
  test("INFO announces tls_required (and tls_verify only when verifying)", async () => {
    const info = await plainInfo(plainTls);
    expect(info.tls_required).toBe(true);
    expect(info.tls_verify).toBeUndefined();
    const v = await plainInfo(verify);
    expect(v.tls_required).toBe(true);
    expect(v.tls_verify).toBe(true);
  });

  test("the official client connects with the CA and publishes over TLS", async () => {
    const nc = await client(plainTls, { ca: pki.read(pki.ca) });
    expect(await roundTrip(nc)).toBe("over tls");
    expect(nc.info?.tls_required).toBe(true);
  });

  test("--tls --tlscert --tlskey on the command line", async () => {
    const nc = await client(flags, { ca: pki.read(pki.ca) });
    expect(await roundTrip(nc)).toBe("over tls");
  });

  test("a client speaking plain NATS to a TLS port is closed with nothing after the INFO", async () => {
    const c = await RawClient.connect(plainTls.port);
    await c.readLine();
    c.write('CONNECT {"verbose":false}\r\nPING\r\n');
    await c.waitClosed();
    expect(c.take()).toBe("");
    await plainTls.waitForLog("TLS handshake error: tls: first record does not look like a TLS handshake");
  });

  test("a client that never starts TLS is closed after the TLS timeout", async () => {
    const started = Date.now();
    const c = await RawClient.connect(plainTls.port);
    await c.readLine();
    await c.waitClosed(3_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    await plainTls.waitForLog("TLS handshake timeout");
  });
});

describeTls("client certificates (verify)", () => {
  test("a client with a certificate signed by the CA is accepted", async () => {
    const alice = pki.client("alice", "/CN=alice");
    const nc = await client(verify, { ca: pki.read(pki.ca), cert: pki.read(alice.cert), key: pki.read(alice.key) });
    expect(await roundTrip(nc)).toBe("over tls");
  });

  test("a client without a certificate is refused", async () => {
    await expect(client(verify, { ca: pki.read(pki.ca) })).rejects.toThrow();
    await verify.waitForLog("TLS handshake error");
  });

  test("a certificate from another CA is refused", async () => {
    const other = makePki();
    const mallory = other.client("mallory", "/CN=mallory");
    await expect(client(verify, { ca: pki.read(pki.ca), cert: other.read(mallory.cert), key: other.read(mallory.key) })).rejects.toThrow();
  });
});

describeTls("handshake_first", () => {
  test("a TLS-first client connects; INFO comes over TLS", async () => {
    const nc = await client(first, { ca: pki.read(pki.ca), handshakeFirst: true });
    expect(await roundTrip(nc)).toBe("over tls");
  });

  test("nothing is sent in the clear: a raw TLS handshake gets the INFO", async () => {
    const raw = await RawClient.connect(first.port);
    // No INFO in the clear within the TLS timeout: the server closes the silent client.
    await raw.waitClosed(3_000);
    expect(raw.take()).toBe("");
    const info = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port: first.port, ca: pki.read(pki.ca), servername: "localhost" });
      s.once("data", (d) => {
        resolve(d.toString());
        s.end();
      });
      s.once("error", reject);
    });
    expect(info.startsWith("INFO {")).toBe(true);
    expect(JSON.parse(info.slice(5)).tls_required).toBe(true);
  });
});

describe("differential: plain NATS to a TLS port", () => {
  const dtest = referenceBinary !== null && hasOpenssl ? test : test.skip;
  if (referenceBinary === null) console.warn("tls.test.ts: differential test skipped, reference nats-server not installed");
  dtest("both servers close the connection after the INFO without an -ERR", async () => {
    const ref = await startServer({ binary: referenceBinary!, config: tlsBlock() });
    try {
      for (const server of [ref, plainTls]) {
        const c = await RawClient.connect(server.port);
        const line = await c.readLine();
        expect(JSON.parse(line.slice(5)).tls_required).toBe(true);
        c.write('CONNECT {"verbose":false}\r\nPING\r\n');
        await c.waitClosed();
        expect(c.take()).toBe("");
      }
      await ref.waitForLog("TLS handshake error: tls: first record does not look like a TLS handshake");
    } finally {
      await ref.stop();
    }
  });
});
