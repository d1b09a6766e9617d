// Differential tests: the same raw protocol scripts against our server and the reference
// nats-server, comparing every byte each sends back and whether it closes the connection.
//
// Masked: the INFO line is parsed and compared field by field except the fields that identify
// a server instance or its build (MASKED_INFO_FIELDS). The order in which one publish reaches
// several subscriptions of one connection is not part of the protocol, so runs of MSG/HMSG
// frames are compared sorted. Scripts avoid randomness (queue groups have one member).
//
// A script whose outcome differs for a reason already reported stays strictly asserted, and is
// listed in KNOWN_DIFFERENCES with the reason, which is printed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { canonicalFrames, runMultiScript, runScript, type MultiOutcome, type MultiScript, type Outcome, type Script } from "../harness/protocol.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

const MASKED_INFO_FIELDS = ["server_id", "server_name", "port", "client_id", "go", "nats_bun", "git_commit"];

/** Server configurations the scripts run under (the same config for both servers). */
const CONFIGS: Record<string, string> = {
  default: "",
  limits: "max_payload: 100\nmax_control_line: 64\nmax_subscriptions: 2\n",
  auth: "authorization { user: a, password: b }\n",
  token: 'authorization { token: "tok" }\n',
  noheaders: "no_header_support: true\n",
  subtokens: "max_sub_tokens: 3\n",
  conns: "max_connections: 2\n",
};

/** Scripts whose outcome is known to differ, with the reason (reported to the owner). */
// History: "subjects that are not valid UTF-8 stay distinct" (subjects decoded as UTF-8
// collided in the sublist) was listed here until 0231fa6 fixed it.
const KNOWN_DIFFERENCES: { script: string; reason: string }[] = [];

const quiet = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
const quietHeaders = 'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n';
const HDR = "NATS/1.0\r\nA: 1\r\nA: 2\r\nb: x\r\n\r\n"; // 30 bytes
const x = (n: number): string => "x".repeat(n);

