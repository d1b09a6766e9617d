// The only Bun.listen for client connections: socket events → the server and its connections.
import type { Socket, TCPSocketListener } from "bun";
import type { ClientConnection } from "./connection.ts";
import type { Server } from "./server.ts";

export function listenClients(server: Server, hostname: string, port: number): TCPSocketListener<ClientConnection> {
  return Bun.listen<ClientConnection>({
    hostname,
    port,
    socket: {
      open(socket: Socket<ClientConnection>) {
        server.acceptConnection(socket);
      },
      data(socket: Socket<ClientConnection>, data: Uint8Array) {
        const conn = socket.data;
        if (conn === undefined) return;
        conn.onData(data);
        // One flush per read batch for every connection this read made dirty.
        server.flushDirty();
      },
      drain(socket: Socket<ClientConnection>) {
        const conn = socket.data;
        if (conn === undefined) return;
        conn.onDrain();
        server.flushDirty();
      },
      close(socket: Socket<ClientConnection>) {
        socket.data?.onSocketClosed();
        server.flushDirty();
      },
      error(socket: Socket<ClientConnection>, error: Error) {
        const conn = socket.data;
        if (conn !== undefined) server.logger.debug(`${conn.description} - socket error: ${error.message}`);
      },
    },
  });
}
