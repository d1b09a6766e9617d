// Raw-socket tests of every client operation against the compiled server: exact bytes out for
// exact bytes in. Verbose and pedantic modes, echo, headers, no-responders, auto-unsubscribe,
// queue groups, pipelining and byte-by-byte delivery of the same script.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { RawClient } from "../harness/raw.ts";
import { canonicalFrames, connectRaw, countOf, runScript, type Script } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
const open: RawClient[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await server?.stop();
});

async function client(connect: Record<string, unknown> | null = {}): Promise<RawClient> {
  const { c } = await connectRaw(server.port, connect);
  open.push(c);
  return c;
}

const HDR = "NATS/1.0\r\nA: 1\r\nA: 2\r\nb: x\r\n\r\n"; // 30 bytes, a repeated key and a lower-case one

describe("INFO", () => {
  test("the greeting: one line, reference field values, a space before CRLF", async () => {
    const c = await RawClient.connect(server.port);
    open.push(c);
    const line = await c.readLine();
    expect(line).toMatch(/^INFO \{.*\} \r\n$/);
    const info = JSON.parse(line.slice(5, -3)) as Record<string, unknown>;
    expect(info.server_id).toMatch(/^N[A-Z2-7]{55}$/);
    expect(info.server_name).toBe(info.server_id);
    expect(info.version).toBe("2.9.10");
    expect(info.proto).toBe(1);
    expect(info.host).toBe("127.0.0.1");
    expect(info.port).toBe(server.port);
    expect(info.headers).toBe(true);
    expect(info.max_payload).toBe(1048576);
    expect(info.client_ip).toBe("127.0.0.1");
    expect(typeof info.client_id).toBe("number");
    // omitempty fields of the reference are absent when false.
    expect("auth_required" in info).toBe(false);
    expect("tls_required" in info).toBe(false);
    expect("jetstream" in info).toBe(false);
  });

  test("client ids increase per connection", async () => {
    const a = await connectRaw(server.port, null);
    const b = await connectRaw(server.port, null);
    open.push(a.c, b.c);
    expect(b.info.client_id as number).toBeGreaterThan(a.info.client_id as number);
  });
});

describe("PING, PONG, CONNECT", () => {
  test("PING is answered with PONG, any number of times, before and after CONNECT", async () => {
    const c = await client(null);
    c.write("PING\r\nping\r\n");
    await c.waitFor((b) => b === "PONG\r\nPONG\r\n");
    c.take();
    c.write('CONNECT {"verbose":false}\r\nPING\r\n');
    expect(await c.readLine()).toBe("PONG\r\n");
  });

  test("PONG from the client is accepted silently", async () => {
    const c = await client();
    c.write("PONG\r\n");
    expect(await c.flush()).toBe("");
  });

  test("CONNECT defaults to verbose: a bare CONNECT {} is acknowledged", async () => {
    const c = await client(null);
    c.write("CONNECT {}\r\nPING\r\n");
    await c.waitFor((b) => b.endsWith("PONG\r\n"));
    expect(c.take()).toBe("+OK\r\nPONG\r\n");
  });

  test("without CONNECT the defaults apply too (verbose): SUB and PUB are acknowledged", async () => {
    const c = await client(null);
    c.write("SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n");
    await c.waitFor((b) => b.endsWith("PONG\r\n"));
    expect(c.take()).toBe("+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\nPONG\r\n");
  });

  test("+OK from a client is ignored", async () => {
    const c = await client();
    c.write("+OK\r\n");
    expect(await c.flush()).toBe("");
  });

  test("INFO from a client is ignored", async () => {
    const c = await client();
    c.write('INFO {"server_id":"x"}\r\n');
    expect(await c.flush()).toBe("");
  });
});

describe("verbose", () => {
  test("+OK after CONNECT, SUB, PUB, HPUB and UNSUB, never after PING", async () => {
    const c = await client({ verbose: true, headers: true });
    expect(await c.readLine()).toBe("+OK\r\n");
    c.write(`SUB v 1\r\nPUB v 2\r\nhi\r\nHPUB v ${HDR.length} ${HDR.length + 2}\r\n${HDR}yo\r\nUNSUB 1\r\nPUB v 0\r\n\r\n`);
    expect(await c.flush()).toBe(`+OK\r\n+OK\r\nMSG v 1 2\r\nhi\r\n+OK\r\nHMSG v 1 ${HDR.length} ${HDR.length + 2}\r\n${HDR}yo\r\n+OK\r\n+OK\r\n`);
  });

  test("UNSUB of an unknown sid is still acknowledged", async () => {
    const c = await client({ verbose: true });
    await c.readLine();
    c.write("UNSUB 99\r\n");
    expect(await c.flush()).toBe("+OK\r\n");
  });

  test("a failing SUB gets the -ERR instead of +OK", async () => {
    const c = await client({ verbose: true });
    await c.readLine();
    c.write("SUB foo..bar 1\r\n");
    expect(await c.flush()).toBe("-ERR 'Invalid Subject'\r\n");
  });
});

