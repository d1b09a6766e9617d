// `tls { … }` for client connections (the reference's parseTLS / GenTLSConfig). Certificate
// files are read here, so that a missing or unreadable file is a config error with its
// position, as the reference reports it.
import { readFileSync } from "node:fs";
import * as C from "../constants.ts";
import { ConfMap, elementPosition, type ConfValue } from "./conf_parser.ts";
import { blockEntries, describe, OptionsReader, parseDuration, type Entry, type Handler } from "./conf_reader.ts";
import type { TlsOptions } from "./options.ts";

export function defaultTlsOptions(): TlsOptions {
  return {
    certFile: "",
    keyFile: "",
    caFile: "",
    cert: "",
    key: "",
    ca: "",
    verify: false,
    verifyAndMap: false,
    insecure: false,
    timeoutMs: C.tlsTimeoutMs,
    handshakeFirst: false,
    pinnedCerts: [],
  };
}

/** tls options of the reference that nats-bun does not implement (refused, never ignored). */
const tlsNotYetSupported = new Set([
  "cipher_suites", "curve_preferences", "verify_cert_and_check_known_urls", "cert_store", "cert_match_by",
  "cert_match", "ca_certs_match", "certs", "ocsp_peer", "connection_rate_limit", "min_version",
]);

/** A file read for the TLS config, with the Go-style error the reference gives. */
function readPem(r: OptionsReader, e: Entry, path: string, what: "certificate" | "ca"): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    r.error({ ...e, pos: { ...e.pos, col: 0 } }, what === "certificate" ? `error parsing X509 certificate/key pair: open ${path}: ${reason}` : `open ${path}: ${reason}`);
    return undefined;
  }
}

function tlsBool(r: OptionsReader, e: Entry): boolean {
  if (typeof e.value === "boolean") return e.value;
  r.error(e, `error parsing tls config, expected '${e.key.toLowerCase()}' to be a boolean`);
  return false;
}

/** Seconds as a number, or a Go duration string (the reference's tls timeout). */
function timeoutMs(r: OptionsReader, e: Entry): number | undefined {
  const v: ConfValue = e.value;
  if (typeof v === "number") return v * 1000;
  if (typeof v === "string") {
    try {
      return parseDuration(v) / 1e6;
    } catch (err) {
      r.error(e, `error parsing tls config, ${(err as Error).message}`);
      return undefined;
    }
  }
  r.error(e, `error parsing tls config, expected a number of seconds or a duration, got ${describe(v)}`);
  return undefined;
}

/** Parses a `tls {}` block; undefined when it has errors (already reported), null for no TLS. */
export function parseTlsBlock(r: OptionsReader, e: Entry): TlsOptions | null | undefined {
  if (!(e.value instanceof ConfMap)) {
    r.error(e, `Expected map to define TLS, got ${describe(e.value)}`);
    return undefined;
  }
  const tls = defaultTlsOptions();
  const before = r.errors.length;
  for (const { lower, entry } of blockEntries(e.value)) {
    switch (lower) {
      case "cert_file":
        tls.certFile = r.string(entry) ?? "";
        break;
      case "key_file":
        tls.keyFile = r.string(entry) ?? "";
        break;
      case "ca_file":
        tls.caFile = r.string(entry) ?? "";
        break;
      case "verify":
        tls.verify = tlsBool(r, entry);
        break;
      case "verify_and_map":
        tls.verifyAndMap = tlsBool(r, entry);
        if (tls.verifyAndMap) tls.verify = true;
        break;
      case "insecure":
        tls.insecure = tlsBool(r, entry);
        break;
      case "timeout": {
        const ms = timeoutMs(r, entry);
        if (ms !== undefined) tls.timeoutMs = ms;
        break;
      }
      case "handshake_first":
      case "first":
      case "immediate": {
        // 2.10: true/false; the "auto"/duration fallback modes are not implemented.
        const v = entry.value;
        if (typeof v === "boolean") tls.handshakeFirst = v;
        else r.notYetSupported(entry, `${e.key}.${entry.key}: ${JSON.stringify(v)}`);
        break;
      }
      case "pinned_certs": {
        const list = Array.isArray(entry.value) ? entry.value : [entry.value];
        list.forEach((p, i) => {
          const at = Array.isArray(entry.value) ? { ...entry, pos: elementPosition(entry.value, i) ?? entry.pos } : entry;
          if (typeof p !== "string") r.error(at, `error parsing tls config, pinned_certs: expected strings, got ${describe(p)}`);
          // The hex SHA-256 of a DER SubjectPublicKeyInfo (reference parseTLS).
          else if (!/^[a-f0-9]{64}$/.test(p.toLowerCase())) r.error(at, `error parsing tls config, 'pinned_certs' key ${p} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`);
          else tls.pinnedCerts.push(p.toLowerCase());
        });
        break;
      }
      default:
        if (tlsNotYetSupported.has(lower)) r.notYetSupported(entry, `${e.key}.${entry.key}`);
        else if (!entry.map.usedAsVariable(entry.key)) r.error(entry, `error parsing tls config, unknown field [${JSON.stringify(entry.key)}]`);
    }
  }
  if (r.errors.length > before) return undefined;
  const at = { ...e, pos: { ...e.pos, col: 0 } };
  // No certificate at all: the reference runs without TLS.
  if (tls.certFile === "" && tls.keyFile === "") return null;
  if (tls.certFile === "") {
    r.error(at, "missing 'cert_file' in TLS configuration");
    return undefined;
  }
  if (tls.keyFile === "") {
    r.error(at, "missing 'key_file' in TLS configuration");
    return undefined;
  }
  const cert = readPem(r, e, tls.certFile, "certificate");
  const key = cert === undefined ? undefined : readPem(r, e, tls.keyFile, "certificate");
  if (cert === undefined || key === undefined) return undefined;
  tls.cert = cert;
  tls.key = key;
  if (tls.caFile !== "") {
    const ca = readPem(r, e, tls.caFile, "ca");
    if (ca === undefined) return undefined;
    tls.ca = ca;
  }
  return tls;
}

export const onTls: Handler = (r, e) => {
  const tls = parseTlsBlock(r, e);
  if (tls !== undefined) r.set("tls", tls);
};
