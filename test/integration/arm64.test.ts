// The arm64 executable, run under qemu-user emulation where Debian's qemu-user and the
// aarch64 C library (libc6-arm64-cross) are installed: it starts, and serves a client.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { RawClient } from "../harness/raw.ts";
import { startServer } from "../harness/server.ts";

const binary = join(resolve(import.meta.dir, "../.."), "dist", "nats-bun-linux-arm64");
const qemu = ["/usr/bin/qemu-aarch64", "/usr/local/bin/qemu-aarch64"].find((p) => existsSync(p));
const sysroot = "/usr/aarch64-linux-gnu";
const missing = !existsSync(binary) ? `${binary} (run \`bun run build.ts\`)` : qemu === undefined ? "qemu-aarch64 (apt-get install qemu-user)" : !existsSync(join(sysroot, "lib", "ld-linux-aarch64.so.1")) ? "the aarch64 C library (apt-get install libc6-arm64-cross)" : "";
if (missing !== "") console.log(`arm64 emulation tests skipped: missing ${missing}`);

test.skipIf(missing !== "")("arm64 executable is an aarch64 ELF and prints its version under qemu", async () => {
  const head = new Uint8Array(await Bun.file(binary).slice(0, 20).arrayBuffer());
  expect([...head.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
  expect(head[18] | (head[19] << 8)).toBe(183); // e_machine = EM_AARCH64
  const proc = Bun.spawnSync([qemu!, "-L", sysroot, binary, "--version"]);
  expect(proc.exitCode).toBe(0);
  expect(proc.stdout.toString()).toContain("nats-bun: v");
}, 60_000);

test.skipIf(missing !== "")("arm64 server under qemu serves publish/subscribe", async () => {
  const server = await startServer({ binary, prefix: [qemu!, "-L", sysroot], startTimeoutMs: 30_000 });
  try {
    const c = await RawClient.connect(server.port);
    await c.readLine(10_000); // INFO
    c.write('CONNECT {"verbose":false}\r\nSUB arm 1\r\nPUB arm 5\r\nhello\r\n');
    expect(await c.flush(10_000)).toBe("MSG arm 1 5\r\nhello\r\n");
    c.close();
  } finally {
    await server.stop();
  }
}, 60_000);
