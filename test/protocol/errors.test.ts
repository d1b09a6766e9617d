// Every `-ERR` of the reference's table that the core server can produce, with its exact text
// and whether the connection is closed afterwards (a closed connection is awaited; an open
// one must still answer PING). Limits are lowered through the config file.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { RawClient } from "../harness/raw.ts";
import { closedWith, connectRaw } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let plain: RunningServer;
let limited: RunningServer;
let fewConns: RunningServer;
let fewTokens: RunningServer;
const open: RawClient[] = [];

const MAX_PAYLOAD = 100;
const MAX_CONTROL_LINE = 64;

beforeAll(async () => {
  [plain, limited, fewConns, fewTokens] = await Promise.all([
    startServer(),
    startServer({ config: `max_payload: ${MAX_PAYLOAD}\nmax_control_line: ${MAX_CONTROL_LINE}\nmax_subscriptions: 2\n` }),
    startServer({ config: "max_connections: 2\n" }),
    startServer({ config: "max_sub_tokens: 3\n" }),
  ]);
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await Promise.all([plain?.stop(), limited?.stop(), fewConns?.stop(), fewTokens?.stop()]);
});

async function client(server: RunningServer, connect: Record<string, unknown> | null = {}): Promise<RawClient> {
  const { c } = await connectRaw(server.port, connect);
  open.push(c);
  return c;
}

const err = (text: string): string => `-ERR '${text}'\r\n`;

describe("errors that close the connection", () => {
  test("Unknown Protocol Operation", async () => {
    for (const bad of ["FOO bar\r\n", "PUBX\r\n", "MSG foo 1 1\r\nx\r\n", "\x00\r\n", "SUBfoo 1\r\n"]) {
      const c = await client(plain);
      c.write(bad);
      expect({ bad, got: await closedWith(c) }).toEqual({ bad, got: err("Unknown Protocol Operation") });
    }
  });

  test("Unknown Protocol Operation: a payload not followed by CRLF", async () => {
    const c = await client(plain);
    c.write("SUB x 1\r\nPUB x 3\r\nabcdef\r\n");
    expect(await closedWith(c)).toBe(err("Unknown Protocol Operation"));
  });

  test("what was answered before the error is delivered first", async () => {
    const c = await client(plain);
    c.write("SUB x 1\r\nPUB x 2\r\nhi\r\nPING\r\nBAD\r\n");
    expect(await closedWith(c)).toBe("MSG x 1 2\r\nhi\r\nPONG\r\n" + err("Unknown Protocol Operation"));
  });

  test("Maximum Payload Violation: one byte over max_payload (announced in INFO)", async () => {
    const { c, info } = await connectRaw(limited.port);
    open.push(c);
    expect(info.max_payload).toBe(MAX_PAYLOAD);
    c.write(`SUB big 1\r\nPUB big ${MAX_PAYLOAD}\r\n${"x".repeat(MAX_PAYLOAD)}\r\n`);
    expect(await c.flush()).toBe(`MSG big 1 ${MAX_PAYLOAD}\r\n${"x".repeat(MAX_PAYLOAD)}\r\n`);
    c.write(`PUB big ${MAX_PAYLOAD + 1}\r\n`);
    expect(await closedWith(c)).toBe(err("Maximum Payload Violation"));
  });

  test("Maximum Payload Violation: HPUB counts headers and payload together", async () => {
    const c = await client(limited, { headers: true });
    c.write(`HPUB big 60 ${MAX_PAYLOAD + 1}\r\n`);
    expect(await closedWith(c)).toBe(err("Maximum Payload Violation"));
  });

  test("Maximum Payload Violation at the default 1 MiB", async () => {
    const c = await client(plain);
    c.write("PUB big 1048577\r\n");
    expect(await closedWith(c)).toBe(err("Maximum Payload Violation"));
  });

  test("maximum control line exceeded: a complete line", async () => {
    const c = await client(limited);
    const arg = "s".repeat(MAX_CONTROL_LINE - 2) + " 1"; // exactly at the limit: fine
    c.write(`SUB ${arg}\r\n`);
    expect(await c.flush()).toBe("");
    c.write(`SUB ${"s".repeat(MAX_CONTROL_LINE)} 1\r\n`);
    expect(await closedWith(c)).toBe(err("maximum control line exceeded"));
  });

  test("maximum control line exceeded: a partial line with no end in sight", async () => {
    const c = await client(limited);
    await c.flush();
    c.write(`PUB ${"p".repeat(MAX_CONTROL_LINE * 2)}`);
    expect(await closedWith(c)).toBe(err("maximum control line exceeded"));
  });

  test("maximum control line exceeded: CONNECT is limited too", async () => {
    const c = await client(limited, null);
    c.write(`CONNECT {"name":"${"n".repeat(MAX_CONTROL_LINE)}"}\r\n`);
    expect(await closedWith(c)).toBe(err("maximum control line exceeded"));
  });

  test("invalid client protocol", async () => {
    const c = await client(plain, { protocol: 2 });
    expect(await closedWith(c)).toBe(err("invalid client protocol"));
  });

  test("no responders requires headers support", async () => {
    const c = await client(plain, { no_responders: true, headers: false });
    expect(await closedWith(c)).toBe(err("no responders requires headers support"));
  });

  test("malformed arguments close without an -ERR (the reference only logs them)", async () => {
    for (const bad of ["PUB foo\r\n", "PUB foo bar baz 1\r\n", "PUB foo x\r\n", "SUB foo\r\n", "UNSUB\t1 2 3\r\n", "CONNECT {bad json\r\n", 'CONNECT {"verbose":"yes"}\r\n']) {
      const c = await client(plain, null);
      c.write(bad);
      expect({ bad, got: await closedWith(c) }).toEqual({ bad, got: "" });
    }
  });

  test("-ERR from the client closes the connection without an answer", async () => {
    const c = await client(plain);
    c.write("-ERR 'whatever'\r\n");
    expect(await closedWith(c)).toBe("");
  });

  test("maximum connections exceeded: the third connection gets INFO, the -ERR and is closed", async () => {
    const a = await client(fewConns);
    const b = await client(fewConns);
    await a.flush();
    await b.flush();
    const c = await RawClient.connect(fewConns.port);
    open.push(c);
    await c.waitClosed();
    const got = c.take();
    expect(got).toMatch(/^INFO \{.*\} \r\n/);
    expect(got.slice(got.indexOf("\r\n") + 2)).toBe(err("maximum connections exceeded"));
    // The first two are unaffected, and once one leaves a newcomer is accepted.
    expect(await a.flush()).toBe("");
    b.close();
    let accepted: RawClient | null = null;
    for (let attempt = 0; attempt < 100 && accepted === null; attempt++) {
      const d = await RawClient.connect(fewConns.port);
      open.push(d);
      await d.readLine();
      d.write("PING\r\n");
      await d.waitFor((x) => x.includes("\r\n") || d.closed).catch(() => undefined);
      if (d.buffered === "PONG\r\n") accepted = d;
      else await d.waitClosed();
    }
    expect(accepted).not.toBeNull();
  });
});

