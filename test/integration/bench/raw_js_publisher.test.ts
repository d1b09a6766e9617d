// The raw JetStream publisher against a scripted server: a socket that speaks just enough of
// the protocol (INFO, PONG, reads PUB frames) and answers with PubAcks when and how a test
// says. This checks what a real server cannot be made to do on demand: acks held back one at
// a time (the window must be refilled per freed slot, not per window), acks out of order,
// error acks, no-responder statuses and stray acks.
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { RawJsPublisher, type RawJsPublisherOptions } from "../../../src/cli/bench/raw/raw_js_publisher.ts";
import { checkFor } from "./harness.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface ReceivedPub {
  subject: string;
  reply: string;
  /** The message's sequence: the reply's last token. */
  sequence: number;
  size: number;
}

/** What a script sees after each read of the client's bytes. */
interface ScriptedServer {
  pubs: ReceivedPub[];
  /** Sequences acknowledged so far, in the order the acks went out. */
  acked: number[];
  /** Largest number of PUBs received without an ack sent for them, seen at any PUB. */
  maxOutstanding: number;
  /** Called for each PUB as it arrives. */
  onPub: (pub: ReceivedPub) => void;
  /** Called after each read from the client has been parsed. */
  onReadEnd: () => void;
  ack(pub: ReceivedPub, body?: string): void;
  /** Sends an arbitrary server message to the client. */
  send(text: string): void;
  outstanding(): ReceivedPub[];
  url: string;
  stop(): void;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function scriptedServer(): ScriptedServer {
  let pending: Uint8Array = new Uint8Array(0);
  let client: Socket<undefined> | null = null;
  const ackedSet = new Set<number>();
  const server: ScriptedServer = {
    pubs: [],
    acked: [],
    maxOutstanding: 0,
    onPub: () => {},
    onReadEnd: () => {},
    ack(pub, body) {
      const text = body ?? `{"stream":"T", "seq":${this.acked.length + 1}}`;
      ackedSet.add(pub.sequence);
      this.acked.push(pub.sequence);
      this.send(`MSG ${pub.reply} 1 ${encoder.encode(text).length}\r\n${text}\r\n`);
    },
    send(text) {
      client?.write(text);
    },
    outstanding() {
      return this.pubs.filter((pub) => !ackedSet.has(pub.sequence));
    },
    url: "",
    stop: () => {},
  };
  const onData = (socket: Socket<undefined>, chunk: Uint8Array): void => {
    pending = concat(pending, chunk);
    for (;;) {
      const lineFeed = pending.indexOf(10);
      if (lineFeed < 0) break;
      const line = decoder.decode(pending.subarray(0, lineFeed)).trim();
      if (line.startsWith("PUB ")) {
        const fields = line.split(" ");
        const size = Number(fields.at(-1));
        if (pending.length < lineFeed + 1 + size + 2) break;
        const reply = fields.length === 4 ? fields[2] : "";
        const pub = { subject: fields[1], reply, sequence: Number(reply.split(".").at(-1)), size };
        server.pubs.push(pub);
        server.maxOutstanding = Math.max(server.maxOutstanding, server.pubs.length - server.acked.length);
        pending = pending.subarray(lineFeed + 1 + size + 2);
        server.onPub(pub);
        continue;
      }
      if (line === "PING") socket.write("PONG\r\n");
      pending = pending.subarray(lineFeed + 1);
    }
    server.onReadEnd();
  };
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        client = socket;
        socket.write('INFO {"server_id":"scripted","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576}\r\n');
      },
      data: onData,
    },
  });
  server.url = `nats://127.0.0.1:${listener.port}`;
  server.stop = () => listener.stop(true);
  return server;
}

const options = (overrides: Partial<RawJsPublisherOptions>): RawJsPublisherOptions => ({
  subject: "js.t", payloadBytes: 32, multisubject: false, multisubjectMax: 0, window: 8, refill: "sliding", idleTimeoutMs: 2000, ...overrides,
});

