// Test certificates made with openssl (Debian's): a CA, a server certificate for 127.0.0.1 /
// localhost, and client certificates with chosen subjects and alternative names, so that TLS
// verification and verify_and_map can be tested with identities of our choosing.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasOpenssl = Bun.which("openssl") !== null;

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  server: CertFiles;
  /** Makes a client certificate signed by the CA. `subject` as "/CN=x/O=y", `san` as "email:a@b,DNS:c". */
  client(name: string, subject: string, san?: string): CertFiles;
  read(path: string): string;
}

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr.toString()}`);
}

/** A fresh CA and server certificate in a temporary directory (EC keys: fast to make). */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "nats-bun-pki-"));
  const key = (name: string): void => openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}-key.pem`], dir);
  key("ca");
  openssl(["req", "-x509", "-new", "-key", "ca-key.pem", "-sha256", "-days", "2", "-subj", "/CN=nats-bun test CA", "-out", "ca.pem"], dir);
  const sign = (name: string, subject: string, san: string, usage: string): CertFiles => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`);
    key(name);
    openssl(["req", "-new", "-key", `${name}-key.pem`, "-subj", subject, "-out", `${name}.csr`], dir);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.pem`], dir);
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  };
  const server = sign("server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth");
  return {
    dir,
    ca: join(dir, "ca.pem"),
    server,
    client: (name, subject, san) => sign(name, subject, san ?? `DNS:${name}.example`, "clientAuth"),
    read: (path) => readFileSync(path, "utf8"),
  };
}
