// The client protocol parser: bytes in, operations out. Pure: no sockets, no server state.
//
// It works a control line at a time. `indexOf('\n')` (native, fast) finds the end of a line;
// the op name is matched case-insensitively byte by byte with the reference's exact error
// points; PUB/HPUB payloads are then jumped over in one step and handed to the sink as
// offsets into the chunk they arrived in — never copied unless they straddle two chunks.
//
// Behaviour mirrors the reference parser (server/parser.go) where a client can observe it:
// - op names are case-insensitive; PUB/HPUB/SUB/UNSUB/-ERR need a space or tab after the name,
//   CONNECT and INFO take their argument with or without one, PING/PONG/+OK ignore anything up
//   to the end of the line;
// - an argument line ends at '\n'; if the argument contains a '\r' anywhere, its last byte is
//   dropped (the reference's `drop` flag), which is what makes "\r\n" and "\n" both work;
// - the argument (without op name and line end) may be at most max_control_line bytes; a
//   partial line longer than that fails as soon as it is seen, as in the reference;
// - a payload must be followed by exactly "\r\n", otherwise it is a parse error;
// - a connection that still has to authenticate may send nothing but CONNECT first.
//
// Chunks handed to `parse` must not be modified afterwards by the caller while the parser may
// still reference them (an unfinished PUB keeps a view of its argument line). Bun allocates a
// fresh buffer for every socket read, so this holds for socket data.
import { allocBytes, CR, LF, parseSize, SPACE, TAB, quoteBytes } from "../util/bytes.ts";

/** What the parser calls. The sink may call `parser.stop()` from any callback to end parsing. */
export interface ParserSink {
  /** Something other than CONNECT arrived first while authentication is required. */
  onAuthViolation(): void;
  /** Unknown operation or malformed framing: send `-ERR 'Unknown Protocol Operation'`, close. */
  onParseError(detail: string): void;
  /** An argument line longer than max_control_line: `-ERR 'maximum control line exceeded'`, close. */
  onMaxControlLine(argLength: number, snippet: string): void;
  /** Malformed arguments the reference closes on without an -ERR (logged only). */
  onProtocolViolation(reason: string): void;
  onConnect(buf: Uint8Array, start: number, end: number): void;
  onInfo(buf: Uint8Array, start: number, end: number): void;
  /** A client sent -ERR; the reference logs it and closes. */
  onClientError(buf: Uint8Array, start: number, end: number): void;
  onPing(): void;
  onPong(): void;
  /** SUB <subject> [queue] <sid>; queueStart < 0 when there is no queue group. */
  onSub(buf: Uint8Array, subjectStart: number, subjectEnd: number, queueStart: number, queueEnd: number, sidStart: number, sidEnd: number): void;
  /** UNSUB <sid> [max]; max is -1 when absent or not a number. */
  onUnsub(buf: Uint8Array, sidStart: number, sidEnd: number, max: number, hasMax: boolean): void;
  /**
   * The control line of a PUB (pa.hdr < 0) or HPUB has been read, before its payload: the
   * place for max_payload and pedantic subject checks. The arguments are in `parser.pa`.
   * Called only when the size exceeds `parser.maxPayload` or `parser.checkPubLines` is set,
   * so that the common publish costs one sink call, not two.
   */
  onPubLine(pa: PubArgs): void;
  /**
   * A complete message: arguments in `pa`, its `pa.size` bytes (headers included) at
   * payload[payloadStart]. Only valid during the call.
   */
  onMsg(pa: PubArgs, payload: Uint8Array, payloadStart: number): void;
}

/**
 * Arguments of the PUB/HPUB being processed, as offsets into `buf`. The size fields keep the
 * client's own digits (szStart/szEnd, hdbStart/hdbEnd) because the reference forwards them
 * verbatim in MSG/HMSG ("PUB foo 007" is delivered as "MSG foo 1 007").
 */
export class PubArgs {
  buf: Uint8Array = EMPTY;
  subjectStart = 0;
  subjectEnd = 0;
  replyStart = 0;
  replyEnd = 0;
  /** Header length, or -1 for PUB. */
  hdr = -1;
  /** Total length (headers + payload). */
  size = 0;
  szStart = 0;
  szEnd = 0;
  hdbStart = 0;
  hdbEnd = 0;
}