const SCRIPTS: Script[] = [
  // ---- CONNECT, PING, PONG, INFO, +OK -------------------------------------------------
  { name: "CONNECT {} is verbose by default", steps: ["CONNECT {}\r\n"] },
  { name: "CONNECT quiet", steps: [quiet] },
  { name: "CONNECT without a blank", steps: ['CONNECT{"verbose":false}\r\n'] },
  { name: "CONNECT with tabs", steps: ['CONNECT\t \t{"verbose":true}\r\n'] },
  { name: "CONNECT keys match case-insensitively", steps: ['CONNECT {"Verbose":false,"PEDANTIC":false}\r\nPUB a.* 0\r\n\r\n'] },
  { name: "CONNECT unknown keys are ignored", steps: ['CONNECT {"foo":1,"verbose":false,"lang":"x","version":"1","name":"n"}\r\n'] },
  { name: "CONNECT null keeps the defaults", steps: ["CONNECT null\r\n"] },
  { name: "CONNECT protocol 0 and 1 are fine", steps: ['CONNECT {"protocol":0}\r\nCONNECT {"protocol":1}\r\n'] },
  { name: "commands before CONNECT use the defaults (verbose, pedantic)", steps: ["SUB a 1\r\nPUB a.> 0\r\n\r\nPUB a 1\r\nx\r\n"] },
  { name: "PING in any case, with junk before the line end", steps: ["PING\r\nping\r\npInG\r\nPING junk\r\nPINGx\n"] },
  { name: "PONG and +OK from the client are ignored", steps: [quiet + "PONG\r\npong x\r\n+OK\r\n+ok\r\n+OKAY\r\n"] },
  { name: "INFO from the client is ignored", steps: [quiet + 'INFO {"server_id":"x"}\r\ninfo{}\r\n'] },
  { name: "a line split across writes", steps: [quiet + "SUB fo", "o 1\r\nPU", "B foo 2\r\nh", "i\r", "\nPI", "NG\r\n"] },

  // ---- PUB, SUB, MSG ----------------------------------------------------------------------
  { name: "PUB/SUB/MSG", steps: [quiet + "SUB foo 1\r\nPUB foo 5\r\nhello\r\n"] },
  { name: "PUB with a reply subject", steps: [quiet + "SUB foo 1\r\nPUB foo _INBOX.a.b 2\r\nhi\r\n"] },
  { name: "zero-length payload", steps: [quiet + "SUB foo 1\r\nPUB foo 0\r\n\r\nPUB foo r 0\r\n\r\n"] },
  { name: "payload containing CRLF", steps: [quiet + "SUB foo 1\r\nPUB foo 7\r\n\r\nPUB\r\n\r\n"] },
  { name: "size digits forwarded verbatim", steps: [quiet + "SUB foo 1\r\nPUB foo 007\r\nhello12\r\nPUB foo r 00\r\n\r\n"] },
  { name: "'*' wildcard", steps: [quiet + "SUB a.* 1\r\nPUB a 1\r\n1\r\nPUB a.b 1\r\n2\r\nPUB a.b.c 1\r\n3\r\n"] },
  { name: "'>' wildcard", steps: [quiet + "SUB a.> 1\r\nSUB > 2\r\nPUB a 1\r\n1\r\nPUB a.b 1\r\n2\r\nPUB a.b.c 1\r\n3\r\n"] },
  { name: "literal and wildcard subscriptions of one connection", steps: [quiet + "SUB a.b 1\r\nSUB a.* 2\r\nSUB *.b 3\r\nSUB a.> 4\r\nSUB > 5\r\nPUB a.b 2\r\nab\r\n"] },
  { name: "published wildcards reach wildcard subscriptions only (non-pedantic)", steps: [quiet + "SUB a.b 1\r\nSUB a.* 2\r\nSUB a.> 3\r\nPUB a.* 1\r\n*\r\nPUB a.> 1\r\n>\r\n"] },
  { name: "wildcard characters inside tokens are literals", steps: [quiet + "SUB a*.>b 1\r\nSUB a.* 2\r\nPUB a*.>b 1\r\nx\r\nPUB a.*b 1\r\ny\r\n"] },
  { name: "UTF-8 subjects", steps: [quiet + "SUB grüße.€.* 1\r\nPUB grüße.€.日本 2\r\nok\r\n"] },
  { name: "subjects that are not valid UTF-8 stay distinct", latin1: true, steps: [quiet + "SUB \xff 1\r\nSUB a.\xc3 2\r\nPUB \xfe 1\r\nx\r\nPUB a.\xc4 1\r\ny\r\nPUB \xff 1\r\nz\r\n"] },
  { name: "a long subject just under the default control line", steps: [quiet + `SUB ${x(4000)} 1\r\nPUB ${x(4000)} 1\r\nz\r\n`] },
  { name: "same sid twice: the first subscription stays", steps: [quiet + "SUB a 1\r\nSUB b 1\r\nPUB a 1\r\n1\r\nPUB b 1\r\n2\r\n"] },
  { name: "two sids on one subject", steps: [quiet + "SUB a 1\r\nSUB a 2\r\nPUB a 1\r\nx\r\n"] },
  { name: "queue group with one member, and a plain subscriber", steps: [quiet + "SUB q g 1\r\nSUB q 2\r\nPUB q 1\r\nx\r\nPUB q r 1\r\ny\r\n"] },
  { name: "two queue groups, one member each", steps: [quiet + "SUB q.* g1 1\r\nSUB q.> g2 2\r\nPUB q.x 1\r\nx\r\n"] },
  { name: "no subscribers: dropped silently", steps: [quiet + "PUB nobody 2\r\nhi\r\n"] },
  { name: "lower-case ops, tabs and \\n-only line ends", steps: ["connect\t{\"verbose\":false}\nsub\tt.x\t\t5\nPuB t.x\t3\nabc\r\nunsub 5\n"] },
  { name: "the drop byte: '\\r' inside SUB arguments", steps: [quiet + "SUB foo 12\r3\nPUB foo 1\r\nx\r\n"] },
  { name: "pipelined commands", steps: [quiet + Array.from({ length: 50 }, (_, i) => `SUB s.${i} ${i}\r\nPUB s.${i} ${String(i).length}\r\n${i}\r\nUNSUB ${i}\r\nPUB s.${i} 1\r\nz\r\n`).join("")] },
  { name: "payload split across writes", steps: [quiet + "SUB foo 1\r\nPUB foo 11\r\nhel", "lo wor", "ld\r", "\n"] },

  // ---- UNSUB ------------------------------------------------------------------------------
  { name: "UNSUB", steps: [quiet + "SUB a 1\r\nPUB a 1\r\n1\r\nUNSUB 1\r\nPUB a 1\r\n2\r\n"] },
  { name: "UNSUB with max", steps: [quiet + "SUB a 1\r\nUNSUB 1 2\r\n" + "PUB a 1\r\nx\r\n".repeat(4) + "SUB a 1\r\nPUB a 1\r\ny\r\n"] },
  { name: "UNSUB with a max already reached", steps: [quiet + "SUB a 1\r\nPUB a 1\r\n1\r\nPUB a 1\r\n2\r\nUNSUB 1 1\r\nPUB a 1\r\n3\r\n"] },
  { name: "UNSUB with a max that is not a number", steps: [quiet + "SUB a 1\r\nUNSUB 1 abc\r\nPUB a 1\r\n1\r\n"] },
  { name: "UNSUB of an unknown sid (verbose)", steps: ['CONNECT {"pedantic":false}\r\nUNSUB 99\r\nUNSUB 98 5\r\n'] },

  // ---- Verbose and pedantic ---------------------------------------------------------------
  { name: "verbose: +OK after every op but PING", steps: ['CONNECT {"verbose":true,"pedantic":false,"headers":true}\r\nSUB v 1\r\nPUB v 2\r\nhi\r\n' + `HPUB v ${HDR.length} ${HDR.length}\r\n${HDR}\r\n` + "UNSUB 1\r\nPING\r\nPONG\r\n"] },
  { name: "pedantic: Invalid Publish Subject, still delivered", steps: ['CONNECT {"verbose":false,"pedantic":true}\r\nSUB p.* 1\r\nPUB p.* 1\r\na\r\nPUB p.> 1\r\nb\r\nPUB p.x r.* 1\r\nc\r\n'] },
  { name: "pedantic and verbose together", steps: ['CONNECT {"verbose":true,"pedantic":true}\r\nPUB p.* 1\r\na\r\n'] },

  // ---- Echo ----------------------------------------------------------------------------
  { name: "echo false", steps: ['CONNECT {"verbose":false,"pedantic":false,"echo":false}\r\nSUB e 1\r\nPUB e 1\r\nx\r\n'] },
  { name: "echo true", steps: ['CONNECT {"verbose":false,"pedantic":false,"echo":true}\r\nSUB e 1\r\nPUB e 1\r\nx\r\n'] },

  // ---- Headers and no responders --------------------------------------------------------------
  { name: "HPUB → HMSG", steps: [quietHeaders + `SUB h 1\r\nHPUB h ${HDR.length} ${HDR.length + 5}\r\n${HDR}hello\r\n`] },
  { name: "HPUB with reply and verbatim size digits", steps: [quietHeaders + `SUB h 1\r\nHPUB h r.1 0${HDR.length} 00${HDR.length + 1}\r\n${HDR}!\r\n`] },
  { name: "HPUB with an empty header block size", steps: [quietHeaders + "SUB h 1\r\nHPUB h 0 2\r\nhi\r\n"] },
  { name: "PUB to a header-capable subscriber stays MSG", steps: [quietHeaders + "SUB h 1\r\nPUB h 2\r\nhi\r\n"] },
  { name: "no responders: 503 on the reply subscription", steps: ['CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.1 9\r\nPUB svc _INBOX.1 2\r\nhi\r\n'] },
  { name: "no responders: wildcard reply subscription", steps: ['CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.* 9\r\nPUB svc _INBOX.x 0\r\n\r\n'] },
  { name: "no responders: no reply subscription, no reply, or a responder", steps: ['CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB svc 1\r\nSUB _INBOX.2 2\r\nPUB none _INBOX.1 0\r\n\r\nPUB none 0\r\n\r\nPUB svc _INBOX.2 0\r\n\r\n'] },
  { name: "no responders via HPUB", steps: ['CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.3 1\r\n' + `HPUB svc _INBOX.3 ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`] },

  // ---- Errors that close -------------------------------------------------------------------
  { name: "unknown op", closes: true, steps: [quiet + "FOO bar\r\n"] },
  { name: "unknown op after a good prefix", closes: true, steps: [quiet + "PUBX\r\n"] },
  { name: "MSG from a client", closes: true, steps: [quiet + "MSG foo 1 1\r\nx\r\n"] },
  { name: "NUL byte", closes: true, steps: [quiet + "\x00\r\n"] },
  { name: "op name without its blank", closes: true, steps: [quiet + "SUBfoo 1\r\n"] },
  { name: "-ERR without its blank", closes: true, steps: [quiet + "-ERRx\r\n"] },
  { name: "answers before the error are sent first", closes: true, steps: [quiet + "SUB a 1\r\nPUB a 1\r\nx\r\nPING\r\nBAD\r\n"] },
  { name: "payload longer than announced", closes: true, steps: [quiet + "SUB a 1\r\nPUB a 3\r\nabcdef\r\n"] },
  { name: "payload followed by \\n only", closes: true, steps: [quiet + "PUB a 3\r\nabc\n"] },
  { name: "payload followed by '\\r' and junk", closes: true, steps: [quiet + "PUB a 3\r\nabc\rX"] },
  { name: "PUB without size", closes: true, steps: [quiet + "PUB foo\r\n"] },
  { name: "PUB with a bad size", closes: true, steps: [quiet + "PUB foo x\r\n"] },
  { name: "PUB with too many arguments", closes: true, steps: [quiet + "PUB a b c 1\r\n"] },
  { name: "SUB without sid", closes: true, steps: [quiet + "SUB foo\r\n"] },
  { name: "SUB with too many arguments", closes: true, steps: [quiet + "SUB a b c d\r\n"] },
  { name: "UNSUB with too many arguments", closes: true, steps: [quiet + "UNSUB 1 2 3\r\n"] },
  { name: "-ERR from the client", closes: true, steps: [quiet + "-ERR 'oops'\r\n"] },
  { name: "CONNECT with bad JSON", closes: true, steps: ["CONNECT {bad\r\n"] },
  { name: "CONNECT with an empty argument", closes: true, steps: ["CONNECT \r\n"] },
  { name: "CONNECT with a wrong type", closes: true, steps: ['CONNECT {"verbose":"yes"}\r\n'] },
  { name: "CONNECT with an array", closes: true, steps: ["CONNECT [1]\r\n"] },
  { name: "invalid client protocol", closes: true, steps: ['CONNECT {"verbose":false,"protocol":2}\r\n'] },
  { name: "invalid client protocol: negative", closes: true, steps: ['CONNECT {"verbose":false,"protocol":-1}\r\n'] },
  { name: "no responders requires headers", closes: true, steps: ['CONNECT {"verbose":false,"no_responders":true}\r\n'] },
  { name: "Maximum Payload Violation at 1 MiB", closes: true, steps: [quiet + "PUB foo 1048577\r\n"] },
  { name: "HPUB without headers in CONNECT", closes: true, steps: [quiet + `HPUB h ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`] },
  { name: "HPUB header size larger than total", closes: true, steps: [quietHeaders + "HPUB h 10 5\r\n"] },
  { name: "HPUB with a bad header size", closes: true, steps: [quietHeaders + "HPUB h x 5\r\n"] },
  { name: "HMSG from a client followed by an empty payload", steps: [quietHeaders + "SUB foo 1\r\nHMSG foo 1 2 3\r\n\r\nPUB foo 1\r\nx\r\n"] },
  { name: "a nine-digit size is a payload violation", closes: true, steps: [quiet + "PUB foo 999999999\r\n"] },
  { name: "a ten-digit size is a bad size", closes: true, steps: [quiet + "PUB foo 1000000000\r\n"] },
  { name: "HMSG from a client", closes: true, steps: [quietHeaders + "HMSG foo 1 2 3\r\nxx\r\n"] },

  // ---- Errors that do not close --------------------------------------------------------------
  { name: "Invalid Subject", steps: [quiet + "SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB . 3\r\nSUB foo. 4\r\nSUB .foo q 5\r\nSUB >.x 6\r\n"] },
  { name: "Invalid Subject (verbose)", steps: ['CONNECT {"pedantic":false}\r\nSUB a..b 1\r\nSUB ok 2\r\n'] },

  // ---- Lowered limits ---------------------------------------------------------------------------
  { name: "max_payload: exactly at it", server: "limits", steps: [quiet + `SUB big 1\r\nPUB big 100\r\n${x(100)}\r\n`] },
  { name: "max_payload: one over", server: "limits", closes: true, steps: [quiet + "PUB big 101\r\n"] },
  { name: "max_payload: HPUB counts the headers", server: "limits", closes: true, steps: [quietHeaders + "HPUB big 60 101\r\n"] },
  { name: "max_control_line: exactly at it", server: "limits", steps: [quiet + `SUB ${x(62)} 1\r\n`] },
  { name: "max_control_line: complete line over it", server: "limits", closes: true, steps: [quiet + `SUB ${x(63)} 1\r\n`] },
  { name: "max_control_line: partial line over it", server: "limits", closes: true, steps: [quiet + `PUB ${x(200)}`] },
  { name: "max_control_line: CONNECT over it", server: "limits", closes: true, steps: [`CONNECT {"name":"${x(64)}"}\r\n`] },
  { name: "max_control_line: PING lines are not limited", server: "limits", steps: [quiet + `PING ${x(200)}\r\n`] },
  { name: "max_subscriptions", server: "limits", steps: ['CONNECT {"pedantic":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\nSUB a 1\r\nPUB a 1\r\nx\r\nUNSUB 1\r\nSUB c 3\r\nPUB c 1\r\ny\r\n'] },
  { name: "max_sub_tokens", server: "subtokens", steps: [quiet + "SUB a.b.c 1\r\nSUB a.b.c.d 2\r\nSUB a.b.> 3\r\nSUB a.b.c.> q 4\r\nPUB a.b.c 1\r\nx\r\n"] },

  // ---- Authorization ---------------------------------------------------------------------------
  { name: "auth: user and password", server: "auth", steps: ['CONNECT {"user":"a","pass":"b","pedantic":false}\r\nSUB a 1\r\nPUB a 1\r\nx\r\n'] },
  { name: "auth: wrong password", server: "auth", closes: true, steps: ['CONNECT {"user":"a","pass":"x"}\r\n'] },
  { name: "auth: no credentials", server: "auth", closes: true, steps: ["CONNECT {}\r\n"] },
  { name: "auth: PING before CONNECT", server: "auth", closes: true, steps: ["PING\r\n"] },
  { name: "auth: garbage before CONNECT", server: "auth", closes: true, steps: ["XYZ\r\n"] },
  { name: "auth: 'c' garbage before CONNECT", server: "auth", closes: true, steps: ["cXYZ\r\n"] },
  { name: "auth: good CONNECT with pipelined commands", server: "auth", steps: ['CONNECT {"user":"a","pass":"b","verbose":false}\r\nSUB p 1\r\nPUB p 2\r\nhi\r\nPING\r\n'] },
  { name: "auth: account in CONNECT is refused", server: "auth", closes: true, steps: ['CONNECT {"user":"a","pass":"b","account":"A"}\r\n'] },
  { name: "token: right", server: "token", steps: ['CONNECT {"auth_token":"tok","verbose":true}\r\n'] },
  { name: "token: wrong", server: "token", closes: true, steps: ['CONNECT {"auth_token":"tak"}\r\n'] },
  { name: "token: user and password instead", server: "token", closes: true, steps: ['CONNECT {"user":"tok","pass":"tok"}\r\n'] },

  // ---- No header support ----------------------------------------------------------------------
  { name: "no_header_support: INFO and CONNECT headers:true", server: "noheaders", steps: [quietHeaders + "SUB h 1\r\nPUB h 1\r\nx\r\n"] },
  { name: "no_header_support: HPUB closes", server: "noheaders", closes: true, steps: [quietHeaders + `HPUB h ${HDR.length} ${HDR.length}\r\n${HDR}\r\n`] },
  { name: "no_header_support: no_responders needs headers", server: "noheaders", closes: true, steps: ['CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n'] },

  // ---- Chunking ---------------------------------------------------------------------------------
  {
    name: "a mixed script written byte by byte",
    pieceBytes: 1,
    steps: [
      'CONNECT {"verbose":true,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB p.a 1\r\nsub p.* 2\r\nSUB p.> grp 3\r\n' +
        `PUB p.a 5\r\nhello\r\nPUB p.b r.1 0\r\n\r\nHPUB p.a ${HDR.length} ${HDR.length + 2}\r\n${HDR}hi\r\nPING\r\nUNSUB 2 1\r\n` +
        "PUB p.c 4\r\n\r\n\r\n\r\nSUB _INBOX.z 9\r\nPUB none _INBOX.z 0\r\n\r\nPUB p.a 007\r\n1234567\r\nPONG\r\n+OK\r\nPING\r\n",
    ],
  },
  { name: "an error script written byte by byte", pieceBytes: 1, closes: true, steps: [quiet + "SUB a 1\r\nPUB a 1\r\nx\r\nPUB a 2\r\nxyz\r\n"] },
];

