// A running server process: the server, its monitor, and what signals do to them — the
// reference's signal.go, reload.go and lameDuckMode.
//   SIGINT, SIGTERM   shut down, exit 0
//   SIGHUP            reload the configuration (re-read the file, re-apply the flags)
//   SIGUSR1           reopen the log file (logrotate)
//   SIGUSR2           lame-duck mode: stop accepting, tell clients (INFO ldm), wait the grace
//                     period, close clients spread over the rest of lame_duck_duration, exit
import { validateOptions } from "../config/conf_options.ts";
import { planReload } from "../config/reload.ts";
import type { ServerOptions } from "../config/options.ts";
import { installSystemRequests } from "../monitor/sys_requests.ts";
// The HTTP monitor is loaded (require) only when a monitoring port is configured.
import type { Monitor, MonitorListen } from "../monitor/http.ts";
import { ClosedReason } from "../protocol/errors.ts";
import { Server } from "../server/server.ts";
import { Logger, type LoggerOptions } from "../util/log.ts";
import { parseServerArgs } from "./args.ts";

export function loggerOptions(opts: ServerOptions): LoggerOptions {
  return {
    debug: opts.debug,
    trace: opts.trace,
    logtime: opts.logtime,
    logtimeUtc: opts.logtimeUtc,
    file: opts.logFile,
    sizeLimitBytes: opts.logSizeLimitBytes,
    maxFiles: opts.logMaxFiles,
  };
}

/** Where the monitor listens, or null when monitoring is off; throws on a bad combination. */
export function monitorListen(opts: ServerOptions): MonitorListen | null {
  if (opts.httpPort !== 0 && opts.httpsPort !== 0) {
    throw new Error(`can't specify both HTTP (${opts.httpPort}) and HTTPs (${opts.httpsPort}) ports`);
  }
  const host = opts.httpHost !== "" ? opts.httpHost : opts.host;
  if (opts.httpPort !== 0) return { host, port: opts.httpPort, tls: null };
  if (opts.httpsPort === 0) return null;
  // The client TLS block's certificate serves HTTPS monitoring too (as the reference).
  const certFile = opts.tlsCertFile !== "" ? opts.tlsCertFile : (opts.tls?.certFile ?? "");
  const keyFile = opts.tlsKeyFile !== "" ? opts.tlsKeyFile : (opts.tls?.keyFile ?? "");
  if (certFile === "" || keyFile === "") {
    throw new Error("TLS configuration (tls { cert_file, key_file }) is required for HTTPS monitoring (https, https_port)");
  }
  return { host, port: opts.httpsPort, tls: { certFile, keyFile } };
}

export class ServerRuntime {
  readonly server: Server;
  readonly logger: Logger;
  monitor: Monitor | null = null;
  #argv: readonly string[];
  #exit: (code: number) => void;
  #lameDuckTimer: ReturnType<typeof setTimeout> | null = null;
  #reloading: Promise<void> | null = null;

  /**
   * `argv` is kept to reload: the file is read again and the same flags applied over it.
   * `exit` ends the process (tests pass their own).
   */
  constructor(argv: readonly string[], opts: ServerOptions, logger: Logger, exit: (code: number) => void = (c) => process.exit(c)) {
    this.#argv = argv;
    this.logger = logger;
    this.server = new Server(opts, logger);
    this.#exit = exit;
  }

  /** Starts the monitor (if configured) and the client listener; throws with a clear message. */
  start(): void {
    const listen = monitorListen(this.server.opts);
    this.server.start({
      beforeListen: () => {
        // With a system account, the monitoring endpoints are also $SYS.REQ.SERVER.<id|PING>.<EP>.
        const system = this.server.system;
        if (system !== null) {
          installSystemRequests(this.server, system.client, () => this.monitor?.varzContext() ?? { httpHost: "", httpPort: 0, httpsPort: 0, basePath: "", requestStats: {} });
        }
        if (listen === null) return;
        const { Monitor } = require("../monitor/http.ts") as typeof import("../monitor/http.ts");
        const monitor = new Monitor(this.server, listen, this.server.opts.httpBasePath);
        monitor.start();
        this.monitor = monitor;
        this.server.shutdownHooks.push(() => monitor.stop());
      },
    });
  }