const EMPTY = new Uint8Array(0);

const Op = {
  PUB: 1,
  HPUB: 2,
  SUB: 3,
  UNSUB: 4,
  PING: 5,
  PONG: 6,
  CONNECT: 7,
  INFO: 8,
  OK: 9,
  ERR: 10,
  HMSG: 11,
} as const;

/** scanOp results other than an op code. */
const NEED_MORE = 0;
const SCAN_ERROR = -1;

const State = {
  /** Expecting the start of an operation. */
  START: 0,
  /** Inside a PING/PONG/+OK line: waiting for its '\n', then firing `pendingOp`. */
  SKIP_LINE: 1,
  /** A control line started in an earlier chunk; its bytes so far are in `line`. */
  PARTIAL_LINE: 2,
  /** A PUB/HPUB payload started in an earlier chunk; its bytes so far are in `msgBuf`. */
  PAYLOAD: 3,
} as const;

const lower = (b: number): number => b | 0x20;

/** Op names (lowercase) and whether the name must be followed by a space/tab before the argument. */
const OP_NAMES: Record<number, { name: Uint8Array; needsSpace: boolean; hasArg: boolean }> = {
  [Op.PUB]: { name: new TextEncoder().encode("pub"), needsSpace: true, hasArg: true },
  [Op.HPUB]: { name: new TextEncoder().encode("hpub"), needsSpace: true, hasArg: true },
  [Op.SUB]: { name: new TextEncoder().encode("sub"), needsSpace: true, hasArg: true },
  [Op.UNSUB]: { name: new TextEncoder().encode("unsub"), needsSpace: true, hasArg: true },
  [Op.PING]: { name: new TextEncoder().encode("ping"), needsSpace: false, hasArg: false },
  [Op.PONG]: { name: new TextEncoder().encode("pong"), needsSpace: false, hasArg: false },
  [Op.CONNECT]: { name: new TextEncoder().encode("connect"), needsSpace: false, hasArg: true },
  [Op.INFO]: { name: new TextEncoder().encode("info"), needsSpace: false, hasArg: true },
  [Op.OK]: { name: new TextEncoder().encode("+ok"), needsSpace: false, hasArg: false },
  [Op.ERR]: { name: new TextEncoder().encode("-err"), needsSpace: true, hasArg: true },
  [Op.HMSG]: { name: new TextEncoder().encode("hmsg"), needsSpace: true, hasArg: true },
};


export class Parser {
  /** Maximum argument length of a control line (max_control_line). */
  maxControlLine: number;
  /** Set by the connection once CONNECT enabled headers; HPUB is refused otherwise. */
  headers = false;
  /** Set while the connection must authenticate: only CONNECT may come first. */
  requireConnect = false;
  /** max_payload of the connection: a larger PUB/HPUB is reported through onPubLine. */
  maxPayload = Number.MAX_SAFE_INTEGER;
  /** Report every PUB/HPUB line through onPubLine (pedantic checks, tracing). */
  checkPubLines = true;

  #sink: ParserSink;
  #stopped = false;
  #state: number = State.START;

  // Op recognised by the last scanOp call and where its argument starts.
  #scanArgStart = 0;
  #scanErrorAt = 0;

  // SKIP_LINE: the op to fire at the end of the line.
  #pendingOp = 0;

  // PARTIAL_LINE: the control line so far (op name + separator + argument bytes).
  #line: Uint8Array | null = null;
  #lineLength = 0;

  // PAYLOAD: the announced message whose bytes are still arriving.
  /** The current PUB/HPUB arguments (see PubArgs). */
  readonly pa = new PubArgs();
  #msgBuf: Uint8Array | null = null;
  #msgLength = 0;

  constructor(sink: ParserSink, maxControlLine: number) {
    this.#sink = sink;
    this.maxControlLine = maxControlLine;
  }

