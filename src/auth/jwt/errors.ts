// Errors of the JWT building blocks: one named Error subclass carrying a stable id and the
// exact text the reference produces (nats-io/jwt v2 and nats-server 2.9.10), so the wiring can
// log it verbatim, put it in a $SYS reply, or map it to `-ERR 'Authorization Violation'`.

/** Stable identities of every failure the modules report. */
export const JwtErrorId = {
  /** Not three dot-separated segments. */
  chunks: "chunks",
  /** A segment is not Go RawURL base64 (text: `illegal base64 data at input byte N`). */
  base64: "base64",
  /** A segment is not JSON, or a field has the wrong JSON type (Go's encoding/json texts). */
  json: "json",
  /** Header `typ` is not JWT. */
  headerType: "header_type",
  /** Header `alg` is not ed25519 / ed25519-nkey. */
  headerAlg: "header_alg",
  /** Claims `nats.version` above 2. */
  version: "version",
  /** A v1 user JWT with the deprecated `max` limit. */
  deprecated: "deprecated",
  /** The claims kind cannot be decoded (cluster/server claims, unknown signing-key scope). */
  unsupported: "unsupported",
  /** The signature does not verify with the issuer key. */
  signature: "signature",
  /** The issuer key is not of a kind allowed to sign this claims kind. */
  issuerKind: "issuer_kind",
  /** Decoded, but not the kind asked for (`not account claim`). */
  wrongKind: "wrong_kind",
  /** `Validate` found blocking issues (expired, not yet valid, bad subject, …). */
  invalid: "invalid",
  /** The issuer is not trusted (operator / account signing keys). */
  untrusted: "untrusted",
  /** A user was refused by one of the connect-time checks of verify.ts. */
  userRefused: "user_refused",
  /** A resolver refused a store, delete or lookup. */
  resolver: "resolver",
  /** Operator / trusted-keys / creds configuration is wrong. */
  config: "config",
} as const;

export type JwtErrorIdValue = (typeof JwtErrorId)[keyof typeof JwtErrorId];

export class JwtError extends Error {
  override readonly name = "JwtError";
  readonly id: JwtErrorIdValue;

  constructor(id: JwtErrorIdValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.id = id;
  }
}

/** True when `e` is one of ours (the fuzz test's oracle: nothing else may escape). */
export function isJwtError(e: unknown): e is JwtError {
  return e instanceof JwtError;
}
