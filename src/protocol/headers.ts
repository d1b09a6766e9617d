// The NATS/1.0 header block of HPUB/HMSG: `NATS/1.0[ <status>[ <description>]]\r\n` then
// `Key: value\r\n` lines and an empty line. Looked up in place, without decoding the block
// (the reference's getHeader); built for server-originated messages.
import { encodeUtf8 } from "../util/bytes.ts";

const CR = 13;
const LF = 10;
const COLON = 58;

/**
 * The value of header `key` (exact, case-sensitive match as the reference's getHeader), or
 * null. Values are trimmed of surrounding spaces; the first occurrence wins.
 */
export function getHeader(hdr: Uint8Array | null, key: string): string | null {
  if (hdr === null) return null;
  const n = hdr.length;
  const klen = key.length;
  // Skip the status line.
  let i = hdr.indexOf(LF);
  if (i < 0) return null;
  i++;
  while (i < n) {
    let eol = hdr.indexOf(LF, i);
    if (eol < 0) eol = n;
    let lineEnd = eol;
    if (lineEnd > i && hdr[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === i) return null; // the empty line ends the block
    if (lineEnd - i > klen && hdr[i + klen] === COLON) {
      let match = true;
      for (let k = 0; k < klen; k++) {
        if (hdr[i + k] !== key.charCodeAt(k)) {
          match = false;
          break;
        }
      }
      if (match) {
        let vs = i + klen + 1;
        while (vs < lineEnd && (hdr[vs] === 32 || hdr[vs] === 9)) vs++;
        let ve = lineEnd;
        while (ve > vs && (hdr[ve - 1] === 32 || hdr[ve - 1] === 9)) ve--;
        return new TextDecoder().decode(hdr.subarray(vs, ve));
      }
    }
    i = eol + 1;
  }
  return null;
}

/** The status code of a header block's first line ("503"), or "" when it has none. */
export function headerStatus(hdr: Uint8Array | null): string {
  if (hdr === null || hdr.length < 12) return "";
  // "NATS/1.0 503..." — the code starts after "NATS/1.0 ".
  if (hdr[8] !== 32) return "";
  return String.fromCharCode(hdr[9], hdr[10], hdr[11]);
}

/** Builds a header block: optional status line suffix ("503" or "404 No Messages") and entries. */
export function buildHeaders(entries: readonly (readonly [string, string])[], status = ""): Uint8Array {
  let text = status === "" ? "NATS/1.0\r\n" : `NATS/1.0 ${status}\r\n`;
  for (const [k, v] of entries) text += `${k}: ${v}\r\n`;
  text += "\r\n";
  return encodeUtf8(text);
}

/** Header entries of a block in order (for JSON views and tests). */
export function parseHeaders(hdr: Uint8Array): [string, string][] {
  const text = new TextDecoder().decode(hdr);
  const lines = text.split("\r\n");
  const out: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") break;
    const c = line.indexOf(":");
    if (c <= 0) continue;
    out.push([line.slice(0, c), line.slice(c + 1).trim()]);
  }
  return out;
}