describe("PUB, SUB, MSG", () => {
  test("MSG carries subject, sid, reply and payload exactly", async () => {
    const sub = await client();
    sub.write("SUB a.b 7\r\nSUB a.* 8\r\nSUB a.> 9\r\nSUB > 10\r\n");
    await sub.flush();
    const pub = await client();
    pub.write("PUB a.b reply.to 5\r\nhello\r\n");
    await pub.flush();
    await sub.waitFor((b) => countOf(b, "hello\r\n") === 4);
    const lines = sub.take().split("hello\r\n").filter((s) => s !== "").sort();
    expect(lines).toEqual(["MSG a.b 10 reply.to 5\r\n", "MSG a.b 7 reply.to 5\r\n", "MSG a.b 8 reply.to 5\r\n", "MSG a.b 9 reply.to 5\r\n"]);
    // Later tests rely on nobody listening on '>'.
    sub.write("UNSUB 7\r\nUNSUB 8\r\nUNSUB 9\r\nUNSUB 10\r\n");
    await sub.flush();
  });

  test("wildcards: '*' one token, '>' one or more", async () => {
    const sub = await client();
    sub.write("SUB w.* 1\r\nSUB w.> 2\r\n");
    await sub.flush();
    const pub = await client();
    pub.write("PUB w 1\r\na\r\nPUB w.x 1\r\nb\r\nPUB w.x.y 1\r\nc\r\n");
    await pub.flush();
    const got = await sub.flush();
    expect(got).toContain("MSG w.x 1 1\r\nb\r\n");
    expect(got).toContain("MSG w.x 2 1\r\nb\r\n");
    expect(got).toContain("MSG w.x.y 2 1\r\nc\r\n");
    expect(got.length).toBe("MSG w.x 1 1\r\nb\r\n".length * 2 + "MSG w.x.y 2 1\r\nc\r\n".length);
  });

  test("the publisher's size digits are forwarded verbatim (PUB foo 007)", async () => {
    const c = await client();
    c.write("SUB z 1\r\nPUB z 007\r\nhello12\r\n");
    expect(await c.flush()).toBe("MSG z 1 007\r\nhello12\r\n");
  });

  test("zero-length payloads and payloads containing CRLF", async () => {
    const c = await client();
    c.write("SUB e 1\r\nPUB e 0\r\n\r\nPUB e 7\r\n\r\nPUB\r\n\r\n");
    expect(await c.flush()).toBe("MSG e 1 0\r\n\r\nMSG e 1 7\r\n\r\nPUB\r\n\r\n");
  });

  test("two subscriptions of one client on one subject each get the message", async () => {
    const c = await client();
    c.write("SUB dup 1\r\nSUB dup 2\r\nPUB dup 1\r\nx\r\n");
    const got = await c.flush();
    expect([...got.matchAll(/MSG dup (\d) 1\r\nx\r\n/g)].map((m) => m[1]).sort()).toEqual(["1", "2"]);
    expect(got.length).toBe("MSG dup 1 1\r\nx\r\n".length * 2);
  });

  test("a second SUB with the same sid is acknowledged and changes nothing", async () => {
    const c = await client();
    c.write("SUB same 1\r\nSUB other 1\r\nPUB same 1\r\na\r\nPUB other 1\r\nb\r\n");
    expect(await c.flush()).toBe("MSG same 1 1\r\na\r\n");
  });

  test("no subscribers: the message is dropped silently", async () => {
    const c = await client();
    c.write("PUB nobody.home 2\r\nhi\r\n");
    expect(await c.flush()).toBe("");
  });

  test("tabs, lower case and \\n-only line ends are accepted", async () => {
    const c = await client();
    c.write("sub\ttab.x\t\t5\nPuB tab.x\t3\nabc\r\nping\n");
    await c.waitFor((b) => b.endsWith("PONG\r\n"));
    expect(c.take()).toBe("MSG tab.x 5 3\r\nabc\r\nPONG\r\n");
  });
});

