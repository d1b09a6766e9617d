import { describe, expect, test } from "bun:test";
import { BenchUsageError, parseBenchArgs } from "../../../src/cli/bench/args.ts";
import type { BenchCommand } from "../../../src/cli/bench/options.ts";

function parse(line: string): BenchCommand {
  const command = parseBenchArgs(line.split(" ").filter((word) => word !== ""));
  if (command === null) throw new Error("help");
  return command;
}

function usageError(line: string): string {
  try {
    parse(line);
  } catch (error) {
    expect(error).toBeInstanceOf(BenchUsageError);
    return (error as Error).message;
  }
  throw new Error(`"${line}" parsed without error`);
}

describe("new-style subcommands", () => {
  test("pub with defaults", () => {
    const { runs, json, progress, csvFile } = parse("pub foo");
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run.kind).toBe("pub");
    expect(run.subject).toBe("foo");
    expect(run.server).toBe(process.env.NATS_URL ?? "nats://127.0.0.1:4222");
    expect(run.clients).toBe(1);
    expect(run.msgs).toBe(100_000);
    expect(run.sizeBytes).toBe(128);
    expect(run.client).toBe("raw");
    expect(run.ratePerSec).toBe(0);
    expect(json).toBe(false);
    expect(progress).toBe(true);
    expect(csvFile).toBe("");
  });

  test("flags with values, = form, short -s, units", () => {
    const [run] = parse("pub foo -s nats://127.0.0.1:5000 --clients=4 --msgs 1,000 --size 1KB --multisubject --rate 500 --client official").runs;
    expect(run.server).toBe("nats://127.0.0.1:5000");
    expect(run.clients).toBe(4);
    expect(run.msgs).toBe(1000);
    expect(run.sizeBytes).toBe(1024);
    expect(run.multisubject).toBe(true);
    expect(run.ratePerSec).toBe(500);
    expect(run.client).toBe("official");
  });

  test("pubsub takes --pubs and --subs", () => {
    const [run] = parse("pubsub foo --pubs 2 --subs 3 --queue q").runs;
    expect(run.kind).toBe("pubsub");
    expect(run.clients).toBe(2);
    expect(run.subscribers).toBe(3);
    expect(run.queue).toBe("q");
  });

  test("output flags", () => {
    const command = parse("sub foo --json --no-progress --csv out.csv --timeout 5s");
    expect(command.json).toBe(true);
    expect(command.progress).toBe(false);
    expect(command.csvFile).toBe("out.csv");
    expect(command.runs[0].idleTimeoutMs).toBe(5000);
    expect(parse("sub foo --progress=false").progress).toBe(false);
  });

  test("service roles use a queue group and the official client", () => {
    for (const role of ["serve", "request", "both"] as const) {
      const [run] = parse(`service ${role} svc --responders 2`).runs;
      expect(run.kind).toBe(`service-${role}`);
      expect(run.queue).toBe("bench-service");
      expect(run.client).toBe("official");
      expect(run.responders).toBe(2);
    }
  });

  test("JetStream and KV subcommands", () => {
    const [pub] = parse("js pub sync orders --stream S --storage memory --replicas 3 --purge --maxbytes 1MB").runs;
    expect(pub.kind).toBe("js-pub");
    expect(pub.jsPubMode).toBe("sync");
    expect(pub.stream).toBe("S");
    expect(pub.storage).toBe("memory");
    expect(pub.replicas).toBe(3);
    expect(pub.purge).toBe(true);
    expect(pub.maxBytes).toBe(1024 * 1024);
    expect(parse("js pub async orders --batch 100").runs[0].batch).toBe(100);
    expect(parse("js pub batch orders").runs[0].jsPubMode).toBe("batch");
    const [consume] = parse("js consume --acks all --consumer c1 --batch 50").runs;
    expect(consume.kind).toBe("js-consume");
    expect(consume.acks).toBe("all");
    expect(consume.consumer).toBe("c1");
    expect(parse("js fetch").runs[0].kind).toBe("js-fetch");
    expect(parse("js ordered").runs[0].kind).toBe("js-ordered");
    expect(parse("js get sync").runs[0].kind).toBe("js-get");
    const [put] = parse("kv put --bucket B --history 5 --randomize 10").runs;
    expect(put.kind).toBe("kv-put");
    expect(put.bucket).toBe("B");
    expect(put.history).toBe(5);
    expect(put.randomize).toBe(10);
    expect(parse("kv get").runs[0].kind).toBe("kv-get");
  });

  test("JetStream publishing takes --client raw; readers and KV stay on the official client", () => {
    expect(parse("js pub async orders").runs[0].client).toBe("official");
    expect(parse("js pub async orders --client raw").runs[0].client).toBe("raw");
    expect(parse("js pub sync orders --client raw").runs[0].client).toBe("raw");
    expect(parse("js fetch").runs[0].client).toBe("official");
    expect(parse("kv put").runs[0].client).toBe("official");
    expect(usageError("js fetch --client raw")).toMatch(/js fetch runs on the official client only/);
    expect(usageError("kv get --client raw")).toMatch(/kv get runs on the official client only/);
    const legacy = parse("foo --js --pub 1 --sub 1 --pull --client raw").runs;
    expect(legacy.map((run) => [run.kind, run.client])).toEqual([["js-pub", "raw"], ["js-fetch", "official"]]);
    expect(parse("foo --js --pub 1 --sub 1").runs.map((run) => run.client)).toEqual(["official", "official"]);
  });

  test("help", () => {
    expect(parseBenchArgs(["--help"])).toBeNull();
    expect(parseBenchArgs(["pub", "-h"])).toBeNull();
  });
});