describe("raw JetStream publisher against a scripted server", () => {
  let server: ScriptedServer;
  let publisher: RawJsPublisher | null = null;
  afterEach(async () => {
    await publisher?.close();
    publisher = null;
    server?.stop();
  });

  test("a freed slot is refilled at once: one ack at a time keeps exactly the window in flight", async () => {
    server = scriptedServer();
    const count = 200;
    // Ack only the oldest message, and only when the window is full (or everything arrived).
    // A publisher that waited for the whole window before sending more would stall here.
    server.onReadEnd = () => {
      const outstanding = server.outstanding();
      if (server.pubs.length === count) for (const pub of outstanding) server.ack(pub);
      else if (outstanding.length === 8) server.ack(outstanding[0]);
    };
    publisher = await RawJsPublisher.connect(server.url, "P0", options({ window: 8 }));
    let progress = 0;
    await publisher.publish({ count, firstSeq: 1000, onProgress: (messages) => { progress += messages; } });
    expect(server.maxOutstanding).toBe(8);
    expect(server.pubs.map((pub) => pub.sequence)).toEqual(Array.from({ length: count }, (_, index) => 1000 + index));
    expect(server.pubs.every((pub) => pub.subject === "js.t" && pub.size === 32)).toBe(true);
    expect(new Set(server.pubs.map((pub) => pub.reply.slice(0, pub.reply.lastIndexOf(".")))).size).toBe(1);
    expect(publisher.sample.msgs).toBe(count);
    expect(publisher.sample.bytes).toBe(count * 32);
    expect(publisher.sample.latency.count).toBe(count);
    expect(progress).toBe(count);
  });

  test("window 1 (sync) sends the next message only after the ack of the last", async () => {
    server = scriptedServer();
    server.onPub = (pub) => server.ack(pub);
    publisher = await RawJsPublisher.connect(server.url, "P0", options({ window: 1 }));
    await publisher.publish({ count: 50, firstSeq: 0, onProgress: () => {} });
    expect(server.maxOutstanding).toBe(1);
    expect(publisher.sample.latency.count).toBe(50);
  });

  test("batch refill: the next batch leaves only once every ack of the last one is in", async () => {
    server = scriptedServer();
    const violations: number[] = [];
    server.onPub = (pub) => {
      if (server.acked.length < Math.floor(pub.sequence / 10) * 10) violations.push(pub.sequence);
    };
    server.onReadEnd = () => {
      for (const pub of server.outstanding()) server.ack(pub);
    };
    publisher = await RawJsPublisher.connect(server.url, "P0", options({ window: 10, refill: "batch" }));
    await publisher.publish({ count: 35, firstSeq: 0, onProgress: () => {} });
    expect(violations).toEqual([]);
    expect(server.maxOutstanding).toBeLessThanOrEqual(10);
    expect(publisher.sample.msgs).toBe(35);
    // Latency per batch: 10 + 10 + 10 + 5.
    expect(publisher.sample.latency.count).toBe(4);
  });

  test("acks out of order are matched to their messages by the inbox suffix", async () => {
    server = scriptedServer();
    const count = 40;
    server.onReadEnd = () => {
      const outstanding = server.outstanding();
      if (outstanding.length === 4 || server.pubs.length === count) for (const pub of outstanding.reverse()) server.ack(pub);
    };
    publisher = await RawJsPublisher.connect(server.url, "P0", options({ window: 4 }));
    await publisher.publish({ count, firstSeq: 0, onProgress: () => {} });
    expect(server.acked.slice(0, 8)).toEqual([3, 2, 1, 0, 7, 6, 5, 4]);
    expect(publisher.sample.msgs).toBe(count);
    expect(publisher.sample.latency.count).toBe(count);
  });

  test("an error ack fails the run with the server's error", async () => {
    server = scriptedServer();
    server.onPub = (pub) => server.ack(pub, pub.sequence === 5
      ? '{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"T","seq":0}'
      : undefined);
    publisher = await RawJsPublisher.connect(server.url, "P0", options({}));
    await expect(publisher.publish({ count: 100, firstSeq: 0, onProgress: () => {} }))
      .rejects.toThrow('publish to "js.t" (message 5) failed: JetStream error 503 (err_code 10077): maximum messages exceeded');
    expect(publisher.sample.msgs).toBe(5);
  });

  test("a no-responders status fails the run", async () => {
    server = scriptedServer();
    server.onPub = (pub) => {
      const status = "NATS/1.0 503\r\n\r\n";
      server.send(`HMSG ${pub.reply} 1 ${status.length} ${status.length}\r\n${status}\r\n`);
    };
    publisher = await RawJsPublisher.connect(server.url, "P0", options({}));
    await expect(publisher.publish({ count: 10, firstSeq: 0, onProgress: () => {} })).rejects.toThrow(/no responders \(503\)/);
  });

  test("an ack for no message in flight fails the run", async () => {
    server = scriptedServer();
    server.onPub = (pub) => server.ack({ ...pub, reply: pub.reply.replace(/\d+$/, "999") });
    publisher = await RawJsPublisher.connect(server.url, "P0", options({}));
    await expect(publisher.publish({ count: 10, firstSeq: 0, onProgress: () => {} })).rejects.toThrow(/\.999" answers no message in flight/);
  });

  test("missing acks end the run after the idle timeout", async () => {
    server = scriptedServer();
    publisher = await RawJsPublisher.connect(server.url, "P0", options({ window: 8, idleTimeoutMs: 300 }));
    const run = publisher.publish({ count: 20, firstSeq: 0, onProgress: () => {} });
    await checkFor("the window to arrive", 5000, 5, async () => server.pubs.length === 8);
    await expect(run).rejects.toThrow("8 of 8 published messages got no ack within 300 ms (0 of 20 acknowledged)");
  });
});