describe("echo", () => {
  test("echo:false suppresses the publisher's own messages only", async () => {
    const quiet = await client({ echo: false });
    const other = await client();
    quiet.write("SUB echo.t 1\r\n");
    other.write("SUB echo.t 2\r\n");
    await quiet.flush();
    await other.flush();
    quiet.write("PUB echo.t 4\r\nself\r\n");
    await quiet.flush();
    expect(await other.flush()).toBe("MSG echo.t 2 4\r\nself\r\n");
    other.write("PUB echo.t 5\r\nother\r\n");
    await other.flush();
    expect(await quiet.flush()).toBe("MSG echo.t 1 5\r\nother\r\n");
    expect(await quiet.flush()).toBe("");
  });

  test("echo:true (the default) delivers to oneself", async () => {
    const c = await client({ echo: true });
    c.write("SUB echo.me 1\r\nPUB echo.me 1\r\nx\r\n");
    expect(await c.flush()).toBe("MSG echo.me 1 1\r\nx\r\n");
  });
});

describe("headers", () => {
  test("HPUB to a header-capable subscriber arrives as HMSG, byte for byte", async () => {
    const c = await client({ headers: true });
    c.write(`SUB h.1 1\r\nHPUB h.1 reply ${HDR.length} ${HDR.length + 5}\r\n${HDR}hello\r\n`);
    expect(await c.flush()).toBe(`HMSG h.1 1 reply ${HDR.length} ${HDR.length + 5}\r\n${HDR}hello\r\n`);
  });

  test("header and total size digits are forwarded verbatim", async () => {
    const c = await client({ headers: true });
    c.write(`SUB h.2 1\r\nHPUB h.2 0${HDR.length} 00${HDR.length}\r\n${HDR}\r\n`);
    expect(await c.flush()).toBe(`HMSG h.2 1 0${HDR.length} 00${HDR.length}\r\n${HDR}\r\n`);
  });

  test("a subscriber without header support gets MSG with the payload only", async () => {
    const plain = await client({ headers: false });
    plain.write("SUB h.3 9\r\n");
    await plain.flush();
    const pub = await client({ headers: true });
    pub.write(`HPUB h.3 r.1 ${HDR.length} ${HDR.length + 7}\r\n${HDR}payload\r\nHPUB h.3 ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`);
    await pub.flush();
    expect(await plain.flush()).toBe("MSG h.3 9 r.1 7\r\npayload\r\nMSG h.3 9 0\r\n\r\n");
  });

  test("PUB to a header-capable subscriber stays MSG", async () => {
    const c = await client({ headers: true });
    c.write("SUB h.4 1\r\nPUB h.4 2\r\nok\r\n");
    expect(await c.flush()).toBe("MSG h.4 1 2\r\nok\r\n");
  });

  test("HPUB without headers:true in CONNECT closes the connection without -ERR", async () => {
    const c = await client({ headers: false });
    c.write(`HPUB h.5 ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`);
    await c.waitClosed();
    expect(c.take()).toBe("");
  });
});

