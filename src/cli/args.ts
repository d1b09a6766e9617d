// The server's command line, compatible with nats-server's (main.go usage, opts.go
// ConfigureOptions) for what nats-bun implements.
//
// Go `flag` conventions, as the reference uses them: `-p 4222`, `-p=4222`, `--port 4222` and
// `--port=4222` are the same; boolean flags take no separate value (`-D`, `-D=false`); parsing
// stops at the first argument that is not a flag (or after `--`); the first such argument may be
// the command `version` or `help`. Integers are read like Go's strconv.ParseInt with base 0
// (`0x1F`, `017`, `1_000`).
//
// Order of work, as the reference: flags are parsed first (a bad flag is an error even with
// -h); then -v/-h; then a command; then --signal; then the config file is applied to the
// defaults, and the flags given are applied over it (flags win), each recorded in
// `opts.explicit`. Cross-option checks (validateOptions) run for `run` only: `-t` checks the
// file as the reference does, which does not run them.
//
// Flags the reference has and nats-bun does not implement yet (TLS, cluster, routes, syslog,
// profiling) are refused with a clear message rather than ignored.
import { readFileSync } from "node:fs";
import { applyConfigFile, validateOptions } from "../config/conf_options.ts";
import { ConfigError } from "../config/conf_parser.ts";
import { defaultTlsOptions } from "../config/conf_tls.ts";
import { defaultOptions, type ServerOptions } from "../config/options.ts";
import * as C from "../constants.ts";

/** `--signal` commands and the signal each sends (reference server/signal.go). */
export const signalCommands = {
  stop: "SIGKILL",
  quit: "SIGINT",
  term: "SIGTERM",
  reopen: "SIGUSR1",
  reload: "SIGHUP",
  ldm: "SIGUSR2",
} as const;
export type SignalCommand = keyof typeof signalCommands;

export type CliAction =
  /** Start the server. `warnings` come from the config file and should be printed. */
  | { kind: "run"; opts: ServerOptions; warnings: string[] }
  /** -t: the configuration is valid; print "configuration file <file> is valid" and exit 0. */
  | { kind: "check"; opts: ServerOptions }
  | { kind: "version" }
  | { kind: "help" }
  /** --signal: send `signal` to `pid` (a number, a pid file, or "" for "find the process"). */
  | { kind: "signal"; signal: SignalCommand; pid: string }
  /** Print `nats-bun: <message>` to stderr and exit 1. */
  | { kind: "error"; message: string };

export interface ParseServerArgsOptions {
  /** Environment for config `$VARIABLE` fallback; defaults to process.env (tests inject it). */
  env?: Record<string, string | undefined>;
  /** Skip the cross-option checks (reload runs them after deciding what may change, as the reference). */
  skipValidation?: boolean;
}

type FlagKind = "bool" | "int" | "string";
type FlagValue = boolean | number | string;

interface FlagSpec {
  names: readonly string[];
  kind: FlagKind;
  /** Applies the flag over the options from the config file; absent for control flags. */
  apply?: (opts: ServerOptions, value: FlagValue) => void;
}

function setField<K extends keyof ServerOptions>(opts: ServerOptions, field: K, value: ServerOptions[K]): void {
  opts[field] = value;
  opts.explicit.add(field);
}

function stringFlag(names: readonly string[], field: "host" | "serverName" | "clientAdvertise" | "pidFile" | "portsFileDir" | "logFile" | "storeDir" | "username" | "password" | "authToken"): FlagSpec {
  return { names, kind: "string", apply: (o, v) => setField(o, field, v as string) };
}
function intFlag(names: readonly string[], field: "httpPort" | "httpsPort" | "maxTracedMsgLen" | "logSizeLimitBytes"): FlagSpec {
  return { names, kind: "int", apply: (o, v) => setField(o, field, v as number) };
}
function boolFlag(names: readonly string[], fields: readonly ("debug" | "trace" | "traceVerbose" | "logtime" | "logtimeUtc" | "jetstream")[]): FlagSpec {
  return { names, kind: "bool", apply: (o, v) => fields.forEach((f) => setField(o, f, v as boolean)) };
}

