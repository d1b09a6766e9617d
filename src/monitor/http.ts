// The monitoring HTTP server — the only Bun.serve. Endpoints answer with the reference's JSON
// (pretty-printed, two spaces, as its MarshalIndent), JSONP with `callback=`, 400 with the
// reference's text for a bad query parameter, 404 for an unknown path. Everything is read
// from the server's plain counters at request time: nothing here runs on the message path.
import type { Server as BunServer } from "bun";
import type { Server } from "../server/server.ts";
import { formatUrls, hostPort, listenErrorText } from "../server/server.ts";
import { accountz, accstatz } from "./accountz.ts";
import { connz } from "./connz.ts";
import { QueryError } from "./format.ts";
import { History } from "./history.ts";
import { healthz, jsz } from "./jsz.ts";
import { metrics } from "./metrics.ts";
import { statusPageHtml, statusSnapshot } from "./status_page.ts";
import { subsz } from "./subsz.ts";
import { gatewayz, leafz, routez } from "./topology.ts";
import { varz } from "./varz.ts";

export interface MonitorTls {
  certFile: string;
  keyFile: string;
}

export interface MonitorListen {
  host: string;
  /** -1 = a random free port. */
  port: number;
  /** Serve HTTPS with this certificate (the `https` / `https_port` option). */
  tls: MonitorTls | null;
}

/** `http_base_path` as the reference normalises it: a leading slash, no trailing one, "" for the root. */
export function normaliseBasePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? "" : `/${trimmed}`;
}

type Handler = (q: URLSearchParams) => Response;

export class Monitor {
  readonly server: Server;
  /** Requests per endpoint path (/varz `http_req_stats`). */
  readonly requestStats: Record<string, number> = {};
  readonly history: History;
  #http: BunServer<undefined> | null = null;
  #basePath: string;
  #listen: MonitorListen;
  #routes: Map<string, Handler>;

  constructor(server: Server, listen: MonitorListen, basePath: string) {
    this.server = server;
    this.#listen = listen;
    this.#basePath = normaliseBasePath(basePath);
    this.history = new History(server);
    const json = (f: (q: URLSearchParams) => unknown): Handler => (q) => this.#json(q, f(q));
    this.#routes = new Map<string, Handler>([
      ["/", () => new Response(statusPageHtml(this.#basePath), { headers: { "content-type": "text/html; charset=utf-8" } })],
      ["/varz", json(() => varz(server, this.varzContext()))],
      ["/connz", json((q) => connz(server, q))],
      ["/subsz", json((q) => subsz(server, q))],
      ["/subscriptionsz", json((q) => subsz(server, q))],
      ["/routez", json(() => routez(server))],
      ["/gatewayz", json(() => gatewayz(server))],
      ["/leafz", json(() => leafz(server))],
      ["/accountz", json((q) => accountz(server, q))],
      ["/accstatz", json((q) => accstatz(server, q))],
      ["/jsz", json((q) => jsz(server, q))],
      ["/healthz", (q) => {
        const h = healthz(server, q);
        // The reference writes this one compact.
        return this.#json(q, h.body, h.status, false);
      }],
      ["/metrics", () => new Response(metrics(server, this.requestStats), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } })],
      // Ours: everything the status page shows, in one request.
      ["/statusz", json(() => statusSnapshot(server, this.history, this.varzContext()))],
    ]);
  }

  get port(): number {
    return this.#http?.port ?? 0;
  }

  get scheme(): "http" | "https" {
    return this.#listen.tls === null ? "http" : "https";
  }

  /** Binds the port; throws an Error with the reference's wording when it cannot. */
  start(): void {
    const { host, port, tls } = this.#listen;
    const bindPort = port === -1 ? 0 : port;
    try {
      this.#http = Bun.serve({
        hostname: host,
        port: bindPort,
        tls: tls === null ? undefined : { cert: Bun.file(tls.certFile), key: Bun.file(tls.keyFile) },
        // Long scrapes of /connz on a big server must not be cut.
        idleTimeout: 30,
        fetch: (req) => this.#handle(req),
        error: (e) => {
          this.server.logger.error(`Monitoring request failed: ${e.message}`);
          return new Response("internal error", { status: 500 });
        },
      });
    } catch (e) {
      const kind = tls === null ? "monitor port" : "secure monitor port";
      throw new Error(`Can't start monitoring: can't listen to the ${kind}: ${listenErrorText(e, host, port)}`);
    }
    this.server.logger.info(`Starting ${this.scheme} monitor on ${hostPort(host, this.port)}`);
    this.server.portsFileExtras.monitoring = formatUrls(this.scheme, host, this.port);
    this.history.start();
  }

  stop(): void {
    this.history.stop();
    this.#http?.stop(true);
    this.#http = null;
  }

  /** What /varz and the system VARZ request report of the HTTP side. */
  varzContext() {
    const https = this.#listen.tls !== null;
    return {
      httpHost: this.#listen.host,
      httpPort: https ? 0 : this.port,
      httpsPort: https ? this.port : 0,
      basePath: this.#basePath,
      requestStats: this.requestStats,
    };
  }

  #handle(req: Request): Response {
    const url = new URL(req.url);
    let path = url.pathname;
    if (this.#basePath !== "") {
      if (path === this.#basePath) path = "/";
      else if (path.startsWith(this.#basePath + "/")) path = path.slice(this.#basePath.length);
      else return notFound();
    }
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const route = this.#routes.get(path);
    if (route === undefined) return notFound();
    this.requestStats[path] = (this.requestStats[path] ?? 0) + 1;
    try {
      return route(url.searchParams);
    } catch (e) {
      if (e instanceof QueryError) return new Response(e.message, { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } });
      throw e;
    }
  }

  /** JSON, or JSONP when `callback` is given (the reference's ResponseHandler). */
  #json(q: URLSearchParams, body: unknown, status = 200, indent = true): Response {
    const text = indent ? JSON.stringify(body, null, 2) : JSON.stringify(body);
    const callback = q.get("callback") ?? "";
    if (callback !== "") return new Response(`${callback}(${text})`, { status, headers: { "content-type": "application/javascript" } });
    return new Response(text, { status, headers: { "content-type": "application/json" } });
  }
}

function notFound(): Response {
  return new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } });
}
