// INFO and CONNECT as spelled on the wire (snake_case keys, as the reference marshals them).

/** Server → client INFO. Field order matters for byte-exact output: see encode.ts. */
export interface InfoJson {
  server_id: string;
  server_name: string;
  version: string;
  proto: number;
  git_commit?: string;
  go: string;
  host: string;
  port: number;
  headers: boolean;
  auth_required?: boolean;
  tls_required?: boolean;
  tls_verify?: boolean;
  tls_available?: boolean;
  max_payload: number;
  jetstream?: boolean;
  ip?: string;
  client_id?: number;
  client_ip?: string;
  nonce?: string;
  cluster?: string;
  domain?: string;
  connect_urls?: string[];
  ws_connect_urls?: string[];
  ldm?: boolean;
  /** Our own release (an extra field; clients ignore unknown INFO fields). */
  nats_bun?: string;
}

/** Client → server CONNECT, with the reference's defaults for absent fields. */
export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  tls_required: boolean;
  echo: boolean;
  headers: boolean;
  no_responders: boolean;
  name: string;
  lang: string;
  version: string;
  protocol: number;
  auth_token: string;
  user: string;
  pass: string;
  nkey: string;
  jwt: string;
  sig: string;
  account: string;
  new_account: boolean;
}

/** The reference's defaultOpts: what a client gets before (or without) sending CONNECT. */
export function defaultConnectOptions(): ConnectOptions {
  return {
    verbose: true,
    pedantic: true,
    tls_required: false,
    echo: true,
    headers: false,
    no_responders: false,
    name: "",
    lang: "",
    version: "",
    protocol: 0,
    auth_token: "",
    user: "",
    pass: "",
    nkey: "",
    jwt: "",
    sig: "",
    account: "",
    new_account: false,
  };
}

const boolFields = ["verbose", "pedantic", "tls_required", "echo", "headers", "no_responders", "new_account"] as const;
const stringFields = ["name", "lang", "version", "auth_token", "user", "pass", "nkey", "jwt", "sig", "account"] as const;
const knownFields: ReadonlyMap<string, string> = new Map(
  [...boolFields, ...stringFields, "protocol"].map((k) => [k.toLowerCase(), k] as [string, string]),
);

/**
 * Applies a CONNECT JSON argument onto `opts` the way Go's json.Unmarshal fills the
 * reference's ClientOpts: keys match case-insensitively, unknown keys are ignored, `null`
 * leaves a field as it is, and a value of the wrong type is an error (the reference then
 * closes the connection). Returns an error message or null.
 */
export function applyConnectJson(opts: ConnectOptions, text: string): string | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return text.trim() === "" ? "unexpected end of JSON input" : `invalid JSON: ${(e as Error).message}`;
  }
  if (v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) return `json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v} into Go value of type server.ClientOpts`;
  const o = opts as unknown as Record<string, unknown>;
  const given = v as Record<string, unknown>;
  for (const rawKey in given) {
    const key = knownFields.get(rawKey.toLowerCase());
    const value = given[rawKey];
    if (key === undefined || value === null) continue;
    if (key === "protocol") {
      if (typeof value !== "number" || !Number.isInteger(value)) return `json: cannot unmarshal ${typeof value} into Go struct field ClientOpts.protocol of type int`;
      o[key] = value;
    } else if ((boolFields as readonly string[]).includes(key)) {
      if (typeof value !== "boolean") return `json: cannot unmarshal ${typeof value} into Go struct field ClientOpts.${key} of type bool`;
      o[key] = value;
    } else {
      if (typeof value !== "string") return `json: cannot unmarshal ${typeof value} into Go struct field ClientOpts.${key} of type string`;
      o[key] = value;
    }
  }
  return null;
}