/** Scripts over several connections (deterministic: every connection is synced after each step). */
const MULTI_SCRIPTS: MultiScript[] = [
  {
    name: "headers are stripped for a subscriber without header support",
    conns: 2,
    steps: [
      [0, quiet + "SUB h 1\r\n"],
      [1, quietHeaders + `HPUB h ${HDR.length} ${HDR.length + 5}\r\n${HDR}hello\r\nHPUB h r.1 ${HDR.length} ${HDR.length}\r\n${HDR}\r\nHPUB h 0 2\r\nhi\r\n`],
    ],
  },
  {
    name: "echo false across connections",
    conns: 2,
    steps: [
      [0, 'CONNECT {"verbose":false,"pedantic":false,"echo":false}\r\nSUB e 1\r\n'],
      [1, quiet + "SUB e 2\r\n"],
      [0, "PUB e 4\r\nfrom\r\n"],
      [1, "PUB e 5\r\nother\r\n"],
    ],
  },
  {
    name: "verbose subscriber, quiet publisher",
    conns: 2,
    steps: [
      [0, 'CONNECT {"verbose":true,"pedantic":false}\r\nSUB v.* 1\r\n'],
      [1, 'CONNECT {"verbose":false,"pedantic":true}\r\nPUB v.x 1\r\nx\r\nPUB v.* 1\r\ny\r\n'],
    ],
  },
  {
    name: "auto-unsubscribe counts deliveries from all publishers",
    conns: 3,
    steps: [
      [0, quiet + "SUB a 1\r\nUNSUB 1 2\r\n"],
      [1, quiet + "PUB a 2\r\np1\r\n"],
      [2, quiet + "PUB a 2\r\np2\r\n"],
      [1, "PUB a 2\r\np3\r\n"],
    ],
  },
  {
    name: "the same sid on two connections is two subscriptions",
    conns: 3,
    steps: [
      [0, quiet + "SUB s 1\r\n"],
      [1, quiet + "SUB s 1\r\nUNSUB 1\r\n"],
      [2, quiet + "PUB s 1\r\nx\r\n"],
    ],
  },
  {
    name: "a one-member queue group and a plain subscriber on other connections",
    conns: 3,
    steps: [
      [0, quiet + "SUB q g 1\r\n"],
      [1, quiet + "SUB q 1\r\n"],
      [2, quiet + "PUB q r 1\r\nx\r\n"],
      [0, "UNSUB 1\r\n"],
      [2, "PUB q 1\r\ny\r\n"],
    ],
  },
  {
    name: "no responders once the only responder leaves",
    conns: 2,
    steps: [
      [0, quiet + "SUB svc 1\r\n"],
      [1, 'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.r 7\r\nPUB svc _INBOX.r 1\r\n1\r\n'],
      [0, "UNSUB 1\r\n"],
      [1, "PUB svc _INBOX.r 1\r\n2\r\n"],
    ],
  },
  {
    name: "a client closed for garbage leaves the others working",
    conns: 3,
    steps: [
      [0, quiet + "SUB g 1\r\n"],
      [1, quiet + "SUB g 2\r\nPUB g 1\r\na\r\n\x01\x02junk\r\n", true],
      [2, quiet + "PUB g 1\r\nb\r\n"],
    ],
  },
  {
    name: "subscriptions of a closed client are gone",
    conns: 3,
    steps: [
      [0, quiet + "SUB c 1\r\n"],
      [1, quiet + "SUB c 2\r\nBAD\r\n", true],
      [2, 'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.c 3\r\nPUB c _INBOX.c 1\r\nx\r\n'],
      [0, "UNSUB 1\r\n"],
      [2, "PUB c _INBOX.c 1\r\ny\r\n"],
    ],
  },
  {
    name: "maximum connections exceeded",
    server: "conns",
    conns: 3,
    steps: [
      [0, quiet + "SUB m 1\r\n"],
      [1, quiet + "PUB m 1\r\nx\r\n"],
    ],
  },
];