  /** Ends parsing: the current and all later chunks are ignored. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Pauses after the operation being handled: `parse` returns how far it got, and the caller
   * feeds the rest again after `resume()` (used while CONNECT is checked asynchronously).
   */
  suspend(): void {
    this.#suspended = true;
  }

  resume(): void {
    this.#suspended = false;
  }

  #suspended = false;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Bytes held for a split frame (for memory accounting and tests). */
  get pendingBytes(): number {
    return this.#lineLength + this.#msgLength;
  }

  /** Parses a chunk; returns the number of bytes consumed (all of them unless suspended). */
  parse(buf: Uint8Array): number {
    if (this.#stopped || this.#suspended) return 0;
    const end = buf.length;
    let i = 0;

    switch (this.#state) {
      case State.PAYLOAD:
        i = this.#continuePayload(buf);
        break;
      case State.SKIP_LINE: {
        const nl = buf.indexOf(LF);
        if (nl < 0) return end;
        this.#state = State.START;
        this.#fireSimple(this.#pendingOp);
        i = nl + 1;
        break;
      }
      case State.PARTIAL_LINE:
        i = this.#continueLine(buf);
        break;
    }

    while (i < end && !this.#stopped && !this.#suspended && this.#state === State.START) {
      if (this.requireConnect && lower(buf[i]) !== 0x63 /* c */) {
        this.#sink.onAuthViolation();
        this.#stopped = true;
        return end;
      }
      // Fast path for the operation that matters: a complete "PUB " line.
      if (i + 4 < end && (buf[i] | 0x20) === 0x70 && (buf[i + 1] | 0x20) === 0x75 && (buf[i + 2] | 0x20) === 0x62 && (buf[i + 3] === SPACE || buf[i + 3] === TAB)) {
        const next = this.#fastPub(buf, i + 4, end);
        if (next >= 0) {
          i = next;
          continue;
        }
      }
      const op = this.#scanOp(buf, i, end);
      if (op === SCAN_ERROR) {
        this.#parseError(buf, this.#scanErrorAt);
        return end;
      }
      if (op === NEED_MORE) {
        this.#startPartial(buf, i, end);
        return end;
      }
      const argStart = this.#scanArgStart;
      if (op === Op.PING || op === Op.PONG || op === Op.OK) {
        // Anything up to the end of the line is ignored (reference states OP_PING etc.).
        const nl = buf.indexOf(LF, argStart);
        if (nl < 0) {
          this.#pendingOp = op;
          this.#state = State.SKIP_LINE;
          return end;
        }
        this.#fireSimple(op);
        i = nl + 1;
        continue;
      }
      // The argument's first byte is taken as is, even a '\r' or '\n' (the reference enters
      // its ARG state on it without examining it); the line ends at the next '\n'.
      const nl = buf.indexOf(LF, argStart + 1);
      if (nl < 0) {
        this.#startPartial(buf, i, end);
        return end;
      }
      i = this.#processArgs(op, buf, argStart, nl, buf, nl + 1);
    }
    return this.#stopped ? end : i;
  }

  /**
   * A PUB line whose argument starts after buf[p] (blanks included): one pass finds the line
   * end and splits the fields. Handles the common shapes — `subject [reply] size`, ending in
   * "\r\n" or "\n" with no other '\r' — and returns the index after the message, or -1 to
   * let the general path handle anything else (incomplete line, odd bytes, errors).
   */
  #fastPub(buf: Uint8Array, p: number, end: number): number {
    let b = 0;
    while (p < end && ((b = buf[p]) === SPACE || b === TAB)) p++;
    const argStart = p;
    // Subject: up to a blank. Any other byte below '!' (line end, control bytes) → general path.
    const ss = p;
    while (p < end && (b = buf[p]) > SPACE) p++;
    const se = p;
    if (p >= end || se === ss || (b !== SPACE && b !== TAB)) return -1;
    p++;
    while (p < end && ((b = buf[p]) === SPACE || b === TAB)) p++;
    // Second field: the size, or the reply subject. Its digits are summed on the way.
    const t2s = p;
    let size = 0;
    let digits = true;
    while (p < end && (b = buf[p]) > SPACE) {
      const d = b - 48;
      if (d < 0 || d > 9) digits = false;
      else size = size * 10 + d;
      p++;
    }
    const t2e = p;
    if (p >= end || t2e === t2s) return -1;
    let rs = 0, re = 0, szs = t2s, sze = t2e;
    if (b === SPACE || b === TAB) {
      p++;
      while (p < end && ((b = buf[p]) === SPACE || b === TAB)) p++;
      if (p >= end) return -1;
      if (b !== CR && b !== LF) {
        // Third field: the size; the second was the reply.
        rs = t2s;
        re = t2e;
        szs = p;
        size = 0;
        digits = true;
        while (p < end && (b = buf[p]) > SPACE) {
          const d = b - 48;
          if (d < 0 || d > 9) digits = false;
          else size = size * 10 + d;
          p++;
        }
        sze = p;
        while (p < end && ((b = buf[p]) === SPACE || b === TAB)) p++;
        if (p >= end) return -1;
      }
    }
    if (!digits || sze - szs > 9) return -1;
    // The line must end here: "\r\n" (the reference's drop byte) or a bare "\n".
    let nl: number;
    let argEnd: number;
    if (b === LF) {
      nl = p;
      argEnd = p;
    } else if (b === CR && p + 1 < end && buf[p + 1] === LF) {
      nl = p + 1;
      argEnd = p;
    } else return -1;
    if (argEnd - argStart > this.maxControlLine) return -1;
    const pa = this.pa;
    pa.buf = buf;
    pa.subjectStart = ss;
    pa.subjectEnd = se;
    pa.replyStart = rs;
    pa.replyEnd = re;
    pa.hdr = -1;
    pa.size = size;
    pa.szStart = szs;
    pa.szEnd = sze;
    pa.hdbStart = 0;
    pa.hdbEnd = 0;
    if (this.checkPubLines || size > this.maxPayload) {
      this.#sink.onPubLine(pa);
      if (this.#stopped) return end;
    }
    return this.#payload(buf, nl + 1);
  }

  /**
   * Recognises the op at buf[i]. Returns the op code (argument start in #scanArgStart),
   * NEED_MORE when `end` comes before the argument's first byte, or SCAN_ERROR (position in
   * #scanErrorAt). The bytes from the argument start on are not examined.
   */
  #scanOp(buf: Uint8Array, i: number, end: number): number {
    // Positions of this scan only (never those of an earlier line): -1 until known.
    this.#scanNameEnd = -1;
    this.#scanArgStart = -1;
    const c0 = lower(buf[i]);
    let op: number;
    if (c0 === 0x70 /* p */) {
      if (i + 1 >= end) return NEED_MORE;
      const c1 = lower(buf[i + 1]);
      op = c1 === 0x75 ? Op.PUB : c1 === 0x69 ? Op.PING : c1 === 0x6f ? Op.PONG : 0;
      if (op === 0) return this.#scanFail(i + 1);
    } else if (c0 === 0x68 /* h */) {
      if (i + 1 >= end) return NEED_MORE;
      const c1 = lower(buf[i + 1]);
      op = c1 === 0x70 ? Op.HPUB : c1 === 0x6d ? Op.HMSG : 0;
      if (op === 0) return this.#scanFail(i + 1);
    } else if (c0 === 0x73 /* s */) op = Op.SUB;
    else if (c0 === 0x75 /* u */) op = Op.UNSUB;
    else if (c0 === 0x63 /* c */) op = Op.CONNECT;
    else if (c0 === 0x69 /* i */) op = Op.INFO;
    else if (c0 === 0x2b /* + */) op = Op.OK;
    else if (c0 === 0x2d /* - */) op = Op.ERR;
    else return this.#scanFail(i);

    const spec = OP_NAMES[op];
    const name = spec.name;
    let p = i;
    for (let k = 0; k < name.length; k++, p++) {
      if (p >= end) return NEED_MORE;
      if (lower(buf[p]) !== name[k]) return this.#scanFail(p);
    }
    if (!spec.hasArg) {
      this.#scanNameEnd = p;
      this.#scanArgStart = p;
      return op;
    }
    if (spec.needsSpace) {
      if (p >= end) return NEED_MORE;
      const b = buf[p];
      if (b !== SPACE && b !== TAB) return this.#scanFail(p);
      p++;
    }
    this.#scanNameEnd = p;
    while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
    this.#scanArgStart = p;
    if (p >= end) return NEED_MORE;
    return op;
  }

