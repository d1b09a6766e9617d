// Differential tests of authorization: users, default permissions, publish/subscribe allow and
// deny with wildcards and queue groups, allow_responses, the deny filter on delivery to
// wildcard subscriptions, no_auth_user, nkey refusals and accounts — the same raw scripts
// against our server and the reference nats-server, every byte compared (see
// differential.test.ts for the masking rules).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { canonicalFrames, runMultiScript, runScript, type MultiOutcome, type MultiScript, type Outcome, type Script } from "../harness/protocol.ts";
import { referenceBinary, startServer, type RunningServer } from "../harness/server.ts";

const MASKED_INFO_FIELDS = ["server_id", "server_name", "port", "client_id", "go", "nats_bun", "git_commit", "nonce"];

// A fixed nkey user (the public key of a seed made for these tests): signatures over the
// random nonce cannot be scripted, so only refusals are compared here; the official client
// signs in test/integration/auth.test.ts.
const NKEY_USER = "UAYYPVH3KVUFAG2GT444XTB7FWUW3CMSDLUGKYHKYGB7SJGUZO43XFTY";

const CONFIGS: Record<string, string> = {
  users: `authorization {
  users: [
    {user: alice, password: pa, permissions: {publish: {allow: ["a.>", "_INBOX.>"], deny: ["a.secret"]}, subscribe: {allow: ["a.>", "q.* grp", "w.* wq.*", "_INBOX.>"], deny: ["a.hidden", "q.x bad"]}}}
    {user: bob, password: pb, permissions: {publish: "b.>", subscribe: ["b.>", "req.>"], allow_responses: {max: 2}}}
    {user: carl, password: pc}
    {user: dave, password: pd, permissions: {subscribe: {deny: ["secret.>", "a.b.c"]}}}
    {user: erin, password: pe, permissions: {publish: ["req.>", "b.>"], subscribe: "_INBOX.>"}}
    {user: fay, password: pf, permissions: {publish: {deny: ">"}, allow_responses: true}}
  ]
  default_permissions: { publish: "def.>" }
}
`,
  noauth: `authorization { users: [ {user: anon, password: x, permissions: {publish: "open.>", subscribe: "open.>"}}, {user: admin, password: y} ] }
no_auth_user: anon
`,
  nkeys: `authorization { users: [ {nkey: ${NKEY_USER}}, {user: u, password: p} ] }\n`,
  accounts: `accounts {
  A: { users: [ {user: a1, password: a}, {user: a2, password: a} ] }
  B: { users: [ {user: b1, password: b} ] }
}
`,
  acclimits: `accounts { A: { users: [ {user: a, password: a} ], limits: { max_connections: 1, max_subscriptions: 2, max_payload: 8 } } }\n`,
  imports: `accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "s.>"}, {service: "svc.>"}, {service: "many", response: stream}, {stream: "priv.>", accounts: [B]}, {service: "wild.*.*"} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {stream: {account: A, subject: "s.>"}, prefix: "fromA"}
      {stream: {account: A, subject: "priv.>"}}
      {service: {account: A, subject: "svc.x"}, to: "x"}
      {service: {account: A, subject: "svc.y"}}
      {service: {account: A, subject: "many"}}
      {service: {account: A, subject: "wild.*.*"}, to: "local.$2.$1"}
    ]
  }
  C: { users: [ {user: c, password: c} ], mappings: { "m.*": "mapped.$1", "p.*": "part.{{partition(4,1)}}", "sp.*": "{{splitfromleft(1,2)}}", "drop": [ {destination: "kept", weight: 0%} ] } }
}
authorization { users: [ {user: g, password: g} ] }
mappings { "g.*.*": "gm.{{wildcard(2)}}.{{wildcard(1)}}" }
`,
};

