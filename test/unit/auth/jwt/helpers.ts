// Shared helpers of the JWT tests: keys and tokens from the official @nats-io/jwt and
// @nats-io/nkeys, plus a raw signer for tokens the official encoder will not produce (chosen
// iat, wrong header, malformed claims).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, type KeyPair } from "@nats-io/jwt";

export { createAccount, createOperator, createUser };
export type { KeyPair };

/** Account limits all at "unlimited": @nats-io/jwt leaves limits out, which the reference reads as 0. */
export const unlimited = { subs: -1, conn: -1, leaf: -1, imports: -1, exports: -1, data: -1, payload: -1, wildcards: true };

export const b64url = (s: string | Uint8Array): string => Buffer.from(typeof s === "string" ? new TextEncoder().encode(s) : s).toString("base64url");

export const v2Header = { typ: "JWT", alg: "ed25519-nkey" };

/** Signs arbitrary claims: header.payload (v2) or payload alone (`v1: true`). */
export function signRaw(claims: unknown, kp: KeyPair, opts: { header?: unknown; v1?: boolean } = {}): string {
  const h = b64url(JSON.stringify(opts.header ?? v2Header));
  const p = b64url(typeof claims === "string" ? claims : JSON.stringify(claims));
  const signed = opts.v1 ? p : `${h}.${p}`;
  return `${h}.${p}.${b64url(kp.sign(new TextEncoder().encode(signed)))}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** An operator (with a signing key and a system account) and helpers to issue accounts. */
export async function makeOperator(opts: { strict?: boolean } = {}) {
  const op = createOperator();
  const signingKey = createOperator();
  const sys = createAccount();
  const claims: Record<string, unknown> = { system_account: sys.getPublicKey(), signing_keys: [signingKey.getPublicKey()] };
  if (opts.strict) claims.strict_signing_key_usage = true;
  const jwt = await encodeOperator("OP", op, claims);
  return { op, signingKey, sys, jwt };
}

/** An account JWT with unlimited limits unless `limits` is given. */
export async function issueAccount(name: string, issuer: KeyPair, account: KeyPair = createAccount(), nats: Record<string, unknown> = {}, opts: Record<string, unknown> = {}) {
  const jwt = await encodeAccount(name, account, { limits: unlimited, ...nats } as never, { signer: issuer, ...opts });
  return { account, jwt };
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = "nats-bun-jwt-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
