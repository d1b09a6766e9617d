// Turns a `--server` value into host, port and credentials for the raw client. The official
// client parses URLs itself; this is only for our byte-level connection.

export interface ServerAddress {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  pass: string;
  token: string;
}

/** `nats://user:pass@host:4222`, `nats://token@host`, `host:port`, `host` (default port 4222). */
export function parseServerUrl(text: string): ServerAddress {
  // Only the first URL of a comma-separated list: the load tool talks to one server.
  const first = text.split(",")[0].trim();
  const withScheme = /^[a-z]+:\/\//i.test(first) ? first : `nats://${first}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`invalid server URL "${text}"`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "nats" && scheme !== "tls") throw new Error(`unsupported URL scheme "${scheme}" (nats:// or tls://)`);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port === "" ? 4222 : Number(url.port),
    tls: scheme === "tls",
    // A lone userinfo part without a password is a token (nats.go and nats.js do the same).
    user: pass === "" ? "" : user,
    pass,
    token: pass === "" ? user : "",
  };
}