const alice = 'CONNECT {"user":"alice","pass":"pa","verbose":false,"pedantic":false}\r\n';
const aliceVerbose = 'CONNECT {"user":"alice","pass":"pa","verbose":true,"pedantic":false}\r\n';
const bob = 'CONNECT {"user":"bob","pass":"pb","verbose":false,"pedantic":false}\r\n';
const carl = 'CONNECT {"user":"carl","pass":"pc","verbose":false,"pedantic":false}\r\n';
const dave = 'CONNECT {"user":"dave","pass":"pd","verbose":false,"pedantic":false}\r\n';
const erin = 'CONNECT {"user":"erin","pass":"pe","verbose":false,"pedantic":false}\r\n';
const fay = 'CONNECT {"user":"fay","pass":"pf","verbose":false,"pedantic":false}\r\n';
const as = (user: string, extra = ""): string => `CONNECT {"user":"${user}","pass":"${user}","verbose":false,"pedantic":false${extra}}\r\n`;
/** The reply subject of the last MSG a connection received. */
const lastReply = (out: string): string => {
  const lines = out.split("\r\n").filter((l) => l.startsWith("MSG ") || l.startsWith("HMSG "));
  const f = lines[lines.length - 1]?.split(" ") ?? [];
  return f.length >= 5 ? f[3] : "none";
};
const quiet = (extra: string): string => `CONNECT {"verbose":false,"pedantic":false${extra}}\r\n`;

const SCRIPTS: Script[] = [
  // ---- authentication ------------------------------------------------------------------------
  { name: "users: right password", server: "users", steps: ['CONNECT {"user":"carl","pass":"pc"}\r\n'] },
  { name: "users: wrong password", server: "users", closes: true, steps: ['CONNECT {"user":"carl","pass":"px"}\r\n'] },
  { name: "users: unknown user", server: "users", closes: true, steps: ['CONNECT {"user":"zed","pass":"pc"}\r\n'] },
  { name: "users: no credentials", server: "users", closes: true, steps: ["CONNECT {}\r\n"] },
  { name: "users: a token is not a user", server: "users", closes: true, steps: ['CONNECT {"auth_token":"pc"}\r\n'] },
  { name: "users: credentials of the wrong type", server: "users", closes: true, steps: ['CONNECT {"user":1,"pass":"pc"}\r\n'] },
  { name: "no_auth_user: no credentials act as the user", server: "noauth", steps: [quiet("") + "SUB open.x 1\r\nSUB closed 2\r\nPUB open.x 1\r\nx\r\nPUB closed 1\r\ny\r\n"] },
  { name: "no_auth_user: other users still log in", server: "noauth", steps: ['CONNECT {"user":"admin","pass":"y","verbose":false}\r\nSUB closed 2\r\nPUB closed 1\r\ny\r\n'] },
  { name: "no_auth_user: a wrong password is not the no-auth user", server: "noauth", closes: true, steps: ['CONNECT {"user":"admin","pass":"z"}\r\n'] },
  { name: "nkeys: INFO has a nonce, an nkey without a signature is refused", server: "nkeys", closes: true, steps: [`CONNECT {"nkey":"${NKEY_USER}"}\r\n`] },
  { name: "nkeys: a bad signature is refused", server: "nkeys", closes: true, steps: [`CONNECT {"nkey":"${NKEY_USER}","sig":"AAAA"}\r\n`] },
  { name: "nkeys: a signature that is not base64 is refused", server: "nkeys", closes: true, steps: [`CONNECT {"nkey":"${NKEY_USER}","sig":"!!!"}\r\n`] },
  { name: "nkeys: an unknown nkey is refused", server: "nkeys", closes: true, steps: ['CONNECT {"nkey":"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4","sig":"AAAA"}\r\n'] },
  { name: "nkeys: users still log in beside nkeys", server: "nkeys", steps: ['CONNECT {"user":"u","pass":"p","verbose":false}\r\nSUB x 1\r\nPUB x 1\r\nx\r\n'] },

  // ---- publish permissions ---------------------------------------------------------------------
  { name: "publish: allowed, denied by deny, outside allow; no +OK for a violation", server: "users", steps: [aliceVerbose + "SUB a.> 1\r\nPUB a.x 1\r\nx\r\nPUB a.secret 1\r\ny\r\nPUB b.x 1\r\nz\r\nPUB a.x reply.x 1\r\nw\r\n"] },
  { name: "publish: the violation does not close; later publishes work", server: "users", steps: [alice + "SUB a.ok 1\r\nPUB b 1\r\nz\r\nPUB a.ok 1\r\nk\r\nPUB b 1\r\nz\r\n"] },
  { name: "publish: a wildcard subject is checked literally", server: "users", steps: [alice + "PUB a.* 1\r\nx\r\nPUB > 1\r\nx\r\nPUB a.> 1\r\nx\r\n"] },
  { name: "publish: HPUB is checked too", server: "users", steps: ['CONNECT {"user":"alice","pass":"pa","verbose":false,"pedantic":false,"headers":true}\r\nSUB a.> 1\r\nHPUB a.secret 12 12\r\nNATS/1.0\r\n\r\n\r\nHPUB a.h 12 13\r\nNATS/1.0\r\n\r\nx\r\n'] },
  { name: "default_permissions apply to users without their own", server: "users", steps: [carl + "SUB x 1\r\nSUB def.x 2\r\nPUB x 1\r\nx\r\nPUB def.x 1\r\ny\r\n"] },
  { name: "publish: deny-only list allows the rest", server: "users", steps: [dave + "SUB > 1\r\nPUB anything 1\r\nx\r\n"] },

  // ---- subscribe permissions ----------------------------------------------------------------
  {
    name: "subscribe: deny, outside allow, queue entries, literal wildcards",
    server: "users",
    steps: [alice + "SUB a.hidden 1\r\nSUB b.x 2\r\nSUB q.x 3\r\nSUB q.x grp 4\r\nSUB q.x other 5\r\nSUB a.* 6\r\nSUB > 7\r\nSUB a.* grp 8\r\nSUB q.x bad 9\r\nSUB w.a wq.1 10\r\nSUB w.a wq.2.x 11\r\n"],
  },
  { name: "subscribe: verbose gets no +OK for a violation", server: "users", steps: [aliceVerbose + "SUB b.x 1\r\nSUB a.x 2\r\n"] },
  { name: "subscribe: a wildcard subscription does not receive denied subjects", server: "users", steps: [alice + "SUB a.* 6\r\nSUB a.> 7\r\nSUB a.* grp 8\r\nPUB a.hidden 1\r\nh\r\nPUB a.ok 1\r\nk\r\n"] },
  { name: "subscribe: '>' with a deny-only list filters deliveries", server: "users", steps: [dave + "SUB > 1\r\nSUB secret.x 2\r\nPUB secret.x 1\r\nx\r\nPUB a.b.c 1\r\ny\r\nPUB a.b.d 1\r\nz\r\n"] },
  { name: "subscribe: a literal subscription is not filtered", server: "users", steps: [dave + "SUB a.b.d 1\r\nPUB a.b.d 1\r\nz\r\n"] },
  { name: "subscribe: the same sid twice after a violation", server: "users", steps: [alice + "SUB b.x 1\r\nSUB a.x 1\r\nPUB a.x 1\r\nx\r\n"] },
];

