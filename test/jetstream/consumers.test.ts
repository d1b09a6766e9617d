// Consumers with the official client (@nats-io/jetstream) against the compiled server: the
// consumer API (create/info/names/list/delete/update, ephemeral clean-up), deliver policies,
// filters, ack policies and the ack protocol (+ACK, -NAK with and without delay, +WPI,
// +TERM, +NXT, double ack), redelivery timing (ack_wait, backoff, max_deliver and the
// dead-letter advisories), max_ack_pending, the exact state counters, headers_only, replay
// and rate limits, metadata, pause, ordered consumers and interest/workqueue retention.
//
// Every expectation here was checked against the reference (NATS_BUN_JS_TARGET=reference, see
// helpers.ts); features newer than its 2.9 run on ours only (`newer`). Streams use memory
// storage; the restart tests at the end wait for the file store.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { ackInfo, api, collect, dec, newer, onReference, pull, startJsServer, uniqueName, waitUntil, within, type JsServer } from "./helpers.ts";

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

/** A memory stream capturing `<name>.>` (or the given subjects); returns its name. */
async function addStream(opts: Partial<StreamConfig> = {}): Promise<string> {
  const name = uniqueName("CS");
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.Memory, ...opts });
  return name;
}

async function publish(stream: string, subjects: string[]): Promise<void> {
  for (const s of subjects) await js.publish(`${stream}.${s}`, s);
}

/** Stream sequences delivered by a no_wait pull of up to `batch`. */
async function seqsOf(stream: string, consumer: string, batch: number): Promise<number[]> {
  const r = await pull(nc, stream, consumer, { batch, no_wait: true });
  return r.msgs.map((m) => ackInfo(m).sseq);
}

/** The state counters of a consumer, without timestamps. */
async function stateOf(stream: string, consumer: string): Promise<Record<string, unknown>> {
  const i = await jsm.consumers.info(stream, consumer);
  return {
    delivered: [i.delivered.consumer_seq, i.delivered.stream_seq],
    ack_floor: [i.ack_floor.consumer_seq, i.ack_floor.stream_seq],
    num_ack_pending: i.num_ack_pending,
    num_redelivered: i.num_redelivered,
    num_pending: i.num_pending,
  };
}

/** Waits for the next JSON advisory on `subject` (subscribe before provoking it). */
function nextAdvisory(subject: string, timeoutMs = 3_000): Promise<Record<string, unknown>> {
  const c = collect(nc, subject);
  return c
    .next(1, timeoutMs)
    .then(([m]) => JSON.parse(dec.decode(m.data)) as Record<string, unknown>)
    .finally(() => c.sub.unsubscribe());
}