const flagSpecs: readonly FlagSpec[] = [
  { names: ["h", "help"], kind: "bool" },
  { names: ["v", "version"], kind: "bool" },
  { names: ["c", "config"], kind: "string" },
  { names: ["t"], kind: "bool" },
  { names: ["sl", "signal"], kind: "string" },
  // Port 0 means the default port, as in the reference; -1 picks a random free port.
  { names: ["p", "port"], kind: "int", apply: (o, v) => setField(o, "port", v === 0 ? C.defaultPort : (v as number)) },
  stringFlag(["a", "addr", "net"], "host"),
  stringFlag(["n", "name", "server_name"], "serverName"),
  stringFlag(["client_advertise"], "clientAdvertise"),
  stringFlag(["P", "pid"], "pidFile"),
  stringFlag(["ports_file_dir"], "portsFileDir"),
  intFlag(["m", "http_port"], "httpPort"),
  intFlag(["ms", "https_port"], "httpsPort"),
  stringFlag(["l", "log"], "logFile"),
  boolFlag(["T", "logtime"], ["logtime"]),
  boolFlag(["logtime_utc"], ["logtimeUtc"]),
  boolFlag(["D", "debug"], ["debug"]),
  boolFlag(["V", "trace"], ["trace"]),
  boolFlag(["VV"], ["trace", "traceVerbose"]),
  boolFlag(["DV"], ["debug", "trace"]),
  boolFlag(["DVV"], ["debug", "trace", "traceVerbose"]),
  intFlag(["log_size_limit"], "logSizeLimitBytes"),
  intFlag(["max_traced_msg_len"], "maxTracedMsgLen"),
  boolFlag(["js", "jetstream"], ["jetstream"]),
  stringFlag(["sd", "store_dir"], "storeDir"),
  stringFlag(["user"], "username"),
  stringFlag(["pass"], "password"),
  stringFlag(["auth"], "authToken"),
  // TLS flags are combined into opts.tls after the others (see tlsFromFlags).
  { names: ["tls"], kind: "bool" },
  { names: ["tlscert"], kind: "string" },
  { names: ["tlskey"], kind: "string" },
  { names: ["tlscacert"], kind: "string" },
  { names: ["tlsverify"], kind: "bool" },
];

/** Flags of the reference that nats-bun refuses until the feature exists. */
const notYetSupportedFlags: ReadonlySet<string> = new Set([
  "s", "syslog", "r", "remote_syslog",
  "help_tls",
  "routes", "cluster", "cluster_listen", "cluster_name", "cluster_advertise", "no_advertise", "connect_retries",
  "profile",
]);

const specByName: ReadonlyMap<string, FlagSpec> = new Map(flagSpecs.flatMap((s) => s.names.map((n) => [n, s] as const)));

/** Go's strconv.ParseBool. */
function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** Go's strconv.ParseInt(text, 0, 64): sign, 0x/0o/0b/0 prefixes, `_` between digits. */
function parseGoInt(text: string): number | "parse error" | "value out of range" {
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)$/.exec(text);
  if (!m) return "parse error";
  let digits = m[2]!.replaceAll("_", "");
  // A leading 0 alone means octal in Go; BigInt wants 0o.
  if (/^0[0-7]+$/.test(digits)) digits = "0o" + digits.slice(1);
  let n = BigInt(digits);
  if (m[1] === "-") n = -n;
  if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) return "value out of range";
  return Number(n);
}

interface GivenFlag {
  spec: FlagSpec;
  value: FlagValue;
}