  installSignalHandlers(): void {
    process.on("SIGINT", () => this.#onStopSignal("interrupt"));
    process.on("SIGTERM", () => this.#onStopSignal("terminated"));
    process.on("SIGHUP", () => {
      this.logger.debug('Trapped "hangup" signal');
      void this.reload();
    });
    process.on("SIGUSR1", () => {
      this.logger.debug('Trapped "user defined signal 1" signal');
      this.logger.reopen();
      this.logger.info("File log re-opened");
    });
    process.on("SIGUSR2", () => {
      this.logger.debug('Trapped "user defined signal 2" signal');
      this.enterLameDuckMode();
    });
  }

  #onStopSignal(name: string): void {
    this.logger.debug(`Trapped "${name}" signal`);
    this.shutdown(0);
  }

  shutdown(code: number): void {
    if (this.#lameDuckTimer !== null) clearTimeout(this.#lameDuckTimer);
    this.server.shutdown();
    this.logger.close();
    this.#exit(code);
  }

  /**
   * Re-reads the configuration and applies it, or logs why not and keeps the running one.
   * Resolves when done (clients re-checked). Concurrent reloads run one after the other.
   */
  reload(): Promise<void> {
    const run = async (): Promise<void> => {
      const ok = await this.#reloadOnce();
      if (!ok) return;
    };
    const previous = this.#reloading ?? Promise.resolve();
    const next = previous.then(run, run);
    this.#reloading = next;
    return next;
  }

  async #reloadOnce(): Promise<boolean> {
    const fail = (why: string): false => {
      this.logger.error(`Failed to reload server configuration: ${why}`);
      return false;
    };
    const server = this.server;
    if (server.opts.configFile === "") return fail("can only reload config when a file is provided using -c or --config");
    let action;
    try {
      action = parseServerArgs(this.#argv, { skipValidation: true });
    } catch (e) {
      return fail((e as Error).message);
    }
    if (action.kind === "error") return fail(action.message);
    if (action.kind !== "run") return fail(`unexpected command line on reload: ${action.kind}`);
    const next = action.opts;
    const plan = planReload(server.opts, next);
    if (!plan.ok) return fail(plan.error);
    const invalid = validateOptions(next) ?? server.reloadProblems(next);
    if (invalid !== null) return fail(invalid);
    for (const w of action.warnings) this.logger.warn(w);

    if (next.pidFile !== server.opts.pidFile && next.pidFile !== "") {
      try {
        server.writePidFile(next.pidFile);
      } catch (e) {
        return fail((e as Error).message);
      }
    }
    // As the reference: each change is logged as it is applied, with the logging in force
    // until then; then the logger, the options, and the security configuration with every
    // client re-checked (the reference re-applies it on every reload).
    for (const change of plan.changes) this.logger.info(change.text);
    this.logger.configure(loggerOptions(next));
    server.applyOptions(next);
    await server.recheckClients();
    this.logger.info("Reloaded server configuration");
    return true;
  }

  /** Lame-duck mode (reference lameDuckMode); a second call does nothing. */
  enterLameDuckMode(): void {
    const server = this.server;
    if (server.lameDuck) return;
    server.lameDuck = true;
    this.logger.info("Entering lame duck mode, stop accepting new clients");
    server.stopAccepting();
    const clients = [...server.connections.values()];
    if (clients.length === 0) {
      this.shutdown(0);
      return;
    }
    server.sendAsyncInfo({ ldm: true });
    const opts = server.opts;
    const grace = opts.lameDuckGracePeriodMs;
    let spread = opts.lameDuckDurationMs - grace;
    if (spread <= 0) spread = 1000;
    this.#lameDuckTimer = setTimeout(() => this.#closeGradually(spread), grace);
  }

  /** Closes the clients still connected one by one, evenly over `spreadMs` (at most 1 s apart). */
  #closeGradually(spreadMs: number): void {
    const server = this.server;
    const clients = [...server.connections.values()].filter((c) => !c.closed);
    this.logger.info("Closing existing clients");
    if (clients.length === 0) {
      this.shutdown(0);
      return;
    }
    const intervalMs = Math.min(1000, spreadMs / clients.length);
    // Very many clients in a short spread: close several per step instead of sleeping < 1 ms.
    const perStep = intervalMs < 1 ? Math.ceil(clients.length / spreadMs) : 1;
    const stepMs = Math.max(1, intervalMs);
    let i = 0;
    const step = (): void => {
      for (let k = 0; k < perStep && i < clients.length; k++, i++) clients[i].close(ClosedReason.serverShutdown);
      server.flushDirty();
      if (i >= clients.length) {
        this.shutdown(0);
        return;
      }
      this.#lameDuckTimer = setTimeout(step, stepMs);
    };
    step();
  }
}
