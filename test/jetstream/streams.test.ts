// JetStream streams with the official client (@nats-io/jetstream) against the compiled server:
// every stream configuration option, the publish path (PubAck, de-duplication, expected-*
// headers, limits, discard policies, roll-ups, TTLs), reads (get, direct get), purge, delete,
// list, stream and account info numbers, and advisories.
//
// All streams here use memory storage; persistence (the file store) is in persistence.test.ts.
// One server for the whole file; every test uses its own streams and subjects.
//
// Byte counts: a memory store accounts subject + headers + payload + 16 bytes per message (the
// reference's memStoreMsgSize), so a message on subject "s.a" with payload "x" counts 20 bytes.
// The client gates features newer than the server's advertised version (2.9.10), so those
// (metadata, first_seq, subject_transform, Nats-TTL, …) are exercised with raw API requests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
let dir: string;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nats-bun-streams-"));
  server = await startServer({ args: ["-js", "-sd", dir] });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ZERO_TIME = "0001-01-01T00:00:00Z";
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const enc = new TextEncoder();

/** A memory stream with `subjects` (and anything else in `extra`). */
function addStream(name: string, subjects: string[], extra: Partial<StreamConfig> = {}): Promise<StreamInfo> {
  return jsm.streams.add({ name, subjects, storage: StorageType.Memory, ...extra });
}

/** Memory store accounting of one message (memStoreMsgSize). */
const msgBytes = (subject: string, payload: string, hdrLen = 0): number => subject.length + hdrLen + payload.length + 16;

/** The API error a client call was refused with. */
async function apiError(p: Promise<unknown>): Promise<{ code: number; err_code: number; description: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof JetStreamApiError) return e.apiError() as { code: number; err_code: number; description: string };
    throw e;
  }
  throw new Error("expected the call to fail with an API error");
}

/** A raw request (bytes in, text out): for features the client gates on the server version. */
async function raw(subject: string, body: string | Record<string, unknown> = "", hdrs?: [string, string][]): Promise<string> {
  let h: ReturnType<typeof headers> | undefined;
  if (hdrs !== undefined) {
    h = headers();
    for (const [k, v] of hdrs) h.append(k, v);
  }
  const m = await nc.request(subject, typeof body === "string" ? body : JSON.stringify(body), { timeout: 2_000, headers: h });
  return m.string();
}
const rawJson = async (subject: string, body: string | Record<string, unknown> = "", hdrs?: [string, string][]): Promise<Record<string, any>> =>
  JSON.parse(await raw(subject, body, hdrs)) as Record<string, any>;

/** Collects the messages of a core subscription. */
function collect(subject: string): Msg[] {
  const msgs: Msg[] = [];
  nc.subscribe(subject, {
    callback: (err, m) => {
      if (err === null) msgs.push(m);
    },
  });
  return msgs;
}

