// Connections through the official client (@nats-io/transport-node): used by every scenario
// the raw client does not cover, and by core pub/sub with `--client official`.
import { connect, type NatsConnection } from "@nats-io/transport-node";

export async function connectOfficial(url: string, name: string): Promise<NatsConnection> {
  return await connect({
    servers: url.split(",").map((server) => server.trim()),
    name,
    // A benchmark should fail loudly rather than silently reconnect and skew numbers.
    reconnect: false,
    noEcho: false,
    timeout: 10_000,
  });
}