const MULTI_SCRIPTS: MultiScript[] = [
  {
    name: "account limits: connections, subscriptions, payload",
    server: "acclimits",
    conns: 2,
    connects: [as("a"), as("a")],
    steps: [
      [0, "SUB x 1\r\nSUB y 2\r\nSUB z 3\r\nPUB x 8\r\n12345678\r\n"],
      [0, "PUB x 9\r\n123456789\r\n", true],
    ],
  },
  {
    name: "stream import with a prefix keeps the reply; the exporter's own subscribers too",
    server: "imports",
    conns: 3,
    connects: [as("b"), as("a"), as("c")],
    steps: [
      [0, "SUB fromA.> 1\r\nSUB s.> 2\r\n"],
      [1, "SUB s.x 1\r\nPUB s.x r.1 2\r\nsx\r\nPUB t.x 2\r\ntx\r\n"],
      [2, "SUB > 1\r\nPUB s.x 2\r\ncx\r\n"],
    ],
  },
  {
    name: "a private stream export reaches the account it names",
    server: "imports",
    conns: 2,
    connects: [as("b"), as("a")],
    steps: [
      [0, "SUB priv.> 1\r\nSUB priv.* q 2\r\n"],
      [1, "PUB priv.1 1\r\n1\r\nPUB priv.1.2 1\r\n2\r\n"],
    ],
  },
  {
    name: "service import: request mapped to the export, reply rewritten, response back",
    server: "imports",
    conns: 2,
    connects: [as("a"), as("b")],
    steps: [
      [0, "SUB svc.> 1\r\n"],
      [1, "SUB _INBOX.1 1\r\nPUB x _INBOX.1 3\r\nreq\r\n"],
      [0, (out) => `PUB ${lastReply(out[0])} 4\r\nresp\r\nPUB ${lastReply(out[0])} 5\r\nresp2\r\n`],
      [1, "PUB svc.y _INBOX.1 3\r\nrey\r\n"],
      [0, (out) => `PUB ${lastReply(out[0])} 1\r\ny\r\n`],
    ],
  },
  {
    name: "service import with response type stream: several responses",
    server: "imports",
    conns: 2,
    connects: [as("a"), as("b")],
    steps: [
      [0, "SUB many 1\r\n"],
      [1, "SUB _INBOX.2 1\r\nPUB many _INBOX.2 0\r\n\r\n"],
      [0, (out) => `PUB ${lastReply(out[0])} 1\r\n1\r\nPUB ${lastReply(out[0])} 1\r\n2\r\nPUB ${lastReply(out[0])} 1\r\n3\r\n`],
    ],
  },
  {
    name: "service import with wildcards mapped by position",
    server: "imports",
    conns: 2,
    connects: [as("a"), as("b")],
    steps: [
      [0, "SUB wild.> 1\r\n"],
      [1, "PUB local.two.one 2\r\nhi\r\nPUB local.x 2\r\nno\r\n"],
    ],
  },
  {
    name: "service import: a request without a reply is forwarded as is; headers kept",
    server: "imports",
    conns: 2,
    connects: [as("a", ',"headers":true'), as("b", ',"headers":true')],
    steps: [
      [0, "SUB svc.> 1\r\n"],
      [1, "HPUB x 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"],
    ],
  },
  {
    name: "service import without a responder: nothing comes back (2.9.10 sends no 503 across accounts)",
    server: "imports",
    conns: 2,
    connects: [as("a"), as("b", ',"headers":true,"no_responders":true')],
    steps: [
      [0, "SUB nothing 1\r\n"],
      [1, "SUB _INBOX.3 1\r\nPUB x _INBOX.3 1\r\nq\r\n"],
    ],
  },
  {
    name: "a client may not use reserved _R_ reply subjects",
    server: "imports",
    conns: 2,
    connects: [as("a"), as("a")],
    steps: [
      [0, "SUB svc.> 1\r\n"],
      [1, "PUB svc.z _R_.abc 1\r\nx\r\nPUB svc.z _R_ 1\r\ny\r\n"],
    ],
  },
  {
    name: "account subject mappings: wildcard, partition, split, weights below 100%",
    server: "imports",
    conns: 2,
    connects: [as("c"), as("c")],
    steps: [
      [0, "SUB > 1\r\n"],
      [1, "PUB m.1 1\r\n1\r\nPUB p.key 1\r\n2\r\nPUB sp.abcdef 1\r\n3\r\nPUB drop 1\r\n4\r\nPUB other 1\r\n5\r\n"],
    ],
  },
  {
    name: "top-level mappings apply to the global account",
    server: "imports",
    conns: 2,
    connects: [as("g"), as("g")],
    steps: [
      [0, "SUB > 1\r\n"],
      [1, "PUB g.1.2 r 1\r\n1\r\n"],
    ],
  },
  {
    name: "allow_responses: two responses to each request, then refused",
    server: "users",
    conns: 2,
    connects: [bob, erin],
    steps: [
      [0, "SUB req.> 1\r\n"],
      [1, "SUB _INBOX.1 1\r\nPUB req.x _INBOX.1 1\r\nq\r\n"],
      [0, "PUB _INBOX.1 2\r\nr1\r\nPUB _INBOX.1 2\r\nr2\r\nPUB _INBOX.1 2\r\nr3\r\n"],
      [0, "PUB _INBOX.2 2\r\nno\r\nPUB b.ok 2\r\nok\r\n"],
    ],
  },
  {
    name: "allow_responses: true with deny all is one response",
    server: "users",
    conns: 2,
    connects: [fay, erin],
    steps: [
      [0, "SUB req.> 1\r\n"],
      [1, "SUB _INBOX.> 1\r\nPUB req.y _INBOX.y 1\r\nq\r\n"],
      [0, "PUB _INBOX.y 2\r\nr1\r\nPUB _INBOX.y 2\r\nr2\r\n"],
    ],
  },
  {
    name: "deliveries to a user who may not subscribe are filtered; others receive",
    server: "users",
    conns: 3,
    connects: [dave, carl, 'CONNECT {"user":"alice","pass":"pa","verbose":false,"pedantic":false}\r\n'],
    steps: [
      [0, "SUB secret.> 1\r\nSUB *.x 2\r\nSUB > 3\r\n"],
      [2, "SUB a.> 1\r\n"],
      [1, "PUB def.x 1\r\nx\r\n"],
      [2, "PUB a.hidden 1\r\nh\r\nPUB a.b.c 1\r\nc\r\n"],
    ],
  },
  {
    name: "accounts: users of one account see each other, not the other account",
    server: "accounts",
    conns: 3,
    connects: [
      'CONNECT {"user":"a1","pass":"a","verbose":false}\r\n',
      'CONNECT {"user":"a2","pass":"a","verbose":false}\r\n',
      'CONNECT {"user":"b1","pass":"b","verbose":false}\r\n',
    ],
    steps: [
      [0, "SUB x 1\r\nSUB > 2\r\n"],
      [2, "SUB x 1\r\nSUB > 2\r\n"],
      [1, "PUB x 2\r\nfa\r\n"],
      [2, "PUB x 2\r\nfb\r\n"],
    ],
  },
];

