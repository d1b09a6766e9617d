// $SYS.REQ.SERVER.PING.<EP> answered live by the system account on the compiled server: the
// same response keys (and data keys) as the reference for each endpoint.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "@nats-io/transport-node";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

const config = `accounts {
  SYS { users [{user: sys, password: sys}] }
  A { users [{user: a, password: a}] }
}
system_account: SYS
`;

const endpoints = ["VARZ", "CONNZ", "SUBSZ", "ACCOUNTZ", "JSZ", "HEALTHZ"];

async function shapes(server: RunningServer): Promise<Record<string, string[]>> {
  const nc = await connect({ port: server.port, user: "sys", pass: "sys" });
  const out: Record<string, string[]> = {};
  try {
    for (const ep of endpoints) {
      const m = await nc.request(`$SYS.REQ.SERVER.PING.${ep}`, "", { timeout: 2000 });
      const o = JSON.parse(m.string()) as { server: Record<string, unknown>; data: Record<string, unknown> };
      out[ep] = [...Object.keys(o), ...Object.keys(o.server).map((k) => `server.${k}`), `data.server_id:${typeof o.data.server_id}`];
    }
  } finally {
    await nc.close();
  }
  return out;
}

describe("$SYS.REQ.SERVER.PING endpoints", () => {
  let ours: RunningServer;
  let got: Record<string, string[]>;
  beforeAll(async () => {
    ours = await startServer({ config });
    got = await shapes(ours);
  });
  afterAll(async () => {
    await ours?.stop();
  });

  test("each endpoint answers {server, data} from the system account", () => {
    for (const ep of endpoints) expect(got[ep].slice(0, 2)).toEqual(["server", "data"]);
  });

  test.skipIf(referenceBinary === null)("the same keys as the reference (skipped when nats-server is not installed)", async () => {
    const ref = await startServer({ binary: referenceBinary!, config });
    try {
      expect(got).toEqual(await shapes(ref));
    } finally {
      await ref.stop();
    }
  });
});