/** Parses the server's arguments (without the program name) into what to do. */
export function parseServerArgs(argv: readonly string[], options: ParseServerArgsOptions = {}): CliAction {
  const given: GivenFlag[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== "-") break;
    let dashes = 1;
    if (arg[1] === "-") {
      dashes = 2;
      if (arg.length === 2) {
        i++;
        break;
      }
    }
    i++;
    const body = arg.slice(dashes);
    if (body === "" || body[0] === "-" || body[0] === "=") return error(`bad flag syntax: ${arg}`);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inlineValue = eq < 0 ? undefined : body.slice(eq + 1);
    if (notYetSupportedFlags.has(name)) return error(`flag -${name} is not yet supported by nats-bun`);
    const spec = specByName.get(name);
    if (!spec) return error(`flag provided but not defined: -${name}`);

    if (spec.kind === "bool") {
      const value = inlineValue === undefined ? true : parseGoBool(inlineValue);
      if (value === undefined) return error(`invalid boolean value ${JSON.stringify(inlineValue)} for -${name}: parse error`);
      given.push({ spec, value });
      continue;
    }
    let text = inlineValue;
    if (text === undefined) {
      if (i >= argv.length) return error(`flag needs an argument: -${name}`);
      text = argv[i]!;
      i++;
    }
    if (spec.kind === "int") {
      const n = parseGoInt(text);
      if (typeof n === "string") return error(`invalid value ${JSON.stringify(text)} for flag -${name}: ${n}`);
      given.push({ spec, value: n });
    } else {
      given.push({ spec, value: text });
    }
  }
  const rest = argv.slice(i);

  // The control flags (last one given wins, as with Go flags).
  const last = (name: string): FlagValue | undefined => {
    const spec = specByName.get(name);
    for (let k = given.length - 1; k >= 0; k--) if (given[k]!.spec === spec) return given[k]!.value;
    return undefined;
  };
  if (last("version") === true) return { kind: "version" };
  if (last("help") === true) return { kind: "help" };
  if (rest.length > 0) {
    const command = rest[0]!.toLowerCase();
    if (command === "version") return { kind: "version" };
    if (command === "help") return { kind: "help" };
    return error(`unrecognized command: ${JSON.stringify(rest[0])}`);
  }

  const signal = last("signal");
  if (typeof signal === "string" && signal !== "") {
    const parts = signal.split("=");
    if (parts.length > 2) return error(`invalid signal parameters: [${parts.slice(2).join(" ")}]`);
    const command = parts[0]!;
    if (!Object.hasOwn(signalCommands, command)) return error(`unknown signal ${JSON.stringify(command)}`);
    return { kind: "signal", signal: command as SignalCommand, pid: parts[1] ?? "" };
  }

  const check = last("t") === true;
  const configFile = last("config");
  const opts = defaultOptions();
  opts.checkConfig = check;
  let warnings: string[] = [];
  if (typeof configFile === "string" && configFile !== "") {
    try {
      warnings = applyConfigFile(opts, configFile, { env: options.env });
    } catch (err) {
      if (err instanceof ConfigError) return error(err.message);
      throw err;
    }
    // As the reference, -t fails on warnings too (it reports them and exits 1).
    if (check && warnings.length > 0) return error(warnings.join("\n"));
  } else if (check) {
    return error("must specify [-c, --config] option to check configuration file syntax");
  }

  for (const g of given) g.spec.apply?.(opts, g.value);
  const tlsError = tlsFromFlags(opts, last);
  if (tlsError !== null) return error(tlsError);

  if (check) return { kind: "check", opts };
  const invalid = options.skipValidation ? null : validateOptions(opts);
  if (invalid !== null) return error(invalid);
  return { kind: "run", opts, warnings };
}

/**
 * --tls/--tlsverify with --tlscert/--tlskey[/--tlscacert] replace the config file's tls block
 * (the reference's overrideTLS). Returns an error text or null.
 */
function tlsFromFlags(opts: ServerOptions, last: (name: string) => FlagValue | undefined): string | null {
  const verify = last("tlsverify") === true;
  if (last("tls") !== true && !verify) return null;
  const certFile = (last("tlscert") as string | undefined) ?? "";
  const keyFile = (last("tlskey") as string | undefined) ?? "";
  const caFile = (last("tlscacert") as string | undefined) ?? "";
  if (certFile === "") return "TLS Server certificate must be present and valid";
  if (keyFile === "") return "TLS Server private key must be present and valid";
  const tls = defaultTlsOptions();
  tls.certFile = certFile;
  tls.keyFile = keyFile;
  tls.caFile = caFile;
  tls.verify = verify;
  try {
    tls.cert = readFileSync(certFile, "utf8");
    tls.key = readFileSync(keyFile, "utf8");
    if (caFile !== "") tls.ca = readFileSync(caFile, "utf8");
  } catch (e) {
    return `error parsing X509 certificate/key pair: ${(e as Error).message}`;
  }
  setField(opts, "tls", tls);
  return null;
}