// ---- Runner ---------------------------------------------------------------------------------

function masked(info: Record<string, unknown> | null): Record<string, unknown> | null {
  if (info === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) if (!MASKED_INFO_FIELDS.includes(k)) out[k] = v;
  // A nonce is random, but whether there is one is compared.
  if (info.nonce !== undefined) out.nonce = typeof info.nonce === "string" && info.nonce.length;
  return out;
}

function comparable(o: Outcome): { info: Record<string, unknown> | null; frames: string[]; closed: boolean } {
  return { info: masked(o.info), frames: canonicalFrames(o.output), closed: o.closed };
}

/** Service replies are random tokens: compared by shape only. */
const maskTokens = (frames: string[]): string[] =>
  frames.map((f) => {
    let out = f.replace(/_R_\.[A-Za-z0-9]+\.[A-Za-z0-9]+/g, "_R_.<token>");
    // The requester's RTT (in the service request info header) varies, and so do the sizes.
    if (out.includes("Nats-Request-Info:")) out = out.replace(/"rtt":\d+/, '"rtt":N').replace(/^(HMSG \S+ \S+(?: \S+)?) \d+ \d+\r\n/, "$1 <h> <t>\r\n");
    return out;
  });

function comparableMulti(o: MultiOutcome): { infos: (Record<string, unknown> | null)[]; frames: string[][]; closed: boolean[] } {
  return { infos: o.infos.map(masked), frames: o.outputs.map((x) => maskTokens(canonicalFrames(x))), closed: o.closed };
}

