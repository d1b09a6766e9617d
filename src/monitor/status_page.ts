// The status page at `/`: one self-contained HTML document (no build step, no external
// resource) that polls `statusz` and draws health, counters, throughput over the last minutes
// (from the server-side History, so a new page shows it at once), connections, accounts and
// streams. `statusSnapshot` is the data it polls.
import * as C from "../constants.ts";
import type { Server } from "../server/server.ts";
import { accountStat } from "./accountz.ts";
import { preciseNowMs, rfc3339, uptimeText } from "./format.ts";
import type { History } from "./history.ts";
import { healthz } from "./jsz.ts";
import { sublistStats } from "./subsz.ts";
import { cpuSampler, type VarzContext } from "./varz.ts";

/** Connections listed on the page (the busiest by messages). */
const pageConnectionsMax = 25;

export function statusSnapshot(server: Server, history: History, ctx: VarzContext): Record<string, unknown> {
  const now = preciseNowMs();
  const health = healthz(server, new URLSearchParams());
  const conns = [...server.connections.values()]
    .filter((c) => !c.closed)
    .sort((a, b) => b.inMsgs + b.outMsgs - (a.inMsgs + a.outMsgs) || a.cid - b.cid)
    .slice(0, pageConnectionsMax)
    .map((c) => ({
      cid: c.cid,
      name: c.opts.name,
      ip: c.host,
      port: c.port,
      lang: c.opts.lang,
      version: c.opts.version,
      account: c.account.name,
      subscriptions: c.subs === null ? 0 : c.subs.size,
      in_msgs: c.inMsgs,
      out_msgs: c.outMsgs,
      pending_bytes: c.out.pending,
      uptime: uptimeText(now - c.startMs),
    }));
  const js = server.jetstreamMonitor;
  return {
    server: {
      server_id: server.id,
      server_name: server.name,
      version: C.referenceVersion,
      nats_bun: C.natsBunVersion,
      host: server.opts.host,
      port: server.port,
      http_port: ctx.httpPort || ctx.httpsPort,
      start: rfc3339(server.startedAt.getTime()),
      now: rfc3339(now),
      uptime: uptimeText(now - server.startedAt.getTime()),
      lame_duck_mode: server.lameDuck,
      config_load_time: rfc3339(server.configLoadTime.getTime()),
    },
    health: health.body,
    totals: {
      connections: server.connections.size,
      total_connections: server.totalConnections,
      subscriptions: sublistStats(server).num_subscriptions,
      in_msgs: server.inMsgs,
      out_msgs: server.outMsgs,
      in_bytes: server.inBytes,
      out_bytes: server.outBytes,
      slow_consumers: server.slowConsumers,
      mem: process.memoryUsage.rss(),
      cpu: cpuSampler.sample(),
    },
    history: [...history.samples, { t: Date.now(), in_msgs: server.inMsgs, out_msgs: server.outMsgs, in_bytes: server.inBytes, out_bytes: server.outBytes, connections: server.connections.size }],
    connections: conns,
    accounts: server.accountList().map(accountStat),
    jetstream: { enabled: js !== null, streams: js === null ? [] : js.streams() },
  };
}