describe("create, info, update, delete", () => {
  test("create answers the config with the reference's defaults and an empty state", async () => {
    const si = await addStream("DEFAULTS", ["defaults.>"]);
    expect(si.config).toEqual({
      name: "DEFAULTS",
      subjects: ["defaults.>"],
      retention: RetentionPolicy.Limits,
      max_consumers: -1,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msgs_per_subject: -1,
      max_msg_size: -1,
      discard: DiscardPolicy.Old,
      storage: StorageType.Memory,
      num_replicas: 1,
      duplicate_window: 120_000_000_000,
      allow_direct: false,
      mirror_direct: false,
      sealed: false,
      deny_delete: false,
      deny_purge: false,
      allow_rollup_hdrs: false,
    } as unknown as StreamConfig);
    expect(si.state as unknown).toEqual({ messages: 0, bytes: 0, first_seq: 0, first_ts: ZERO_TIME, last_seq: 0, last_ts: ZERO_TIME, consumer_count: 0 });
    expect(si.created).toMatch(RFC3339);
    expect(Date.now() - Date.parse(si.created)).toBeLessThan(60_000);
  });

  test("a stream without subjects captures its own name; creating it again with the same config is fine, a different one is not", async () => {
    const si = await jsm.streams.add({ name: "NAMED", storage: StorageType.Memory });
    expect(si.config.subjects).toEqual(["NAMED"]);
    expect((await js.publish("NAMED", "x")).seq).toBe(1);
    const again = await jsm.streams.add({ name: "NAMED", storage: StorageType.Memory });
    expect(again.state.messages).toBe(1);
    expect(again.created).toBe(si.created);
    expect(await apiError(jsm.streams.add({ name: "NAMED", storage: StorageType.Memory, max_msgs: 5 }))).toEqual({
      code: 400,
      err_code: 10058,
      description: "stream name already in use with a different configuration",
    });
  });

  test("subjects with wildcards capture what they match and nothing else; overlaps are refused", async () => {
    await addStream("WILD", ["wild.*", "wild2.>"]);
    expect(await raw("wild.a", "1")).toBe('{"stream":"WILD", "seq":1}');
    expect(await raw("wild2.a.b.c", "2")).toBe('{"stream":"WILD", "seq":2}');
    // wild.a.b is not captured: nothing answers it.
    await expect(nc.request("wild.a.b", "3", { timeout: 1_000 })).rejects.toThrow(/no responders/i);
    expect((await jsm.streams.info("WILD")).state.messages).toBe(2);
    const overlap = { code: 400, err_code: 10065, description: "subjects overlap with an existing stream" };
    expect(await apiError(addStream("WILD_A", ["wild.a"]))).toEqual(overlap);
    expect(await apiError(addStream("WILD_ANY", [">"]))).toEqual(overlap);
    expect(await apiError(addStream("WILD_STAR", ["*.a"]))).toEqual(overlap);
    expect(await apiError(addStream("WILD_SELF", ["ws.*", "ws.a"]))).toEqual({ code: 500, err_code: 10052, description: 'subject "ws.*" overlaps with "ws.a"' });
    // Overlap on update too.
    await addStream("WILD_OTHER", ["wildother.*"]);
    expect(await apiError(jsm.streams.update("WILD_OTHER", { subjects: ["wildother.*", "wild2.x"] }))).toEqual(overlap);
  });

  test("update changes limits and subjects; what may not change is refused with the reference's texts", async () => {
    await addStream("UPD", ["upd.*"], { max_consumers: 5 });
    for (let i = 0; i < 5; i++) await js.publish("upd.a", `${i}`);
    const si = await jsm.streams.update("UPD", { max_msgs: 2, subjects: ["upd.*", "upd2.>"], description: "now smaller" });
    expect(si.config).toMatchObject({ max_msgs: 2, subjects: ["upd.*", "upd2.>"], description: "now smaller", max_consumers: 5 });
    expect(si.state).toMatchObject({ messages: 2, first_seq: 4, last_seq: 5 });
    expect((await js.publish("upd2.x.y", "z")).seq).toBe(6);
    const invalid = (description: string) => ({ code: 500, err_code: 10052, description });
    expect(await apiError(jsm.streams.update("UPD", { max_consumers: 6 } as Partial<StreamConfig>))).toEqual(invalid("stream configuration update can not change MaxConsumers"));
    expect(await apiError(jsm.streams.update("UPD", { storage: StorageType.File } as Partial<StreamConfig>))).toEqual(invalid("stream configuration update can not change storage type"));
    expect(await apiError(jsm.streams.update("UPD", { retention: RetentionPolicy.Workqueue } as Partial<StreamConfig>))).toEqual(
      invalid("stream configuration update can not change retention policy"),
    );
    expect(await apiError(jsm.streams.update("NOPE", { max_msgs: 1 }))).toEqual({ code: 404, err_code: 10059, description: "stream not found" });
  });

  test("delete removes the stream and its messages; info and delete of a missing stream say so", async () => {
    await addStream("GONE", ["gone.*"]);
    await js.publish("gone.a", "x");
    expect(await jsm.streams.delete("GONE")).toBe(true);
    const notFound = { code: 404, err_code: 10059, description: "stream not found" };
    expect(await apiError(jsm.streams.info("GONE"))).toEqual(notFound);
    expect(await apiError(jsm.streams.delete("GONE"))).toEqual(notFound);
    await expect(nc.request("gone.a", "y", { timeout: 1_000 })).rejects.toThrow(/no responders/i);
    // The name and subjects are free again.
    expect((await addStream("GONE", ["gone.*"])).state.messages).toBe(0);
  });

  test("names and list: sorted, filtered by subject, with totals", async () => {
    for (const n of ["LST_B", "LST_A", "LST_C"]) await addStream(n, [`${n.toLowerCase()}.*`]);
    const names: string[] = [];
    for await (const n of jsm.streams.names()) names.push(n);
    expect(names.filter((n) => n.startsWith("LST_"))).toEqual(["LST_A", "LST_B", "LST_C"]);
    expect(names).toEqual([...names].sort());
    const filtered: string[] = [];
    for await (const n of jsm.streams.names("lst_b.x")) filtered.push(n);
    expect(filtered).toEqual(["LST_B"]);
    const infos: StreamInfo[] = [];
    for await (const si of jsm.streams.list("lst_c.*")) infos.push(si);
    expect(infos.map((si) => si.config.name)).toEqual(["LST_C"]);
    const page = await rawJson("$JS.API.STREAM.NAMES", { subject: "lst_a.>" });
    expect(page).toEqual({ type: "io.nats.jetstream.api.v1.stream_names_response", total: 1, offset: 0, limit: 1024, streams: ["LST_A"] });
  });

  test("advisories on $JS.EVENT.ADVISORY.STREAM.CREATED/UPDATED/DELETED", async () => {
    const events = collect("$JS.EVENT.ADVISORY.STREAM.*.ADV");
    await nc.flush();
    await addStream("ADV", ["adv.*"]);
    await jsm.streams.update("ADV", { max_msgs: 10 });
    await jsm.streams.delete("ADV");
    await waitUntil(() => events.length === 3, "three stream advisories");
    expect(events.map((m) => m.subject)).toEqual([
      "$JS.EVENT.ADVISORY.STREAM.CREATED.ADV",
      "$JS.EVENT.ADVISORY.STREAM.UPDATED.ADV",
      "$JS.EVENT.ADVISORY.STREAM.DELETED.ADV",
    ]);
    const bodies = events.map((m) => m.json<Record<string, unknown>>());
    expect(bodies.map((b) => b.action)).toEqual(["create", "modify", "delete"]);
    for (const [i, m] of events.entries()) {
      const b = bodies[i];
      // The reference's field order: type, id, timestamp, stream, action.
      expect(Object.keys(b)).toEqual(["type", "id", "timestamp", "stream", "action"]);
      expect(b.type).toBe("io.nats.jetstream.advisory.v1.stream_action");
      expect(b.stream).toBe("ADV");
      expect(b.id).toMatch(/^[0-9A-Za-z]{22}$/);
      expect(b.timestamp).toMatch(RFC3339);
      expect(m.string().startsWith('{"type":"io.nats.jetstream.advisory.v1.stream_action","id":"')).toBe(true);
    }
    expect(new Set(bodies.map((b) => b.id)).size).toBe(3);
  });
});

