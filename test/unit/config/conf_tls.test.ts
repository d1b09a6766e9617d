// The tls {} block: files read at config time with the reference's error texts, options, and
// the checks the reference makes (missing cert_file/key_file, booleans, unknown fields).
import { describe, expect, test } from "bun:test";
import { applyConfigMap } from "../../../src/config/conf_options.ts";
import { ConfigError, parseConfigText } from "../../../src/config/conf_parser.ts";
import { defaultOptions, type ServerOptions } from "../../../src/config/options.ts";

const D = "/work/shared/testdata/natsgo-configs/certs";

function apply(text: string): ServerOptions {
  const opts = defaultOptions();
  applyConfigMap(opts, parseConfigText(text, "c.conf"));
  return opts;
}

function applyError(text: string): string {
  try {
    apply(text);
  } catch (e) {
    return (e as ConfigError).message;
  }
  throw new Error("expected an error");
}

describe("tls block", () => {
  test("certificate, key and CA are read; defaults", () => {
    const tls = apply(`tls { cert_file: "${D}/server.pem", key_file: "${D}/key.pem", ca_file: "${D}/ca.pem" }`).tls!;
    expect(tls.cert).toContain("BEGIN CERTIFICATE");
    expect(tls.key).toContain("PRIVATE KEY");
    expect(tls.ca).toContain("BEGIN CERTIFICATE");
    expect({ verify: tls.verify, map: tls.verifyAndMap, timeoutMs: tls.timeoutMs, first: tls.handshakeFirst }).toEqual({ verify: false, map: false, timeoutMs: 2000, first: false });
  });

  test("verify, verify_and_map (implies verify), timeout in seconds or as a duration, handshake_first", () => {
    const a = apply(`tls { cert_file: "${D}/server.pem", key_file: "${D}/key.pem", verify_and_map: true, timeout: 1.5, handshake_first: true }`).tls!;
    expect([a.verify, a.verifyAndMap, a.timeoutMs, a.handshakeFirst]).toEqual([true, true, 1500, true]);
    const b = apply(`tls { cert_file: "${D}/server.pem", key_file: "${D}/key.pem", timeout: "250ms", verify: true }`).tls!;
    expect([b.verify, b.verifyAndMap, b.timeoutMs]).toEqual([true, false, 250]);
  });

  test("an empty block means no TLS, as in the reference", () => {
    expect(apply("tls {}").tls).toBeNull();
  });

  test("the reference's errors", () => {
    expect(applyError(`tls { cert_file: "${D}/server.pem" }`)).toBe("c.conf:1:0: missing 'key_file' in TLS configuration");
    expect(applyError(`tls { key_file: "${D}/key.pem" }`)).toBe("c.conf:1:0: missing 'cert_file' in TLS configuration");
    expect(applyError(`tls { cert_file: "/nonexistent.pem", key_file: "${D}/key.pem" }`)).toBe(
      "c.conf:1:0: error parsing X509 certificate/key pair: open /nonexistent.pem: no such file or directory",
    );
    expect(applyError(`tls { cert_file: "${D}/server.pem", key_file: "${D}/key.pem", ca_file: "/nope" }`)).toBe("c.conf:1:0: open /nope: no such file or directory");
    expect(applyError(`tls { cert_file: "${D}/server.pem", key_file: "${D}/key.pem", verify: 1 }`)).toBe(
      "c.conf:1:139: error parsing tls config, expected 'verify' to be a boolean",
    );
    expect(applyError(`tls { bogus: 1 }`)).toBe(`c.conf:1:7: error parsing tls config, unknown field ["bogus"]`);
    expect(applyError(`tls { cipher_suites: [] }`)).toBe(`c.conf:1:7: "tls.cipher_suites" is not yet supported by nats-bun`);
  });
});
