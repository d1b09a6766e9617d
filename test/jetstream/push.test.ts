// Push consumers against the compiled server: raw subscriptions on the deliver subject and the
// official client's push consumers (js.consumers.getPushConsumer). Binding (push_bound)
// follows the subscriptions, deliver_group spreads messages over a queue group, idle
// heartbeats and flow control requests are the reference's status messages.
//
// Checked against the reference with NATS_BUN_JS_TARGET=reference (see helpers.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { ackInfo, collect, headerPairs, startJsServer, statusOf, uniqueName, waitUntil, within, type JsServer } from "./helpers.ts";

let server: JsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

beforeAll(async () => {
  server = await startJsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const ms = (n: number): number => n * 1_000_000;

async function addStream(): Promise<string> {
  const name = uniqueName("PS");
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.Memory });
  return name;
}

async function publish(stream: string, n: number, payload: Uint8Array | string = "m"): Promise<void> {
  for (let i = 0; i < n; i++) await js.publish(`${stream}.x`, typeof payload === "string" ? `${payload}${i}` : payload);
}

async function pushBound(stream: string, name: string): Promise<boolean | undefined> {
  return (await jsm.consumers.info(stream, name)).push_bound;
}

describe("push consumers", () => {
  test("deliver_subject: nothing is sent before someone subscribes; push_bound follows the subscription", async () => {
    const stream = await addStream();
    await publish(stream, 3);
    const deliver = `deliver.${stream}`;
    const ci = await jsm.consumers.add(stream, { durable_name: "p", ack_policy: AckPolicy.None, deliver_subject: deliver });
    expect([ci.push_bound ?? "unbound", ci.num_pending, ci.delivered.consumer_seq] as unknown[]).toEqual(["unbound", 3, 0]);
    let got = collect(nc, deliver);
    const msgs = await got.next(3);
    expect(msgs.map((m) => [m.subject, m.string(), ackInfo(m).sseq, ackInfo(m).dseq])).toEqual([0, 1, 2].map((i) => [`${stream}.x`, `m${i}`, i + 1, i + 1]));
    expect(await pushBound(stream, "p")).toBe(true);
    got.sub.unsubscribe();
    await nc.flush();
    expect(await pushBound(stream, "p")).toBeUndefined();
    // Stored while nobody listens: kept for the next subscriber (even with ack none).
    await publish(stream, 2, "later");
    got = collect(nc, deliver);
    expect((await got.next(2)).map((m) => m.string())).toEqual(["later0", "later1"]);
    got.sub.unsubscribe();
  });

  test("deliver_group: a queue group shares the messages, each delivered once", async () => {
    const stream = await addStream();
    const deliver = `deliver.${stream}`;
    const a = collect(nc, deliver, { queue: "workers" });
    const b = collect(nc, deliver, { queue: "workers" });
    await nc.flush();
    const ci = await jsm.consumers.add(stream, { durable_name: "g", ack_policy: AckPolicy.Explicit, deliver_subject: deliver, deliver_group: "workers" });
    expect([ci.push_bound, ci.config.deliver_group]).toEqual([true, "workers"]);
    await publish(stream, 40);
    await waitUntil(() => a.msgs.length + b.msgs.length === 40, "40 deliveries");
    const seqs = [...a.msgs, ...b.msgs].map((m) => ackInfo(m).sseq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(a.msgs.length).toBeGreaterThan(0);
    expect(b.msgs.length).toBeGreaterThan(0);
    a.sub.unsubscribe();
    b.sub.unsubscribe();
  });

  test("binding: a plain subscriber does not bind a deliver_group consumer, nor a queue subscriber one without a group", async () => {
    const stream = await addStream();
    await publish(stream, 1);
    const plain = collect(nc, `plain.${stream}`);
    const queued = collect(nc, `queued.${stream}`, { queue: "q" });
    const other = collect(nc, `other.${stream}`, { queue: "other" });
    await nc.flush();
    const withGroup = await jsm.consumers.add(stream, { durable_name: "wg", ack_policy: AckPolicy.None, deliver_subject: `plain.${stream}`, deliver_group: "q" });
    const withoutGroup = await jsm.consumers.add(stream, { durable_name: "ng", ack_policy: AckPolicy.None, deliver_subject: `queued.${stream}` });
    const otherGroup = await jsm.consumers.add(stream, { durable_name: "og", ack_policy: AckPolicy.None, deliver_subject: `other.${stream}`, deliver_group: "q" });
    expect([withGroup.push_bound, withoutGroup.push_bound, otherGroup.push_bound].map((b) => b ?? "unbound") as unknown[]).toEqual(["unbound", "unbound", "unbound"]);
    // Nothing was delivered to any of them.
    await nc.flush();
    expect([plain.msgs.length, queued.msgs.length, other.msgs.length]).toEqual([0, 0, 0]);
    for (const c of [plain, queued, other]) c.sub.unsubscribe();
  });

  test("explicit acks: redelivery after ack_wait (timing bounds), max_ack_pending caps what is outstanding", async () => {
    const stream = await addStream();
    await publish(stream, 4);
    const deliver = `acks.${stream}`;
    const got = collect(nc, deliver);
    await nc.flush();
    await jsm.consumers.add(stream, { durable_name: "pa", ack_policy: AckPolicy.Explicit, deliver_subject: deliver, ack_wait: ms(400), max_ack_pending: 2 });
    await got.next(4, 3_000);
    expect(got.msgs.slice(0, 4).map((m) => [ackInfo(m).deliveries, ackInfo(m).sseq, ackInfo(m).dseq])).toEqual([
      [1, 1, 1],
      [1, 2, 2],
      [2, 1, 3],
      [2, 2, 4],
    ]);
    const gap = got.times[2] - got.times[1];
    expect(gap).toBeGreaterThanOrEqual(300);
    expect(gap).toBeLessThan(1_000);
    // Acknowledging makes room for 3 and 4.
    for (const m of got.msgs.slice(2, 4)) m.respond("+ACK");
    await got.next(6, 3_000);
    expect(got.msgs.slice(4, 6).map((m) => [ackInfo(m).deliveries, ackInfo(m).sseq])).toEqual([
      [1, 3],
      [1, 4],
    ]);
    for (const m of got.msgs.slice(4, 6)) m.respond("+ACK");
    await nc.flush();
    got.sub.unsubscribe();
    const ci = await jsm.consumers.info(stream, "pa");
    expect([ci.num_ack_pending, ci.num_redelivered, ci.num_pending, ci.ack_floor.stream_seq]).toEqual([0, 0, 0, 4]);
  });

  test("idle_heartbeat: 100 Idle Heartbeat with Nats-Last-Consumer and Nats-Last-Stream when idle; a delivery moves the deadline", async () => {
    const stream = await addStream();
    await publish(stream, 2);
    const deliver = `hb.${stream}`;
    const got = collect(nc, deliver);
    await nc.flush();
    const t0 = Date.now();
    await jsm.consumers.add(stream, { durable_name: "hb", ack_policy: AckPolicy.None, deliver_subject: deliver, idle_heartbeat: ms(200), deliver_policy: DeliverPolicy.New });
    await got.next(2, 2_000);
    const at = Date.now();
    await publish(stream, 1, "late");
    await got.next(5, 2_000);
    got.sub.unsubscribe();
    const events = got.msgs.slice(0, 5).map((m) => {
      const st = statusOf(m);
      return st === null ? `MSG ${ackInfo(m).sseq}` : `${st.code} ${st.description} ${headerPairs(m.headers).map(([k, v]) => `${k}=${v}`).join(" ")} reply=${m.reply ?? ""} size=${m.data.length}`;
    });
    const hb = (c: number, s: number): string => `100 Idle Heartbeat Nats-Last-Consumer=${c} Nats-Last-Stream=${s} reply= size=0`;
    expect(events).toEqual([hb(0, 2), hb(0, 2), "MSG 3", hb(1, 3), hb(1, 3)]);
    const times = got.times.slice(0, 5).map((t) => t - t0);
    expect(times[0]).toBeGreaterThanOrEqual(150);
    expect(times[0]).toBeLessThan(500);
    // The first heartbeat after the message comes ~200 ms after it.
    const sinceMsg = got.times[3] - got.times[2];
    expect(sinceMsg).toBeGreaterThanOrEqual(150);
    expect(sinceMsg).toBeLessThan(450);
    expect(got.times[2]).toBeGreaterThanOrEqual(at);
  });

  test("flow_control: requests past 1 MiB pending; unanswered, delivery stalls at 2 MiB with Nats-Consumer-Stalled heartbeats", async () => {
    const stream = await addStream();
    await publish(stream, 48, new Uint8Array(64 * 1024));
    const deliver = `fc.${stream}`;
    const got = collect(nc, deliver);
    await nc.flush();
    await jsm.consumers.add(stream, { durable_name: "fc", ack_policy: AckPolicy.None, deliver_subject: deliver, flow_control: true, idle_heartbeat: ms(200) });
    // Data up to 2 MiB (32 messages), one flow control request after the first 1 MiB, then heartbeats.
    await waitUntil(() => got.msgs.some((m) => statusOf(m)?.description === "Idle Heartbeat"), "a heartbeat while stalled", 3_000);
    const data = got.msgs.filter((m) => statusOf(m) === null);
    const requests = got.msgs.filter((m) => statusOf(m)?.description === "FlowControl Request");
    expect(data.length).toBe(32);
    expect(requests.length).toBe(1);
    const fc = requests[0];
    expect(got.msgs.indexOf(fc)).toBe(16);
    expect(fc.reply).toMatch(new RegExp(`^\\$JS\\.FC\\.${stream}\\.fc\\.`));
    expect([fc.data.length, headerPairs(fc.headers)]).toEqual([0, []]);
    const stalled = got.msgs.find((m) => statusOf(m)?.description === "Idle Heartbeat")!;
    expect(stalled.headers?.get("Nats-Consumer-Stalled")).toBe(fc.reply!);
    expect((await jsm.consumers.info(stream, "fc")).num_pending).toBe(16);
    // The answer releases the rest.
    fc.respond();
    await waitUntil(() => got.msgs.filter((m) => statusOf(m) === null).length === 48, "the other 16 messages", 3_000);
    got.sub.unsubscribe();
  });

  test("the official client's push consumer answers flow control and heartbeats: 100 messages of 64 KiB arrive in order", async () => {
    const stream = await addStream();
    await publish(stream, 100, new Uint8Array(64 * 1024));
    const deliver = `client.${stream}`;
    await jsm.consumers.add(stream, { durable_name: "cl", ack_policy: AckPolicy.Explicit, deliver_subject: deliver, flow_control: true, idle_heartbeat: ms(500) });
    const pc = await js.consumers.getPushConsumer(stream, "cl");
    const it = await pc.consume();
    const seqs: number[] = [];
    await within(
      (async () => {
        for await (const m of it) {
          seqs.push(m.seq);
          m.ack();
          if (seqs.length === 100) break;
        }
      })(),
      10_000,
      "100 messages through the client's push consumer",
    );
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await waitUntil(async () => (await jsm.consumers.info(stream, "cl")).num_ack_pending === 0, "all acknowledged");
  });

  test("the official client's ordered push consumer", async () => {
    const stream = await addStream();
    await publish(stream, 5);
    const oc = await js.consumers.getPushConsumer(stream);
    const it = await oc.consume();
    const got: string[] = [];
    await within(
      (async () => {
        for await (const m of it) {
          got.push(m.string());
          if (got.length === 5) break;
        }
      })(),
      5_000,
      "5 messages through the ordered push consumer",
    );
    expect(got).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });
});