function error(message: string): CliAction {
  return { kind: "error", message };
}

/** `nats-bun --help`: what nats-bun supports, in the reference's layout. */
export const usageText = `
Usage: nats-bun [options]
       nats-bun bench <options>          Run the bundled load tool (see nats-bun bench --help)

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222, -1 for a random port)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to nats-bun process (ldm, stop, quit, term, reopen, reload)
                                     <pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/nats-bun.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
        --logtime_utc                Timestamps in UTC instead of local time
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)
        --log_size_limit <limit>     Logfile size limit (default: auto)
        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Monitoring (with -m/--http_port, or http: host:port in the config file):
    /varz /connz /subsz /routez /gatewayz /leafz /accountz /accstatz /jsz /healthz
                                     The reference's JSON endpoints (callback=<fn> for JSONP)
    /metrics                         Prometheus text format (no exporter needed)
    /                                Status page: health, connections, throughput, accounts, streams

Signals (or --signal <name>[=<pid>]):
    SIGINT, SIGTERM (quit, term)     Shut down
    SIGHUP (reload)                  Reload the configuration file
    SIGUSR1 (reopen)                 Reopen the log file (logrotate)
    SIGUSR2 (ldm)                    Lame-duck mode: stop accepting, drain clients, exit

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
`;

export interface SendSignalDeps {
  /** Sends the signal (default: process.kill). */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  /** Running nats-bun processes other than this one (default: `pgrep nats-bun`). */
  findPids?: () => number[];
}

/**
 * Implements `--signal <command>[=<pid or pid file>]`. Without a pid, finds the one running
 * nats-bun process as the reference does with pgrep. Throws an Error with the reason.
 */
export function sendSignal(signal: string, pidOrPidFile: string, deps: SendSignalDeps = {}): void {
  if (!Object.hasOwn(signalCommands, signal)) throw new Error(`unknown signal ${JSON.stringify(signal)}`);
  const name = signalCommands[signal as SignalCommand];
  let pid: number;
  if (pidOrPidFile === "") {
    const pids = (deps.findPids ?? findNatsBunPids)();
    if (pids.length === 0) throw new Error("no nats-bun processes running");
    if (pids.length > 1) throw new Error(`multiple nats-bun processes running:\n${pids.join("\n")}`);
    pid = pids[0]!;
  } else {
    const text = readPidFile(pidOrPidFile) ?? pidOrPidFile;
    if (!/^[0-9]+$/.test(text)) throw new Error(`invalid pid: ${text}`);
    pid = Number(text);
  }
  try {
    (deps.kill ?? ((p, s) => process.kill(p, s)))(pid, name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ESRCH" ? "no such process" : code === "EPERM" ? "operation not permitted" : String(err);
    throw new Error(`failed to send ${name} to pid ${pid}: ${why}`, { cause: err });
  }
}

/** A pid file's contents (trimmed), or undefined when `path` is not a readable file. */
function readPidFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Pids of processes named nats-bun…, excluding this one (the reference uses `pgrep nats-server`). */
function findNatsBunPids(): number[] {
  let result: ReturnType<typeof Bun.spawnSync>;
  try {
    result = Bun.spawnSync(["pgrep", "nats-bun"], { stdout: "pipe", stderr: "ignore" });
  } catch {
    throw new Error("unable to resolve pid, try providing one");
  }
  // pgrep exits 1 when nothing matches, 2+ on its own errors.
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error("unable to resolve pid, try providing one");
  const pids: number[] = [];
  for (const line of (result.stdout?.toString() ?? "").split("\n")) {
    if (line.trim() === "") continue;
    const pid = Number(line.trim());
    if (!Number.isInteger(pid)) throw new Error("unable to resolve pid, try providing one");
    if (pid !== process.pid) pids.push(pid);
  }
  return pids;
}