describe("errors that keep the connection", () => {
  test("maximum subscriptions exceeded: the SUB is refused, the connection and its subscriptions live on", async () => {
    const c = await client(limited, { verbose: true });
    expect(await c.readLine()).toBe("+OK\r\n");
    c.write("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n");
    expect(await c.flush()).toBe("+OK\r\n+OK\r\n" + err("maximum subscriptions exceeded"));
    c.write("PUB a 1\r\nx\r\nPUB c 1\r\ny\r\n");
    expect(await c.flush()).toBe("+OK\r\nMSG a 1 1\r\nx\r\n+OK\r\n");
    // Freeing one makes room again.
    c.write("UNSUB 1\r\nSUB c 3\r\nPUB c 1\r\nz\r\n");
    expect(await c.flush()).toBe("+OK\r\n+OK\r\n+OK\r\nMSG c 3 1\r\nz\r\n");
  });

  test("Invalid Subject: empty tokens and '>' before the end", async () => {
    const c = await client(plain);
    for (const subject of ["foo..bar", "foo.>.bar", ".", "foo.", ".foo", ">.x"]) c.write(`SUB ${subject} 1\r\n`);
    c.write("SUB .q grp 2\r\n");
    expect(await c.flush()).toBe(err("Invalid Subject").repeat(7));
    // Valid oddities are accepted: wildcard characters inside tokens are literals.
    c.write("SUB a*.>b 3\r\nPUB a*.>b 2\r\nok\r\n");
    expect(await c.flush()).toBe("MSG a*.>b 3 2\r\nok\r\n");
  });

  test("Invalid Publish Subject in pedantic mode: reported, and the message is still delivered", async () => {
    // A published '*' or '>' token is matched like any token by wildcard subscriptions.
    const c = await client(plain, { pedantic: true });
    c.write("SUB ped.* 1\r\nPUB ped.* 1\r\na\r\nPUB ped.> 1\r\nb\r\nPUB ped.x 1\r\nc\r\n");
    expect(await c.flush()).toBe(err("Invalid Publish Subject") + "MSG ped.* 1 1\r\na\r\n" + err("Invalid Publish Subject") + "MSG ped.> 1 1\r\nb\r\n" + "MSG ped.x 1 1\r\nc\r\n");
  });

  test("no Invalid Publish Subject without pedantic", async () => {
    const c = await client(plain, { pedantic: false });
    c.write("SUB np.* 1\r\nPUB np.* 1\r\na\r\n");
    expect(await c.flush()).toBe("MSG np.* 1 1\r\na\r\n");
  });

  test("Permissions Violation ... too many tokens (max_sub_tokens): refused, the connection lives on", async () => {
    const c = await client(fewTokens);
    c.write("SUB a.b.c 1\r\nSUB a.b.c.d 2\r\nSUB a.b.c.> q 3\r\nPUB a.b.c 1\r\nx\r\n");
    expect(await c.flush()).toBe(
      err('Permissions Violation for Subscription to "a.b.c.d", too many tokens') + err('Permissions Violation for Subscription to "a.b.c.>", too many tokens') + "MSG a.b.c 1 1\r\nx\r\n",
    );
  });

  test("pedantic is the default when CONNECT leaves it out", async () => {
    const { c } = await connectRaw(plain.port, null);
    open.push(c);
    c.write('CONNECT {"verbose":false}\r\nPUB dflt.> 0\r\n\r\n');
    expect(await c.flush()).toBe(err("Invalid Publish Subject"));
  });
});
