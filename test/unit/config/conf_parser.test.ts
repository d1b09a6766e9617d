// The config parser: values, size units, variables (scopes, environment, cycles, bcrypt),
// includes, positions, and realistic configuration files. Expected values were checked against
// nats-server v2.9.10's conf package (`conf.ParseFile`) unless marked as a difference.
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  ConfigError, ConfMap, elementPosition, parseConfigFile, parseConfigText, toPlain, type ConfValue,
} from "../../../src/config/conf_parser.ts";

const noEnv = {};
const dir = mkdtempSync(join(tmpdir(), "nats-bun-conf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(resolve(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function plain(text: string, env: Record<string, string> = noEnv): unknown {
  return toPlain(parseConfigText(text, "t.conf", { env }));
}

function parseError(text: string, env: Record<string, string> = noEnv): string {
  try {
    parseConfigText(text, "t.conf", { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
}

describe("values", () => {
  test("scalars, nested maps and arrays", () => {
    expect(plain(`a = 1k; b: "x\\ty"; d { e f }; t = 2023-01-02T03:04:05Z; ip = 127.0.0.1:4222; f = 1.5; n=-3; h=$2a$11$abc`)).toEqual({
      a: 1000, b: "x\ty", d: { e: "f" }, t: new Date(Date.UTC(2023, 0, 2, 3, 4, 5)), ip: "127.0.0.1:4222", f: 1.5, n: -3,
      h: "$2a$11$abc",
    });
  });

  test("maps keep file order and a later key replaces an earlier one", () => {
    const m = parseConfigText("b = 1\na = 2\nb = 3", "t.conf", { env: noEnv });
    expect([...m.keys()]).toEqual(["b", "a"]);
    expect(m.get("b")).toBe(3);
  });

  test("keys named like object properties are plain keys", () => {
    const m = parseConfigText("__proto__ = 1\nconstructor = 2", "t.conf", { env: noEnv });
    expect([...m.entries()]).toEqual([["__proto__", 1], ["constructor", 2]]);
    expect(Object.keys(toPlain(m) as object)).toEqual(["__proto__", "constructor"]);
  });

  test("booleans", () => {
    expect(plain("a = yes\nb = NO\nc = On\nd = off\ne = TRUE\nf = \"true\"")).toEqual({ a: true, b: false, c: true, d: false, e: true, f: "true" });
  });

  test("size suffixes exactly as the reference: k=1000, kb/ki/kib=1024, … case-insensitive", () => {
    expect(plain("a=1kb\nb=1KiB\nc=1mib\nd=2G\ne=3gb\nf=1t\ng=1TB\nh=1p\ni=1pb\nj=1e\nk=1eb\nl=-2k\nm=1M\nn=1Mi\no=1K\np=1ki")).toEqual({
      a: 1024, b: 1024, c: 1048576, d: 2e9, e: 3 * 2 ** 30, f: 1e12, g: 2 ** 40, h: 1e15, i: 2 ** 50, j: 1e18, k: 2 ** 60,
      l: -2000, m: 1e6, n: 2 ** 20, o: 1000, p: 1024,
    });
  });

  test("integer range: int64 like the reference", () => {
    expect(plain("a = 9223372036854775807")).toEqual({ a: 9223372036854775807 });
    expect(parseError("a = 9223372036854775808")).toBe("t.conf:1:5: integer '9223372036854775808' is out of the range");
  });

  test("difference: an overflowing suffix or an unknown suffix is an error (the reference wraps / drops the key)", () => {
    expect(parseError("a = 9eb")).toBe("t.conf:1:5: integer '9eb' is out of the range");
    expect(parseError("a = 2MBb")).toBe("t.conf:1:5: expected integer, but got '2MBb'");
  });

  test("datetimes are validated", () => {
    expect(parseError("a = 2023-13-45T00:00:00Z")).toBe("t.conf:1:5: expected Zulu formatted DateTime, but got '2023-13-45T00:00:00Z'");
  });

  test("arrays of maps, nested arrays, empty containers", () => {
    expect(plain("a = [\n  {x: 1}\n  {x: 2}\n]\nb = [[1, 2], [3]]\nc = {}\nd = []")).toEqual({
      a: [{ x: 1 }, { x: 2 }], b: [[1, 2], [3]], c: {}, d: [],
    });
  });

  test("block strings and comments", () => {
    expect(plain("# c\na (\n  line1\n  line2 )\n)\nb=1 // c")).toEqual({ a: "\n  line1\n  line2 )\n", b: 1 });
  });
});

describe("variables", () => {
  test("block scoped: innermost map first, only keys defined earlier", () => {
    expect(plain("a=1\nb { c=$a, a=2, d=$a }\ne=$a")).toEqual({ a: 1, b: { a: 2, c: 1, d: 2 }, e: 1 });
  });

  test("maps inside arrays are scopes too; arrays are skipped", () => {
    expect(plain("A = 1\nb { B = $A\n c = [ $A, $B, { C: 3, d: $C } ] }")).toEqual({ A: 1, b: { B: 1, c: [1, 1, { C: 3, d: 3 }] } });
  });

  test("variables can hold maps and arrays", () => {
    expect(plain("perms = { publish: [\"a.>\"] }\nu = { permissions: $perms }")).toEqual({
      perms: { publish: ["a.>"] }, u: { permissions: { publish: ["a.>"] } },
    });
  });

  test("a key used as a variable is remembered (it is not an unknown field)", () => {
    const m = parseConfigText("TOKEN: s\nPORT: 1\nauthorization { token: $TOKEN }", "t.conf", { env: noEnv });
    expect(m.usedAsVariable("TOKEN")).toBe(true);
    expect(m.usedAsVariable("PORT")).toBe(false);
  });

  test("environment variables are parsed as config values", () => {
    const env = { SIZE: "1MB", FLAG: "true", LIST: "[1, 2 ]", WORD: "hello", NUM: "-3", EMPTY: "" };
    expect(plain("a=$SIZE\nb=$FLAG\nc=$LIST\nd=$WORD\ne=$NUM\nf=$EMPTY", env)).toEqual({ a: 1048576, b: true, c: [1, 2], d: "hello", e: -3, f: "" });
  });

  test("file keys win over the environment", () => {
    expect(plain("X = 1\na = $X", { X: "2" })).toEqual({ X: 1, a: 1 });
  });

  test("environment values may refer to other environment variables", () => {
    expect(plain("a = $B", { B: "$A", A: "5" })).toEqual({ a: 5 });
  });

  test("environment cycles are detected", () => {
    expect(parseError("x = 1\na = $A", { A: "$B", B: "$A" })).toBe("t.conf:2:5: variable reference cycle: $A -> $B -> $A");
    expect(parseError("a = $A", { A: "$A" })).toBe("t.conf:1:5: variable reference cycle: $A -> $A");
  });

  test("an environment value that does not parse", () => {
    expect(parseError("a = $B", { B: "hello world" })).toBe(
      "t.conf:1:5: variable reference for 'B' could not be parsed: Expected a top-level value to end with a new line, comment or EOF, but got 'w' instead.",
    );
  });

  test("unknown variables name their position", () => {
    expect(parseError("port: 4222\nserver_name: $NOPE")).toBe("t.conf:2:14: variable reference for 'NOPE' can not be found");
    expect(parseError("a = $")).toBe("t.conf:1:5: variable reference for '' can not be found");
  });

  test("inherited object properties are not environment variables", () => {
    expect(parseError("a = $toString")).toBe("t.conf:1:5: variable reference for 'toString' can not be found");
  });

  test("bcrypt hashes ($2a$…) are strings, quoted or not", () => {
    const hash = "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG";
    expect(plain(`a = ${hash}\nb = "${hash}"`)).toEqual({ a: hash, b: hash });
  });

  test("a quoted $ is literal", () => {
    expect(plain(`a = "$X"`)).toEqual({ a: "$X" });
  });
});

describe("include", () => {
  test("relative to the including file, merged at that point, nested includes relative to their own file", () => {
    write("inc/main.conf", "port: 1\ninclude ./sub/a.conf\nafter = 2\nm { include 'sub/m.conf' }\n");
    write("inc/sub/a.conf", "include b.conf\nport: 5\n");
    write("inc/sub/b.conf", "debug = true\n");
    write("inc/sub/m.conf", "x = 1\n");
    const m = parseConfigFile(join(dir, "inc/main.conf"), { env: noEnv });
    expect(toPlain(m)).toEqual({ port: 5, debug: true, after: 2, m: { x: 1 } });
    // Positions point into the file that wrote the key.
    expect(m.position("port")).toEqual({ file: join(dir, "inc/sub/a.conf"), line: 2, col: 1 });
    expect(m.position("debug")).toEqual({ file: join(dir, "inc/sub/b.conf"), line: 1, col: 1 });
    expect(m.position("after")).toEqual({ file: join(dir, "inc/main.conf"), line: 3, col: 1 });
  });

  test("keys of an included file are variables for what follows", () => {
    write("incvar/main.conf", "include vars.conf\nm { x = $V }\n");
    write("incvar/vars.conf", "V = 42\n");
    const m = parseConfigFile(join(dir, "incvar/main.conf"), { env: noEnv });
    expect(toPlain(m)).toEqual({ V: 42, m: { x: 42 } });
    expect(m.usedAsVariable("V")).toBe(true);
  });

  test("an included file does not see the includer's variables (as the reference)", () => {
    write("scope/main.conf", "A = 1\ninclude inc.conf\n");
    write("scope/inc.conf", "b = $A\n");
    expect(() => parseConfigFile(join(dir, "scope/main.conf"), { env: noEnv })).toThrow(
      `${join(dir, "scope/inc.conf")}:1:5: variable reference for 'A' can not be found`,
    );
  });

  test("a missing include names the include line", () => {
    const main = write("missing/main.conf", "port: 1\ninclude ./nope.conf\n");
    expect(() => parseConfigFile(main, { env: noEnv })).toThrow(
      `${main}:2:9: error parsing include file './nope.conf', open ${join(dir, "missing/nope.conf")}: no such file or directory`,
    );
  });

  test("include cycles are detected", () => {
    const a = write("cycle/a.conf", "include b.conf\n");
    const b = write("cycle/b.conf", "x = 1\ninclude a.conf\n");
    expect(() => parseConfigFile(a, { env: noEnv })).toThrow(`${b}:2:9: include cycle: ${a} -> ${b} -> ${a}`);
    const self = write("cycle/self.conf", "include self.conf\n");
    expect(() => parseConfigFile(self, { env: noEnv })).toThrow(`${self}:1:9: include cycle: ${self} -> ${self}`);
  });

  test("the same file may be included twice when it is not a cycle", () => {
    write("twice/main.conf", "a { include common.conf }\nb { include common.conf }\n");
    write("twice/common.conf", "x = 1\n");
    expect(toPlain(parseConfigFile(join(dir, "twice/main.conf"), { env: noEnv }))).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  test("difference: an absolute include path is used as is", () => {
    const abs = write("abs/limits.conf", "max_payload: 2MB\n");
    const main = write("abs/other/main.conf", `include ${abs}\n`);
    expect(toPlain(parseConfigFile(main, { env: noEnv }))).toEqual({ max_payload: 2 * 1048576 });
  });

  test("syntax errors inside an included file carry that file's position", () => {
    const inc = write("bad/inc.conf", "ok = 1\nbad = [1 2]\n");
    const main = write("bad/main.conf", "include inc.conf\n");
    expect(() => parseConfigFile(main, { env: noEnv })).toThrow(
      `${inc}:2:10: Expected an array value terminator "," or an array terminator "]", but got '2' instead.`,
    );
  });

  test("a config file that cannot be opened: the reference's wording, no position", () => {
    const path = join(dir, "does-not-exist.conf");
    try {
      parseConfigFile(path);
      throw new Error("expected an error");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(`open ${path}: no such file or directory`);
      expect((err as ConfigError).line).toBe(0);
    }
  });
});

describe("positions", () => {
  test("every key of every map, and array elements", () => {
    const m = parseConfigText("a = 1\nm {\n  k: [x,\n     y]\n}\n", "p.conf", { env: noEnv });
    expect(m.position("a")).toEqual({ file: "p.conf", line: 1, col: 1 });
    expect(m.position("m")).toEqual({ file: "p.conf", line: 2, col: 1 });
    const inner = m.get("m") as ConfMap;
    expect(inner.position("k")).toEqual({ file: "p.conf", line: 3, col: 3 });
    const list = inner.get("k") as ConfValue[];
    expect(elementPosition(list, 0)).toEqual({ file: "p.conf", line: 3, col: 7 });
    expect(elementPosition(list, 1)).toEqual({ file: "p.conf", line: 4, col: 6 });
  });

  test("ConfigError carries file, line, col and reason", () => {
    try {
      parseConfigText("a = 1\nb = $X", "e.conf", { env: noEnv });
      throw new Error("expected an error");
    } catch (err) {
      const e = err as ConfigError;
      expect([e.name, e.file, e.line, e.col, e.reason]).toEqual(["ConfigError", "e.conf", 2, 5, "variable reference for 'X' can not be found"]);
    }
  });

  test("the first error in file order wins, as in the reference's streaming parser", () => {
    expect(parseError("a = $NOPE\nb = [1 2]")).toBe("t.conf:1:5: variable reference for 'NOPE' can not be found");
  });
});

describe("realistic configuration files (all also parsed identically by nats-server v2.9.10)", () => {
  test("a basic server with units and durations", () => {
    const text = `
# Basic server: client port, monitoring, limits
server_name: "n1-east"
listen: 0.0.0.0:4222
http: localhost:8222

debug: false
trace: false
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
`;
    expect(plain(text)).toEqual({
      server_name: "n1-east", listen: "0.0.0.0:4222", http: "localhost:8222", debug: false, trace: false, logtime: true,
      log_file: "/tmp/nats-server.log", logfile_size_limit: 1073741824, pid_file: "/tmp/nats-server.pid",
      max_connections: 64000, max_control_line: 4096, max_payload: 1048576, max_pending: 67108864, max_subscriptions: 1000,
      ping_interval: "2m", ping_max: 2, write_deadline: "10s", lame_duck_duration: "2m", lame_duck_grace_period: "10s",
    });
  });

  test("JSON style with a variable", () => {
    const text = `// JetStream enabled server, JSON style with variables
STORE = "/tmp/nats/jetstream"
{
  "port": 4222,
  "monitor_port": 8222,
  "jetstream": {
    "store_dir": $STORE,
    "max_memory_store": 1GB,
    "max_file_store": "10G",
    "domain": "hub"
  }
}
`;
    expect(plain(text)).toEqual({
      STORE: "/tmp/nats/jetstream", port: 4222, monitor_port: 8222,
      jetstream: { store_dir: "/tmp/nats/jetstream", max_memory_store: 1073741824, max_file_store: "10G", domain: "hub" },
    });
  });

  test("a multi-tenant clustered server (accounts, permissions, cluster, leafnodes, websocket, mqtt, tls)", () => {
    const text = `
server_name: $SERVER_NAME
listen: "0.0.0.0:4222"
http_port: 8222

jetstream {
  store_dir: "/data/jetstream"
  max_mem: 1G
  max_file: 100G
}

accounts: {
  SYS: {
    users: [ { user: admin, password: "changeme" } ]
  }
  APP: {
    jetstream: enabled
    users: [
      { user: app, password: "app-secret",
        permissions: {
          publish: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.internal.>"] }
          subscribe: ["orders.*", "_INBOX.>"]
          allow_responses: { max: 1, expires: "1m" }
        }
      }
    ]
    exports: [
      { stream: "events.>" }
      { service: "api.time", response_type: "stream" }
    ]
  }
}
system_account: SYS

cluster {
  name: "east"
  listen: 0.0.0.0:6222
  routes = [
    nats-route://n2-east:6222
    nats-route://n3-east:6222
  ]
  compression: { mode: s2_auto, rtt_thresholds: [10ms, 50ms, 100ms] }
}

leafnodes {
  port: 7422
  remotes = [ { url: "nats-leaf://hub:7422", account: "APP" } ]
}

websocket { port: 8080, no_tls: true, compression: true }
mqtt { port: 1883, ack_wait: "30s", max_ack_pending: 100 }

tls {
  cert_file: "/certs/server.pem"
  key_file: "/certs/key.pem"
  timeout: 2.5
}

resolver_preload: {
  # a JWT kept as a block string
  ACSU3Q6LTLBVLGAQUONAGXJHVNWGSKKAUA7IY5TB4Z7PLEKSR5O6JTGR: (
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ
)
}
`;
    expect(plain(text, { SERVER_NAME: "hub-1" })).toEqual({
      server_name: "hub-1", listen: "0.0.0.0:4222", http_port: 8222,
      jetstream: { store_dir: "/data/jetstream", max_mem: 1e9, max_file: 1e11 },
      accounts: {
        SYS: { users: [{ user: "admin", password: "changeme" }] },
        APP: {
          jetstream: "enabled",
          users: [{
            user: "app", password: "app-secret",
            permissions: {
              publish: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.internal.>"] },
              subscribe: ["orders.*", "_INBOX.>"],
              allow_responses: { max: 1, expires: "1m" },
            },
          }],
          exports: [{ stream: "events.>" }, { service: "api.time", response_type: "stream" }],
        },
      },
      system_account: "SYS",
      cluster: {
        name: "east", listen: "0.0.0.0:6222", routes: ["nats-route://n2-east:6222", "nats-route://n3-east:6222"],
        compression: { mode: "s2_auto", rtt_thresholds: ["10ms", "50ms", "100ms"] },
      },
      leafnodes: { port: 7422, remotes: [{ url: "nats-leaf://hub:7422", account: "APP" }] },
      websocket: { port: 8080, no_tls: true, compression: true },
      mqtt: { port: 1883, ack_wait: "30s", max_ack_pending: 100 },
      tls: { cert_file: "/certs/server.pem", key_file: "/certs/key.pem", timeout: 2.5 },
      resolver_preload: { ACSU3Q6LTLBVLGAQUONAGXJHVNWGSKKAUA7IY5TB4Z7PLEKSR5O6JTGR: "\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ\n" },
    });
  });

  test("the nats.go test configs (TLS) parse", () => {
    const base = "/work/shared/testdata/natsgo-configs";
    expect(toPlain(parseConfigFile(`${base}/tls.conf`))).toEqual({
      port: 4443, net: "localhost",
      tls: { cert_file: "./configs/certs/server.pem", key_file: "./configs/certs/key.pem", timeout: 2 },
      authorization: { user: "derek", password: "porkchop", timeout: 1 },
    });
    expect(toPlain(parseConfigFile(`${base}/tlsverify.conf`))).toEqual({
      port: 4443, net: "localhost",
      tls: { cert_file: "./configs/certs/server.pem", key_file: "./configs/certs/key.pem", timeout: 2, ca_file: "./configs/certs/ca.pem", verify: true },
    });
    for (const [name, listen, routeListen, route] of [
      ["tls_noip_a.conf", "localhost:5222", "127.0.0.1:5244", "nats-route://127.0.0.1:5246"],
      ["tls_noip_b.conf", "127.0.0.1:5224", "127.0.0.1:5246", "nats-route://127.0.0.1:5244"],
    ] as const) {
      expect(toPlain(parseConfigFile(`${base}/${name}`))).toEqual({
        listen,
        tls: { cert_file: "./configs/certs/server_noip.pem", key_file: "./configs/certs/key_noip.pem", timeout: 2 },
        authorization: { user: "derek", password: "porkchop", timeout: 1 },
        cluster: { listen: routeListen, routes: [route] },
      });
    }
  });
});

describe("properties", () => {
  /** Writes `s` as a double-quoted config string, escaping what must be escaped. */
  function quote(s: string): string {
    let out = '"';
    for (const ch of s) {
      if (ch === '"') out += '\\"';
      else if (ch === "\\") out += "\\\\";
      else if (ch === "\t") out += "\\t";
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch.charCodeAt(0) < 0x20) out += "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0");
      else out += ch;
    }
    return out + '"';
  }

  test("any string survives double quoting with escapes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        expect(parseConfigText(`a = ${quote(s)}`, "q.conf", { env: noEnv }).get("a")).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  test("integers with any size suffix scale exactly", () => {
    const suffixes: [string, number][] = [["", 1], ["k", 1e3], ["K", 1e3], ["kb", 1024], ["Ki", 1024], ["KIB", 1024], ["m", 1e6],
      ["MB", 2 ** 20], ["mi", 2 ** 20], ["g", 1e9], ["GB", 2 ** 30], ["gib", 2 ** 30], ["t", 1e12], ["tb", 2 ** 40]];
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 100_000 }), fc.constantFrom(...suffixes), (n, [suffix, scale]) => {
        expect(parseConfigText(`a = ${n}${suffix}\nb = [${n}${suffix}]`, "n.conf", { env: noEnv }).get("a")).toBe(n * scale);
      }),
      { numRuns: 300 },
    );
  });
});