describe("legacy spellings (natscli ≤ 0.1)", () => {
  test("--pub and --sub together become pubsub", () => {
    const [run] = parse("foo --pub 2 --sub 3 --msgs 500 --size 16").runs;
    expect(run.kind).toBe("pubsub");
    expect(run.clients).toBe(2);
    expect(run.subscribers).toBe(3);
    expect(run.msgs).toBe(500);
    expect(run.sizeBytes).toBe(16);
  });
  test("--pub alone and --sub alone", () => {
    expect(parse("foo --pub 4").runs[0]).toMatchObject({ kind: "pub", clients: 4 });
    expect(parse("foo --sub 2").runs[0]).toMatchObject({ kind: "sub", clients: 2 });
  });
  test("--request / --reply", () => {
    expect(parse("svc --pub 2 --request").runs[0]).toMatchObject({ kind: "service-request", clients: 2, queue: "bench-service" });
    expect(parse("svc --sub 3 --reply").runs[0]).toMatchObject({ kind: "service-serve", clients: 3 });
    expect(parse("svc --pub 2 --sub 3 --request --reply").runs[0]).toMatchObject({ kind: "service-both", clients: 2, responders: 3 });
  });
  test("--js runs the publisher first, then the reader", () => {
    const runs = parse("foo --js --pub 1 --sub 2 --pull --pullbatch 50 --storage memory").runs;
    expect(runs.map((run) => run.kind)).toEqual(["js-pub", "js-fetch"]);
    expect(runs[0].jsPubMode).toBe("batch");
    expect(runs[0].batch).toBe(100);
    expect(runs[0].storage).toBe("memory");
    expect(runs[1].clients).toBe(2);
    expect(runs[1].batch).toBe(50);
    expect(parse("foo --js --pub 1 --syncpub").runs[0].jsPubMode).toBe("sync");
    expect(parse("foo --js --pub 1 --pubbatch 20").runs[0].batch).toBe(20);
    expect(parse("foo --js --sub 1 --push").runs[0].kind).toBe("js-consume");
    expect(parse("foo --js --sub 1").runs[0].kind).toBe("js-ordered");
  });
  test("--kv maps to kv put then get", () => {
    expect(parse("foo --kv --pub 1 --sub 1 --bucket b").runs.map((run) => [run.kind, run.bucket])).toEqual([["kv-put", "b"], ["kv-get", "b"]]);
  });
  test("ignored legacy flags produce warnings", () => {
    expect(parse("foo --pub 1 --dedup --pubsleep 1ms").warnings).toHaveLength(2);
  });
});

describe("errors", () => {
  test("bad input is a usage error with a message that names the problem", () => {
    expect(usageError("")).toMatch(/scenario is required/);
    expect(usageError("pub")).toMatch(/subject is required/);
    expect(usageError("pub foo --size 12XB")).toMatch(/invalid size/);
    expect(usageError("pub foo --msgs 0")).toMatch(/at least 1/);
    expect(usageError("pub foo --msgs")).toMatch(/needs a value/);
    expect(usageError("pub foo --bogus")).toMatch(/unknown flag --bogus/);
    expect(usageError("pub foo -x")).toMatch(/unknown flag -x/);
    expect(usageError("pub foo.* ")).toMatch(/wildcard/);
    expect(usageError("pub foo --client fast")).toMatch(/raw, official/);
    expect(usageError("pub foo --pub 3")).toMatch(/legacy/);
    expect(usageError("js pub foo")).toMatch(/sync, async or batch/);
    expect(usageError("js pub atomic foo")).toMatch(/2\.12/);
    expect(usageError("service foo")).toMatch(/serve, request or both/);
    expect(usageError("kv delete")).toMatch(/put or get/);
    expect(usageError("js consume --rate 10")).toMatch(/--rate/);
    expect(usageError("sub foo --json=yes")).toMatch(/takes no value/);
    expect(usageError("pub foo bar")).toMatch(/unexpected argument/);
    expect(usageError("foo")).toMatch(/--pub N/);
    expect(usageError("pub foo --server http://x")).toMatch(/scheme|URL/);
    expect(usageError("kv put --history 65")).toMatch(/64/);
  });
});
