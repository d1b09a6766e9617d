// Operator-mode fixtures made with the official @nats-io/nkeys and @nats-io/jwt: an operator,
// a system account, accounts and users, creds files, and the server config that trusts them.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Account, type User } from "@nats-io/jwt";
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";

/** Account limits with everything unlimited (absent limits are 0 to the server, as in Go). */
export const UNLIMITED = { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true };

export interface TestAccount {
  name: string;
  key: KeyPair;
  pub: string;
  jwt: string;
}

export interface TestUser {
  key: KeyPair;
  jwt: string;
  creds: Uint8Array;
}

export class Operator {
  readonly key = createOperator();
  readonly sys: TestAccount;
  readonly sysUser: TestUser;
  readonly dir = mkdtempSync(join(tmpdir(), "nats-bun-jwt-"));
  jwt = "";

  private constructor(sys: TestAccount, sysUser: TestUser) {
    this.sys = sys;
    this.sysUser = sysUser;
  }

  static async create(): Promise<Operator> {
    const sysKey = createAccount();
    const placeholder = { name: "SYS", key: sysKey, pub: sysKey.getPublicKey(), jwt: "" };
    const op = new Operator(placeholder, { key: createUser(), jwt: "", creds: new Uint8Array() });
    op.jwt = await encodeOperator("OP", op.key, { system_account: sysKey.getPublicKey() });
    op.sys.jwt = await encodeAccount("SYS", sysKey, { limits: UNLIMITED }, { signer: op.key });
    Object.assign(op.sysUser, await op.user(op.sys, {}, "sys"));
    return op;
  }

  async account(name: string, data: Partial<Account> = {}, opts: { exp?: number } = {}, key: KeyPair = createAccount()): Promise<TestAccount> {
    const jwt = await encodeAccount(name, key, { limits: UNLIMITED, ...data }, { signer: this.key, ...opts });
    return { name, key, pub: key.getPublicKey(), jwt };
  }

  /** A user of `account`, signed by the account or by `signer` (one of its signing keys). */
  async user(account: TestAccount, data: Partial<User> = {}, name = "user", opts: { exp?: number; signer?: KeyPair; key?: KeyPair; scoped?: boolean } = {}): Promise<TestUser> {
    const key = opts.key ?? createUser();
    const jwt = await encodeUser(name, key, account.key, data, { exp: opts.exp, scopedUser: opts.scoped, signer: opts.signer });
    return { key, jwt, creds: fmtCreds(jwt, key) };
  }

  /** Server config: this operator, its system account, a resolver, and the preloaded accounts. */
  config(accounts: TestAccount[], resolver: "MEMORY" | "full" = "MEMORY"): string {
    const opFile = join(this.dir, "op.jwt");
    writeFileSync(opFile, this.jwt);
    const preload = [this.sys, ...accounts].map((a) => `  ${a.pub}: ${a.jwt}`).join("\n");
    const res = resolver === "MEMORY" ? "resolver: MEMORY" : `resolver { type: full, dir: "${join(this.dir, "jwt")}" }`;
    return `operator: ${opFile}\nsystem_account: ${this.sys.pub}\n${res}\nresolver_preload: {\n${preload}\n}\n`;
  }
}

export async function connectCreds(url: string, user: TestUser, opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers: url, authenticator: credsAuthenticator(user.creds), reconnect: false, timeout: 3_000, ...opts });
}