  #scanFail(at: number): number {
    this.#scanErrorAt = at;
    return SCAN_ERROR;
  }

  #parseError(buf: Uint8Array, at: number): void {
    // The reference quotes up to 32 bytes from the failing position (protoSnippet).
    const stop = Math.min(at + 32, buf.length);
    this.#sink.onParseError(at >= buf.length ? '""' : quoteBytes(buf, at, stop));
    this.#stopped = true;
  }

  #matchesName(buf: Uint8Array, start: number, name: Uint8Array): boolean {
    for (let k = 0; k < name.length; k++) if (lower(buf[start + k]) !== name[k]) return false;
    return true;
  }

  #fireSimple(op: number): void {
    if (op === Op.PING) this.#sink.onPing();
    else if (op === Op.PONG) this.#sink.onPong();
    // +OK from a client is ignored.
  }

  /** The argument is buf[argStart, nl) less the reference's `drop` byte; dispatch it. */
  #processArgs(op: number, buf: Uint8Array, argStart: number, nl: number, chunk: Uint8Array, pos: number): number {
    let argEnd = nl;
    // The reference sets `drop` when it sees '\r' anywhere in the argument after its first
    // byte, and then cuts the last byte before '\n'.
    if (nl - 1 > argStart && (buf[nl - 1] === CR || buf.subarray(argStart + 1, nl).indexOf(CR) >= 0)) argEnd = nl - 1;
    if (argEnd - argStart > this.maxControlLine) {
      this.#sink.onMaxControlLine(argEnd - argStart, quoteBytes(buf, argStart, Math.min(argEnd, argStart + 128)));
      this.#stopped = true;
      return pos;
    }
    switch (op) {
      case Op.PUB:
        return this.#processPub(false, buf, argStart, argEnd, chunk, pos);
      case Op.HPUB:
        return this.#processPub(true, buf, argStart, argEnd, chunk, pos);
      case Op.SUB:
        this.#processSub(buf, argStart, argEnd);
        return pos;
      case Op.UNSUB:
        this.#processUnsub(buf, argStart, argEnd);
        return pos;
      case Op.CONNECT:
        this.#sink.onConnect(buf, argStart, argEnd);
        return pos;
      case Op.INFO:
        this.#sink.onInfo(buf, argStart, argEnd);
        return pos;
      case Op.ERR:
        this.#sink.onClientError(buf, argStart, argEnd);
        this.#stopped = true;
        return pos;
      case Op.HMSG:
        // Clients have no business sending HMSG. The reference ignores its arguments for a
        // client and then expects an empty payload ("\r\n"), processed as an empty message.
        this.#setPubArgs(buf, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0);
        return this.#payload(chunk, pos);
    }
    throw new Error(`unreachable op ${op}`);
  }

  #processPub(headers: boolean, buf: Uint8Array, argStart: number, argEnd: number, chunk: Uint8Array, pos: number): number {
    if (headers && !this.headers) return this.#violation("message headers not supported", pos);
    // Split on spaces and tabs only (the reference's processPub); count every field but keep
    // the first four.
    let n = 0;
    let a0s = 0, a0e = 0, a1s = 0, a1e = 0, a2s = 0, a2e = 0, a3s = 0, a3e = 0;
    let s = -1;
    for (let p = argStart; p <= argEnd; p++) {
      const b = p < argEnd ? buf[p] : SPACE;
      if (b === SPACE || b === TAB) {
        if (s >= 0) {
          if (n === 0) { a0s = s; a0e = p; }
          else if (n === 1) { a1s = s; a1e = p; }
          else if (n === 2) { a2s = s; a2e = p; }
          else if (n === 3) { a3s = s; a3e = p; }
          n++;
          s = -1;
        }
      } else if (s < 0) s = p;
    }
    const what = headers ? "processHeaderPub" : "processPub";
    let replyStart = 0, replyEnd = 0, hdr = -1, size: number;
    if (!headers) {
      if (n === 2) size = parseSize(buf, a1s, a1e);
      else if (n === 3) {
        replyStart = a1s; replyEnd = a1e;
        size = parseSize(buf, a2s, a2e);
      } else return this.#violation(`${what} Parse Error: ${quoteBytes(buf, argStart, argEnd)}`, pos);
      if (size < 0) return this.#violation(`${what} Bad or Missing Size: ${quoteBytes(buf, argStart, argEnd)}`, pos);
    } else {
      if (n === 3) {
        hdr = parseSize(buf, a1s, a1e);
        size = parseSize(buf, a2s, a2e);
      } else if (n === 4) {
        replyStart = a1s; replyEnd = a1e;
        hdr = parseSize(buf, a2s, a2e);
        size = parseSize(buf, a3s, a3e);
      } else return this.#violation(`${what} Parse Error: ${quoteBytes(buf, argStart, argEnd)}`, pos);
      if (hdr < 0) return this.#violation(`${what} Bad or Missing Header Size: ${quoteBytes(buf, argStart, argEnd)}`, pos);
      if (size < 0) return this.#violation(`${what} Bad or Missing Total Size: ${quoteBytes(buf, argStart, argEnd)}`, pos);
      if (hdr > size) return this.#violation(`${what} Header Size larger then TotalSize: ${quoteBytes(buf, argStart, argEnd)}`, pos);
    }
    if (headers) this.#setPubArgs(buf, a0s, a0e, replyStart, replyEnd, hdr, size, n === 3 ? a2s : a3s, n === 3 ? a2e : a3e, n === 3 ? a1s : a2s, n === 3 ? a1e : a2e);
    else this.#setPubArgs(buf, a0s, a0e, replyStart, replyEnd, -1, size, n === 2 ? a1s : a2s, n === 2 ? a1e : a2e, 0, 0);
    if (this.checkPubLines || size > this.maxPayload) {
      this.#sink.onPubLine(this.pa);
      if (this.#stopped) return pos;
    }
    return this.#payload(chunk, pos);
  }

  #processSub(buf: Uint8Array, argStart: number, argEnd: number): void {
    // The reference's splitArg: fields separated by spaces, tabs, '\r' and '\n'.
    let n = 0;
    let a0s = 0, a0e = 0, a1s = 0, a1e = 0, a2s = 0, a2e = 0;
    let s = -1;
    for (let p = argStart; p <= argEnd; p++) {
      const b = p < argEnd ? buf[p] : SPACE;
      if (b === SPACE || b === TAB || b === CR || b === LF) {
        if (s >= 0) {
          if (n === 0) { a0s = s; a0e = p; }
          else if (n === 1) { a1s = s; a1e = p; }
          else if (n === 2) { a2s = s; a2e = p; }
          n++;
          s = -1;
        }
      } else if (s < 0) s = p;
    }
    if (n === 2) this.#sink.onSub(buf, a0s, a0e, -1, -1, a1s, a1e);
    else if (n === 3) this.#sink.onSub(buf, a0s, a0e, a1s, a1e, a2s, a2e);
    else this.#violation(`processSub Parse Error: ${quoteBytes(buf, argStart, argEnd)}`, 0);
  }

  #processUnsub(buf: Uint8Array, argStart: number, argEnd: number): void {
    let n = 0;
    let a0s = 0, a0e = 0, a1s = 0, a1e = 0;
    let s = -1;
    for (let p = argStart; p <= argEnd; p++) {
      const b = p < argEnd ? buf[p] : SPACE;
      if (b === SPACE || b === TAB || b === CR || b === LF) {
        if (s >= 0) {
          if (n === 0) { a0s = s; a0e = p; }
          else if (n === 1) { a1s = s; a1e = p; }
          n++;
          s = -1;
        }
      } else if (s < 0) s = p;
    }
    if (n === 1) this.#sink.onUnsub(buf, a0s, a0e, -1, false);
    else if (n === 2) this.#sink.onUnsub(buf, a0s, a0e, parseSize(buf, a1s, a1e), true);
    else this.#violation(`processUnsub Parse Error: ${quoteBytes(buf, argStart, argEnd)}`, 0);
  }

  #violation(reason: string, pos: number): number {
    this.#sink.onProtocolViolation(reason);
    this.#stopped = true;
    return pos;
  }

  #setPubArgs(buf: Uint8Array, ss: number, se: number, rs: number, re: number, hdr: number, size: number, szs: number, sze: number, hds: number, hde: number): void {
    const pa = this.pa;
    pa.buf = buf;
    pa.subjectStart = ss;
    pa.subjectEnd = se;
    pa.replyStart = rs;
    pa.replyEnd = re;
    pa.hdr = hdr;
    pa.size = size;
    pa.szStart = szs;
    pa.szEnd = sze;
    pa.hdbStart = hds;
    pa.hdbEnd = hde;
  }

  /**
   * The payload of the message in `pa` starts at chunk[pos]. Deliver it straight from the
   * chunk when it is all there; otherwise copy what there is and wait for more.
   */
  #payload(chunk: Uint8Array, pos: number): number {
    const size = this.pa.size;
    const need = size + 2;
    const end = chunk.length;
    if (end - pos >= need) {
      const at = pos + size;
      if (chunk[at] !== CR) {
        this.#parseError(chunk, at);
        return end;
      }
      if (chunk[at + 1] !== LF) {
        this.#parseError(chunk, at + 1);
        return end;
      }
      this.#sink.onMsg(this.pa, chunk, pos);
      return pos + need;
    }
    // Split payload: `pa` keeps referencing the argument line (see the file comment) and the
    // payload bytes are collected in a buffer of exactly the announced size plus "\r\n". A
    // byte that should be "\r" but is not fails right away, as in the reference.
    if (end - pos > size && chunk[pos + size] !== CR) {
      this.#parseError(chunk, pos + size);
      return end;
    }
    const msg = allocBytes(need);
    const have = end - pos;
    if (have > 0) msg.set(chunk.subarray(pos, end), 0);
    this.#msgBuf = msg;
    this.#msgLength = have;
    this.#state = State.PAYLOAD;
    return end;
  }

  #continuePayload(buf: Uint8Array): number {
    const msg = this.#msgBuf!;
    const take = Math.min(msg.length - this.#msgLength, buf.length);
    msg.set(take === buf.length ? buf : buf.subarray(0, take), this.#msgLength);
    const from = this.#msgLength;
    this.#msgLength += take;
    const size = this.pa.size;
    // Check the "\r" as soon as it is there, like the reference's byte-wise MSG_END_R state.
    if (from <= size && this.#msgLength > size && msg[size] !== CR) {
      this.#resetPayload();
      this.#parseError(msg, size);
      return buf.length;
    }
    if (this.#msgLength < msg.length) return buf.length;
    this.#resetPayload();
    if (msg[size + 1] !== LF) {
      this.#parseError(msg, size + 1);
      return buf.length;
    }
    this.#sink.onMsg(this.pa, msg, 0);
    return take;
  }

  #resetPayload(): void {
    this.#msgBuf = null;
    this.#msgLength = 0;
    this.#state = State.START;
  }

  /** No complete line in buf[start, end): validate what is there and keep it for the next chunk. */
  #startPartial(buf: Uint8Array, start: number, end: number): void {
    this.#lineLength = 0;
    this.#lineArgStart = -1;
    this.#state = State.PARTIAL_LINE;
    this.#feedLine(buf, start);
    if (!this.#stopped && this.#state === State.START) throw new Error("parser: a partial line completed within its own chunk");
    void end;
  }

  /** A control line is pending from earlier chunks; continue it from `buf`. */
  #continueLine(buf: Uint8Array): number {
    return this.#feedLine(buf, 0);
  }

  /**
   * Feeds buf[from..] into the pending line: byte by byte while the op name and the blanks
   * after it are incomplete (a few bytes at most: blanks are compacted), then up to the
   * line's '\n'. Completes the line when the '\n' is there. Returns the index in `buf` to
   * continue at.
   */
  #feedLine(buf: Uint8Array, from: number): number {
    const end = buf.length;
    let k = from;
    while (this.#lineArgStart < 0) {
      if (k >= end) return end;
      this.#appendLine(buf, k, k + 1);
      k++;
      const op = this.#scanOp(this.#line!, 0, this.#lineLength);
      if (op === SCAN_ERROR) {
        // The byte just added is the offending one; quote it from the chunk it came in.
        this.#lineLength = 0;
        this.#state = State.START;
        this.#parseError(buf, k - 1);
        return end;
      }
      if (op === NEED_MORE) {
        // Still in the name or in the blanks after it: keep the name and at most one blank.
        if (this.#scanNameEnd >= 0 && this.#scanArgStart > this.#scanNameEnd) this.#lineLength = this.#scanNameEnd + 1;
        continue;
      }
      this.#lineOp = op;
      if (op === Op.PING || op === Op.PONG || op === Op.OK) {
        this.#lineLength = 0;
        this.#state = State.START;
        const nl = buf.indexOf(LF, k);
        if (nl < 0) {
          this.#pendingOp = op;
          this.#state = State.SKIP_LINE;
          return end;
        }
        this.#fireSimple(op);
        return nl + 1;
      }
      this.#lineArgStart = this.#scanArgStart;
    }
    // The argument has started (its first byte is in the line): the line ends at the next '\n'.
    const nl = buf.indexOf(LF, k);
    if (nl < 0) {
      this.#appendArgument(buf, k, end);
      return end;
    }
    this.#appendArgument(buf, k, nl);
    if (this.#stopped) return end;
    this.#appendLine(buf, nl, nl + 1);
    const line = this.#line!;
    const lineNl = this.#lineLength - 1;
    const op = this.#lineOp;
    const argStart = this.#lineArgStart;
    this.#lineLength = 0;
    this.#lineArgStart = -1;
    this.#state = State.START;
    const next = this.#processArgs(op, line, argStart, lineNl, buf, nl + 1);
    // A payload still arriving keeps referencing the line as its argument buffer: the next
    // split line gets a fresh buffer.
    if (this.#state === State.PAYLOAD) this.#line = null;
    return next;
  }

  /** Appends argument bytes, failing as soon as the argument exceeds max_control_line. */
  #appendArgument(buf: Uint8Array, start: number, end: number): void {
    const cap = this.#lineArgStart + this.maxControlLine + 1;
    const stored = Math.max(0, Math.min(end - start, cap - this.#lineLength));
    if (stored > 0) this.#appendLine(buf, start, start + stored);
    const line = this.#line!;
    const argStart = this.#lineArgStart;
    // As the reference does at the end of every read: the argument so far, less its `drop`
    // byte once a '\r' was seen after its first byte, must fit in max_control_line.
    let argLength = this.#lineLength - argStart + (end - start - stored);
    if (argLength > 1 && line.subarray(argStart + 1, this.#lineLength).indexOf(CR) >= 0) argLength--;
    if (argLength > this.maxControlLine) {
      this.#sink.onMaxControlLine(argLength, quoteBytes(line, argStart, Math.min(this.#lineLength, argStart + 128)));
      this.#stopped = true;
    }
  }

  #appendLine(buf: Uint8Array, start: number, end: number): void {
    const len = end - start;
    const need = this.#lineLength + len;
    if (this.#line === null || this.#line.length < need) {
      const grown = allocBytes(Math.max(64, need * 2));
      if (this.#line !== null && this.#lineLength > 0) grown.set(this.#line.subarray(0, this.#lineLength), 0);
      this.#line = grown;
    }
    if (len === 1) this.#line[this.#lineLength] = buf[start];
    else this.#line.set(buf.subarray(start, end), this.#lineLength);
    this.#lineLength = need;
  }

  // PARTIAL_LINE: the op of the pending line and where its argument starts (-1: not yet).
  #lineOp = 0;
  #lineArgStart = -1;

  // Op name end (after its required separator) from the last #scanOp call.
  #scanNameEnd = 0;
}