describe("publishing", () => {
  test("PubAck: the reference's template text, client fields, sequence per stream", async () => {
    await addStream("ACK", ["ack.*"]);
    expect(await raw("ack.a", "x")).toBe('{"stream":"ACK", "seq":1}');
    const pa = await js.publish("ack.b", "y");
    expect(pa).toEqual({ stream: "ACK", seq: 2, duplicate: false });
    // A publish without a reply subject is stored too (no ack).
    nc.publish("ack.c", "z");
    await waitUntil(async () => (await jsm.streams.info("ACK")).state.messages === 3, "the un-acked publish stored");
  });

  test("duplicate_window and Nats-Msg-Id: duplicates are acked with the first sequence and not stored; the window expires", async () => {
    const si = await addStream("DEDUP", ["dedup.*"], { duplicate_window: 1_000_000_000 });
    expect(si.config.duplicate_window).toBe(1_000_000_000);
    expect(await js.publish("dedup.a", "1", { msgID: "id-1" })).toEqual({ stream: "DEDUP", seq: 1, duplicate: false });
    expect(await js.publish("dedup.a", "1", { msgID: "id-1" })).toEqual({ stream: "DEDUP", seq: 1, duplicate: true });
    expect(await raw("dedup.b", "other subject, same id", [["Nats-Msg-Id", "id-1"]])).toBe('{"stream":"DEDUP", "seq":1,"duplicate": true}');
    expect(await js.publish("dedup.a", "2", { msgID: "id-2" })).toEqual({ stream: "DEDUP", seq: 2, duplicate: false });
    expect((await jsm.streams.info("DEDUP")).state).toMatchObject({ messages: 2, last_seq: 2 });
    // After the window the id is new again (a duplicate is not stored, so retrying has no side effect).
    let seq = 0;
    await waitUntil(
      async () => {
        const pa = await js.publish("dedup.a", "1 again", { msgID: "id-1" });
        seq = pa.seq;
        return !pa.duplicate;
      },
      "the duplicate window to expire",
      5_000,
      50,
    );
    expect(seq).toBe(3);
  });

  test("the default duplicate window is 2 minutes, or max_age when that is shorter", async () => {
    expect((await addStream("DW1", ["dw1"])).config.duplicate_window).toBe(120_000_000_000);
    expect((await addStream("DW2", ["dw2"], { max_age: 30_000_000_000 })).config.duplicate_window).toBe(30_000_000_000);
  });

  test("expected stream, last sequence, last subject sequence and last msg id", async () => {
    await addStream("EXP", ["exp.*"]);
    expect((await js.publish("exp.a", "1", { expect: { streamName: "EXP" } })).seq).toBe(1);
    expect(await apiError(js.publish("exp.a", "x", { expect: { streamName: "OTHER" } }))).toEqual({ code: 400, err_code: 10060, description: "expected stream does not match" });
    expect((await js.publish("exp.a", "2", { expect: { lastSequence: 1 } })).seq).toBe(2);
    expect(await apiError(js.publish("exp.a", "x", { expect: { lastSequence: 1 } }))).toEqual({ code: 400, err_code: 10071, description: "wrong last sequence: 2" });
    expect((await js.publish("exp.b", "3", { expect: { lastSubjectSequence: 0 } })).seq).toBe(3);
    expect((await js.publish("exp.a", "4", { expect: { lastSubjectSequence: 2 } })).seq).toBe(4);
    expect(await apiError(js.publish("exp.b", "x", { expect: { lastSubjectSequence: 1 } }))).toEqual({ code: 400, err_code: 10071, description: "wrong last sequence: 3" });
    expect((await js.publish("exp.a", "5", { msgID: "m5" })).seq).toBe(5);
    expect((await js.publish("exp.a", "6", { expect: { lastMsgID: "m5" }, msgID: "m6" })).seq).toBe(6);
    expect(await apiError(js.publish("exp.a", "x", { expect: { lastMsgID: "m5" } }))).toEqual({ code: 400, err_code: 10070, description: "wrong last msg ID: m6" });
    // The last message's id is the last *stored* message's, empty when it had none.
    expect((await js.publish("exp.a", "7")).seq).toBe(7);
    expect(await apiError(js.publish("exp.a", "x", { expect: { lastMsgID: "m6" } }))).toEqual({ code: 400, err_code: 10070, description: "wrong last msg ID: " });
    // Nats-Expected-Last-Subject-Sequence-Subject (2.11): the check is made against another subject (wildcards allowed).
    expect(await raw("exp.c", "8", [["Nats-Expected-Last-Subject-Sequence", "7"], ["Nats-Expected-Last-Subject-Sequence-Subject", "exp.*"]])).toBe('{"stream":"EXP", "seq":8}');
    expect(await raw("exp.c", "x", [["Nats-Expected-Last-Subject-Sequence", "3"], ["Nats-Expected-Last-Subject-Sequence-Subject", "exp.b"]])).toBe('{"stream":"EXP", "seq":9}');
    expect(await raw("exp.c", "x", [["Nats-Expected-Last-Subject-Sequence", "1"], ["Nats-Expected-Last-Subject-Sequence-Subject", "exp.b"]])).toBe(
      '{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"EXP","seq":0}',
    );
    // Refused publishes store nothing.
    expect((await jsm.streams.info("EXP")).state).toMatchObject({ messages: 9, last_seq: 9 });
  });

  test("max_msg_size refuses larger messages (headers count)", async () => {
    const si = await addStream("SIZE", ["size.*"], { max_msg_size: 10 });
    expect(si.config.max_msg_size).toBe(10);
    expect((await js.publish("size.a", "0123456789")).seq).toBe(1);
    const tooBig = { code: 400, err_code: 10054, description: "message size exceeds maximum allowed" };
    expect(await apiError(js.publish("size.a", "01234567890"))).toEqual(tooBig);
    expect(await apiError(js.publish("size.a", "x", { msgID: "id" }))).toEqual(tooBig);
  });

  test("no_ack: stored without an answer", async () => {
    await addStream("NOACK", ["noack"], { no_ack: true });
    await expect(nc.request("noack", "x", { timeout: 300 })).rejects.toThrow(/timeout/i);
    expect((await jsm.streams.info("NOACK")).state.messages).toBe(1);
  });
});