const ours: Record<string, RunningServer> = {};
const reference: Record<string, RunningServer> = {};

test("script names are unique and their configs exist", () => {
  const names = [...SCRIPTS, ...MULTI_SCRIPTS].map((s) => s.name);
  expect(new Set(names).size).toBe(names.length);
  for (const s of [...SCRIPTS, ...MULTI_SCRIPTS]) expect(CONFIGS[s.server ?? ""]).toBeDefined();
});

if (referenceBinary === null) console.warn("auth differential tests skipped: the reference nats-server is not installed");

describe.skipIf(referenceBinary === null)("authorization: ours vs the reference nats-server", () => {
  beforeAll(async () => {
    await Promise.all(
      Object.entries(CONFIGS).flatMap(([name, config]) => [
        startServer({ config }).then((s) => (ours[name] = s)),
        startServer({ config, binary: referenceBinary! }).then((s) => (reference[name] = s)),
      ]),
    );
  });

  afterAll(async () => {
    await Promise.all([...Object.values(ours), ...Object.values(reference)].map((s) => s.stop()));
  });

  for (const script of SCRIPTS) {
    test(script.name, async () => {
      const server = script.server!;
      const opts = { timeoutMs: 1_500 };
      const [a, b] = await Promise.all([runScript(ours[server].port, script, opts), runScript(reference[server].port, script, opts)]);
      expect(comparable(a)).toEqual(comparable(b));
      expect(b.closed).toBe(script.closes === true);
    });
  }

  for (const script of MULTI_SCRIPTS) {
    test(`${script.name} (${script.conns} connections)`, async () => {
      const server = script.server!;
      const [a, b] = await Promise.all([runMultiScript(ours[server].port, script), runMultiScript(reference[server].port, script)]);
      expect(comparableMulti(a)).toEqual(comparableMulti(b));
      // Something must have been delivered, or the script tests nothing (unless silence is the point).
      if (!script.name.includes("nothing comes back")) expect(b.outputs.some((o) => /MSG|-ERR/.test(o))).toBe(true);
    });
  }

  test("the same violations are logged", async () => {
    const lines = (s: RunningServer): string[] =>
      s
        .logs()
        .split("\n")
        .filter((l) => / - (Publish|Subscription) Violation - /.test(l))
        .map((l) => l.replace(/^.* - cid:\d+ - /, ""))
        .sort();
    expect(lines(ours.users)).toEqual(lines(reference.users));
  });
});
