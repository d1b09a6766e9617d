// File-stream persistence across restarts of the compiled server, with the official client:
//   - a graceful stop (SIGTERM) keeps streams, configs, messages (bytes, headers, times),
//     sequences, holes, the de-duplication window; memory streams are gone;
//   - kill -9 while publishing with acks keeps every acknowledged message, byte for byte
//     (checked by content hash), and never leaves a torn one.
//   - a block file damaged at a random offset is recovered up to the last good record with a
//     warning in the log, and the server serves on;
//   - durable consumer state (delivered, ack floor, pending) survives SIGTERM and kill -9.
// The first two run against the reference too:
//   NATS_BUN_BINARY=/usr/sbin/nats-server bun test test/jetstream/persistence.test.ts -t 'SIGTERM and|kill -9 while'
import { afterEach, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError, StorageType, type PubAck, type StreamInfo } from "@nats-io/jetstream";
import { startServer, type RunningServer } from "../harness/server.ts";


const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function storeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nats-bun-persist-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dir: string): Promise<{ server: RunningServer; nc: NatsConnection }> {
  const server = await startServer({ args: ["-js", "-sd", dir] });
  const nc = await connect({ servers: server.url, reconnect: false });
  cleanups.push(async () => {
    await nc.close().catch(() => undefined);
    await server.stop();
  });
  return { server, nc };
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe("file streams survive restarts", () => {
  test("SIGTERM and restart: streams, configs, messages, sequences, holes and the dedupe window are kept", async () => {
    const dir = storeDir();
    let { server, nc } = await start(dir);
    let jsm = await jetstreamManager(nc);
    let js = jetstream(nc);
    await jsm.streams.add({ name: "KEEP", subjects: ["keep.*"], storage: StorageType.File, max_msgs_per_subject: 50, duplicate_window: 60_000_000_000, description: "kept" });
    await jsm.streams.add({ name: "VOLATILE", subjects: ["volatile"], storage: StorageType.Memory });
    await js.publish("volatile", "gone after restart");
    const sent = new Map<number, { subject: string; data: Uint8Array; hdr: string | null }>();
    for (let i = 0; i < 200; i++) {
      const subject = `keep.${i % 7}`;
      const data = randomBytes(i * 13 % 900);
      const h = i % 5 === 0 ? headers() : undefined;
      h?.set("X-Index", String(i));
      const pa = await js.publish(subject, data, { headers: h, msgID: `id-${i}` });
      sent.set(pa.seq, { subject, data, hdr: h === undefined ? null : String(i) });
    }
    // Holes and a purge, so recovery has deletes to keep.
    await jsm.streams.deleteMessage("KEEP", 10);
    await jsm.streams.deleteMessage("KEEP", 20, false);
    sent.delete(10);
    sent.delete(20);
    const purged = await jsm.streams.purge("KEEP", { filter: "keep.6" });
    for (const [seq, m] of sent) if (m.subject === "keep.6") sent.delete(seq);
    expect(purged.purged).toBeGreaterThan(0);
    const before = await jsm.streams.info("KEEP", { deleted_details: true, subjects_filter: ">" });

    await nc.close();
    await server.stop(); // SIGTERM (the 2.9.10 reference exits 1 on it, 2.11+ and we exit 0: not the point here)
    cleanups.pop(); // stopped already

    ({ server, nc } = await start(dir));
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    const after = await jsm.streams.info("KEEP", { deleted_details: true, subjects_filter: ">" });
    expect(after.config).toEqual(before.config);
    expect(after.created).toBe(before.created);
    expect(after.state).toEqual(before.state);
    for (const [seq, m] of sent) {
      const sm = await jsm.streams.getMessage("KEEP", { seq });
      expect(sm).not.toBeNull();
      expect(sm!.subject).toBe(m.subject);
      expect(sha256(sm!.data)).toBe(sha256(m.data));
      expect(sm!.header.get("X-Index") || null).toBe(m.hdr);
    }
    // Sequences continue; an id from before the restart is still a duplicate; the memory stream is gone.
    const next: PubAck = await js.publish("keep.0", "after restart");
    expect(next.seq).toBe(before.state.last_seq + 1);
    expect(await js.publish("keep.1", "dup", { msgID: "id-199" })).toMatchObject({ duplicate: true });
    let missing: unknown = null;
    await jsm.streams.info("VOLATILE").catch((e) => (missing = e));
    expect(missing).toBeInstanceOf(JetStreamApiError);
    expect((missing as JetStreamApiError).code).toBe(10059);
  }, 30_000);

  test("kill -9 while publishing: every acknowledged message is there, byte for byte, and nothing is torn", async () => {
    const dir = storeDir();
    let { server, nc } = await start(dir);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: "CRASH", subjects: ["crash.*"], storage: StorageType.File });

    // Every attempt carries its index (Nats-Msg-Id) and is hashed when sent; acks map seq → index.
    const sentHash: string[] = [];
    const acked = new Map<number, number>();
    let stop = false;
    const inFlight = 32;
    const publisher = async (lane: number): Promise<void> => {
      for (let i = lane; !stop; i += inFlight) {
        const data = randomBytes(1 + ((i * 7919) % 4000));
        sentHash[i] = sha256(data);
        try {
          const pa = await js.publish(`crash.${i % 10}`, data, { msgID: String(i), timeout: 2_000 });
          acked.set(pa.seq, i);
        } catch {
          return; // the server is gone
        }
      }
    };
    const lanes = Array.from({ length: inFlight }, (_, lane) => publisher(lane));
    // Kill once a good number of acks are in, while publishes are still in flight.
    const deadline = Date.now() + 10_000;
    while (acked.size < 3_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    stop = true;
    await Promise.all(lanes);
    expect(acked.size).toBeGreaterThanOrEqual(3_000);
    await nc.close().catch(() => undefined);

    const restarted = await start(dir);
    const jsm2 = await jetstreamManager(restarted.nc);
    const info: StreamInfo = await jsm2.streams.info("CRASH");
    const maxAcked = Math.max(...acked.keys());
    expect(info.state.last_seq).toBeGreaterThanOrEqual(maxAcked);
    expect(info.state.messages).toBeGreaterThanOrEqual(acked.size);
    let checked = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const sm = await jsm2.streams.getMessage("CRASH", { seq });
      if (acked.has(seq)) expect(sm).not.toBeNull();
      if (sm === null) continue;
      // Acked or not, a stored message is exactly one that was sent.
      const index = Number(sm.header.get("Nats-Msg-Id"));
      if (acked.has(seq)) expect(index).toBe(acked.get(seq)!);
      expect(sha256(sm.data)).toBe(sentHash[index]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(acked.size);
    // And the stream takes new messages after the last one.
    expect((await jetstream(restarted.nc).publish("crash.0", "after")).seq).toBe(info.state.last_seq + 1);
  }, 60_000);

  test("a block file damaged at a random offset: recovered up to the last good record, with a warning", async () => {
    const dir = storeDir();
    let { server, nc } = await start(dir);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: "DAMAGE", subjects: ["damage"], storage: StorageType.File });
    const payloads: string[] = [];
    for (let i = 1; i <= 500; i++) {
      payloads[i] = `message-${i}-${"x".repeat(i % 50)}`;
      await js.publish("damage", payloads[i]);
    }
    await nc.close();
    expect(await server.stop()).toBe(0);

    // Flip one byte somewhere in the second half of the (only) block file.
    const msgsDir = join(dir, "jetstream", "$G", "streams", "DAMAGE", "msgs");
    const block = readdirSync(msgsDir).find((f) => f.endsWith(".blk"))!;
    const path = join(msgsDir, block);
    const bytes = readFileSync(path);
    const size = statSync(path).size;
    const offset = Math.floor(size / 2 + Math.random() * (size / 2 - 1));
    bytes[offset] ^= 0xff;
    writeFileSync(path, bytes);

    ({ server, nc } = await start(dir));
    await server.waitForLog(/WRN.*DAMAGE/);
    const jsm2 = await jetstreamManager(nc);
    const info = await jsm2.streams.info("DAMAGE");
    // Messages from the damaged one on are lost; every message before it is intact.
    expect(info.state.last_seq).toBeGreaterThan(200);
    expect(info.state.last_seq).toBeLessThan(500);
    for (let seq = 1; seq <= info.state.last_seq; seq += 7) {
      const sm = await jsm2.streams.getMessage("DAMAGE", { seq });
      expect(sm?.string()).toBe(payloads[seq]);
    }
    // It serves on: new messages continue after the last good one.
    expect((await jetstream(nc).publish("damage", "after")).seq).toBe(info.state.last_seq + 1);
  }, 30_000);

  for (const how of ["SIGTERM", "SIGKILL"] as const) {
    test(`durable consumer state survives ${how === "SIGTERM" ? "a restart" : "kill -9"}: delivered, ack floor and pending`, async () => {
      const dir = storeDir();
      let { server, nc } = await start(dir);
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await jsm.streams.add({ name: "WORK", subjects: ["work"], storage: StorageType.File });
      for (let i = 1; i <= 20; i++) await js.publish("work", `job ${i}`);
      await jsm.consumers.add("WORK", { durable_name: "worker", ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000 });
      const c = await js.consumers.get("WORK", "worker");
      const batch = await c.fetch({ max_messages: 10, expires: 2000 });
      for await (const m of batch) if (m.seq <= 6) await m.ackAck();
      const before = await jsm.consumers.info("WORK", "worker");
      expect(before.delivered.stream_seq).toBe(10);
      expect(before.ack_floor.stream_seq).toBe(6);
      expect(before.num_ack_pending).toBe(4);
      expect(before.num_pending).toBe(10);
      // Consumer state is written at most every 250 ms: give a kill -9 that chance (bounded).
      if (how === "SIGKILL") await new Promise((r) => setTimeout(r, 600));
      await nc.close();
      if (how === "SIGTERM") expect(await server.stop()).toBe(0);
      else {
        server.proc.kill("SIGKILL");
        await server.proc.exited;
      }

      ({ server, nc } = await start(dir));
      const jsm2 = await jetstreamManager(nc);
      const after = await jsm2.consumers.info("WORK", "worker");
      expect(after.delivered.stream_seq).toBe(10);
      expect(after.ack_floor.stream_seq).toBe(6);
      expect(after.num_ack_pending).toBe(4);
      expect(after.num_pending).toBe(10);
      // The next message is 11; the 4 unacked ones come back after ack_wait, not now.
      const next = await (await jetstream(nc).consumers.get("WORK", "worker")).next({ expires: 2000 });
      expect(next?.seq).toBe(11);
    }, 30_000);
  }
});
