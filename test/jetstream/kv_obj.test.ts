// The key-value store (@nats-io/kv) and the object store (@nats-io/obj), unchanged official
// clients against the compiled server: CAS updates, delete/purge markers, keys, history,
// watch, status, TTL, destroy; objects of 20 MB checked byte for byte and by SHA-256, info,
// list, delete, links, watch, seal. Memory storage until the file store lands.
//
// Checked against the reference with NATS_BUN_JS_TARGET=reference (see helpers.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { startJsServer, uniqueName, waitUntil, within, type JsServer } from "./helpers.ts";

let server: JsServer;
let nc: NatsConnection;
let kvm: Kvm;
let objm: Objm;

beforeAll(async () => {
  server = await startJsServer();
  nc = await connect({ servers: server.url });
  kvm = new Kvm(nc);
  objm = new Objm(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const memory = { storage: StorageType.Memory };

/** The parts of an entry a test compares. */
function entry(e: KvEntry | null): Record<string, unknown> | null {
  if (e === null) return null;
  return { key: e.key, revision: e.revision, operation: e.operation, value: e.string(), length: e.length };
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; code?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code?: number; api_error?: { err_code: number } };
    return { name: err.name, message: err.message, code: err.api_error?.err_code ?? err.code };
  }
  throw new Error("expected a failure");
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("key-value store", () => {
  let kv: KV;
  let bucket: string;

  beforeAll(async () => {
    bucket = uniqueName("kv");
    kv = await kvm.create(bucket, { ...memory, history: 3 });
  });

  test("put, get, create (refused when the key exists), update with the right and a wrong revision", async () => {
    expect(await kv.put("a", "1")).toBe(1);
    expect(await kv.put("a", "2")).toBe(2);
    const exists = await errorOf(kv.create("a", "x"));
    expect([exists.message, exists.code]).toEqual(["wrong last sequence: 2", 10071]);
    expect(await kv.create("c", "c1")).toBe(3);
    const stale = await errorOf(kv.update("a", "3", 1));
    expect([stale.message, stale.code]).toEqual(["wrong last sequence: 2", 10071]);
    expect(await kv.update("a", "3", 2)).toBe(4);
    expect(entry(await kv.get("a"))).toEqual({ key: "a", revision: 4, operation: "PUT", value: "3", length: 1 });
    expect(entry(await kv.get("a", { revision: 1 }))).toEqual({ key: "a", revision: 1, operation: "PUT", value: "1", length: 1 });
    // Revision 3 is key c's: not an entry of a.
    expect(await kv.get("a", { revision: 3 })).toBeNull();
    expect(await kv.get("missing")).toBeNull();
  });

  test("history keeps the bucket's last 3 values of a key", async () => {
    await kv.put("h", "1");
    await kv.put("h", "2");
    await kv.put("h", "3");
    await kv.put("h", "4");
    const h = await all(await kv.history({ key: "h" }));
    expect(h.map((e) => [e.string(), e.operation])).toEqual([
      ["2", "PUT"],
      ["3", "PUT"],
      ["4", "PUT"],
    ]);
    expect(h.map((e) => e.revision)).toEqual([...h.map((e) => e.revision)].sort((x, y) => x - y));
  });

  test("delete leaves a DEL marker (create works again); purge leaves only a PURGE marker", async () => {
    await kv.put("d", "v");
    await kv.delete("d");
    const deleted = await kv.get("d");
    expect([deleted?.operation, deleted?.length, deleted?.string()]).toEqual(["DEL", 0, ""]);
    const again = await kv.create("d", "again");
    expect(entry(await kv.get("d"))).toEqual({ key: "d", revision: again, operation: "PUT", value: "again", length: 5 });
    await kv.put("p", "1");
    await kv.put("p", "2");
    await kv.purge("p");
    const purged = await kv.get("p");
    expect(purged?.operation).toBe("PURGE");
    expect((await all(await kv.history({ key: "p" }))).map((e) => e.operation)).toEqual(["PURGE"]);
  });

  test("keys: all live keys, and filtered by a wildcard", async () => {
    const b = await kvm.create(uniqueName("keys"), memory);
    for (const k of ["x.y", "x.z", "w", "gone"]) await b.put(k, k);
    await b.delete("gone");
    expect((await all(await b.keys())).sort()).toEqual(["w", "x.y", "x.z"]);
    expect((await all(await b.keys("x.*"))).sort()).toEqual(["x.y", "x.z"]);
    expect(await all(await b.keys("nothing.>"))).toEqual([]);
    await b.destroy();
  });

  test("watch: the current values first, then live updates including deletes", async () => {
    const b = await kvm.create(uniqueName("watch"), memory);
    await b.put("a", "1");
    await b.put("b", "1");
    await b.put("a", "2");
    const w = await b.watch();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of w) {
        seen.push(`${e.key}=${e.string()} ${e.operation} r${e.revision}${e.isUpdate ? " update" : ""}`);
        if (seen.length === 4) break;
      }
    })();
    await waitUntil(() => seen.length === 2, "the initial values");
    await b.put("c", "1");
    await b.delete("b");
    await within(done, 3_000, "the live updates");
    // The client marks the last of the initial values (nothing pending after it) as an update too.
    expect(seen).toEqual(["b=1 PUT r2", "a=2 PUT r3 update", "c=1 PUT r4 update", "b= DEL r5 update"]);
    await b.destroy();
  });

  test("watch: updates only, deletes ignored; and the whole history", async () => {
    const b = await kvm.create(uniqueName("watch"), { ...memory, history: 5 });
    await b.put("a", "1");
    await b.put("a", "2");
    const updates = await b.watch({ include: "updates", ignoreDeletes: true });
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of updates) {
        seen.push(`${e.key}=${e.string()}`);
        if (seen.length === 1) break;
      }
    })();
    await Bun.sleep(100);
    await b.delete("a");
    await b.put("n", "new");
    await within(done, 3_000, "an update");
    expect(seen).toEqual(["n=new"]);
    const history = await b.watch({ include: "history" });
    const all4: string[] = [];
    for await (const e of history) {
      all4.push(`${e.key}=${e.string()} ${e.operation}`);
      if (all4.length === 4) break;
    }
    expect(all4).toEqual(["a=1 PUT", "a=2 PUT", "a= DEL", "n=new PUT"]);
    await b.destroy();
  });

  test("status: bucket, values, history, ttl, storage and the backing stream's settings", async () => {
    const name = uniqueName("st");
    const b = await kvm.create(name, { ...memory, history: 4, max_bytes: 1 << 20, maxValueSize: 100 });
    await b.put("a", "1");
    await b.put("a", "2");
    await b.put("b", "1");
    const st = await b.status();
    expect([st.bucket, st.values, st.history, st.ttl, st.storage, st.max_bytes, st.maxValueSize]).toEqual([name, 3, 4, 0, "memory", 1 << 20, 100]);
    const c = st.streamInfo.config;
    expect([c.name, c.subjects, c.max_msgs_per_subject, c.discard, c.allow_rollup_hdrs, c.deny_delete, c.allow_direct, c.max_msg_size]).toEqual([
      `KV_${name}`,
      [`$KV.${name}.>`],
      4,
      "new",
      true,
      false,
      true,
      100,
    ]);
    const tooBig = await errorOf(b.put("big", new Uint8Array(101)));
    expect([tooBig.message, tooBig.code]).toEqual(["message size exceeds maximum allowed", 10054]);
    await b.destroy();
  });

  test("ttl: values expire after the bucket's ttl (timing bounds)", async () => {
    const b = await kvm.create(uniqueName("ttl"), { ...memory, ttl: 500 });
    expect((await b.status()).ttl).toBe(500);
    await b.put("k", "v");
    const t0 = Date.now();
    await waitUntil(async () => (await b.get("k")) === null, "the value to expire", 3_000, 25);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2_000);
    await b.destroy();
  });

  test("destroy: the bucket and its stream are gone", async () => {
    const name = uniqueName("gone");
    const b = await kvm.create(name, memory);
    await b.put("k", "v");
    expect(await b.destroy()).toBe(true);
    const err = await errorOf(kvm.open(name).then((x) => x.status()));
    expect(err.message).toBe("stream not found");
    const names = await all((await jetstreamManager(nc)).streams.names());
    expect(names).not.toContain(`KV_${name}`);
  });
});