// ---- Runner ---------------------------------------------------------------------------------

function masked(info: Record<string, unknown> | null): Record<string, unknown> | null {
  if (info === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) if (!MASKED_INFO_FIELDS.includes(k)) out[k] = v;
  return out;
}

function comparable(o: Outcome): { info: Record<string, unknown> | null; frames: string[]; closed: boolean } {
  return { info: masked(o.info), frames: canonicalFrames(o.output), closed: o.closed };
}

function comparableMulti(o: MultiOutcome): { infos: (Record<string, unknown> | null)[]; frames: string[][]; closed: boolean[] } {
  return { infos: o.infos.map(masked), frames: o.outputs.map(canonicalFrames), closed: o.closed };
}

const ours: Record<string, RunningServer> = {};
const reference: Record<string, RunningServer> = {};

test("the script list covers at least 50 cases, with unique names", () => {
  const names = [...SCRIPTS, ...MULTI_SCRIPTS].map((s) => s.name);
  expect(names.length).toBeGreaterThanOrEqual(50);
  expect(new Set(names).size).toBe(names.length);
  for (const k of KNOWN_DIFFERENCES) expect(names).toContain(k.script);
  for (const s of [...SCRIPTS, ...MULTI_SCRIPTS]) expect(CONFIGS[s.server ?? "default"]).toBeDefined();
});

