// NKey string encoding (nkeys strkey.go): prefix byte(s) + raw key + CRC-16/XMODEM
// (little-endian), base32 (RFC 4648, no padding). Written here, small and exact. Signatures
// are Ed25519 (@noble/ed25519): this file is the one place that verifies them.
import { createHash } from "node:crypto";
import * as ed from "@noble/ed25519";
import { decodeBase64 } from "./jwt/encoding.ts";

/** Prefix bytes of the key types (the first base32 character is the type letter). */
export const NKeyPrefix = {
  seed: 18 << 3, // S
  private: 15 << 3, // P
  server: 13 << 3, // N
  cluster: 2 << 3, // C
  operator: 14 << 3, // O
  account: 0, // A
  user: 20 << 3, // U
  curve: 23 << 3, // X
} as const;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Encode(data: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of data) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array | null {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** CRC-16/XMODEM: polynomial 0x1021, initial value 0. */
export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Encodes a 32-byte public key with its type prefix (e.g. a server id starting with 'N'). */
export function encodePublicKey(prefix: number, key: Uint8Array): string {
  if (key.length !== 32) throw new Error("nkey: public keys are 32 bytes");
  const raw = new Uint8Array(1 + 32 + 2);
  raw[0] = prefix;
  raw.set(key, 1);
  const crc = crc16(raw.subarray(0, 33));
  raw[33] = crc & 0xff;
  raw[34] = crc >>> 8;
  return base32Encode(raw);
}

/** Decodes and checks a public nkey; returns the type prefix and the 32-byte key, or null. */
export function decodePublicKey(text: string): { prefix: number; key: Uint8Array } | null {
  if (text.length !== 56) return null;
  const raw = base32Decode(text);
  if (raw === null || raw.length !== 35) return null;
  const crc = raw[33] | (raw[34] << 8);
  if (crc16(raw.subarray(0, 33)) !== crc) return null;
  return { prefix: raw[0], key: raw.slice(1, 33) };
}

// ---- Signatures ----------------------------------------------------------------------------

// @noble/ed25519 verifies synchronously once it has a SHA-512 (node:crypto's, native).
ed.hashes.sha512 = (message: Uint8Array) => new Uint8Array(createHash("sha512").update(message).digest()) as Uint8Array<ArrayBuffer>;

/**
 * Decodes a CONNECT `sig` as the reference does (auth.go): Go's RawURLEncoding, falling back
 * to StdEncoding, with Go's acceptance rules. Null when it is neither.
 */
export function decodeSignature(text: string): Uint8Array | null {
  const raw = decodeBase64(text, false);
  if (raw.ok) return raw.bytes;
  const std = decodeBase64(text, true);
  return std.ok ? std.bytes : null;
}

/** Verifies an Ed25519 signature by the public nkey `publicKey` (any type). False on any error. */
export function verifySignature(publicKey: string, message: Uint8Array, signature: Uint8Array): boolean {
  const decoded = decodePublicKey(publicKey);
  if (decoded === null || signature.length !== 64) return false;
  try {
    return ed.verify(signature, message, decoded.key);
  } catch {
    return false;
  }
}

/** The type letter's prefix of a valid public nkey, or -1 when it is not one. */
export function publicKeyPrefix(text: string): number {
  const decoded = decodePublicKey(text);
  if (decoded === null) return -1;
  const p = decoded.prefix;
  const valid: number[] = [NKeyPrefix.server, NKeyPrefix.cluster, NKeyPrefix.operator, NKeyPrefix.account, NKeyPrefix.user, NKeyPrefix.curve];
  return valid.includes(p) ? p : -1;
}

export function isPublicKey(text: string, prefix: number): boolean {
  return publicKeyPrefix(text) === prefix;
}

/** A nonce for INFO: 11 random bytes, base64url without padding (15 characters), as the reference. */
export function makeNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(11))).toString("base64url");
}
