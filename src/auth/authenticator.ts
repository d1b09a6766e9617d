// Authentication of a client's CONNECT against the configured identities: token, single
// user/password, the users list (plain or bcrypt passwords), nkey users (signature of the
// INFO nonce), users mapped from a TLS client certificate (verify_and_map) and no_auth_user.
// The order of checks is the reference's processClientOrLeafAuthentication (auth.go). JWT
// users are handled by jwt_auth.ts.
//
// Pure: no sockets and no server state; the caller supplies the CONNECT fields, the nonce it
// sent and, lazily, the client certificate's identities.
import type { UserEntry } from "../config/options.ts";
import { checkNonceSignature } from "./jwt/verify.ts";

/** The CONNECT fields that carry credentials (wire spelling). */
export interface Credentials {
  user: string;
  pass: string;
  auth_token: string;
  nkey: string;
  sig: string;
  jwt: string;
}

/** What a verified client certificate says about its holder (for verify_and_map). */
export interface CertificateIdentity {
  emails: string[];
  dnsNames: string[];
  uris: string[];
  /** Subject attributes in certificate order, e.g. [["C","US"],["CN","alice"]]. */
  subject: [string, string][];
}

/**
 * Who the client is: a configured user (with its account and permissions), or `null` for a
 * token or single-user login (global account, no permissions).
 */
export interface Authenticated {
  user: UserEntry | null;
}

export type Verdict = Authenticated | false;

const BCRYPT_PREFIX = /^\$2[abxy]\$\d{2}\$/;

/** Plain (constant time) or bcrypt comparison; bcrypt is verified off the event loop. */
export function comparePassword(expected: string, given: string): boolean | Promise<boolean> {
  if (BCRYPT_PREFIX.test(expected)) return Bun.password.verify(given, expected, "bcrypt").catch(() => false);
  return timingSafeEqualText(expected, given);
}

function timingSafeEqualText(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) return false;
  let diff = 0;
  for (let i = 0; i < ab.length; i++) diff |= ab[i] ^ bb[i];
  return diff === 0;
}

/** Checks a nonce signature the way the reference does (base64url, else standard base64). */
export function nonceSigned(publicKey: string, nonce: string, sig: string): boolean {
  return checkNonceSignature(publicKey, nonce, sig) === null;
}

export interface AuthConfig {
  username: string;
  password: string;
  authToken: string;
  users: UserEntry[];
  noAuthUser: string;
  verifyAndMap: boolean;
}

/** A client certificate subject in Go's RDNSequence.String() form: last attribute first. */
export function certificateSubjectString(subject: readonly [string, string][]): string {
  return [...subject].reverse().map(([k, v]) => `${k}=${escapeDnValue(v)}`).join(",");
}

function escapeDnValue(v: string): string {
  return v.replace(/([,+"\\<>;])/g, "\\$1").replace(/^([ #])/, "\\$1").replace(/ $/, "\\ ");
}

/** Splits an RFC 4514 DN into its attributes (type upper-cased), or null if it is not one. */
export function parseDn(text: string): [string, string][] | null {
  const out: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) return null;
    const type = text.slice(i, eq).trim().toUpperCase();
    if (type === "" || /[,+]/.test(type)) return null;
    let value = "";
    let j = eq + 1;
    for (; j < text.length; j++) {
      const c = text[j];
      if (c === "\\" && j + 1 < text.length) {
        value += text[++j];
        continue;
      }
      if (c === "," || c === "+") break;
      value += c;
    }
    out.push([type, value.trim()]);
    i = j + 1;
  }
  return out.length > 0 ? out : null;
}

function sameRdnSet(a: readonly [string, string][], b: readonly [string, string][]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: readonly [string, string]): string => `${x[0].toUpperCase()}=${x[1]}`;
  const set = new Set(a.map(key));
  return b.every((x) => set.has(key(x)));
}

export class Authenticator {
  readonly #config: AuthConfig;
  readonly #users = new Map<string, UserEntry>();
  readonly #nkeys = new Map<string, UserEntry>();