describe("limits and discard policies", () => {
  test("max_msgs with discard old drops the oldest", async () => {
    await addStream("MAXMSGS", ["maxmsgs.*"], { max_msgs: 3 });
    for (let i = 1; i <= 5; i++) expect((await js.publish("maxmsgs.a", `${i}`)).seq).toBe(i);
    const st = (await jsm.streams.info("MAXMSGS")).state;
    expect(st).toMatchObject({ messages: 3, bytes: 3 * msgBytes("maxmsgs.a", "1"), first_seq: 3, last_seq: 5, num_subjects: 1 });
    expect(st.num_deleted).toBeUndefined();
  });

  test("max_bytes with discard old drops the oldest until it fits", async () => {
    const one = msgBytes("maxbytes.a", "x".repeat(10)); // 36
    await addStream("MAXBYTES", ["maxbytes.*"], { max_bytes: 3 * one });
    for (let i = 1; i <= 5; i++) await js.publish("maxbytes.a", "x".repeat(10));
    expect((await jsm.streams.info("MAXBYTES")).state).toMatchObject({ messages: 3, bytes: 3 * one, first_seq: 3, last_seq: 5 });
  });

  test("max_msgs_per_subject keeps the newest of each subject", async () => {
    await addStream("PERSUBJ", ["persubj.*"], { max_msgs_per_subject: 2 });
    for (let i = 1; i <= 3; i++) await js.publish("persubj.a", `a${i}`);
    await js.publish("persubj.b", "b1");
    const si = await jsm.streams.info("PERSUBJ", { subjects_filter: ">" });
    expect(si.state).toMatchObject({ messages: 3, first_seq: 2, last_seq: 4, num_subjects: 2, subjects: { "persubj.a": 2, "persubj.b": 1 } });
  });

  test("discard new: max_msgs, max_bytes and per subject refuse the new message with the store's error", async () => {
    await addStream("DNEW", ["dnew.*"], { max_msgs: 2, discard: DiscardPolicy.New });
    await js.publish("dnew.a", "1");
    await js.publish("dnew.a", "2");
    expect(await apiError(js.publish("dnew.a", "3"))).toEqual({ code: 503, err_code: 10077, description: "maximum messages exceeded" });
    expect((await jsm.streams.info("DNEW")).state).toMatchObject({ messages: 2, first_seq: 1, last_seq: 2 });

    await addStream("DNEWB", ["dnewb.*"], { max_bytes: 100, discard: DiscardPolicy.New });
    await js.publish("dnewb.a", "x".repeat(40));
    expect(await apiError(js.publish("dnewb.a", "x".repeat(40)))).toEqual({ code: 503, err_code: 10077, description: "maximum bytes exceeded" });

    const si = await addStream("DNEWP", ["dnewp.*"], { max_msgs_per_subject: 1, discard: DiscardPolicy.New, discard_new_per_subject: true });
    expect(si.config.discard_new_per_subject).toBe(true);
    await js.publish("dnewp.a", "1");
    expect(await apiError(js.publish("dnewp.a", "2"))).toEqual({ code: 503, err_code: 10077, description: "maximum messages per subject exceeded" });
    expect((await js.publish("dnewp.b", "3")).seq).toBe(2);
    expect(await apiError(addStream("DNEWP2", ["dnewp2"], { max_msgs_per_subject: 1, discard_new_per_subject: true }))).toEqual({
      code: 500,
      err_code: 10052,
      description: "discard new per subject requires discard new policy to be set",
    });
  });

  test("max_age expires messages (polled, bounded)", async () => {
    await addStream("AGE", ["age.*"], { max_age: 1_000_000_000 });
    expect((await js.publish("age.a", "1")).seq).toBe(1);
    expect((await js.publish("age.b", "2")).seq).toBe(2);
    await waitUntil(async () => (await jsm.streams.info("AGE")).state.messages === 0, "max_age expiry", 5_000, 50);
    const st = (await jsm.streams.info("AGE")).state;
    expect(st).toMatchObject({ messages: 0, bytes: 0, first_seq: 3, last_seq: 2, first_ts: ZERO_TIME });
    expect(st.num_subjects).toBeUndefined();
    expect((await js.publish("age.a", "3")).seq).toBe(3);
  });

  test("retention interest and workqueue as config; no consumers on an interest stream keeps nothing", async () => {
    const interest = await addStream("INTEREST", ["interest.*"], { retention: RetentionPolicy.Interest });
    expect(interest.config.retention).toBe(RetentionPolicy.Interest);
    expect((await js.publish("interest.a", "1")).seq).toBe(1);
    expect((await js.publish("interest.a", "2")).seq).toBe(2);
    expect((await jsm.streams.info("INTEREST")).state).toMatchObject({ messages: 0, first_seq: 3, last_seq: 2 });
    const wq = await addStream("WQ", ["wq.*"], { retention: RetentionPolicy.Workqueue });
    expect(wq.config.retention).toBe(RetentionPolicy.Workqueue);
    expect((await js.publish("wq.a", "1")).seq).toBe(1);
    expect((await jsm.streams.info("WQ")).state.messages).toBe(1);
  });

  test("max_consumers is kept as config", async () => {
    expect((await addStream("MAXCONS", ["maxcons"], { max_consumers: 3 })).config.max_consumers).toBe(3);
  });
});

