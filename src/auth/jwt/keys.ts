// Public nkeys as the JWT checks use them: which kind a key is (by its prefix byte), and
// signature verification by keys of a signing kind. The encoding and Ed25519 itself live in
// ../nkeys.ts.
import { NKeyPrefix, publicKeyPrefix, verifySignature } from "../nkeys.ts";

export const KeyKind = {
  operator: "operator",
  account: "account",
  user: "user",
  server: "server",
  cluster: "cluster",
  curve: "curve",
} as const;
export type KeyKindValue = (typeof KeyKind)[keyof typeof KeyKind];

const kindByPrefix = new Map<number, KeyKindValue>([
  [NKeyPrefix.operator, KeyKind.operator],
  [NKeyPrefix.account, KeyKind.account],
  [NKeyPrefix.user, KeyKind.user],
  [NKeyPrefix.server, KeyKind.server],
  [NKeyPrefix.cluster, KeyKind.cluster],
  [NKeyPrefix.curve, KeyKind.curve],
]);

/** The kind of a public nkey, or null when it is not one (bad base32, CRC, length or prefix). */
export function publicKeyKind(key: string): KeyKindValue | null {
  if (typeof key !== "string") return null;
  return kindByPrefix.get(publicKeyPrefix(key)) ?? null;
}

export const isOperatorKey = (key: string): boolean => publicKeyKind(key) === KeyKind.operator;
export const isAccountKey = (key: string): boolean => publicKeyKind(key) === KeyKind.account;

/**
 * Verifies an Ed25519 signature by a public nkey of a signing kind (operator, account, user,
 * server, cluster). False for anything malformed; never throws.
 */
export function verifyWithPublicKey(key: string, message: Uint8Array, signature: Uint8Array): boolean {
  const kind = publicKeyKind(key);
  if (kind === null || kind === KeyKind.curve) return false;
  return verifySignature(key, message, signature);
}