describe("object store", () => {
  /** The object store's digest: SHA-256, base64 URL alphabet with padding. */
  const sha256 = (b: Uint8Array): string => `SHA-256=${createHash("sha256").update(b).digest("base64").replaceAll("+", "-").replaceAll("/", "_")}`;

  test("a 20 MB object: chunks, digest, and the same bytes back", async () => {
    const os = await objm.create(uniqueName("big"), memory);
    const data = new Uint8Array(20 * 1024 * 1024 + 3);
    for (let i = 0; i < data.length; i += 4096) crypto.getRandomValues(data.subarray(i, Math.min(i + 4096, data.length)));
    const info = await os.putBlob({ name: "big.bin", description: "twenty megabytes", metadata: { kind: "test" } }, data);
    expect([info.name, info.size, info.chunks, info.digest, info.deleted, info.description, info.metadata]).toEqual([
      "big.bin",
      data.length,
      Math.ceil(data.length / (128 * 1024)),
      sha256(data),
      false,
      "twenty megabytes",
      { kind: "test" },
    ]);
    const back = await os.getBlob("big.bin");
    expect(back?.length).toBe(data.length);
    expect(Buffer.compare(Buffer.from(back!), Buffer.from(data))).toBe(0);
    expect(sha256(back!)).toBe(info.digest);
    await os.destroy();
  }, 60_000);

  test("put from a stream and get as a stream; empty objects", async () => {
    const os = await objm.create(uniqueName("stream"), memory);
    const parts = [new Uint8Array(200_000).fill(1), new Uint8Array(70_000).fill(2)];
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    const info = await os.put({ name: "streamed" }, rs);
    expect([info.size, info.chunks]).toEqual([270_000, 3]);
    const r = await os.get("streamed");
    const chunks: Uint8Array[] = [];
    for await (const c of r!.data) chunks.push(c);
    expect((await r!.error) ?? null).toBeNull();
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true);
    const empty = await os.putBlob({ name: "empty" }, new Uint8Array(0));
    expect([empty.size, empty.chunks, empty.digest]).toEqual([0, 0, sha256(new Uint8Array(0))]);
    expect((await os.getBlob("empty"))?.length).toBe(0);
    await os.destroy();
  });

  test("info, list, delete, links, status, seal and destroy", async () => {
    const name = uniqueName("files");
    const os = await objm.create(name, { ...memory, description: "files" });
    await os.putBlob({ name: "a.txt" }, new TextEncoder().encode("hello"));
    await os.putBlob({ name: "b.txt" }, new TextEncoder().encode("world"));
    const a = await os.info("a.txt");
    expect([a?.name, a?.size, a?.chunks, a?.deleted]).toEqual(["a.txt", 5, 1, false]);
    expect(await os.info("missing")).toBeNull();
    expect((await os.list()).map((i) => i.name).sort()).toEqual(["a.txt", "b.txt"]);

    const link = await os.link("alias", a!);
    expect([link.name, link.options?.link]).toEqual(["alias", { bucket: name, name: "a.txt" }]);
    expect(new TextDecoder().decode((await os.getBlob("alias"))!)).toBe("hello");

    const purge = await os.delete("b.txt");
    expect([purge.success, purge.purged]).toEqual([true, 1]);
    const b = await os.info("b.txt");
    expect([b?.deleted, b?.size, b?.chunks]).toEqual([true, 0, 0]);
    expect(await os.getBlob("b.txt")).toBeNull();
    expect((await os.list()).map((i) => i.name).sort()).toEqual(["a.txt", "alias"]);

    const st = await os.status();
    expect([st.bucket, st.description, st.sealed, st.storage, st.backingStore]).toEqual([name, "files", false, "memory", "JetStream"]);
    expect(st.size).toBeGreaterThan(0);
    expect((await os.seal()).sealed).toBe(true);
    const sealed = await errorOf(os.putBlob({ name: "c.txt" }, new Uint8Array(1)));
    expect(sealed.message).toBe("invalid operation on sealed stream");
    expect(await os.destroy()).toBe(true);
    const names = await all((await jetstreamManager(nc)).streams.names());
    expect(names).not.toContain(`OBJ_${name}`);
  });

  test("watch: existing objects with history, then new ones", async () => {
    const os = await objm.create(uniqueName("watch"), memory);
    await os.putBlob({ name: "first" }, new Uint8Array(3));
    const w = await os.watch({ includeHistory: true });
    const seen: string[] = [];
    const done = (async () => {
      for await (const i of w) {
        if (i === null) continue;
        seen.push(`${i.name} ${i.size}${i.deleted ? " deleted" : ""}`);
        if (seen.length === 3) break;
      }
    })();
    await waitUntil(() => seen.length === 1, "the existing object");
    await os.putBlob({ name: "second" }, new Uint8Array(10));
    await os.delete("first");
    await within(done, 3_000, "the new object and the delete");
    expect(seen).toEqual(["first 3", "second 10", "first 0 deleted"]);
    await os.destroy();
  });
});
