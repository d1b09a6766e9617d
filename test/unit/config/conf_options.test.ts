// Config keys → ServerOptions: aliases, units, durations, range checks, the refusal of keys not
// implemented yet and of unknown keys, with the reference's error texts (checked against
// `nats-server -t -c` v2.9.10 where it has them).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applyConfigFile, applyConfigMap, formatDuration, notYetSupportedTopLevelKeys, parseDuration, validateOptions,
} from "../../../src/config/conf_options.ts";
import { ConfigError, parseConfigText } from "../../../src/config/conf_parser.ts";
import { defaultOptions, type ServerOptions } from "../../../src/config/options.ts";
import * as C from "../../../src/constants.ts";

const dir = mkdtempSync(join(tmpdir(), "nats-bun-opts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Applies config text; returns the options and the warnings. */
function apply(text: string): { opts: ServerOptions; warnings: string[] } {
  const opts = defaultOptions();
  const warnings = applyConfigMap(opts, parseConfigText(text, "c.conf", { env: {} }));
  return { opts, warnings };
}

/** The ConfigError message applying `text` produces. */
function applyError(text: string): string {
  try {
    apply(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected an error for ${JSON.stringify(text)}`);
}

describe("implemented keys and their aliases", () => {
  const cases: [string, Partial<ServerOptions>][] = [
    ["host: 127.0.0.1", { host: "127.0.0.1" }],
    ["net: 10.0.0.1", { host: "10.0.0.1" }],
    ["port: 4333", { port: 4333 }],
    ["port: -1", { port: -1 }],
    ["port: 0", { port: C.defaultPort }],
    ["listen: 127.0.0.1:4333", { host: "127.0.0.1", port: 4333 }],
    ["listen: 4333", { port: 4333 }],
    ["listen: \":4333\"", { host: C.defaultHost, port: 4333 }],
    ["listen: \"[::1]:4333\"", { host: "::1", port: 4333 }],
    ["listen: 0.0.0.0:-1", { host: "0.0.0.0", port: -1 }],
    ["server_name: n1", { serverName: "n1" }],
    ["client_advertise: \"nats.example.com:4222\"", { clientAdvertise: "nats.example.com:4222" }],
    ["debug: true", { debug: true }],
    ["trace: on", { trace: true }],
    ["trace_verbose: true", { trace: true, traceVerbose: true }],
    ["logtime: false", { logtime: false }],
    ["logtime_utc: yes", { logtimeUtc: true }],
    ["logfile: /tmp/a.log", { logFile: "/tmp/a.log" }],
    ["log_file: /tmp/b.log", { logFile: "/tmp/b.log" }],
    ["logfile_size_limit: 1GB", { logSizeLimitBytes: 2 ** 30 }],
    ["log_size_limit: 10MB", { logSizeLimitBytes: 10 * 2 ** 20 }],
    ["logfile_max_num: 5", { logMaxFiles: 5 }],
    ["log_max_num: 7", { logMaxFiles: 7 }],
    ["max_traced_msg_len: 64", { maxTracedMsgLen: 64 }],
    ["syslog: true", { syslog: true }],
    ["remote_syslog: \"udp://localhost:514\"", { remoteSyslog: "udp://localhost:514" }],
    ["pidfile: /tmp/n.pid", { pidFile: "/tmp/n.pid" }],
    ["pid_file: /tmp/m.pid", { pidFile: "/tmp/m.pid" }],
    ["ports_file_dir: /tmp", { portsFileDir: "/tmp" }],
    ["max_control_line: 8KB", { maxControlLineBytes: 8192 }],
    ["max_control_line: 0", { maxControlLineBytes: C.maxControlLineBytes }],
    ["max_payload: 2MB", { maxPayloadBytes: 2 * 2 ** 20 }],
    ["max_payload: 0", { maxPayloadBytes: C.maxPayloadBytes }],
    ["max_pending: 128MB", { maxPendingBytes: 128 * 2 ** 20 }],
    ["max_connections: 100", { maxConnections: 100 }],
    ["max_conn: 64K", { maxConnections: 64000 }],
    ["max_conn: 0", { maxConnections: C.maxConnections }],
    ["max_subscriptions: 10", { maxSubscriptions: 10 }],
    ["max_subs: 11", { maxSubscriptions: 11 }],
    ["max_sub_tokens: 16", { maxSubTokens: 16 }],
    ["max_subscription_tokens: 255", { maxSubTokens: 255 }],
    ["max_closed_clients: 50", { maxClosedClients: 50 }],
    ["ping_interval: \"30s\"", { pingIntervalMs: 30_000 }],
    ["ping_interval: \"1m30s\"", { pingIntervalMs: 90_000 }],
    ["ping_max: 5", { pingMax: 5 }],
    ["write_deadline: \"250ms\"", { writeDeadlineMs: 250 }],
    ["lame_duck_duration: \"1m\"", { lameDuckDurationMs: 60_000 }],
    ["lame_duck_grace_period: \"5s\"", { lameDuckGracePeriodMs: 5000 }],
    ["lame_duck_grace_period: \"0s\"", { lameDuckGracePeriodMs: C.lameDuckGracePeriodMs }],
    ["no_header_support: true", { noHeaderSupport: true }],
    ["disable_sublist_cache: true", { noSublistCache: true }],
    ["no_sublist_cache: true", { noSublistCache: true }],
    ["http: 8222", { httpPort: 8222 }],
    ["http: \"127.0.0.1:8222\"", { httpHost: "127.0.0.1", httpPort: 8222 }],
    ["https: localhost:8443", { httpHost: "localhost", httpsPort: 8443 }],
    ["http_port: 8222", { httpPort: 8222 }],
    ["monitor_port: 8223", { httpPort: 8223 }],
    ["https_port: 8443", { httpsPort: 8443 }],
    ["http_base_path: /nats", { httpBasePath: "/nats" }],
    ["store_dir: /data", { storeDir: "/data" }],
    ["storedir: /data2", { storeDir: "/data2" }],
    ["jetstream: true", { jetstream: true }],
    ["jetstream: enabled", { jetstream: true }],
    ["jetstream: Disable", { jetstream: false }],
    ["authorization { user: derek, password: porkchop, timeout: 1 }", { username: "derek", password: "porkchop", authTimeoutMs: 1000 }],
    ["authorization { username: u, pass: p, timeout: 0.5 }", { username: "u", password: "p", authTimeoutMs: 500 }],
    ["authorization { token: \"s3cr3t\" }", { authToken: "s3cr3t" }],
  ];
  for (const [text, want] of cases) {
    test(text, () => {
      const { opts, warnings } = apply(text);
      expect(warnings).toEqual([]);
      expect(opts).toMatchObject(want);
      // Every field set is recorded as explicit.
      for (const field of Object.keys(want)) expect(opts.explicit.has(field)).toBe(true);
    });
  }

  test("keys are case-insensitive", () => {
    const { opts } = apply("PORT: 4333\nMax_Payload: 2KB\nDebug: true\nAuthorization { USER: a, Password: b }");
    expect(opts).toMatchObject({ port: 4333, maxPayloadBytes: 2048, debug: true, username: "a", password: "b" });
  });

  test("only the keys given are explicit; defaults stay", () => {
    const { opts } = apply("port: 4333\ndebug: false");
    expect([...opts.explicit].sort()).toEqual(["debug", "port"]);
    expect(opts.maxPayloadBytes).toBe(C.maxPayloadBytes);
  });

  test("a later key wins", () => {
    expect(apply("port: 1\nport: 2").opts.port).toBe(2);
    expect(apply("listen: 127.0.0.1:1\nport: 2").opts).toMatchObject({ host: "127.0.0.1", port: 2 });
  });

  test("applyConfigFile records the file and reads includes", () => {
    const inc = join(dir, "limits.conf");
    writeFileSync(inc, "max_payload: 2MB\nmax_pending: 128MB\n");
    const main = join(dir, "main.conf");
    writeFileSync(main, "port: 4333\ninclude ./limits.conf\n");
    const opts = defaultOptions();
    expect(applyConfigFile(opts, main)).toEqual([]);
    expect(opts).toMatchObject({ configFile: main, port: 4333, maxPayloadBytes: 2 * 2 ** 20, maxPendingBytes: 128 * 2 ** 20 });
  });
});

describe("jetstream block", () => {
  test("simple fields", () => {
    const { opts } = apply(`jetstream {
      store_dir: "/data/js"
      max_memory_store: 1GB
      max_file_store: "10G"
      domain: hub
      unique_tag: " AZ "
      max_outstanding_catchup: 64MB
      sync_interval: "2m"
    }`);
    expect(opts).toMatchObject({
      jetstream: true, storeDir: "/data/js", jetstreamMaxMemoryBytes: 2 ** 30, jetstreamMaxStoreBytes: 10 * 2 ** 30,
      jetstreamDomain: "hub", jetstreamUniqueTag: "az", jetstreamMaxCatchupBytes: 64 * 2 ** 20, jetstreamSyncIntervalMs: 120_000,
    });
  });

  test("aliases, enabled: false, sync always", () => {
    const { opts } = apply("jetstream { store: /d, max_mem: 1G, max_file: 2K, enabled: false, sync: always }");
    expect(opts).toMatchObject({
      jetstream: false, storeDir: "/d", jetstreamMaxMemoryBytes: 1e9, jetstreamMaxStoreBytes: 2000, jetstreamSyncAlways: true,
    });
  });

  test("an empty block enables JetStream", () => {
    expect(apply("jetstream {}").opts.jetstream).toBe(true);
  });

  test("errors with the reference's texts", () => {
    expect(applyError("jetstream: maybe")).toBe("c.conf:1:1: Expected 'enabled' or 'disabled' for string value, got 'maybe'");
    expect(applyError("jetstream: 1")).toBe("c.conf:1:1: Expected map, bool or string to define JetStream, got integer 1");
    expect(applyError("jetstream { max_mem: \"1X\" }")).toBe("c.conf:1:13: max_mem_store sizes defined as strings must end in K, M, G, T");
    expect(applyError("jetstream { max_file: \"aG\" }")).toBe(`c.conf:1:13: max_file_store strconv.ParseInt: parsing "a": invalid syntax`);
    expect(applyError("jetstream { max_file: true }")).toBe("c.conf:1:13: max_file_store must be int64 or string");
    expect(applyError("store_dir: /a\njetstream { store_dir: /b }")).toBe("c.conf:2:13: Duplicate 'store_dir' configuration");
  });

  test("fields not implemented yet are refused, unknown ones reported", () => {
    expect(applyError("jetstream {\n  cipher: aes\n  bogus: 1\n}")).toBe(
      `c.conf:2:3: "jetstream.cipher" is not yet supported by nats-bun\nc.conf:3:3: unknown field "bogus"`,
    );
  });
});

describe("authorization block", () => {
  test("user/pass and token together (the reference's error, at the block)", () => {
    expect(applyError("authorization {\n  user: a\n  token: \"x\"\n}")).toBe("c.conf:1:1: Cannot have a user/pass and token");
  });

  test("auth_callout is not yet supported", () => {
    expect(applyError("authorization {\n  auth_callout { issuer: x }\n}")).toBe(`c.conf:2:3: "authorization.auth_callout" is not yet supported by nats-bun`);
  });

  test("unknown fields inside the block, except keys used as variables", () => {
    expect(applyError("authorization {\n  token: \"x\"\n  foo: 1\n}")).toBe(`c.conf:3:3: unknown field "foo"`);
    expect(apply("authorization {\n  PASS: s3cr3t\n  user: a\n  password: $PASS\n}").opts.password).toBe("s3cr3t");
  });

  test("the block must be a map", () => {
    expect(applyError("authorization: token")).toBe(`c.conf:1:1: Expected authorization to be a map/struct, got string "token"`);
  });
});

describe("durations", () => {
  test("a bare number is seconds, with the reference's warning", () => {
    const { opts, warnings } = apply("ping_interval: 5\nwrite_deadline: 3");
    expect(opts).toMatchObject({ pingIntervalMs: 5000, writeDeadlineMs: 3000 });
    expect(warnings).toEqual([
      `c.conf:1:1: invalid use of field "ping_interval": ping_interval should be converted to a duration`,
      `c.conf:2:1: invalid use of field "write_deadline": write_deadline should be converted to a duration`,
    ]);
  });

  test("bad durations", () => {
    expect(applyError(`ping_interval: "5x"`)).toBe(`c.conf:1:1: error parsing ping_interval: time: unknown unit "x" in duration "5x"`);
    expect(applyError(`write_deadline: "1x"`)).toBe(`c.conf:1:1: error parsing write_deadline: time: unknown unit "x" in duration "1x"`);
    expect(applyError(`ping_interval: 1.5`)).toBe(
      `c.conf:1:1: error parsing ping_interval: expected a duration string such as "2m" or a number of seconds, got float 1.5`,
    );
  });

  test("lame duck durations are strings only, at least 30s, grace period not negative", () => {
    expect(applyError(`lame_duck_duration: "5s"`)).toBe("c.conf:1:1: invalid lame_duck_duration of 5s, minimum is 30 seconds");
    expect(applyError(`lame_duck_duration: 30`)).toBe(
      `c.conf:1:1: error parsing lame_duck_duration: expected a duration string such as "2m", got integer 30`,
    );
    expect(applyError(`lame_duck_grace_period: "-1s"`)).toBe("c.conf:1:1: invalid lame_duck_grace_period, needs to be positive");
  });

  test("parseDuration follows Go's time.ParseDuration", () => {
    expect(parseDuration("2s")).toBe(2e9);
    expect(parseDuration("1m30s")).toBe(90e9);
    expect(parseDuration("250ms")).toBe(250e6);
    expect(parseDuration("1h")).toBe(3600e9);
    expect(parseDuration("1.5h")).toBe(5400e9);
    expect(parseDuration("10us")).toBe(10e3);
    expect(parseDuration("10µs")).toBe(10e3);
    expect(parseDuration("7ns")).toBe(7);
    expect(parseDuration("-1.5s")).toBe(-1.5e9);
    expect(parseDuration("+3m")).toBe(180e9);
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration(".5s")).toBe(0.5e9);
    expect(() => parseDuration("")).toThrow(`time: invalid duration ""`);
    expect(() => parseDuration("5")).toThrow(`time: missing unit in duration "5"`);
    expect(() => parseDuration("5x")).toThrow(`time: unknown unit "x" in duration "5x"`);
    expect(() => parseDuration("s")).toThrow(`time: invalid duration "s"`);
    expect(() => parseDuration(".s")).toThrow(`time: invalid duration ".s"`);
    expect(() => parseDuration("3000000h")).toThrow(`time: invalid duration "3000000h"`);
  });

  test("formatDuration follows Go's Duration.String", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(5e9)).toBe("5s");
    expect(formatDuration(90e9)).toBe("1m30s");
    expect(formatDuration(7200e9)).toBe("2h0m0s");
    expect(formatDuration(1.5e9)).toBe("1.5s");
    expect(formatDuration(250e6)).toBe("250ms");
    expect(formatDuration(1500)).toBe("1.5µs");
    expect(formatDuration(12)).toBe("12ns");
    expect(formatDuration(-30e9)).toBe("-30s");
  });
});

describe("range and type checks", () => {
  test("the reference's limits", () => {
    expect(applyError("max_payload: 3GB")).toBe("c.conf:1:1: max_payload value is too big");
    expect(applyError("max_control_line: 3GB")).toBe("c.conf:1:1: max_control_line value is too big");
    expect(applyError("max_sub_tokens: 256")).toBe("c.conf:1:1: max_sub_tokens value is too big");
    expect(applyError("max_sub_tokens: -1")).toBe("c.conf:1:1: max_sub_tokens value can not be negative");
    expect(applyError("max_sub_tokens: 0")).toBe("c.conf:1:1: max_sub_tokens value can not be negative");
  });

  test("listen and http addresses", () => {
    expect(applyError(`listen: "localhost"`)).toBe(`c.conf:1:1: could not parse address string "localhost"`);
    expect(applyError(`listen: "localhost:abc"`)).toBe(`c.conf:1:1: could not parse port "abc"`);
    expect(applyError(`listen: "a:b:4222"`)).toBe(`c.conf:1:1: could not parse address string "a:b:4222"`);
    expect(applyError(`http: true`)).toBe(`c.conf:1:1: expected port or host:port, got boolean true`);
  });

  test("wrong types name the key, what was expected and what was found", () => {
    expect(applyError(`port: "abc"`)).toBe(`c.conf:1:1: invalid value for "port": expected an integer, got string "abc"`);
    expect(applyError(`debug: 1`)).toBe(`c.conf:1:1: invalid value for "debug": expected a boolean, got integer 1`);
    expect(applyError(`server_name: [a]`)).toBe(`c.conf:1:1: invalid value for "server_name": expected a string, got array`);
    expect(applyError(`max_payload: 1.5`)).toBe(`c.conf:1:1: invalid value for "max_payload": expected an integer, got float 1.5`);
  });

  test("validateOptions: max_payload ≤ max_pending, grace period < lame duck duration (reference texts)", () => {
    const opts = defaultOptions();
    expect(validateOptions(opts)).toBeNull();
    opts.maxPayloadBytes = 100 * 2 ** 20;
    opts.maxPendingBytes = 2 ** 20;
    expect(validateOptions(opts)).toBe("max_payload (104857600) cannot be higher than max_pending (1048576)");
    const ld = defaultOptions();
    ld.lameDuckDurationMs = 30_000;
    ld.lameDuckGracePeriodMs = 30_000;
    expect(validateOptions(ld)).toBe("lame duck grace period (30s) should be strictly lower than lame duck duration (30s)");
  });
});

describe("keys not implemented yet, and unknown keys", () => {
  test("every known-but-unimplemented top-level key is refused by name", () => {
    for (const key of notYetSupportedTopLevelKeys) {
      expect(applyError(`${key}: 1`)).toBe(`c.conf:1:1: "${key}" is not yet supported by nats-bun`);
    }
  });

  test("the list covers the reference's top-level keys we do not map", () => {
    for (const key of ["cluster", "gateway", "leafnodes", "leaf", "websocket", "ws", "mqtt", "resolver_tls",
      "resolver_pinned_accounts", "server_tags", "prof_port", "ocsp"]) {
      expect(notYetSupportedTopLevelKeys.has(key)).toBe(true);
    }
  });

  test("the refusal keeps the key as written", () => {
    expect(applyError("Cluster { port: 6222 }")).toBe(`c.conf:1:1: "Cluster" is not yet supported by nats-bun`);
  });

  test("unknown keys: the reference's pedantic error", () => {
    expect(applyError("port: 4222\n  foo = 1\n")).toBe(`c.conf:2:3: unknown field "foo"`);
  });

  test("names of object properties are ordinary unknown keys", () => {
    expect(applyError("constructor: 1\ntoString: 2\n__proto__: 3")).toBe(
      `c.conf:1:1: unknown field "constructor"\nc.conf:2:1: unknown field "toString"\nc.conf:3:1: unknown field "__proto__"`,
    );
    expect(() => parseDuration("5constructor")).toThrow(`time: unknown unit "constructor" in duration "5constructor"`);
  });

  test("a top-level key used as a variable is not unknown; an unused one is", () => {
    expect(apply(`TOKEN: "secret"\nauthorization { token: $TOKEN }`).opts.authToken).toBe("secret");
    expect(applyError(`TOKEN: "secret"\nport: 4222`)).toBe(`c.conf:1:1: unknown field "TOKEN"`);
  });

  test("all errors are reported together, in file order, warnings first", () => {
    try {
      apply("ping_interval: 5\nfoo: 1\nport: x\ncluster { }\n");
      throw new Error("expected an error");
    } catch (err) {
      const e = err as ConfigError;
      expect(e.message).toBe(
        `c.conf:1:1: invalid use of field "ping_interval": ping_interval should be converted to a duration\n` +
          `c.conf:2:1: unknown field "foo"\n` +
          `c.conf:3:1: invalid value for "port": expected an integer, got string "x"\n` +
          `c.conf:4:1: "cluster" is not yet supported by nats-bun`,
      );
      expect(e.all.map((x) => [x.line, x.col])).toEqual([[2, 1], [3, 1], [4, 1]]);
      expect([e.file, e.line, e.col]).toEqual(["c.conf", 2, 1]);
      expect(e.warnings).toHaveLength(1);
    }
  });

  test("the nats.go TLS configs parse; their certificate paths are relative to nats.go's tree", () => {
    const base = "/work/shared/testdata/natsgo-configs";
    const refuse = (name: string): string => {
      try {
        applyConfigFile(defaultOptions(), `${base}/${name}`);
      } catch (err) {
        return (err as ConfigError).message;
      }
      throw new Error("expected an error");
    };
    const missing = "error parsing X509 certificate/key pair: open ./configs/certs/server.pem: no such file or directory";
    expect(refuse("tls.conf")).toBe(`${base}/tls.conf:6:0: ${missing}`);
    expect(refuse("tlsverify.conf")).toBe(`${base}/tlsverify.conf:6:0: ${missing}`);
    expect(refuse("tls_noip_a.conf")).toBe(
      `${base}/tls_noip_a.conf:6:0: error parsing X509 certificate/key pair: open ./configs/certs/server_noip.pem: no such file or directory\n${base}/tls_noip_a.conf:18:1: "cluster" is not yet supported by nats-bun`,
    );
  });
});

describe("realistic files map fully", () => {
  test("basic server", () => {
    const { opts, warnings } = apply(`
server_name: "n1-east"
listen: 0.0.0.0:4222
http: localhost:8222
debug: false
logtime: true
log_file: "/tmp/nats-server.log"
logfile_size_limit: 1GB
pid_file: "/tmp/nats-server.pid"
max_connections: 64K
max_control_line: 4KB
max_payload: 1MB
max_pending: 64MB
max_subscriptions: 1000
ping_interval: "2m"
ping_max: 2
write_deadline: "10s"
lame_duck_duration: "2m"
lame_duck_grace_period: "10s"
`);
    expect(warnings).toEqual([]);
    expect(opts).toMatchObject({
      serverName: "n1-east", host: "0.0.0.0", port: 4222, httpHost: "localhost", httpPort: 8222, debug: false, logtime: true,
      logFile: "/tmp/nats-server.log", logSizeLimitBytes: 2 ** 30, pidFile: "/tmp/nats-server.pid", maxConnections: 64000,
      maxControlLineBytes: 4096, maxPayloadBytes: 2 ** 20, maxPendingBytes: 64 * 2 ** 20, maxSubscriptions: 1000,
      pingIntervalMs: 120_000, pingMax: 2, writeDeadlineMs: 10_000, lameDuckDurationMs: 120_000, lameDuckGracePeriodMs: 10_000,
    });
    expect(validateOptions(opts)).toBeNull();
  });

  test("token from the environment, JSON style", () => {
    const opts = defaultOptions();
    applyConfigMap(opts, parseConfigText(`{ "port": 4333, "authorization": { "token": $NATS_TOKEN, "timeout": 3 } }`, "j.conf", { env: { NATS_TOKEN: "from-env" } }));
    expect(opts).toMatchObject({ port: 4333, authToken: "from-env", authTimeoutMs: 3000 });
  });
});

describe("a set of bad files: exact messages with file:line:col", () => {
  // Each message matches `nats-server -t -c <file>` (v2.9.10) apart from the column on line 1,
  // which the reference counts from 0 there and from 1 elsewhere; ours is 1-based everywhere.
  const cases: [string, string, (file: string) => string][] = [
    ["unknown.conf", "port: 4222\n  foo = 1\n", (f) => `${f}:2:3: unknown field "foo"`],
    ["badtop.conf", "port 4222 x\n", (f) => `${f}:1:11: Expected a top-level value to end with a new line, comment or EOF, but got 'x' instead.`],
    ["unterminated.conf", "a { b = 1\n", (f) => `${f}:2:1: Unexpected EOF processing map.`],
    ["var.conf", "port: $NOPE\n", (f) => `${f}:1:7: variable reference for 'NOPE' can not be found`],
    ["dur.conf", `ping_interval: "5x"\n`, (f) => `${f}:1:1: error parsing ping_interval: time: unknown unit "x" in duration "5x"`],
    ["ldm.conf", `lame_duck_duration: "5s"\n`, (f) => `${f}:1:1: invalid lame_duck_duration of 5s, minimum is 30 seconds`],
    ["big.conf", "max_payload: 3GB\n", (f) => `${f}:1:1: max_payload value is too big`],
    ["subtok.conf", "max_sub_tokens: -1\n", (f) => `${f}:1:1: max_sub_tokens value can not be negative`],
    ["listen.conf", `listen: "localhost"\n`, (f) => `${f}:1:1: could not parse address string "localhost"`],
    ["authunk.conf", "authorization {\n  token: \"x\"\n  foo: 1\n}\n", (f) => `${f}:3:3: unknown field "foo"`],
    ["authbad.conf", "authorization {\n  user: a\n  token: \"x\"\n}\n", (f) => `${f}:1:1: Cannot have a user/pass and token`],
    ["nested.conf", "jetstream {\n   store_dir: \"/tmp/x\"\n   bogus: 1\n}\n", (f) => `${f}:3:4: unknown field "bogus"`],
    ["unusedvar.conf", "TOKEN: \"secret\"\nport: 4222\n", (f) => `${f}:1:1: unknown field "TOKEN"`],
    ["js.conf", "jetstream: maybe\n", (f) => `${f}:1:1: Expected 'enabled' or 'disabled' for string value, got 'maybe'`],
    ["missinc.conf", "include ./missing.conf\n", (f) => `${f}:1:9: error parsing include file './missing.conf', open ${join(dir, "missing.conf")}: no such file or directory`],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => {
      const file = join(dir, name);
      writeFileSync(file, text);
      let caught: unknown;
      try {
        applyConfigFile(defaultOptions(), file, { env: {} });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).message).toBe(message(file));
      expect((caught as ConfigError).file).toBe(file);
    });
  }
});
