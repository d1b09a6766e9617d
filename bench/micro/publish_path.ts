// Micro benchmark of the publish path without sockets: a 64 KiB chunk of `PUB` frames is
// parsed (1) by the bare parser with an empty sink, (2) by a real ClientConnection with no
// subscriber, (3) with one subscriber whose outbound buffer is drained after every chunk.
// Prints ns per message. Run: bun bench/micro/publish_path.ts [payloadBytes]
import { Parser, type ParserSink, type PubArgs } from "../../src/protocol/parser.ts";
import { defaultOptions } from "../../src/config/options.ts";
import { Server } from "../../src/server/server.ts";
import { ClientConnection } from "../../src/server/connection.ts";
import { silentLogger } from "../../src/util/log.ts";

const size = Number(process.argv[2] ?? 16);
const frame = `PUB bench ${size}\r\n${"x".repeat(size)}\r\n`;
const perChunk = Math.floor(65536 / frame.length);
const chunk = Buffer.from(frame.repeat(perChunk));
const rounds = Math.ceil(2_000_000 / perChunk);

/** Best of several timed repetitions: on a shared machine the minimum is the stable figure. */
function time(name: string, run: () => void): void {
  for (let i = 0; i < 20; i++) run(); // warm up the JIT
  let best = Infinity;
  for (let rep = 0; rep < 7; rep++) {
    const t0 = Bun.nanoseconds();
    for (let r = 0; r < rounds; r++) run();
    best = Math.min(best, (Bun.nanoseconds() - t0) / (rounds * perChunk));
  }
  console.log(`${name.padEnd(34)} ${best.toFixed(1).padStart(6)} ns/msg  (${(1000 / best).toFixed(1)} M msgs/s, best of 7)`);
}

// 1. Parser alone.
let count = 0;
const sink: ParserSink = {
  onAuthViolation() {}, onParseError(d) { throw new Error(d); }, onMaxControlLine() {}, onProtocolViolation(r) { throw new Error(r); },
  onConnect() {}, onInfo() {}, onClientError() {}, onPing() {}, onPong() {}, onSub() {}, onUnsub() {},
  onPubLine(_pa: PubArgs) {}, onMsg() { count++; },
};
const parser = new Parser(sink, 4096);
time("parser only", () => parser.parse(chunk));

// 2 and 3: a real connection on a fake socket that accepts everything.
const opts = defaultOptions();
const server = new Server(opts, silentLogger());
let written = 0;
const fakeSocket = (cid: number) => ({ remoteAddress: "127.0.0.1", remotePort: 40000 + cid, write: (_b: Uint8Array, _o: number, n: number) => { written += n; return n; }, setNoDelay() {}, pause() {}, resume() {}, end() {}, data: undefined }) as never;
const pub = new ClientConnection(server, fakeSocket(1), 1, server.globalAccount, Date.now());
pub.onData(Buffer.from('CONNECT {"verbose":false,"pedantic":false}\r\n'));
time("connection, no subscriber", () => pub.onData(chunk));

const sub = new ClientConnection(server, fakeSocket(2), 2, server.globalAccount, Date.now());
server.connections.set(2, sub);
sub.onData(Buffer.from('CONNECT {"verbose":false,"pedantic":false}\r\nSUB bench 1\r\n'));
time("connection, one subscriber", () => {
  pub.onData(chunk);
  server.flushDirty();
});
console.log(`(${count} parser messages, ${written} bytes written)`);
