// JetStream per account (config accounts): enabled, disabled (10039), and limits from the
// account's `jetstream {}` block — the same requests against our executable and, where
// installed, the reference, compared byte for byte (timestamps masked).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

function config(storeDir: string): string {
  return `jetstream { store_dir: "${storeDir}" }
accounts {
  A { users [{user: a, password: a}], jetstream: enabled }
  B { users [{user: b, password: b}] }
  C { users [{user: c, password: c}], jetstream: { max_mem: 1024, max_file: 2048, max_streams: 1, max_consumers: 1 } }
}
`;
}

const mask = (s: string): string => s.replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"TS"');

/** The scripted requests, as user → [subject, body] pairs; returns every answer (masked). */
async function script(server: RunningServer): Promise<string[]> {
  const out: string[] = [];
  const steps: [string, string, string][] = [
    ["a", "$JS.API.INFO", ""],
    ["a", "$JS.API.STREAM.CREATE.S", '{"name":"S","storage":"memory","subjects":["a.>"]}'],
    ["b", "$JS.API.INFO", ""],
    ["b", "$JS.API.STREAM.CREATE.S", '{"name":"S","storage":"memory"}'],
    ["b", "$JS.API.STREAM.NAMES", ""],
    ["c", "$JS.API.INFO", ""],
    ["c", "$JS.API.STREAM.CREATE.X", '{"name":"X","storage":"memory"}'],
    ["c", "$JS.API.STREAM.CREATE.Y", '{"name":"Y","storage":"memory"}'],
    ["c", "$JS.API.STREAM.CREATE.Z", '{"name":"Z","storage":"memory","max_bytes":4096}'],
    ["c", "$JS.API.CONSUMER.CREATE.X.C1", '{"stream_name":"X","config":{"durable_name":"C1","ack_policy":"explicit"}}'],
    ["c", "$JS.API.CONSUMER.CREATE.X.C2", '{"stream_name":"X","config":{"durable_name":"C2","ack_policy":"explicit"}}'],
    ["c", "$JS.API.INFO", ""],
    ["a", "$JS.API.STREAM.NAMES", ""],
  ];
  const conns = new Map<string, NatsConnection>();
  try {
    for (const [user, subject, body] of steps) {
      let nc = conns.get(user);
      if (nc === undefined) {
        nc = await connect({ port: server.port, user, pass: user });
        conns.set(user, nc);
      }
      const reply = await nc.request(subject, body, { timeout: 2000 });
      out.push(`${user} ${subject} ${mask(reply.string())}`);
    }
  } finally {
    for (const nc of conns.values()) await nc.close();
  }
  return out;
}

describe("JetStream per account", () => {
  let dir: string;
  let ours: RunningServer;
  let answers: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nats-bun-jsacc-"));
    ours = await startServer({ config: config(join(dir, "ours")) });
    answers = await script(ours);
  });
  afterAll(async () => {
    await ours?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("enabled, disabled and limited accounts", () => {
    expect(answers[0]).toContain('"limits":{"max_memory":-1,"max_storage":-1,"max_streams":-1,"max_consumers":-1');
    expect(answers[1]).toContain('"did_create":true');
    expect(answers[2]).toBe('b $JS.API.INFO {"type":"io.nats.jetstream.api.v1.account_info_response","error":{"code":503,"err_code":10039,"description":"JetStream not enabled for account"}}');
    expect(answers[3]).toContain('"err_code":10039');
    expect(answers[5]).toContain('"limits":{"max_memory":1024,"max_storage":2048,"max_streams":1,"max_consumers":1');
    expect(answers[6]).toContain('"did_create":true');
    expect(answers[7]).toContain('{"code":400,"err_code":10027,"description":"maximum number of streams reached"}');
    expect(answers[9]).toContain('"num_pending":0');
    expect(answers[10]).toContain('{"code":400,"err_code":10026,"description":"maximum consumers limit reached"}');
    // Accounts are isolated: A sees only its own stream.
    expect(answers[12]).toContain('"streams":["S"]');
  });

  test.skipIf(referenceBinary === null)("the same answers as the reference (skipped when nats-server is not installed)", async () => {
    const ref = await startServer({ binary: referenceBinary!, config: config(join(dir, "ref")) });
    try {
      expect(await script(ref)).toEqual(answers);
    } finally {
      await ref.stop();
    }
  });
});

describe("sources across accounts through an imported JetStream API", () => {
  const xconfig = (storeDir: string): string => `jetstream { store_dir: "${storeDir}" }
accounts {
  A { users [{user: a, password: a}], jetstream: enabled,
      exports [ { service: "$JS.API.>" }, { stream: "deliver.a.>" } ] }
  B { users [{user: b, password: b}], jetstream: enabled,
      imports [ { service: { account: A, subject: "$JS.API.>" }, to: "$JS.A.API.>" }, { stream: { account: A, subject: "deliver.a.>" } } ] }
}
`;

  async function run(server: RunningServer): Promise<{ messages: number; first: string; lag: number }> {
    const a = await connect({ port: server.port, user: "a", pass: "a" });
    const b = await connect({ port: server.port, user: "b", pass: "b" });
    try {
      const jsmA = await jetstreamManager(a);
      const jsA = jetstream(a);
      await jsmA.streams.add({ name: "ORIG", subjects: ["orig.>"], storage: StorageType.Memory });
      for (let i = 0; i < 5; i++) await jsA.publish(`orig.${i}`, `m${i}`);
      const jsmB = await jetstreamManager(b);
      await jsmB.streams.add({ name: "AGG", storage: StorageType.Memory, sources: [{ name: "ORIG", external: { api: "$JS.A.API", deliver: "deliver.a.agg" } }] });
      for (let i = 5; i < 8; i++) await jsA.publish(`orig.${i}`, `m${i}`);
      // Sourcing is asynchronous in the reference: wait (bounded) for the 8 messages.
      for (let k = 0; k < 100 && (await jsmB.streams.info("AGG")).state.messages < 8; k++) await new Promise((r) => setTimeout(r, 50));
      const info = await jsmB.streams.info("AGG");
      const first = await jsmB.streams.getMessage("AGG", { seq: 1 });
      return { messages: info.state.messages, first: `${first?.subject} ${first?.string()}`, lag: info.sources?.[0]?.lag ?? -1 };
    } finally {
      await a.close();
      await b.close();
    }
  }

  test("B's stream sources A's stream; the same as the reference where installed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nats-bun-jsx-"));
    try {
      const ours = await startServer({ config: xconfig(join(dir, "ours")) });
      let got: { messages: number; first: string; lag: number };
      try {
        got = await run(ours);
      } finally {
        await ours.stop();
      }
      expect(got).toEqual({ messages: 8, first: "orig.0 m0", lag: 0 });
      if (referenceBinary !== null) {
        const ref = await startServer({ binary: referenceBinary, config: xconfig(join(dir, "ref")) });
        try {
          expect(await run(ref)).toEqual(got);
        } finally {
          await ref.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