describe("sealed, deny_delete, deny_purge, roll-ups", () => {
  test("sealed: set by update only; then nothing can be added, removed or unsealed", async () => {
    expect(await apiError(addStream("SEAL", ["seal.*"], { sealed: true }))).toEqual({ code: 500, err_code: 10052, description: "stream configuration for create can not be sealed" });
    await addStream("SEAL", ["seal.*"], { max_age: 3_600_000_000_000, allow_rollup_hdrs: true });
    await js.publish("seal.a", "1");
    await js.publish("seal.a", "2");
    const si = await jsm.streams.update("SEAL", { sealed: true } as never);
    // Sealing forces what keeps the contents as they are.
    expect(si.config).toMatchObject({ sealed: true, deny_delete: true, deny_purge: true, allow_rollup_hdrs: false, discard: DiscardPolicy.New, max_age: 0 });
    const sealed = { code: 400, err_code: 10109, description: "invalid operation on sealed stream" };
    expect(await apiError(js.publish("seal.a", "3"))).toEqual(sealed);
    expect(await apiError(jsm.streams.purge("SEAL"))).toEqual(sealed);
    expect(await apiError(jsm.streams.deleteMessage("SEAL", 1))).toEqual(sealed);
    expect(await apiError(jsm.streams.update("SEAL", { sealed: false } as never))).toEqual({ code: 500, err_code: 10052, description: "stream configuration update can not unseal a sealed stream" });
    expect((await jsm.streams.info("SEAL")).state).toMatchObject({ messages: 2, last_seq: 2 });
  });

  test("deny_delete and deny_purge refuse and cannot be cancelled", async () => {
    await addStream("DENY", ["deny.*"], { deny_delete: true, deny_purge: true });
    await js.publish("deny.a", "1");
    expect(await apiError(jsm.streams.deleteMessage("DENY", 1))).toEqual({ code: 500, err_code: 10057, description: "message delete not permitted" });
    expect(await apiError(jsm.streams.purge("DENY"))).toEqual({ code: 500, err_code: 10110, description: "stream purge not permitted" });
    expect(await apiError(jsm.streams.update("DENY", { deny_delete: false }))).toEqual({
      code: 500,
      err_code: 10052,
      description: "stream configuration update can not cancel deny message deletes",
    });
    expect(await apiError(addStream("DENY2", ["deny2"], { deny_purge: true, allow_rollup_hdrs: true }))).toEqual({ code: 500, err_code: 10052, description: "roll-ups require the purge permission" });
  });

  test("Nats-Rollup sub keeps the newest of the subject, all keeps only the new message; refused when not allowed", async () => {
    await addStream("ROLL", ["roll.*"], { allow_rollup_hdrs: true });
    for (const [s, d] of [["roll.a", "1"], ["roll.a", "2"], ["roll.b", "3"]]) await js.publish(s, d);
    const rh = headers();
    rh.set("Nats-Rollup", "sub");
    expect((await js.publish("roll.a", "4", { headers: rh })).seq).toBe(4);
    let si = await jsm.streams.info("ROLL", { subjects_filter: ">" });
    expect(si.state).toMatchObject({ messages: 2, first_seq: 3, last_seq: 4, num_subjects: 2, subjects: { "roll.a": 1, "roll.b": 1 } });
    const all = headers();
    all.set("Nats-Rollup", "all");
    expect((await js.publish("roll.c", "5", { headers: all })).seq).toBe(5);
    si = await jsm.streams.info("ROLL", { subjects_filter: ">" });
    expect(si.state).toMatchObject({ messages: 1, first_seq: 5, last_seq: 5, num_subjects: 1, subjects: { "roll.c": 1 } });
    const sm = await jsm.streams.getMessage("ROLL", { seq: 5 });
    expect(sm?.header.get("Nats-Rollup")).toBe("all");

    await addStream("NOROLL", ["noroll"]);
    expect(await apiError(js.publish("noroll", "x", { headers: all }))).toEqual({ code: 500, err_code: 10111, description: "rollup not permitted" });
  });
});

