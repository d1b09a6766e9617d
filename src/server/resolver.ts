// Account JWT resolvers of operator mode: where the server finds an account's JWT.
//
// - MEMORY: the JWTs of `resolver_preload`, kept in memory; updates pushed over $SYS replace
//   them in memory only.
// - full (`resolver { type: full, dir }`): every JWT is a file `<account public key>.jwt` in
//   the directory, read at start and written on each accepted update, so that updates survive
//   restarts. nats-bun runs as a single server: there are no peers to synchronise with (the
//   reference also asks its cluster peers for an account it does not have, for up to 1.9 s).
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResolverOptions } from "../config/options.ts";

export interface AccountResolver {
  readonly kind: "memory" | "full";
  /** The stored JWT of an account, or null. */
  fetch(account: string): string | null;
  /** Stores an account's JWT (already validated by the caller). */
  store(account: string, jwt: string): void;
  /** Public keys of the stored accounts, sorted. */
  list(): string[];
}

export class MemoryResolver implements AccountResolver {
  readonly kind = "memory";
  readonly #jwts = new Map<string, string>();

  constructor(preload: ReadonlyMap<string, string>) {
    for (const [k, v] of preload) this.#jwts.set(k, v);
  }

  fetch(account: string): string | null {
    return this.#jwts.get(account) ?? null;
  }

  store(account: string, jwt: string): void {
    this.#jwts.set(account, jwt);
  }

  list(): string[] {
    return [...this.#jwts.keys()].sort();
  }
}

const JWT_FILE = /^(A[A-Z2-7]{55})\.jwt$/;

export class DirResolver implements AccountResolver {
  readonly kind = "full";
  readonly dir: string;
  readonly #jwts = new Map<string, string>();

  constructor(options: ResolverOptions, preload: ReadonlyMap<string, string>) {
    this.dir = options.dir;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) {
      const m = JWT_FILE.exec(name);
      if (m === null) continue;
      this.#jwts.set(m[1], readFileSync(join(this.dir, name), "utf8").trim());
    }
    // Preloaded JWTs fill in what the directory does not have yet.
    for (const [k, v] of preload) if (!this.#jwts.has(k)) this.store(k, v);
  }

  fetch(account: string): string | null {
    return this.#jwts.get(account) ?? null;
  }

  store(account: string, jwt: string): void {
    // Written to a temporary file and renamed: a crash never leaves half a JWT.
    const file = join(this.dir, `${account}.jwt`);
    writeFileSync(`${file}.tmp`, jwt, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    this.#jwts.set(account, jwt);
  }

  list(): string[] {
    return [...this.#jwts.keys()].sort();
  }
}

export function makeResolver(options: ResolverOptions | null, preload: ReadonlyMap<string, string>): AccountResolver {
  if (options !== null && options.type === "full") return new DirResolver(options, preload);
  return new MemoryResolver(preload);
}