describe("consumer API", () => {
  test("durable: the reference's defaults; info, names, list; delete then 10014", async () => {
    const stream = await addStream();
    await publish(stream, ["a", "b"]);
    const ci = await jsm.consumers.add(stream, { durable_name: "dur", ack_policy: AckPolicy.Explicit });
    expect(ci.stream_name).toBe(stream);
    expect(ci.name).toBe("dur");
    expect(ci.config).toEqual({
      durable_name: "dur",
      name: "dur",
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
      ack_wait: 30_000_000_000,
      max_deliver: -1,
      replay_policy: ReplayPolicy.Instant,
      max_waiting: 512,
      max_ack_pending: 1000,
      num_replicas: 0,
    });
    expect(ci.delivered as object).toEqual({ consumer_seq: 0, stream_seq: 0 });
    expect(ci.ack_floor as object).toEqual({ consumer_seq: 0, stream_seq: 0 });
    expect([ci.num_ack_pending, ci.num_redelivered, ci.num_waiting, ci.num_pending]).toEqual([0, 0, 0, 2]);
    expect(ci.push_bound).toBeUndefined();

    const info = await jsm.consumers.info(stream, "dur");
    expect(info.config).toEqual(ci.config);
    expect(info.created).toBe(ci.created);

    expect(await api(nc, `CONSUMER.NAMES.${stream}`, {})).toEqual({
      type: "io.nats.jetstream.api.v1.consumer_names_response",
      total: 1,
      offset: 0,
      limit: 1024,
      consumers: ["dur"],
    });
    const listed = await jsm.consumers.list(stream).next();
    expect(listed.map((c) => c.name)).toEqual(["dur"]);

    expect(await jsm.consumers.delete(stream, "dur")).toBe(true);
    expect(await api(nc, `CONSUMER.INFO.${stream}.dur`)).toEqual({
      type: "io.nats.jetstream.api.v1.consumer_info_response",
      error: { code: 404, err_code: 10014, description: "consumer not found" },
    });
    expect(await api(nc, `CONSUMER.DELETE.${stream}.dur`)).toEqual({
      type: "io.nats.jetstream.api.v1.consumer_delete_response",
      error: { code: 404, err_code: 10014, description: "consumer not found" },
    });
    const names = await api(nc, `CONSUMER.NAMES.${stream}`, {});
    expect([names.total, names.consumers]).toEqual([0, []]);
  });

  test("create again with the same config is idempotent; update changes what may change", async () => {
    const stream = await addStream();
    const first = await jsm.consumers.add(stream, { durable_name: "d", ack_policy: AckPolicy.Explicit, ack_wait: ms(5000) });
    const again = await jsm.consumers.add(stream, { durable_name: "d", ack_policy: AckPolicy.Explicit, ack_wait: ms(5000) });
    expect(again.created).toBe(first.created);
    const updated = await jsm.consumers.update(stream, "d", { ack_wait: ms(7000), max_ack_pending: 5, description: "changed" });
    expect([updated.config.ack_wait, updated.config.max_ack_pending, updated.config.description]).toEqual([ms(7000), 5, "changed"]);
    const r = await api(nc, `CONSUMER.CREATE.${stream}.d`, {
      stream_name: stream,
      config: { durable_name: "d", ack_policy: "explicit", deliver_policy: "new" },
    });
    expect(r.error).toEqual({ code: 500, err_code: 10012, description: "deliver policy can not be updated" });
  });

  test("configuration errors: the reference's codes and texts", async () => {
    const stream = await addStream();
    const create = (config: Record<string, unknown>) => api(nc, `CONSUMER.CREATE.${stream}`, { stream_name: stream, config });
    const cases: [Record<string, unknown>, number, number, string][] = [
      [{ deliver_policy: "by_start_sequence" }, 400, 10094, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set"],
      [{ deliver_policy: "all", opt_start_seq: 3 }, 400, 10094, "consumer delivery policy is deliver all, but optional start sequence is also set"],
      [{ deliver_policy: "last_per_subject" }, 400, 10094, "consumer delivery policy is deliver last per subject, but optional filter subject is not set"],
      // sic: the reference's doubled word.
      [{ deliver_policy: "by_start_time", opt_start_time: "2020-01-01T00:00:00Z", opt_start_seq: 3 }, 400, 10094, "consumer delivery policy is deliver by start time, but optional start start sequence is also set"],
      [{ deliver_policy: "new", opt_start_time: "2020-01-01T00:00:00Z" }, 400, 10094, "consumer delivery policy is deliver new, but optional start time is also set"],
      [{ sample_freq: "abc" }, 400, 10095, 'failed to parse consumer sampling configuration: strconv.Atoi: parsing "abc": invalid syntax'],
      [{ max_waiting: -1 }, 400, 10087, "consumer max waiting needs to be positive"],
      [{ max_batch: -1 }, 400, 10114, "consumer max request batch needs to be > 0"],
      [{ max_expires: 100 }, 400, 10115, "consumer max request expires needs to be >= 1ms"],
      [{ deliver_subject: "a.*" }, 400, 10079, "consumer deliver subject has wildcards"],
      [{ deliver_subject: "a..b" }, 400, 10112, "invalid push consumer deliver subject"],
      [{ description: "x".repeat(4097) }, 400, 10107, "consumer description is too long, maximum allowed is 4096"],
      [{ num_replicas: 3 }, 500, 10074, "replicas > 1 not supported in non-clustered mode"],
      [{ flow_control: true }, 400, 10089, "consumer flow control requires a push based consumer"],
      [{ ack_policy: "explicit", idle_heartbeat: ms(50), deliver_subject: "hb.x" }, 400, 10083, "consumer idle heartbeat needs to be >= 100ms"],
      [{ ack_policy: "explicit", idle_heartbeat: ms(500) }, 400, 10088, "consumer idle heartbeat requires a push based consumer"],
      [{ ack_policy: "explicit", rate_limit_bps: 1000 }, 400, 10086, "consumer in pull mode can not have rate limit set"],
      [{ ack_policy: "explicit", deliver_subject: "fc.x", flow_control: true }, 400, 10108, "consumer with flow control also needs heartbeats"],
      [{ ack_policy: "explicit", deliver_subject: `${stream}.loop` }, 400, 10081, "consumer deliver subject forms a cycle"],
      [{ ack_policy: "explicit", filter_subject: "other.>" }, 400, 10093, "consumer filter subject is not a valid subset of the interest subjects"],
      [{ ack_policy: "explicit", backoff: [ms(100), ms(200)], max_deliver: 2 }, 400, 10116, "max deliver is required to be > length of backoff values"],
      // An unlimited max_deliver is refused with a backoff too.
      [{ ack_policy: "explicit", backoff: [ms(100), ms(200)] }, 400, 10116, "max deliver is required to be > length of backoff values"],
      [{ ack_policy: "explicit", deliver_subject: "push.x", max_waiting: 10 }, 400, 10080, "consumer in push mode can not set max waiting"],
    ];
    for (const [config, code, errCode, description] of cases) {
      const r = await create(config);
      expect({ config, error: r.error }).toEqual({ config, error: { code, err_code: errCode, description } });
    }
    const durableInEphemeral = await api(nc, `CONSUMER.CREATE.${stream}`, { stream_name: stream, config: { durable_name: "x" } });
    expect(durableInEphemeral.error).toEqual({ code: 400, err_code: 10020, description: "consumer expected to be ephemeral but a durable name was set in request" });
    const mismatch = await api(nc, `CONSUMER.CREATE.${stream}.x`, { stream_name: stream, config: { durable_name: "y" } });
    expect(mismatch.error).toEqual({ code: 400, err_code: 10017, description: "consumer name in subject does not match durable name in request" });
    const filterMismatch = await api(nc, `CONSUMER.CREATE.${stream}.x.${stream}.a`, { stream_name: stream, config: { name: "x", filter_subject: `${stream}.b` } });
    expect(filterMismatch.error).toEqual({ code: 400, err_code: 10131, description: "Consumer create request did not match filtered subject from create subject" });
    const streamMismatch = await api(nc, `CONSUMER.CREATE.${stream}.x`, { stream_name: "OTHER", config: { name: "x" } });
    expect(streamMismatch.error).toEqual({ code: 400, err_code: 10056, description: "stream name in subject does not match request" });
    const durableApi = await api(nc, `CONSUMER.DURABLE.CREATE.${stream}.x`, { stream_name: stream, config: {} });
    expect(durableApi.error).toEqual({ code: 400, err_code: 10018, description: "consumer expected to be durable but a durable name was not set" });
    const badName = await api(nc, `CONSUMER.CREATE.${stream}.a*b`, { stream_name: stream, config: { name: "a*b" } });
    expect(badName.error).toEqual({ code: 400, err_code: 10103, description: "durable name can not contain '.', '*', '>'" });
    const badJson = await api(nc, `CONSUMER.CREATE.${stream}.x`);
    expect(badJson.error).toEqual({ code: 400, err_code: 10025, description: "invalid JSON" });
    // max_ack_pending with ack policy none is accepted; a request without a config gets the defaults.
    const ackNone = await api(nc, `CONSUMER.CREATE.${stream}`, { stream_name: stream, config: { ack_policy: "none", max_ack_pending: 5 } });
    expect([ackNone.error, ackNone.config.max_ack_pending]).toEqual([undefined, 5]);
    const noConfig = await api(nc, `CONSUMER.CREATE.${stream}.bare`, { stream_name: stream });
    expect(noConfig.config).toEqual({ name: "bare", deliver_policy: "all", ack_policy: "none", max_deliver: -1, replay_policy: "instant", max_waiting: 512, inactive_threshold: 5_000_000_000, num_replicas: 0 });
    const noStream = await api(nc, "CONSUMER.CREATE.NOPE", { stream_name: "NOPE", config: {} });
    expect(noStream.error).toEqual({ code: 404, err_code: 10059, description: "stream not found" });
  });

  test("ephemeral: generated name, 5 s default inactive_threshold, removed after its own threshold", async () => {
    const stream = await addStream();
    const dflt = await jsm.consumers.add(stream, { ack_policy: AckPolicy.Explicit });
    expect(dflt.name).toMatch(/^[A-Za-z0-9]{8,}$/);
    expect(dflt.config.durable_name).toBeUndefined();
    expect(dflt.config.inactive_threshold).toBe(5_000_000_000);

    const t0 = Date.now();
    const short = await jsm.consumers.add(stream, { ack_policy: AckPolicy.Explicit, inactive_threshold: ms(400) });
    const deleted = nextAdvisory(`$JS.EVENT.ADVISORY.CONSUMER.DELETED.${stream}.${short.name}`);
    const advisory = await within(deleted, 3_000, "the consumer's deleted advisory");
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2_000);
    expect([advisory.type, advisory.stream, advisory.consumer, advisory.action]).toEqual(["io.nats.jetstream.advisory.v1.consumer_action", stream, short.name, "delete"]);
    expect((await api(nc, `CONSUMER.INFO.${stream}.${short.name}`)).error?.err_code).toBe(10014);
    // The default-threshold one is still there.
    expect((await jsm.consumers.info(stream, dflt.name)).name).toBe(dflt.name);
  });

  test("a durable with inactive_threshold is removed when idle too; a waiting pull request keeps it", async () => {
    const stream = await addStream();
    await jsm.consumers.add(stream, { durable_name: "idle", ack_policy: AckPolicy.Explicit, inactive_threshold: ms(300) });
    // A pull request waiting for 1200 ms counts as activity: the consumer outlives it.
    const t0 = Date.now();
    const deleted = nextAdvisory(`$JS.EVENT.ADVISORY.CONSUMER.DELETED.${stream}.idle`, 5_000);
    const r = await pull(nc, stream, "idle", { batch: 1, expires: ms(1200) });
    expect(r.status?.code).toBe(408);
    await within(deleted, 5_000, "deleted advisory");
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1_200);
    expect(elapsed).toBeLessThan(3_000);
  });
});