describe("reading and removing messages", () => {
  test("getMessage by sequence, last by subject, next by subject; deleteMessage with and without erase", async () => {
    await addStream("GET", ["get.*"]);
    const h = headers();
    h.set("X-Test", "v1");
    await js.publish("get.a", "one", { headers: h });
    await js.publish("get.b", "two");
    await js.publish("get.a", "three");
    const m1 = await jsm.streams.getMessage("GET", { seq: 1 });
    expect(m1).not.toBeNull();
    expect(m1!.subject).toBe("get.a");
    expect(m1!.seq).toBe(1);
    expect(m1!.string()).toBe("one");
    expect(m1!.header.get("X-Test")).toBe("v1");
    expect(Math.abs(m1!.time.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await jsm.streams.getMessage("GET", { last_by_subj: "get.a" }))!.seq).toBe(3);
    expect((await jsm.streams.getMessage("GET", { next_by_subj: "get.b", seq: 1 } as never))!.seq).toBe(2);
    expect(await jsm.streams.getMessage("GET", { seq: 99 })).toBeNull();
    const raw1 = await rawJson("$JS.API.STREAM.MSG.GET.GET", { seq: 2 });
    expect(Object.keys(raw1.message)).toEqual(["subject", "seq", "data", "time"]);
    expect(raw1.message.data).toBe(Buffer.from("two").toString("base64"));

    expect(await jsm.streams.deleteMessage("GET", 2)).toBe(true);
    expect(await jsm.streams.deleteMessage("GET", 1, false)).toBe(true);
    expect(await apiError(jsm.streams.deleteMessage("GET", 2))).toEqual({ code: 400, err_code: 10043, description: "sequence 2 not found" });
    const si = await jsm.streams.info("GET", { deleted_details: true });
    expect(si.state).toMatchObject({ messages: 1, first_seq: 3, last_seq: 3, num_subjects: 1 });
    expect(si.state.num_deleted).toBeUndefined();
  });

  test("allow_direct: direct gets by sequence, last by subject, next by subject", async () => {
    const si = await addStream("DIRECT", ["direct.*"], { allow_direct: true });
    expect(si.config.allow_direct).toBe(true);
    const h = headers();
    h.set("X-Test", "v");
    await js.publish("direct.a", "one", { headers: h });
    await js.publish("direct.b", "two");
    await js.publish("direct.a", "three");
    const m = await jsm.direct.getMessage("DIRECT", { seq: 1 });
    expect(m).not.toBeNull();
    expect({ subject: m!.subject, seq: m!.seq, data: m!.string(), stream: m!.header.get("Nats-Stream") }).toEqual({ subject: "direct.a", seq: 1, data: "one", stream: "DIRECT" });
    expect(m!.header.get("X-Test")).toBe("v");
    expect(m!.timestamp).toMatch(RFC3339);
    expect((await jsm.direct.getMessage("DIRECT", { last_by_subj: "direct.a" }))!.seq).toBe(3);
    expect((await jsm.direct.getMessage("DIRECT", { next_by_subj: "direct.b", seq: 1 } as never))!.seq).toBe(2);
    expect(await jsm.direct.getMessage("DIRECT", { seq: 99 })).toBeNull();
    // The raw reply: the message's own headers, then the stream's.
    const r = await nc.request("$JS.API.DIRECT.GET.DIRECT", JSON.stringify({ seq: 2 }), { timeout: 2_000 });
    expect([...r.headers!.keys()]).toEqual(["Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp"]);
    expect(r.string()).toBe("two");
    // Switched off, nothing answers (the request falls to the $JS.API.> handler, which does not answer
    // unknown requests — the reference times out the same way).
    await jsm.streams.update("DIRECT", { allow_direct: false });
    await expect(nc.request("$JS.API.DIRECT.GET.DIRECT", JSON.stringify({ seq: 2 }), { timeout: 300 })).rejects.toThrow(/timeout/i);
  });

  test("purge: everything, by subject, keeping the newest, below a sequence", async () => {
    await addStream("PURGE", ["purge.*"]);
    const fill = async (): Promise<void> => {
      for (const s of ["purge.a", "purge.b", "purge.a", "purge.b", "purge.a"]) await js.publish(s, "x");
    };
    await fill();
    expect(await jsm.streams.purge("PURGE", { filter: "purge.b" })).toMatchObject({ success: true, purged: 2 });
    expect((await jsm.streams.info("PURGE")).state).toMatchObject({ messages: 3, first_seq: 1, last_seq: 5, num_deleted: 2 });
    expect(await jsm.streams.purge("PURGE", { filter: "purge.a", keep: 1 })).toMatchObject({ success: true, purged: 2 });
    expect((await jsm.streams.info("PURGE")).state).toMatchObject({ messages: 1, first_seq: 5, last_seq: 5 });
    await fill();
    expect(await jsm.streams.purge("PURGE", { seq: 8 })).toMatchObject({ success: true, purged: 3 });
    expect((await jsm.streams.info("PURGE")).state).toMatchObject({ messages: 3, first_seq: 8, last_seq: 10 });
    expect(await jsm.streams.purge("PURGE", { keep: 2 })).toMatchObject({ success: true, purged: 1 });
    expect(await raw("$JS.API.STREAM.PURGE.PURGE")).toBe('{"type":"io.nats.jetstream.api.v1.stream_purge_response","success":true,"purged":2}');
    const st = (await jsm.streams.info("PURGE")).state;
    expect(st as unknown).toEqual({ messages: 0, bytes: 0, first_seq: 11, first_ts: ZERO_TIME, last_seq: 10, last_ts: st.last_ts, consumer_count: 0 });
    expect(st.last_ts).toMatch(RFC3339);
    // Sequences continue after a purge.
    expect((await js.publish("purge.a", "x")).seq).toBe(11);
    expect(await raw("$JS.API.STREAM.PURGE.PURGE", { seq: 2, keep: 1 })).toBe(
      '{"type":"io.nats.jetstream.api.v1.stream_purge_response","error":{"code":400,"err_code":10003,"description":"bad request"},"purged":0}',
    );
  });
});