  constructor(config: AuthConfig) {
    this.#config = config;
    for (const u of config.users) {
      if (u.nkey !== "") this.#nkeys.set(u.nkey, u);
      else this.#users.set(u.user, u);
    }
  }

  /** Whether INFO must carry a nonce (there are nkey users to sign it). */
  get needsNonce(): boolean {
    return this.#nkeys.size > 0;
  }

  get hasUsers(): boolean {
    return this.#users.size > 0;
  }

  get hasNkeys(): boolean {
    return this.#nkeys.size > 0;
  }

  /** Anything configured at all (else every client is accepted without checks). */
  get required(): boolean {
    const c = this.#config;
    return this.#users.size > 0 || this.#nkeys.size > 0 || c.username !== "" || c.authToken !== "";
  }

  user(name: string): UserEntry | undefined {
    return this.#users.get(name);
  }

  nkeyUser(publicKey: string): UserEntry | undefined {
    return this.#nkeys.get(publicKey);
  }

  /**
   * Checks the credentials. `certificate` is asked for only with verify_and_map. May complete
   * asynchronously (bcrypt).
   */
  authenticate(creds: Credentials, nonce: string, certificate: () => CertificateIdentity | null): Verdict | Promise<Verdict> {
    const c = this.#config;
    if (this.#nkeys.size > 0 && creds.nkey !== "") {
      const u = this.#nkeys.get(creds.nkey);
      if (u === undefined || !standardAllowed(u)) return false;
      return nonceSigned(creds.nkey, nonce, creds.sig) ? { user: u } : false;
    }
    if (this.#users.size > 0) {
      if (c.verifyAndMap) {
        const id = certificate();
        const u = id === null ? undefined : this.#mapCertificate(id);
        if (u === undefined) return false;
        // Mapped from the certificate: no password to check.
        return { user: u };
      }
      if (c.noAuthUser !== "" && creds.user === "" && creds.pass === "" && creds.auth_token === "") {
        // A client without credentials acts as the no-auth user (no password to compare).
        const u = this.#users.get(c.noAuthUser);
        if (u !== undefined && standardAllowed(u)) return { user: u };
      }
      if (creds.user !== "") {
        const u = this.#users.get(creds.user);
        if (u === undefined || !standardAllowed(u)) return false;
        const ok = comparePassword(u.password, creds.pass);
        if (typeof ok === "boolean") return ok ? { user: u } : false;
        return ok.then((yes) => (yes ? { user: u } : false));
      }
    }
    if (c.authToken !== "") return verdictOf(comparePassword(c.authToken, creds.auth_token));
    if (c.username !== "") {
      if (creds.user !== c.username) return false;
      return verdictOf(comparePassword(c.password, creds.pass));
    }
    return false;
  }

  /** verify_and_map: emails, DNS names, URIs, then the subject DN (also reordered). */
  #mapCertificate(id: CertificateIdentity): UserEntry | undefined {
    for (const candidate of [...id.emails, ...id.dnsNames, ...id.uris, certificateSubjectString(id.subject)]) {
      const u = this.#users.get(candidate);
      if (u !== undefined && standardAllowed(u)) return u;
    }
    for (const u of this.#users.values()) {
      const dn = parseDn(u.user);
      if (dn !== null && standardAllowed(u) && sameRdnSet(dn, id.subject)) return u;
    }
    return undefined;
  }
}

function verdictOf(ok: boolean | Promise<boolean>): Verdict | Promise<Verdict> {
  if (typeof ok === "boolean") return ok ? { user: null } : false;
  return ok.then((yes) => (yes ? { user: null } : false));
}

/** Client connections are of the STANDARD type (no websocket, MQTT or leaf listeners yet). */
function standardAllowed(u: UserEntry): boolean {
  return u.allowedConnectionTypes === null || u.allowedConnectionTypes.length === 0 || u.allowedConnectionTypes.includes("STANDARD");
}