if (referenceBinary === null) {
  console.warn("differential tests skipped: the reference nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BINARY)");
}

describe.skipIf(referenceBinary === null)("ours vs the reference nats-server", () => {
  beforeAll(async () => {
    await Promise.all(
      Object.entries(CONFIGS).flatMap(([name, config]) => [
        startServer({ config }).then((s) => (ours[name] = s)),
        startServer({ config, binary: referenceBinary! }).then((s) => (reference[name] = s)),
      ]),
    );
    if (KNOWN_DIFFERENCES.length > 0) {
      console.log(`known differences from the reference (${KNOWN_DIFFERENCES.length}), asserted strictly:\n` + KNOWN_DIFFERENCES.map((k) => `  - ${k.script}: ${k.reason}`).join("\n"));
    }
  });

  afterAll(async () => {
    await Promise.all([...Object.values(ours), ...Object.values(reference)].map((s) => s.stop()));
  });

  for (const script of SCRIPTS) {
    const known = KNOWN_DIFFERENCES.find((k) => k.script === script.name);
    test(script.name + (known ? " [known difference]" : ""), async () => {
      const server = script.server ?? "default";
      const opts = { timeoutMs: 1_500 };
      const [a, b] = await Promise.all([runScript(ours[server].port, script, opts), runScript(reference[server].port, script, opts)]);
      const same = Bun.deepEquals(comparable(a), comparable(b));
      if (known) console.log(same ? `known difference "${script.name}" no longer reproduces: remove it from KNOWN_DIFFERENCES` : `known difference "${script.name}": ${known.reason}`);
      expect(comparable(a)).toEqual(comparable(b));
      // A script's own expectation about closing must hold too (else it tests the wrong thing).
      expect(b.closed).toBe(script.closes === true);
    });
  }

  for (const script of MULTI_SCRIPTS) {
    const known = KNOWN_DIFFERENCES.find((k) => k.script === script.name);
    test(`${script.name} (${script.conns} connections)` + (known ? " [known difference]" : ""), async () => {
      const server = script.server ?? "default";
      const [a, b] = await Promise.all([runMultiScript(ours[server].port, script), runMultiScript(reference[server].port, script)]);
      const same = Bun.deepEquals(comparableMulti(a), comparableMulti(b));
      if (known) console.log(same ? `known difference "${script.name}" no longer reproduces: remove it from KNOWN_DIFFERENCES` : `known difference "${script.name}": ${known.reason}`);
      expect(comparableMulti(a)).toEqual(comparableMulti(b));
      // Something must have been delivered across connections, or the script tests nothing.
      expect(b.outputs.some((o) => /MSG|-ERR/.test(o))).toBe(true);
    });
  }

  test("INFO is byte-identical apart from the masked fields, and in the same field order", async () => {
    const grab = async (s: RunningServer): Promise<string> => {
      const o = await runScript(s.port, { name: "info", steps: [] });
      return Object.keys(o.info ?? {}).filter((k) => !MASKED_INFO_FIELDS.includes(k)).join(",");
    };
    for (const name of Object.keys(CONFIGS)) expect({ name, order: await grab(ours[name]) }).toEqual({ name, order: await grab(reference[name]) });
  });
});