describe("stream info numbers", () => {
  test("messages, bytes, first/last sequence and time, num_subjects, num_deleted, subjects_filter, deleted_details", async () => {
    await addStream("STATE", ["state.*"]);
    const before = Date.now();
    for (const s of ["state.a", "state.bb", "state.a", "state.ccc", "state.a"]) await js.publish(s, "payload");
    let si = await jsm.streams.info("STATE");
    const bytes = [msgBytes("state.a", "payload"), msgBytes("state.bb", "payload"), msgBytes("state.a", "payload"), msgBytes("state.ccc", "payload"), msgBytes("state.a", "payload")];
    expect(si.state).toMatchObject({ messages: 5, bytes: bytes.reduce((a, b) => a + b), first_seq: 1, last_seq: 5, num_subjects: 3, consumer_count: 0 });
    expect(Date.parse(si.state.first_ts)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(si.state.last_ts)).toBeGreaterThanOrEqual(Date.parse(si.state.first_ts));
    await jsm.streams.deleteMessage("STATE", 2);
    await jsm.streams.deleteMessage("STATE", 4);
    si = await jsm.streams.info("STATE", { deleted_details: true, subjects_filter: "state.*" });
    expect(si.state).toMatchObject({ messages: 3, bytes: 3 * msgBytes("state.a", "payload"), first_seq: 1, last_seq: 5, num_subjects: 1, num_deleted: 2, deleted: [2, 4], subjects: { "state.a": 3 } });
    // The reference's field order in the raw answer.
    const raw1 = await rawJson("$JS.API.STREAM.INFO.STATE", { deleted_details: true, subjects_filter: ">" });
    expect(Object.keys(raw1)).toEqual(["type", "total", "offset", "limit", "config", "created", "state"]);
    expect(Object.keys(raw1.state)).toEqual(["messages", "bytes", "first_seq", "first_ts", "last_seq", "last_ts", "num_subjects", "subjects", "num_deleted", "deleted", "consumer_count"]);
    expect({ total: raw1.total, offset: raw1.offset, limit: raw1.limit }).toEqual({ total: 1, offset: 0, limit: 100_000 });
    // Deleting the first message moves first_seq instead of counting a hole.
    await jsm.streams.deleteMessage("STATE", 1);
    si = await jsm.streams.info("STATE");
    expect(si.state).toMatchObject({ messages: 2, first_seq: 3, last_seq: 5, num_deleted: 1 });
  });

  test("account info: usage, stream count, limits and the API counters", async () => {
    await addStream("ACCT", ["acct.*"]);
    const a = await jsm.getAccountInfo();
    expect(a.limits).toEqual({
      max_memory: -1,
      max_storage: -1,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    });
    expect(a.storage).toBe(0);
    const names: string[] = [];
    for await (const n of jsm.streams.names()) names.push(n);
    expect(a.streams).toBe(names.length);
    // Memory usage is the sum of the memory streams' bytes.
    let bytes = 0;
    for await (const si of jsm.streams.list()) bytes += si.state.bytes;
    const b0 = await jsm.getAccountInfo();
    expect(b0.memory).toBe(bytes);
    await js.publish("acct.a", "x");
    const b1 = await jsm.getAccountInfo();
    expect(b1.memory - b0.memory).toBe(msgBytes("acct.a", "x"));
    // API counters: every request counts in total (the info request itself in the next answer), errors only failures.
    await jsm.streams.info("ACCT");
    await apiError(jsm.streams.info("NOPE"));
    await apiError(addStream("ACCT", ["acct.*"], { max_msgs: 1 }));
    const b2 = await jsm.getAccountInfo();
    expect(b2.api.total - b1.api.total).toBe(4);
    expect(b2.api.errors - b1.api.errors).toBe(2);
    // A publish is not an API request.
    await js.publish("acct.a", "y");
    const b3 = await jsm.getAccountInfo();
    expect(b3.api.total - b2.api.total).toBe(1);
    expect(b3.api.errors).toBe(b2.api.errors);
  });
});

describe("options newer than the 2.9.10 reference (raw requests: the client gates them on the server version)", () => {
  test("metadata is kept, echoed and replaced on update", async () => {
    const r = await rawJson("$JS.API.STREAM.CREATE.META", { name: "META", storage: "memory", subjects: ["meta.*"], metadata: { owner: "team-a" } });
    expect(r.config.metadata).toEqual({ owner: "team-a" });
    expect((await jsm.streams.info("META")).config.metadata).toEqual({ owner: "team-a" });
    const u = await rawJson("$JS.API.STREAM.UPDATE.META", { name: "META", storage: "memory", subjects: ["meta.*"], metadata: { owner: "team-b", tier: "1" } });
    expect(u.config.metadata).toEqual({ owner: "team-b", tier: "1" });
  });

  test("first_seq: the first message gets it", async () => {
    const r = await rawJson("$JS.API.STREAM.CREATE.FIRSTSEQ", { name: "FIRSTSEQ", storage: "memory", first_seq: 1000 });
    expect(r.config.first_seq).toBe(1000);
    expect(await raw("FIRSTSEQ", "x")).toBe('{"stream":"FIRSTSEQ", "seq":1000}');
    expect((await jsm.streams.info("FIRSTSEQ")).state).toMatchObject({ messages: 1, first_seq: 1000, last_seq: 1000 });
  });

  test("subject_transform stores messages under the transformed subject", async () => {
    await rawJson("$JS.API.STREAM.CREATE.XFORM", { name: "XFORM", storage: "memory", subjects: ["xform.*.*"], subject_transform: { src: "xform.*.*", dest: "moved.$2.$1" } });
    expect(await raw("xform.a.b", "x")).toBe('{"stream":"XFORM", "seq":1}');
    expect((await jsm.streams.getMessage("XFORM", { seq: 1 }))!.subject).toBe("moved.b.a");
    const si = await jsm.streams.info("XFORM", { subjects_filter: ">" });
    expect(si.state.subjects).toEqual({ "moved.b.a": 1 });
  });

  test("allow_msg_ttl and Nats-TTL: the message expires on its own; refused where not allowed", async () => {
    await rawJson("$JS.API.STREAM.CREATE.TTL", { name: "TTL", storage: "memory", subjects: ["ttl.*"], allow_msg_ttl: true });
    expect(await raw("ttl.a", "short", [["Nats-TTL", "1s"]])).toBe('{"stream":"TTL", "seq":1}');
    expect(await raw("ttl.b", "forever")).toBe('{"stream":"TTL", "seq":2}');
    expect(await raw("ttl.c", "long", [["Nats-TTL", "1h"]])).toBe('{"stream":"TTL", "seq":3}');
    await waitUntil(async () => (await jsm.streams.info("TTL")).state.messages === 2, "the 1s TTL to expire", 5_000, 50);
    expect((await jsm.streams.info("TTL")).state).toMatchObject({ messages: 2, first_seq: 2, last_seq: 3 });
    expect(await jsm.streams.getMessage("TTL", { seq: 1 })).toBeNull();

    await addStream("NOTTL", ["nottl"]);
    expect(await raw("nottl", "x", [["Nats-TTL", "1s"]])).toBe('{"error":{"code":400,"err_code":10166,"description":"per-message TTL is disabled"},"stream":"NOTTL","seq":0}');
  });

  // ADR-43: "a `never` message is not removed by the stream's MaxAge setting".
  test("Nats-TTL: never keeps a message past the stream's max_age", async () => {
    await rawJson("$JS.API.STREAM.CREATE.NEVER", { name: "NEVER", storage: "memory", subjects: ["never.*"], allow_msg_ttl: true, max_age: 1_000_000_000, duplicate_window: 1_000_000_000 });
    expect(await raw("never.a", "kept", [["Nats-TTL", "never"]])).toBe('{"stream":"NEVER", "seq":1}');
    expect(await raw("never.b", "aged")).toBe('{"stream":"NEVER", "seq":2}');
    await waitUntil(async () => (await jsm.streams.info("NEVER")).state.messages === 1, "max_age to remove the ordinary message", 5_000, 50);
    expect((await jsm.streams.getMessage("NEVER", { seq: 1 }))?.string()).toBe("kept");
    expect(await jsm.streams.getMessage("NEVER", { seq: 2 })).toBeNull();
  });
});

