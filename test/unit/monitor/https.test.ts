// The monitor over HTTPS (`https` / `https_port` with the `tls {}` certificate), in-process:
// nats-bun's TLS configuration arrives with the security work, so the listener is started
// directly with a throw-away self-signed certificate (made with openssl; skipped without it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorListen } from "../../../src/cli/lifecycle.ts";
import { defaultOptions } from "../../../src/config/options.ts";
import { Monitor } from "../../../src/monitor/http.ts";
import { Server } from "../../../src/server/server.ts";
import { silentLogger } from "../../../src/util/log.ts";

const openssl = Bun.which("openssl");
if (openssl === null) console.warn("https monitor test: openssl not installed: skipped");
let dir = "";
let monitor: Monitor | null = null;

beforeAll(() => {
  if (openssl === null) return;
  dir = mkdtempSync(join(tmpdir(), "nats-bun-https-"));
  const r = Bun.spawnSync([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
});

afterAll(() => {
  monitor?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("monitor listen options", () => {
  test("http and https together are refused as by the reference; https needs a certificate", () => {
    const o = defaultOptions();
    o.httpPort = 8222;
    o.httpsPort = 8223;
    expect(() => monitorListen(o)).toThrow("can't specify both HTTP (8222) and HTTPs (8223) ports");
    o.httpPort = 0;
    expect(() => monitorListen(o)).toThrow("TLS configuration (tls { cert_file, key_file }) is required for HTTPS monitoring");
    o.tlsCertFile = "c.pem";
    o.tlsKeyFile = "k.pem";
    o.httpHost = "127.0.0.1";
    expect(monitorListen(o)).toEqual({ host: "127.0.0.1", port: 8223, tls: { certFile: "c.pem", keyFile: "k.pem" } });
  });
});

describe.skipIf(openssl === null)("https monitor", () => {
  test("serves /varz over TLS and reports https_port", async () => {
    const server = new Server(defaultOptions(), silentLogger());
    monitor = new Monitor(server, { host: "127.0.0.1", port: -1, tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") } }, "/");
    monitor.start();
    expect(monitor.scheme).toBe("https");
    const r = await fetch(`https://127.0.0.1:${monitor.port}/varz`, { tls: { rejectUnauthorized: false } } as RequestInit);
    const v = (await r.json()) as Record<string, unknown>;
    expect(v.https_port).toBe(monitor.port);
    expect(v.http_port).toBe(0);
    expect(server.portsFileExtras.monitoring).toEqual([`https://127.0.0.1:${monitor.port}`]);
  });
});
