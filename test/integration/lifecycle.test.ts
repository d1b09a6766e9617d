// Signals and process lifecycle on the compiled binary: -P pid file, `--signal` sent through
// it (reopen, ldm, quit), log reopening for logrotate, size-limited log rotation, logtime,
// lame-duck mode as clients see it (INFO ldm:true, no new connections).
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { RawClient } from "../harness/raw.ts";
import { waitUntil } from "../harness/protocol.ts";
import { ourBinary, startServer } from "../harness/server.ts";

/** A unique path in the temp directory (the server writes there; the test removes it). */
function tempPath(ext: string): string {
  return join(tmpdir(), `nats-bun-lifecycle-${process.pid}-${Math.random().toString(36).slice(2)}.${ext}`);
}

function signal(command: string): { code: number; stderr: string } {
  const r = Bun.spawnSync([ourBinary, "--signal", command], { stderr: "pipe", stdout: "pipe" });
  return { code: r.exitCode ?? -1, stderr: r.stderr.toString() };
}

describe("pid file and --signal", () => {
  test("-P writes the pid; --signal quit=<pid file> stops the server with exit 0", async () => {
    const file = tempPath("pid");
    const u = await startServer({ args: ["-P", file] });
    try {
      await waitUntil(() => existsSync(file), "the pid file");
      expect(readFileSync(file, "utf8")).toBe(String(u.proc.pid));
      expect(signal(`quit=${file}`)).toEqual({ code: 0, stderr: "" });
      expect(await u.proc.exited).toBe(0);
      expect(u.logs()).toContain("Server Exiting..");
    } finally {
      await u.stop();
      rmSync(file, { force: true });
    }
  });

  test("--signal with a bad pid reports it", () => {
    const r = signal("reload=notapid");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid pid: notapid");
  });
});

describe("log files", () => {
  test("SIGUSR1 (--signal reopen) reopens the log file after logrotate moved it", async () => {
    const log = tempPath("log");
    const t = await startServer({ args: ["-l", log] });
    try {
      await waitUntil(() => existsSync(log) && readFileSync(log, "utf8").includes("Server is ready"), "the log file");
      renameSync(log, `${log}.1`);
      expect(signal(`reopen=${t.proc.pid}`).code).toBe(0);
      await waitUntil(() => existsSync(log) && readFileSync(log, "utf8").includes("File log re-opened"), "the reopened log file");
      expect(readFileSync(`${log}.1`, "utf8")).toContain("Server is ready");
    } finally {
      await t.stop();
      for (const f of [log, `${log}.1`]) rmSync(f, { force: true });
    }
  });

  test("logfile_size_limit rotates the log; logtime: false drops timestamps", async () => {
    const log = tempPath("log");
    const name = basename(log);
    const t = await startServer({ args: ["-D"], config: `logfile: "${log}"\nlogfile_size_limit: 2000\nlogtime: false\n` });
    try {
      // Each connection logs debug lines (created, closed): enough of them pass 2000 bytes.
      for (let i = 0; i < 20; i++) {
        const c = await RawClient.connect(t.port);
        c.close();
      }
      await waitUntil(() => readdirSync(tmpdir()).some((f) => f.startsWith(`${name}.`)), "a rotated log file");
      const current = readFileSync(log, "utf8");
      const firstLine = readFileSync(join(tmpdir(), readdirSync(tmpdir()).find((f) => f.startsWith(`${name}.`))!), "utf8").split("\n")[0];
      expect(firstLine).toMatch(/^\[\d+\] \[INF\] Starting nats-bun$/);
      expect(current.length).toBeLessThan(2000 + 300);
    } finally {
      await t.stop();
      for (const f of readdirSync(tmpdir())) if (f.startsWith(name)) rmSync(join(tmpdir(), f), { force: true });
    }
  });
});

describe("lame-duck mode on the binary", () => {
  test("--signal ldm: INFO ldm:true to connected clients, new connections refused, logged", async () => {
    const s = await startServer();
    try {
      const c = await RawClient.connect(s.port);
      c.write('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
      await waitUntil(() => c.buffered.includes("PONG\r\n"), "PONG");
      expect(signal(`ldm=${s.proc.pid}`).code).toBe(0);
      await waitUntil(() => /INFO \{[^\r]*"ldm":true[^\r]*\} ?\r\n/.test(c.buffered), "INFO with ldm:true");
      await s.waitForLog("Entering lame duck mode, stop accepting new clients");
      const refused = await RawClient.connect(s.port).then(
        (n) => {
          n.close();
          return false;
        },
        () => true,
      );
      expect(refused).toBe(true);
      expect(c.closed).toBe(false);
      c.close();
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });
});