describe("republish", () => {
  // Nats-Last-Sequence is the previous sequence of the same subject (0 for its first message).
  // Nats-Time-Stamp is 2.10+ (the 2.9.10 reference does not send it).
  test("every stored message is republished with Nats-Stream, Nats-Subject, Nats-Sequence, Nats-Time-Stamp, Nats-Last-Sequence", async () => {
    const out = collect("repub.out.>");
    await nc.flush();
    const si = await addStream("REPUB", ["repub.in.*"], { republish: { src: "repub.in.*", dest: "repub.out.$1" } });
    expect(si.config.republish).toEqual({ src: "repub.in.*", dest: "repub.out.$1" });
    const h = headers();
    h.set("X-Own", "kept");
    await js.publish("repub.in.a", "1", { headers: h });
    await js.publish("repub.in.b", "2");
    await js.publish("repub.in.a", "3");
    await waitUntil(() => out.length === 3, "three republished messages");
    expect(out.map((m) => [m.subject, m.string()])).toEqual([
      ["repub.out.a", "1"],
      ["repub.out.b", "2"],
      ["repub.out.a", "3"],
    ]);
    const hdr = (m: Msg, k: string): string => m.headers!.get(k);
    expect(out.map((m) => [hdr(m, "Nats-Stream"), hdr(m, "Nats-Subject"), hdr(m, "Nats-Sequence"), hdr(m, "Nats-Last-Sequence")])).toEqual([
      ["REPUB", "repub.in.a", "1", "0"],
      ["REPUB", "repub.in.b", "2", "0"],
      ["REPUB", "repub.in.a", "3", "1"],
    ]);
    expect(hdr(out[0], "X-Own")).toBe("kept");
    expect([...out[0].headers!.keys()]).toEqual(["X-Own", "Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp", "Nats-Last-Sequence"]);
    for (const m of out) expect(hdr(m, "Nats-Time-Stamp")).toMatch(RFC3339);
  });

  test("headers_only sends Nats-Msg-Size and no payload; the source filter limits what is republished", async () => {
    const out = collect("repubh.out.>");
    await nc.flush();
    await addStream("REPUBH", ["repubh.*"], { republish: { src: "repubh.a", dest: "repubh.out.a", headers_only: true } });
    await js.publish("repubh.a", "12345");
    await js.publish("repubh.b", "not republished");
    await js.publish("repubh.a", "");
    await waitUntil(() => out.length === 2, "two republished messages");
    expect(out.map((m) => [m.subject, m.data.length, m.headers!.get("Nats-Msg-Size"), m.headers!.get("Nats-Sequence")])).toEqual([
      ["repubh.out.a", 0, "5", "1"],
      ["repubh.out.a", 0, "0", "3"],
    ]);
    expect(await apiError(addStream("REPUBC", ["repubc.*"], { republish: { src: ">", dest: "repubc.x" } }))).toEqual({
      code: 500,
      err_code: 10052,
      description: "stream configuration for republish destination forms a cycle",
    });
  });
});

describe("raw API", () => {
  test("a create request is answered with the PubAck-independent create response shape", async () => {
    const r = await rawJson("$JS.API.STREAM.CREATE.RAWC", { name: "RAWC", storage: "memory" });
    expect(Object.keys(r)).toEqual(["type", "config", "created", "state", "did_create"]);
    expect(r.type).toBe("io.nats.jetstream.api.v1.stream_create_response");
    expect(r.did_create).toBe(true);
    const d = await raw("$JS.API.STREAM.DELETE.RAWC");
    expect(d).toBe('{"type":"io.nats.jetstream.api.v1.stream_delete_response","success":true}');
    expect(enc.encode(d).length).toBe(d.length);
  });
});
