// Unit tests of the monitoring helpers: the reference's time and duration spellings, the
// JetStream provider seam (what /jsz, /varz, /healthz and /metrics do once JetStream plugs
// in), and the status snapshot.
import { describe, expect, test } from "bun:test";
import { defaultOptions } from "../../../src/config/options.ts";
import { goDuration, rfc3339, uptimeText } from "../../../src/monitor/format.ts";
import { History } from "../../../src/monitor/history.ts";
import { normaliseBasePath } from "../../../src/monitor/http.ts";
import { healthz, jsz } from "../../../src/monitor/jsz.ts";
import { metrics } from "../../../src/monitor/metrics.ts";
import { statusSnapshot } from "../../../src/monitor/status_page.ts";
import { varz } from "../../../src/monitor/varz.ts";
import type { JetStreamMonitor, JszOptions } from "../../../src/server/monitor_provider.ts";
import { Server } from "../../../src/server/server.ts";
import { silentLogger } from "../../../src/util/log.ts";
import { parsePrometheusText, sampleValue } from "../../harness/prometheus.ts";

describe("format", () => {
  test("rfc3339 prints only the fraction digits needed, in UTC", () => {
    expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 0))).toBe("2026-01-02T03:04:05Z");
    expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 780))).toBe("2026-01-02T03:04:05.78Z");
    expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 1) + 0.25)).toBe("2026-01-02T03:04:05.00125Z");
  });

  test("uptime and idle as the reference's myUptime", () => {
    expect(uptimeText(999)).toBe("0s");
    expect(uptimeText(61_000)).toBe("1m1s");
    expect(uptimeText(3_600_000)).toBe("1h0m0s");
    expect(uptimeText(86_400_000 + 1000)).toBe("1d0h0m1s");
    expect(uptimeText(366 * 86_400_000)).toBe("1y1d0h0m0s");
  });

  test("durations as Go prints them", () => {
    expect(goDuration(8.756933)).toBe("8.756933ms");
    expect(goDuration(0.901)).toBe("901µs");
    expect(goDuration(1500)).toBe("1.5s");
    expect(goDuration(120_000)).toBe("2m0s");
  });

  test("http_base_path is normalised", () => {
    expect(normaliseBasePath("/")).toBe("");
    expect(normaliseBasePath("mon/")).toBe("/mon");
    expect(normaliseBasePath("//a/b//")).toBe("/a/b");
  });
});

/** A JetStream stand-in with fixed numbers, as the JetStream layer would provide them. */
function fakeJetStream(unhealthy: string | null = null): JetStreamMonitor & { lastOpts: JszOptions | null } {
  const fake = {
    lastOpts: null as JszOptions | null,
    jsz(opts: JszOptions) {
      fake.lastOpts = opts;
      return { config: { max_memory: 1024, max_storage: 4096, store_dir: "/tmp/js" }, memory: 10, storage: 20, streams: 1, consumers: 2, messages: 3, bytes: 30 };
    },
    varz: () => ({ config: { max_memory: 1024, max_storage: 4096 }, stats: { memory: 10, storage: 20 } }),
    unhealthy: () => unhealthy,
    accounts: () => [{ account: "$G", memory: 10, storage: 20, streams: 1, consumers: 2 }],
    streams: () => [{ account: "$G", stream: "ORDERS", messages: 3, bytes: 30, firstSeq: 1, lastSeq: 3, consumers: 2, storage: "file" }],
    api: () => ({ total: 7, errors: 1 }),
    storeLatency: () => ({ writes: 3, writeSecondsTotal: 0.003 }),
  };
  return fake;
}

function server(): Server {
  const opts = defaultOptions();
  opts.jetstream = true;
  return new Server(opts, silentLogger());
}

describe("the JetStream provider seam", () => {
  test("without a provider: /jsz disabled, /healthz unavailable when JetStream is configured", () => {
    const s = server();
    expect(jsz(s, new URLSearchParams()).disabled).toBe(true);
    expect(healthz(s, new URLSearchParams())).toEqual({ status: 503, body: { status: "unavailable", error: "JetStream not enabled" } });
  });

  test("/jsz passes the query through and adds server_id and now", () => {
    const s = server();
    const js = fakeJetStream();
    s.jetstreamMonitor = js;
    const body = jsz(s, new URLSearchParams("accounts=true&streams=1&consumers=true&config=true&acc=A&offset=2&limit=5&leader-only=true"));
    expect(body.server_id).toBe(s.id);
    expect(body.streams).toBe(1);
    expect(js.lastOpts).toEqual({ account: "A", accounts: true, streams: true, consumers: true, config: true, leaderOnly: true, offset: 2, limit: 5 });
    expect(varz(s, { httpHost: "", httpPort: 0, httpsPort: 0, basePath: "", requestStats: {} }).jetstream).toEqual(js.varz());
  });

  test("/healthz reports the provider's verdict, unless js-enabled-only", () => {
    const s = server();
    s.jetstreamMonitor = fakeJetStream("JetStream stream 'ORDERS' is not current");
    expect(healthz(s, new URLSearchParams())).toEqual({ status: 503, body: { status: "unavailable", error: "JetStream stream 'ORDERS' is not current" } });
    expect(healthz(s, new URLSearchParams("js-enabled-only=true")).status).toBe(200);
  });

  test("/metrics adds per-account and per-stream JetStream families", () => {
    const s = server();
    s.jetstreamMonitor = fakeJetStream();
    const f = parsePrometheusText(metrics(s, {}));
    expect(sampleValue(f, "nats_jetstream_enabled")).toBe(1);
    expect(sampleValue(f, "nats_jetstream_api_requests_total")).toBe(7);
    expect(sampleValue(f, "nats_jetstream_api_errors_total")).toBe(1);
    expect(sampleValue(f, "nats_jetstream_account_storage_bytes", { account: "$G" })).toBe(20);
    expect(sampleValue(f, "nats_jetstream_stream_messages", { stream: "ORDERS", account: "$G", storage: "file" })).toBe(3);
    expect(sampleValue(f, "nats_jetstream_stream_last_sequence", { stream: "ORDERS" })).toBe(3);
    expect(sampleValue(f, "nats_jetstream_store_write_seconds_total")).toBe(0.003);
  });

  test("the status snapshot lists streams and a history ending now", () => {
    const s = server();
    s.jetstreamMonitor = fakeJetStream();
    const h = new History(s);
    h.sample();
    s.inMsgs = 5;
    const snap = statusSnapshot(s, h, { httpHost: "", httpPort: 8222, httpsPort: 0, basePath: "", requestStats: {} }) as Record<string, any>;
    expect(snap.jetstream.streams[0].stream).toBe("ORDERS");
    expect(snap.history).toHaveLength(2);
    expect(snap.history[1].in_msgs).toBe(5);
    expect(snap.health).toEqual({ status: "ok" });
  });
});
