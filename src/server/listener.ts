// The only Bun.listen for client connections: socket events → the server and its connections.
// TLS is an upgrade of the accepted socket (the NATS protocol sends INFO in the clear, then
// the client starts TLS; with handshake_first the upgrade comes before the INFO), so the
// same handlers serve the plain socket and, after the upgrade, the TLS one.
import type { Socket, SocketHandler, TCPSocketListener, TLSOptions } from "bun";
import type { ClientConnection } from "./connection.ts";
import type { Server } from "./server.ts";

const handlerCache = new WeakMap<Server, SocketHandler<ClientConnection>>();

function handlers(server: Server): SocketHandler<ClientConnection> {
  let h = handlerCache.get(server);
  if (h === undefined) {
    h = makeHandlers(server);
    handlerCache.set(server, h);
  }
  return h;
}

function makeHandlers(server: Server): SocketHandler<ClientConnection> {
  return {
    open(socket: Socket<ClientConnection>) {
      // A TLS socket made by upgradeToTls opens with its connection already attached.
      if (socket.data !== undefined) return;
      server.acceptConnection(socket);
    },
    data(socket: Socket<ClientConnection>, data: Uint8Array) {
      const conn = socket.data;
      if (conn === undefined) return;
      // After a TLS upgrade the plain socket still reports the encrypted bytes.
      if (socket !== conn.socket) {
        conn.onRawTlsData(data);
        return;
      }
      conn.onData(data);
      // One flush per read batch for every connection this read made dirty.
      server.flushDirty();
    },
    drain(socket: Socket<ClientConnection>) {
      const conn = socket.data;
      if (conn === undefined || socket !== conn.socket) return;
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
    handshake(socket: Socket<ClientConnection>, success: boolean, authorizationError: Error | null) {
      const conn = socket.data;
      if (conn === undefined || socket !== conn.socket) return;
      conn.onTlsHandshake(success, authorizationError);
      server.flushDirty();
    },
  };
}

export function listenClients(server: Server, hostname: string, port: number): TCPSocketListener<ClientConnection> {
  return Bun.listen<ClientConnection>({ hostname, port, socket: handlers(server) });
}

/** Starts the server side of TLS on an accepted socket; returns the TLS socket to use from now on. */
export function upgradeToTls(server: Server, conn: ClientConnection, tls: TLSOptions): Socket<ClientConnection> {
  const [, secure] = conn.socket.upgradeTLS<ClientConnection>({ data: conn, tls, socket: handlers(server) });
  return secure;
}
