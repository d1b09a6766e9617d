// Server → client protocol lines as bytes. MSG/HMSG headers are written straight into a
// connection's outbound buffer by server/outbound.ts; this file holds the fixed lines and
// the INFO encoder.
import { encodeByteString, encodeUtf8, writeDecimal } from "../util/bytes.ts";
import type { InfoJson } from "./wire_types.ts";

export const PING_LINE = encodeUtf8("PING\r\n");
export const PONG_LINE = encodeUtf8("PONG\r\n");
export const OK_LINE = encodeUtf8("+OK\r\n");

/**
 * `-ERR '<text>'\r\n` (the reference's errProto). `text` is a byte string (see
 * util/bytes.ts): subjects quoted in it go back out as the bytes the client sent.
 */
export function errLine(text: string): Uint8Array {
  return encodeByteString(`-ERR '${text}'\r\n`);
}

/**
 * JSON as Go's encoding/json writes it: like JSON.stringify, but with '<', '>', '&' and
 * U+2028/U+2029 escaped, backspace and form feed as \u0008/\u000c (Go has no short forms for
 * them), and a lone surrogate (escaped by JSON.stringify) as U+FFFD, which is what Go holds for
 * it. Keeps our INFO and JetStream answers byte-identical to the reference's for the same values.
 */
export function goJson(value: unknown): string {
  const json = JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  if (!json.includes("\\")) return json;
  // Escapes only: an escaped backslash is consumed first so that "\\b" stays as it is.
  return json.replace(/\\(\\|b|f|ud[89a-f][0-9a-f]{2})/g, (m, e: string) => (e === "b" ? "\\u0008" : e === "f" ? "\\u000c" : e === "\\" ? m : "\ufffd"));
}

const INFO_FIELD_ORDER: (keyof InfoJson)[] = [
  "server_id", "server_name", "version", "proto", "git_commit", "go", "host", "port", "headers",
  "auth_required", "tls_required", "tls_verify", "tls_available", "max_payload", "jetstream", "ip",
  "client_id", "client_ip", "nonce", "cluster", "domain", "connect_urls", "ws_connect_urls", "ldm",
  "nats_bun",
];
/** Fields the reference marshals with `omitempty`. */
const OMIT_EMPTY = new Set<keyof InfoJson>([
  "git_commit", "auth_required", "tls_required", "tls_verify", "tls_available", "jetstream", "ip",
  "client_id", "client_ip", "nonce", "cluster", "domain", "connect_urls", "ws_connect_urls", "ldm",
  "nats_bun",
]);

/** `INFO {json} \r\n` — note the space before CRLF, as the reference joins "INFO", json, CRLF with spaces. */
export function infoLine(info: InfoJson): Uint8Array {
  const ordered: Record<string, unknown> = {};
  for (const k of INFO_FIELD_ORDER) {
    const v = info[k];
    if (v === undefined) continue;
    if (OMIT_EMPTY.has(k) && (v === false || v === "" || v === 0 || (Array.isArray(v) && v.length === 0))) continue;
    ordered[k] = v;
  }
  return encodeUtf8(`INFO ${goJson(ordered)} \r\n`);
}

/**
 * The INFO each new client gets: the server's INFO with its own `client_id` and `client_ip`.
 * Everything else is fixed, so the line is pre-encoded around those two fields and written
 * into one reused buffer: accepting a connection creates no garbage for its INFO.
 */
export class ClientInfoEncoder {
  #prefix: Uint8Array;
  #suffix: Uint8Array;
  #scratch: Uint8Array;

  constructor(template: InfoJson) {
    // Marker values locate the per-client fields in the encoded line.
    const marked = infoLine({ ...template, client_id: 1, client_ip: "\u0000" });
    const text = Buffer.from(marked).toString("latin1");
    const at = text.indexOf(',"client_id":1,"client_ip":"\\u0000"');
    if (at < 0) throw new Error("INFO encoding: client fields not found");
    this.#prefix = Buffer.from(text.slice(0, at), "latin1");
    this.#suffix = Buffer.from(text.slice(at + ',"client_id":1,"client_ip":"\\u0000"'.length), "latin1");
    this.#scratch = Buffer.allocUnsafe(this.#prefix.length + this.#suffix.length + 256);
  }

  /**
   * The INFO line for one client, with its nonce when authentication needs one (the field
   * that follows client_ip); valid until the next call (write it out at once).
   */
  forClient(cid: number, ip: string, nonce = ""): Uint8Array {
    const buf = this.#scratch;
    buf.set(this.#prefix, 0);
    let p = this.#prefix.length;
    buf.set(CLIENT_ID_KEY, p);
    p = writeDecimal(buf, p + CLIENT_ID_KEY.length, cid);
    buf.set(CLIENT_IP_KEY, p);
    p += CLIENT_IP_KEY.length;
    // An IP address needs no JSON escaping.
    p += (buf as Buffer).write(ip, p, "latin1");
    buf[p++] = 0x22; // "
    if (nonce !== "") {
      // A nonce is base64url: no JSON escaping either.
      buf.set(NONCE_KEY, p);
      p += NONCE_KEY.length;
      p += (buf as Buffer).write(nonce, p, "latin1");
      buf[p++] = 0x22; // "
    }
    buf.set(this.#suffix, p);
    p += this.#suffix.length;
    return buf.subarray(0, p);
  }
}

const CLIENT_ID_KEY = encodeByteString(',"client_id":');
const CLIENT_IP_KEY = encodeByteString(',"client_ip":"');
const NONCE_KEY = encodeByteString(',"nonce":"');