/** The page; `basePath` is where the endpoints are (http_base_path). */
export function statusPageHtml(basePath: string): string {
  return PAGE.replace("__BASE__", JSON.stringify(basePath));
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nats-bun status</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#263040; --text:#d8dee9; --dim:#8592a3; --in:#4fb3ff; --out:#7ee787; --bad:#ff6b6b; --warn:#f0b429; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
  header { display:flex; align-items:center; gap:14px; padding:14px 22px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  header .meta { color:var(--dim); font-size:12px; }
  #health { padding:3px 10px; border-radius:12px; font-weight:600; font-size:12px; background:var(--line); }
  #health.ok { background:#1f4d2e; color:var(--out); }
  #health.bad { background:#5a1f1f; color:var(--bad); }
  #health.ldm { background:#5a4a1f; color:var(--warn); }
  main { padding:18px 22px; display:grid; gap:16px; grid-template-columns: repeat(12, 1fr); }
  .panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  .cards { grid-column: span 12; display:grid; grid-template-columns: repeat(6, 1fr); gap:16px; }
  .card .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
  .card .value { font-size:24px; font-weight:600; margin-top:2px; font-variant-numeric: tabular-nums; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  .chart { grid-column: span 12; }
  .chart svg { width:100%; height:180px; display:block; }
  .legend { display:flex; gap:16px; font-size:12px; color:var(--dim); margin-bottom:6px; }
  .legend b { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; vertical-align:-1px; }
  .wide { grid-column: span 7; } .narrow { grid-column: span 5; } .full { grid-column: span 12; }
  h2 { font-size:13px; margin:0 0 10px; color:var(--dim); text-transform:uppercase; letter-spacing:.05em; font-weight:600; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:left; padding:5px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.n, th.n { text-align:right; }
  .empty { color:var(--dim); font-style:italic; }
  footer { color:var(--dim); font-size:12px; padding:0 22px 18px; }
  @media (max-width: 900px) { .cards { grid-template-columns: repeat(2, 1fr); } .wide, .narrow { grid-column: span 12; } }
</style>
</head>
<body>
<header>
  <h1>nats-bun</h1>
  <span id="health">…</span>
  <span class="meta" id="ident"></span>
</header>
<main>
  <section class="cards">
    <div class="panel card"><div class="label">Connections</div><div class="value" id="connections">–</div></div>
    <div class="panel card"><div class="label">Subscriptions</div><div class="value" id="subscriptions">–</div></div>
    <div class="panel card"><div class="label">Msgs in / s</div><div class="value" id="rate-in">–</div></div>
    <div class="panel card"><div class="label">Msgs out / s</div><div class="value" id="rate-out">–</div></div>
    <div class="panel card"><div class="label">Msgs in / out, total</div><div class="value" id="msgs">–</div></div>
    <div class="panel card"><div class="label">Memory</div><div class="value" id="mem">–</div></div>
  </section>
  <section class="panel chart">
    <h2>Throughput, last minutes (messages per second)</h2>
    <div class="legend"><span><b style="background:var(--in)"></b>in</span><span><b style="background:var(--out)"></b>out</span><span id="peak"></span></div>
    <svg id="chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg>
  </section>
  <section class="panel wide">
    <h2>Connections</h2>
    <table><thead><tr><th>cid</th><th>name</th><th>address</th><th>account</th><th class="n">subs</th><th class="n">in</th><th class="n">out</th><th class="n">pending</th><th>uptime</th></tr></thead><tbody id="conns"></tbody></table>
  </section>
  <section class="panel narrow">
    <h2>Accounts</h2>
    <table><thead><tr><th>account</th><th class="n">conns</th><th class="n">received</th><th class="n">sent</th><th class="n">slow</th></tr></thead><tbody id="accounts"></tbody></table>
  </section>
  <section class="panel full">
    <h2>Streams</h2>
    <table><thead><tr><th>stream</th><th>account</th><th>storage</th><th class="n">messages</th><th class="n">bytes</th><th class="n">first</th><th class="n">last</th><th class="n">consumers</th></tr></thead><tbody id="streams"></tbody></table>
  </section>
</main>
<footer id="footer"></footer>
<script>
"use strict";
const BASE = __BASE__;
const $ = (id) => document.getElementById(id);
const fmt = (n) => n >= 1e9 ? (n / 1e9).toFixed(2) + "G" : n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n));
const bytes = (n) => n >= 1073741824 ? (n / 1073741824).toFixed(2) + " GiB" : n >= 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B";
function cell(text, numeric) { const td = document.createElement("td"); td.textContent = text; if (numeric) td.className = "n"; return td; }
function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren();
  if (rows.length === 0) { const tr = document.createElement("tr"); const td = cell(emptyText); td.colSpan = columns; td.className = "empty"; tr.append(td); tbody.append(tr); return; }
  for (const r of rows) { const tr = document.createElement("tr"); for (const [v, n] of r) tr.append(cell(v, n)); tbody.append(tr); }
}
function rates(h) {
  const out = [];
  for (let i = 1; i < h.length; i++) {
    const dt = (h[i].t - h[i - 1].t) / 1000;
    // The last point is "now", often moments after the last sample: too short to be a rate.
    if (dt < 1) continue;
    out.push({ t: h[i].t, in: Math.max(0, (h[i].in_msgs - h[i - 1].in_msgs) / dt), out: Math.max(0, (h[i].out_msgs - h[i - 1].out_msgs) / dt) });
  }
  return out;
}
function drawChart(points) {
  const svg = $("chart"); const W = 600, H = 180, pad = 4;
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  for (let i = 1; i < 4; i++) { const l = document.createElementNS(ns, "line"); l.setAttribute("x1", 0); l.setAttribute("x2", W); l.setAttribute("y1", H * i / 4); l.setAttribute("y2", H * i / 4); l.setAttribute("stroke", "#263040"); l.setAttribute("stroke-width", "1"); svg.append(l); }
  if (points.length < 2) return;
  const peak = Math.max(1, ...points.map((p) => Math.max(p.in, p.out)));
  $("peak").textContent = "peak " + fmt(peak) + " msgs/s";
  const t0 = points[0].t, t1 = points[points.length - 1].t, span = Math.max(1, t1 - t0);
  for (const [key, color] of [["in", "#4fb3ff"], ["out", "#7ee787"]]) {
    const d = points.map((p, i) => (i ? "L" : "M") + ((p.t - t0) / span * W).toFixed(1) + "," + (H - pad - p[key] / peak * (H - 2 * pad)).toFixed(1)).join(" ");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d); path.setAttribute("fill", "none"); path.setAttribute("stroke", color); path.setAttribute("stroke-width", "2"); path.setAttribute("vector-effect", "non-scaling-stroke");
    path.setAttribute("data-series", key);
    svg.append(path);
  }
}
async function refresh() {
  let s;
  try { const r = await fetch(BASE + "/statusz", { cache: "no-store" }); s = await r.json(); }
  catch (e) { $("health").textContent = "unreachable"; $("health").className = "bad"; return; }
  const h = $("health");
  if (s.server.lame_duck_mode) { h.textContent = "lame duck"; h.className = "ldm"; }
  else if (s.health.status === "ok") { h.textContent = "healthy"; h.className = "ok"; }
  else { h.textContent = s.health.status + (s.health.error ? ": " + s.health.error : ""); h.className = "bad"; }
  $("ident").textContent = s.server.server_name + " · v" + s.server.nats_bun + " (nats-server " + s.server.version + " compatible) · nats://" + s.server.host + ":" + s.server.port + " · up " + s.server.uptime;
  const t = s.totals;
  $("connections").textContent = fmt(t.connections);
  $("subscriptions").textContent = fmt(t.subscriptions);
  $("msgs").textContent = fmt(t.in_msgs) + " / " + fmt(t.out_msgs);
  $("mem").textContent = bytes(t.mem);
  const pts = rates(s.history);
  const last = pts.length ? pts[pts.length - 1] : { in: 0, out: 0 };
  $("rate-in").textContent = fmt(last.in);
  $("rate-out").textContent = fmt(last.out);
  drawChart(pts);
  fill($("conns"), s.connections.map((c) => [[c.cid, true], [c.name || "–"], [c.ip + ":" + c.port], [c.account], [c.subscriptions, true], [fmt(c.in_msgs), true], [fmt(c.out_msgs), true], [bytes(c.pending_bytes), true], [c.uptime]]), 9, "no connections");
  fill($("accounts"), s.accounts.map((a) => [[a.acc], [a.conns, true], [fmt(a.received.msgs), true], [fmt(a.sent.msgs), true], [a.slow_consumers, true]]), 5, "no accounts");
  fill($("streams"), s.jetstream.streams.map((x) => [[x.stream], [x.account], [x.storage], [fmt(x.messages), true], [bytes(x.bytes), true], [x.firstSeq, true], [x.lastSeq, true], [x.consumers, true]]), 8, s.jetstream.enabled ? "no streams" : "JetStream is not enabled");
  $("footer").textContent = "server " + s.server.server_id + " · started " + s.server.start + " · config loaded " + s.server.config_load_time + " · updated " + new Date().toLocaleTimeString();
  document.body.dataset.updated = String(Date.now());
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
