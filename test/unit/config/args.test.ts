// The server command line: Go flag syntax as nats-server uses it, flags over the config file,
// -t, --signal, refusals; messages checked against nats-server v2.9.10.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseServerArgs, sendSignal, signalCommands, usageText, type CliAction } from "../../../src/cli/args.ts";
import type { ServerOptions } from "../../../src/config/options.ts";
import * as C from "../../../src/constants.ts";

const dir = mkdtempSync(join(tmpdir(), "nats-bun-args-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function conf(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function parse(...argv: string[]): CliAction {
  return parseServerArgs(argv, { env: {} });
}

function runOpts(...argv: string[]): ServerOptions {
  const action = parse(...argv);
  if (action.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(action)}`);
  return action.opts;
}

function errorOf(...argv: string[]): string {
  const action = parse(...argv);
  if (action.kind !== "error") throw new Error(`expected error, got ${action.kind}`);
  return action.message;
}

describe("flag syntax (Go flag package)", () => {
  test("-p 4222, -p=4222, --port 4222, --port=4222 are the same", () => {
    for (const argv of [["-p", "4333"], ["-p=4333"], ["--port", "4333"], ["--port=4333"], ["-port", "4333"], ["--p=4333"]]) {
      expect(runOpts(...argv).port).toBe(4333);
    }
  });

  test("boolean flags take no separate value; =false turns them off", () => {
    expect(runOpts("-D").debug).toBe(true);
    expect(runOpts("--debug=true").debug).toBe(true);
    expect(runOpts("-D", "-D=false").debug).toBe(false);
    expect(runOpts("-T=false").logtime).toBe(false);
    expect(runOpts("--logtime=0").logtime).toBe(false);
    expect(errorOf("-D", "false")).toBe(`unrecognized command: "false"`);
  });

  test("integers as Go's strconv.ParseInt with base 0", () => {
    expect(runOpts("-p", "0x10").port).toBe(16);
    expect(runOpts("-p", "010").port).toBe(8);
    expect(runOpts("-p", "1_000").port).toBe(1000);
    expect(runOpts("-p", "-1").port).toBe(-1);
    expect(runOpts("-p", "0").port).toBe(C.defaultPort);
  });

  test("error messages", () => {
    expect(errorOf("-p", "abc")).toBe(`invalid value "abc" for flag -p: parse error`);
    expect(errorOf("-p", "99999999999999999999")).toBe(`invalid value "99999999999999999999" for flag -p: value out of range`);
    expect(errorOf("-D=x")).toBe(`invalid boolean value "x" for -D: parse error`);
    expect(errorOf("-zz")).toBe("flag provided but not defined: -zz");
    expect(errorOf("--zz=1")).toBe("flag provided but not defined: -zz");
    expect(errorOf("-p")).toBe("flag needs an argument: -p");
    expect(errorOf("---p")).toBe("bad flag syntax: ---p");
    expect(errorOf("-=1")).toBe("bad flag syntax: -=1");
    expect(errorOf("foo")).toBe(`unrecognized command: "foo"`);
    expect(errorOf("-")).toBe(`unrecognized command: "-"`);
  });

  test("parsing stops at the first non-flag, or after --", () => {
    expect(errorOf("-D", "x", "-p", "1")).toBe(`unrecognized command: "x"`);
    expect(errorOf("--", "-p")).toBe(`unrecognized command: "-p"`);
    expect(runOpts("-D", "--").debug).toBe(true);
  });

  test("a string flag takes the next argument even if it starts with '-'", () => {
    expect(runOpts("-n", "-weird-").serverName).toBe("-weird-");
  });
});

describe("every implemented flag", () => {
  const cases: [string[], Partial<ServerOptions>][] = [
    [["-a", "127.0.0.1"], { host: "127.0.0.1" }],
    [["--addr", "10.0.0.1"], { host: "10.0.0.1" }],
    [["--net", "::1"], { host: "::1" }],
    [["-n", "a"], { serverName: "a" }],
    [["--name", "b"], { serverName: "b" }],
    [["--server_name", "c"], { serverName: "c" }],
    [["--client_advertise", "x:1"], { clientAdvertise: "x:1" }],
    [["-P", "/tmp/p.pid"], { pidFile: "/tmp/p.pid" }],
    [["--pid", "/tmp/q.pid"], { pidFile: "/tmp/q.pid" }],
    [["--ports_file_dir", "/tmp"], { portsFileDir: "/tmp" }],
    [["-m", "8222"], { httpPort: 8222 }],
    [["--http_port", "8223"], { httpPort: 8223 }],
    [["-ms", "8443"], { httpsPort: 8443 }],
    [["--https_port", "8444"], { httpsPort: 8444 }],
    [["-l", "/tmp/a.log"], { logFile: "/tmp/a.log" }],
    [["--log", "/tmp/b.log"], { logFile: "/tmp/b.log" }],
    [["-T"], { logtime: true }],
    [["--logtime_utc"], { logtimeUtc: true }],
    [["-D"], { debug: true }],
    [["-V"], { trace: true }],
    [["--trace"], { trace: true }],
    [["-VV"], { trace: true, traceVerbose: true }],
    [["-DV"], { debug: true, trace: true }],
    [["-DVV"], { debug: true, trace: true, traceVerbose: true }],
    [["--log_size_limit", "1048576"], { logSizeLimitBytes: 1048576 }],
    [["--max_traced_msg_len", "64"], { maxTracedMsgLen: 64 }],
    [["-js"], { jetstream: true }],
    [["--jetstream"], { jetstream: true }],
    [["-sd", "/data"], { storeDir: "/data" }],
    [["--store_dir", "/data2"], { storeDir: "/data2" }],
    [["--user", "u", "--pass", "p"], { username: "u", password: "p" }],
    [["--auth", "tok"], { authToken: "tok" }],
  ];
  for (const [argv, want] of cases) {
    test(argv.join(" "), () => {
      const opts = runOpts(...argv);
      expect(opts).toMatchObject(want);
      for (const field of Object.keys(want)) expect(opts.explicit.has(field)).toBe(true);
    });
  }

  test("-DV=false turns debug and trace off", () => {
    expect(runOpts("-DV", "-DV=false")).toMatchObject({ debug: false, trace: false });
  });
});

describe("flags the reference has but nats-bun does not implement yet are refused", () => {
  for (const flag of ["--routes", "--cluster", "--cluster_listen",
    "--cluster_name", "--cluster_advertise", "--no_advertise", "--connect_retries", "--profile", "-s", "--syslog", "-r",
    "--remote_syslog", "--help_tls"]) {
    test(flag, () => {
      const name = flag.replace(/^-+/, "").replace(/=.*/, "");
      expect(errorOf(flag)).toBe(`flag -${name} is not yet supported by nats-bun`);
    });
  }
});

describe("version, help and commands", () => {
  test("flags and commands", () => {
    expect(parse("-v")).toEqual({ kind: "version" });
    expect(parse("--version")).toEqual({ kind: "version" });
    expect(parse("-h")).toEqual({ kind: "help" });
    expect(parse("--help")).toEqual({ kind: "help" });
    expect(parse("version")).toEqual({ kind: "version" });
    expect(parse("-D", "HELP")).toEqual({ kind: "help" });
  });

  test("a bad flag is reported even with -h (flags are parsed first)", () => {
    expect(errorOf("-h", "-zz")).toBe("flag provided but not defined: -zz");
  });

  test("usage lists what is supported, bench, and not cluster", () => {
    expect(usageText).toContain("Usage: nats-bun [options]");
    expect(usageText).toContain("nats-bun bench");
    for (const flag of ["--addr", "--port", "--config", "--signal", "--jetstream", "--store_dir", "--user", "--auth", "-DVV", "--logtime_utc", "--tls", "--tlsverify"]) {
      expect(usageText).toContain(flag);
    }
    for (const flag of ["--routes", "--cluster", "--profile", "--syslog"]) expect(usageText).not.toContain(flag);
  });
});

describe("--signal", () => {
  test("command with pid, pid file, or nothing", () => {
    expect(parse("--signal", "reload")).toEqual({ kind: "signal", signal: "reload", pid: "" });
    expect(parse("-sl", "ldm=123")).toEqual({ kind: "signal", signal: "ldm", pid: "123" });
    expect(parse("--signal=quit=/var/run/nats.pid")).toEqual({ kind: "signal", signal: "quit", pid: "/var/run/nats.pid" });
  });

  test("errors as the reference", () => {
    expect(errorOf("--signal", "a=b=c")).toBe("invalid signal parameters: [c]");
    expect(errorOf("--signal", "a=b=c=d")).toBe("invalid signal parameters: [c d]");
    expect(errorOf("--signal", "foo=1")).toBe(`unknown signal "foo"`);
  });

  test("an empty --signal is ignored, as in the reference", () => {
    expect(parse("--signal=").kind).toBe("run");
  });
});

describe("config file and flags", () => {
  test("flags win over the file; file values stay otherwise", () => {
    const file = conf("over.conf", "listen: 127.0.0.1:4333\ndebug: false\nmax_payload: 2MB\nserver_name: from-file\n");
    const opts = runOpts("-c", file, "-p", "5555", "-D", "--name", "from-flag");
    expect(opts).toMatchObject({
      configFile: file, host: "127.0.0.1", port: 5555, debug: true, maxPayloadBytes: 2 * 2 ** 20, serverName: "from-flag",
    });
    expect([...opts.explicit].sort()).toEqual(["debug", "host", "maxPayloadBytes", "port", "serverName"]);
  });

  test("flag order does not matter relative to -c", () => {
    const file = conf("order.conf", "port: 4333\n");
    expect(runOpts("-p", "5555", "--config", file).port).toBe(5555);
  });

  test("-T=false overrides logtime: true in the file", () => {
    const file = conf("logtime.conf", "logtime: true\n");
    expect(runOpts("-c", file, "-T=false").logtime).toBe(false);
  });

  test("config errors are errors, with every message", () => {
    const file = conf("bad.conf", "port: 4222\n  foo = 1\ncluster {}\n");
    expect(errorOf("-c", file)).toBe(`${file}:2:3: unknown field "foo"\n${file}:3:1: "cluster" is not yet supported by nats-bun`);
  });

  test("a missing config file", () => {
    const file = join(dir, "nope.conf");
    expect(errorOf("-c", file)).toBe(`open ${file}: no such file or directory`);
  });

  test("warnings are returned with run", () => {
    const file = conf("warn.conf", "ping_interval: 5\n");
    const action = parse("-c", file);
    expect(action).toMatchObject({
      kind: "run",
      warnings: [`${file}:1:1: invalid use of field "ping_interval": ping_interval should be converted to a duration`],
    });
  });

  test("variables from the environment given to parseServerArgs", () => {
    const file = conf("env.conf", "authorization { token: $TOKEN }\n");
    const action = parseServerArgs(["-c", file], { env: { TOKEN: "t0k" } });
    expect(action.kind === "run" && action.opts.authToken).toBe("t0k");
  });
});

describe("-t (check the configuration)", () => {
  test("a valid file", () => {
    const file = conf("ok.conf", "port: 4333\n");
    const action = parse("-t", "-c", file);
    expect(action.kind).toBe("check");
    if (action.kind === "check") expect(action.opts).toMatchObject({ checkConfig: true, port: 4333, configFile: file });
  });

  test("needs -c", () => {
    expect(errorOf("-t")).toBe("must specify [-c, --config] option to check configuration file syntax");
  });

  test("warnings fail the check, as in the reference", () => {
    const file = conf("checkwarn.conf", "ping_interval: 5\n");
    expect(errorOf("-t", "-c", file)).toBe(`${file}:1:1: invalid use of field "ping_interval": ping_interval should be converted to a duration`);
  });

  test("like the reference, -t does not run the cross-option checks that starting does", () => {
    const file = conf("mp.conf", "max_payload: 100MB\nmax_pending: 1MB\n");
    expect(parse("-t", "-c", file).kind).toBe("check");
    expect(errorOf("-c", file)).toBe("max_payload (104857600) cannot be higher than max_pending (1048576)");
  });

  test("cross-option checks see the flags too", () => {
    const file = conf("ld.conf", `lame_duck_duration: "30s"\nlame_duck_grace_period: "30s"\n`);
    expect(errorOf("-c", file)).toBe("lame duck grace period (30s) should be strictly lower than lame duck duration (30s)");
  });
});

describe("sendSignal", () => {
  function recorder(): { sent: [number, string][]; kill: (pid: number, signal: NodeJS.Signals) => void } {
    const sent: [number, string][] = [];
    return { sent, kill: (pid, signal) => void sent.push([pid, signal]) };
  }

  test("each command sends its signal", () => {
    const r = recorder();
    for (const command of Object.keys(signalCommands)) sendSignal(command, "42", { kill: r.kill });
    expect(r.sent).toEqual([[42, "SIGKILL"], [42, "SIGINT"], [42, "SIGTERM"], [42, "SIGUSR1"], [42, "SIGHUP"], [42, "SIGUSR2"]]);
  });

  test("the pid may come from a pid file", () => {
    const r = recorder();
    sendSignal("reload", conf("server.pid", "1234\n"), { kill: r.kill });
    expect(r.sent).toEqual([[1234, "SIGHUP"]]);
  });

  test("errors", () => {
    const kill = () => {
      throw new Error("must not be called");
    };
    expect(() => sendSignal("nope", "1", { kill })).toThrow(`unknown signal "nope"`);
    expect(() => sendSignal("reload", "abc", { kill })).toThrow("invalid pid: abc");
    expect(() => sendSignal("reload", conf("bad.pid", "x1"), { kill })).toThrow("invalid pid: x1");
    expect(() => sendSignal("reload", "", { kill, findPids: () => [] })).toThrow("no nats-bun processes running");
    expect(() => sendSignal("reload", "", { kill, findPids: () => [11, 12] })).toThrow("multiple nats-bun processes running:\n11\n12");
  });

  test("without a pid, the single running nats-bun process", () => {
    const r = recorder();
    sendSignal("ldm", "", { kill: r.kill, findPids: () => [77] });
    expect(r.sent).toEqual([[77, "SIGUSR2"]]);
  });

  test("a process that does not exist", () => {
    const esrch = () => {
      throw Object.assign(new Error("kill ESRCH"), { code: "ESRCH" });
    };
    expect(() => sendSignal("term", "999999", { kill: esrch })).toThrow("failed to send SIGTERM to pid 999999: no such process");
  });

  test("really signals a process (pid and pid file)", async () => {
    const a = Bun.spawn(["sleep", "30"]);
    sendSignal("term", String(a.pid));
    await a.exited;
    expect(a.signalCode).toBe("SIGTERM");

    const b = Bun.spawn(["sleep", "30"]);
    sendSignal("stop", conf("sleep.pid", String(b.pid)));
    await b.exited;
    expect(b.signalCode).toBe("SIGKILL");
  });
});