describe("no responders", () => {
  test("a request nobody answers gets the 503 status on the reply subscription", async () => {
    const c = await client({ headers: true, no_responders: true });
    c.write("SUB _INBOX.nr.* 42\r\nPUB nr.service _INBOX.nr.1 2\r\nhi\r\n");
    expect(await c.flush()).toBe("HMSG _INBOX.nr.1 42 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
  });

  test("not without a reply subject, not without a reply subscription, not when someone listens", async () => {
    const svc = await client();
    svc.write("SUB nr.busy 1\r\n");
    await svc.flush();
    const c = await client({ headers: true, no_responders: true });
    c.write("SUB _INBOX.nr2 1\r\nPUB nr.none 0\r\n\r\nPUB nr.none _INBOX.elsewhere 0\r\n\r\nPUB nr.busy _INBOX.nr2 0\r\n\r\n");
    expect(await c.flush()).toBe("");
    expect(await svc.flush()).toBe("MSG nr.busy 1 _INBOX.nr2 0\r\n\r\n");
  });

  test("without no_responders in CONNECT nothing is sent", async () => {
    const c = await client({ headers: true });
    c.write("SUB _INBOX.nr3 1\r\nPUB nr.none _INBOX.nr3 0\r\n\r\n");
    expect(await c.flush()).toBe("");
  });
});

describe("UNSUB", () => {
  test("UNSUB stops delivery at once", async () => {
    const c = await client();
    c.write("SUB u.1 1\r\nPUB u.1 1\r\na\r\nUNSUB 1\r\nPUB u.1 1\r\nb\r\n");
    expect(await c.flush()).toBe("MSG u.1 1 1\r\na\r\n");
  });

  test("UNSUB with max: exactly max more messages, then the subscription is gone", async () => {
    const c = await client();
    c.write("SUB u.2 1\r\nUNSUB 1 3\r\n");
    for (let i = 0; i < 6; i++) c.write(`PUB u.2 1\r\n${i}\r\n`);
    expect(await c.flush()).toBe("MSG u.2 1 1\r\n0\r\nMSG u.2 1 1\r\n1\r\nMSG u.2 1 1\r\n2\r\n");
    // The sid is free again.
    c.write("SUB u.2 1\r\nPUB u.2 1\r\nz\r\n");
    expect(await c.flush()).toBe("MSG u.2 1 1\r\nz\r\n");
  });

  test("UNSUB with a max already reached unsubscribes at once", async () => {
    const c = await client();
    c.write("SUB u.3 1\r\nPUB u.3 1\r\na\r\nPUB u.3 1\r\nb\r\nUNSUB 1 2\r\nPUB u.3 1\r\nc\r\n");
    expect(await c.flush()).toBe("MSG u.3 1 1\r\na\r\nMSG u.3 1 1\r\nb\r\n");
  });

  test("UNSUB with max counts deliveries from every publisher", async () => {
    const sub = await client();
    sub.write("SUB u.4 1\r\nUNSUB 1 2\r\n");
    await sub.flush();
    const p1 = await client();
    const p2 = await client();
    p1.write("PUB u.4 2\r\np1\r\n");
    await p1.flush();
    p2.write("PUB u.4 2\r\np2\r\n");
    await p2.flush();
    p1.write("PUB u.4 2\r\np3\r\n");
    await p1.flush();
    expect(await sub.flush()).toBe("MSG u.4 1 2\r\np1\r\nMSG u.4 1 2\r\np2\r\n");
  });
});

describe("queue groups", () => {
  test("1000 messages to 4 members: each delivered to exactly one member, roughly uniformly", async () => {
    const members: RawClient[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await client();
      m.write(`SUB q.work workers ${i + 1}\r\n`);
      await m.flush();
      members.push(m);
    }
    const plain = await client();
    plain.write("SUB q.work 99\r\n");
    await plain.flush();
    const pub = await client();
    const total = 1000;
    let batch = "";
    for (let i = 0; i < total; i++) batch += `PUB q.work ${String(i).length}\r\n${i}\r\n`;
    pub.write(batch);
    await pub.flush();
    const seen = new Map<string, number>();
    const counts: number[] = [];
    for (const [k, m] of members.entries()) {
      const out = await m.flush();
      const got = [...out.matchAll(/MSG q\.work (\d+) \d+\r\n(\d+)\r\n/g)];
      // Everything received is well-formed MSGs for this member's sid.
      expect(got.map((g) => g[0]).join("")).toBe(out);
      for (const g of got) {
        expect(g[1]).toBe(String(k + 1));
        expect(seen.has(g[2])).toBe(false);
        seen.set(g[2], k);
      }
      counts.push(got.length);
    }
    expect(seen.size).toBe(total);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
    // Expected 250 each; below 150 has a probability around 1e-14 for a uniform choice.
    for (const n of counts) expect(n).toBeGreaterThan(total * 0.15);
    // A plain subscriber on the same subject gets every message.
    const all = await plain.flush();
    expect(countOf(all, "MSG q.work 99 ")).toBe(total);
  });

  test("two groups on one subject each get every message once", async () => {
    const a = await client();
    const b = await client();
    a.write("SUB q2.x g1 1\r\nSUB q2.* g2 2\r\n");
    b.write("SUB q2.> g1 1\r\n");
    await a.flush();
    await b.flush();
    const pub = await client();
    for (let i = 0; i < 20; i++) pub.write(`PUB q2.x 1\r\n${i % 10}\r\n`);
    await pub.flush();
    const outA = await a.flush();
    const outB = await b.flush();
    const g1 = countOf(outA, "MSG q2.x 1 ") + countOf(outB, "MSG q2.x 1 ");
    expect(g1).toBe(20);
    expect(countOf(outA, "MSG q2.x 2 ")).toBe(20);
  });

  test("a queue member that unsubscribes gets nothing more; the group carries on", async () => {
    const a = await client();
    const b = await client();
    a.write("SUB q3 g 1\r\nUNSUB 1\r\n");
    b.write("SUB q3 g 1\r\n");
    await a.flush();
    await b.flush();
    const pub = await client();
    for (let i = 0; i < 10; i++) pub.write("PUB q3 1\r\nx\r\n");
    await pub.flush();
    expect(await a.flush()).toBe("");
    expect(countOf(await b.flush(), "MSG q3 1 1\r\nx\r\n")).toBe(10);
  });
});

describe("pipelining and chunking", () => {
  const script: Script = {
    name: "mixed",
    steps: [
      'CONNECT {"verbose":true,"pedantic":false,"headers":true,"no_responders":true}\r\n' +
        "SUB p.a 1\r\nsub p.* 2\r\nSUB p.> grp 3\r\nPUB p.a 5\r\nhello\r\nPUB p.b r.1 0\r\n\r\n" +
        `HPUB p.a ${HDR.length} ${HDR.length + 2}\r\n${HDR}hi\r\nPING\r\nUNSUB 2 1\r\nPUB p.c 4\r\n\r\n\r\n\r\nPUB p.c 1\r\nx\r\n` +
        "SUB _INBOX.z 9\r\nPUB none _INBOX.z 0\r\n\r\nUNSUB 1\r\nPUB p.a 007\r\n1234567\r\nPONG\r\n+OK\r\nPING\r\n",
    ],
  };
  const OK = "+OK\r\n";
  const expected = [
    OK, OK, OK, OK,
    OK, "MSG p.a 1 5\r\nhello\r\n", "MSG p.a 2 5\r\nhello\r\n", "MSG p.a 3 5\r\nhello\r\n",
    OK, "MSG p.b 2 r.1 0\r\n\r\n", "MSG p.b 3 r.1 0\r\n\r\n",
    OK, ...[1, 2, 3].map((sid) => `HMSG p.a ${sid} ${HDR.length} ${HDR.length + 2}\r\n${HDR}hi\r\n`),
    "PONG\r\n",
    OK, // UNSUB 2 1: sid 2 already had 3 messages, so it goes at once
    OK, "MSG p.c 3 4\r\n\r\n\r\n\r\n",
    OK, "MSG p.c 3 1\r\nx\r\n",
    OK, OK, "HMSG _INBOX.z 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
    OK, OK, "MSG p.a 3 007\r\n1234567\r\n",
    "PONG\r\n", "PONG\r\n",
  ];

  test("many commands in one write produce the exact responses in order", async () => {
    const out = await runScript(server.port, script);
    expect(out.closed).toBe(false);
    expect(canonicalFrames(out.output)).toEqual(expected);
  });

  test("the same script written byte by byte gives identical output", async () => {
    const whole = await runScript(server.port, script);
    const bytewise = await runScript(server.port, script, { pieceBytes: 1, timeoutMs: 10_000 });
    expect(bytewise).toEqual({ ...whole, info: bytewise.info });
    expect(bytewise.output).toBe(whole.output);
  });

  test("a short script written byte by byte, without a blank after the op name on any line", async () => {
    // Isolates the parser's partial-line handling from multi-subscriber ordering.
    const s: Script = { name: "short", steps: ["CONNECT {}\r\nSUB b.1 1\r\nPUB b.1 2\r\nhi\r\nPING\r\n"] };
    const whole = await runScript(server.port, s);
    expect(whole.output).toBe("+OK\r\n+OK\r\n+OK\r\nMSG b.1 1 2\r\nhi\r\nPONG\r\nPONG\r\n");
    const bytewise = await runScript(server.port, s, { pieceBytes: 1 });
    expect(bytewise.output).toBe(whole.output);
  });

  test("the same script in pieces of 2, 3, 7 and 64 bytes gives identical output", async () => {
    const whole = await runScript(server.port, script);
    for (const pieceBytes of [2, 3, 7, 64]) {
      const split = await runScript(server.port, script, { pieceBytes, timeoutMs: 10_000 });
      expect({ pieceBytes, output: split.output, closed: split.closed }).toEqual({ pieceBytes, output: whole.output, closed: false });
    }
  });

  test("10,000 pipelined PUBs in one write arrive complete and in order", async () => {
    const c = await client();
    c.write("SUB many 1\r\n");
    await c.flush();
    let batch = "";
    let expectedOut = "";
    for (let i = 0; i < 10_000; i++) {
      batch += `PUB many ${String(i).length}\r\n${i}\r\n`;
      expectedOut += `MSG many 1 ${String(i).length}\r\n${i}\r\n`;
    }
    c.write(batch);
    expect(await c.flush(10_000)).toBe(expectedOut);
  });
});
