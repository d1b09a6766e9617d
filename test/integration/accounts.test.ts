// Accounts with the official client against the compiled server: isolation between accounts,
// a service import answering requests across accounts (reply rewriting), a stream import with
// a prefix, account subject mappings, and the account connection limit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

let server: RunningServer;
const conns: NatsConnection[] = [];

beforeAll(async () => {
  server = await startServer({
    config: `accounts {
  SVC: {
    users: [ {user: svc, password: s} ]
    exports: [ {service: "time.>", response: singleton}, {service: "feed", response: stream, threshold: "1s"}, {stream: "events.>"} ]
  }
  APP: {
    users: [ {user: app, password: a}, {user: app2, password: a} ]
    imports: [
      {service: {account: SVC, subject: "time.now"}, to: "now"}
      {service: {account: SVC, subject: "feed"}}
      {stream: {account: SVC, subject: "events.>"}, prefix: "svc"}
    ]
    mappings: { "old.*": "new.$1" }
  }
  OTHER: { users: [ {user: other, password: o} ] }
  LIMITED: { users: [ {user: limited, password: l} ], limits: { max_connections: 1 } }
}
`,
  });
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await server?.stop();
});

async function as(user: string, pass: string): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user, pass, reconnect: false, timeout: 3_000 });
  conns.push(nc);
  return nc;
}

describe("isolation", () => {
  test("a message in one account never reaches another; the same account sees it", async () => {
    const [app, app2, other, svc] = await Promise.all([as("app", "a"), as("app2", "a"), as("other", "o"), as("svc", "s")]);
    const seen: Record<string, string[]> = { app2: [], other: [], svc: [] };
    for (const [name, nc] of [["app2", app2], ["other", other], ["svc", svc]] as const) {
      nc.subscribe(">", {
        callback: (_e, m) => {
          seen[name].push(m.subject);
        },
      });
      await nc.flush();
    }
    app.publish("shared.subject", "x");
    await app.flush();
    await waitUntil(() => seen.app2.length === 1, "delivery within the account");
    // Round trips on the other accounts: anything for them would have arrived by now.
    await Promise.all([other.flush(), svc.flush()]);
    expect(seen).toEqual({ app2: ["shared.subject"], other: [], svc: [] });
  });
});

describe("imports", () => {
  test("a service import answers requests across accounts", async () => {
    const [svc, app] = await Promise.all([as("svc", "s"), as("app", "a")]);
    const asked: string[] = [];
    svc.subscribe("time.>", {
      callback: (_e, m) => {
        asked.push(`${m.subject} ${m.reply?.startsWith("_R_.")} ${m.headers?.get("Nats-Request-Info") ?? ""}`);
        m.respond(`it is ${m.string()}`);
      },
    });
    await svc.flush();
    const h = headers();
    h.set("X", "1");
    const reply = await app.request("now", "noon", { timeout: 2_000, headers: h });
    expect(reply.string()).toBe("it is noon");
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/^time\.now true \{"acc":"APP","rtt":\d+\}$/);
  });

  test("a stream response type delivers several responses to one request", async () => {
    const [svc, app] = await Promise.all([as("svc", "s"), as("app", "a")]);
    svc.subscribe("feed", {
      callback: (_e, m) => {
        for (let i = 0; i < 3; i++) m.respond(`part ${i}`);
      },
    });
    await svc.flush();
    const inbox = `_INBOX.feed.${Date.now()}`;
    const parts: string[] = [];
    app.subscribe(inbox, {
      callback: (_e, m) => {
        parts.push(m.string());
      },
    });
    app.publish("feed", "", { reply: inbox });
    await waitUntil(() => parts.length === 3, "three responses");
    expect(parts).toEqual(["part 0", "part 1", "part 2"]);
  });

  test("a stream import with a prefix", async () => {
    const [svc, app] = await Promise.all([as("svc", "s"), as("app", "a")]);
    const got: string[] = [];
    app.subscribe("svc.events.>", {
      callback: (_e, m) => {
        got.push(`${m.subject}=${m.string()}`);
      },
    });
    await app.flush();
    svc.publish("events.login", "alice");
    svc.publish("private.x", "hidden");
    await svc.flush();
    await waitUntil(() => got.length === 1, "the imported event");
    await app.flush();
    expect(got).toEqual(["svc.events.login=alice"]);
  });
});

describe("mappings and limits", () => {
  test("an account mapping rewrites the subject of what its clients publish", async () => {
    const app = await as("app", "a");
    const got: string[] = [];
    app.subscribe(">", {
      callback: (_e, m) => {
        got.push(m.subject);
      },
    });
    app.publish("old.thing", "");
    await app.flush();
    await waitUntil(() => got.length === 1, "the mapped message");
    expect(got).toEqual(["new.thing"]);
  });

  test("max_connections of an account", async () => {
    await as("limited", "l");
    let message = "connected";
    try {
      await as("limited", "l");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("maximum account active connections exceeded");
  });
});
