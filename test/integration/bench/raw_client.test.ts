// The raw client of the load tool against a real server: backpressure from a server that
// stops reading, and the handshake's errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Expectation } from "../../../src/cli/bench/core/roles.ts";
import { RawConnection } from "../../../src/cli/bench/raw/raw_connection.ts";
import { RawPublisher } from "../../../src/cli/bench/raw/raw_publisher.ts";
import { RawSubscriber } from "../../../src/cli/bench/raw/raw_subscriber.ts";
import { checkFor, coreServerExecutable, startServer, type TestServer } from "./harness.ts";

const executable = coreServerExecutable();
if (executable === null) console.warn("SKIPPED bench raw client tests: no server (set NATS_BUN_TEST_SERVER, build dist/, or install nats-server)");

describe.skipIf(executable === null)(`raw bench client against ${executable}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(executable as string);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("handshake reads INFO and flush round-trips", async () => {
    const connection = await RawConnection.connect({ url: server.url, name: "raw-test" });
    expect(typeof connection.serverInfo.server_id).toBe("string");
    await connection.flush();
    await connection.flush();
    connection.close();
  });

  test("a publisher waits on drain while the server stops reading, and loses nothing", async () => {
    const count = 100_000;
    const sizeBytes = 1024;
    const expectation = new Expectation(count, false);
    const subscriber = await RawSubscriber.subscribe({
      url: server.url, id: "S0", subject: "raw.backpressure", queue: "", expectation, idleTimeoutMs: 15_000, onProgress: () => {},
    });
    const publisher = await RawPublisher.connect(server.url, "P0", {
      subject: "raw.backpressure", payloadBytes: sizeBytes, multisubject: false, multisubjectMax: 0, timestamps: true,
    });
    let handed = 0;
    const pid = server.pid;
    process.kill(pid, "SIGSTOP");
    let published = false;
    try {
      const publishing = publisher.publish({ count, firstSeq: 0, ratePerSec: 0, onProgress: (messages) => { handed += messages; } }).then(() => {
        published = true;
      });
      // 100 MB cannot fit in socket buffers: the publisher must stall partway.
      let lastHanded = -1;
      await checkFor("the publisher to stall on a full socket", 10_000, 50, async () => {
        const stalled = handed > 0 && handed === lastHanded;
        lastHanded = handed;
        return stalled;
      });
      expect(published).toBe(false);
      expect(handed).toBeLessThan(count);
      process.kill(pid, "SIGCONT");
      await publishing;
      await subscriber.finished;
    } finally {
      process.kill(pid, "SIGCONT");
      await publisher.close();
      await subscriber.close();
    }
    expect(publisher.sample.msgs).toBe(count);
    expect(subscriber.sample.msgs).toBe(count);
    expect(subscriber.sample.bytes).toBe(count * sizeBytes);
    expect(subscriber.e2e.count).toBe(count);
  });

  test("connection errors are reported", async () => {
    await expect(RawConnection.connect({ url: "nats://127.0.0.1:1", name: "x", connectTimeoutMs: 2000 })).rejects.toThrow();
    await expect(RawConnection.connect({ url: "tls://127.0.0.1:1", name: "x" })).rejects.toThrow(/TLS/);
  });
});
