/// <reference lib="dom" />
// The status page (`/`) in a real headless browser: Debian's chromium driven by
// playwright-core. The page must render the server's live data (health, connection and
// subscription counts, the connections and accounts tables, the throughput chart) and the
// screenshot must show it: its pixels are checked for the chart's colours by decoding the PNG
// in the browser itself. Set NATS_BUN_UPDATE_DOCS=1 to write docs/status-page.png for the README.
// Skipped, with a message, when chromium is not installed (apt-get install chromium).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Browser } from "playwright-core";
import { waitUntil } from "../harness/protocol.ts";
import { startServer, type RunningServer } from "../harness/server.ts";

const chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ?? null;
if (chromiumPath === null) console.warn("status_page: chromium not installed (apt-get install chromium): skipped");
const updateDocs = process.env.NATS_BUN_UPDATE_DOCS === "1";

let server: RunningServer;
let browser: Browser;
const clients: NatsConnection[] = [];
let publishing = true;
let publisher: Promise<void> = Promise.resolve();

let internalSubs = 0;

beforeAll(async () => {
  if (chromiumPath === null) return;
  server = await startServer({ args: ["-m", "-1", "-n", "status-demo"] });
  // The server's own subscriptions (its system account's), counted in the page's total too.
  internalSubs = ((await (await fetch(`${server.monitorUrl}/varz`)).json()) as { subscriptions: number }).subscriptions;
  for (const name of ["orders-api", "billing-worker", "audit-log"]) {
    const nc = await connect({ servers: server.url, name });
    nc.subscribe("orders.>");
    nc.subscribe(`${name}.rpc`, { queue: "workers" });
    await nc.flush();
    clients.push(nc);
  }
  // Steady traffic in the background while the page is open, in bounded bursts.
  publisher = (async () => {
    const payload = new Uint8Array(256);
    for (let round = 0; publishing && round < 10_000; round++) {
      const burst = 200 + 150 * Math.round(2 + 2 * Math.sin(round / 8));
      for (let i = 0; i < burst; i++) clients[0].publish(`orders.eu.${i % 7}`, payload);
      await clients[0].flush();
      await Bun.sleep(50);
    }
  })();
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  // The chart needs two rate points: three samples (one every 2 s), or longer for the docs.
  const wantSamples = updateDocs ? 30 : 1;
  await waitUntil(
    async () => ((await (await fetch(`${server.monitorUrl}/statusz`)).json()) as { history: unknown[] }).history.length > wantSamples,
    "throughput history",
    updateDocs ? 70_000 : 8_000,
    100,
  );
}, 90_000);

afterAll(async () => {
  publishing = false;
  await publisher;
  await browser?.close();
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await server?.stop();
});

describe.skipIf(chromiumPath === null)("status page in headless chromium", () => {
  test("renders live data, and the screenshot shows the chart", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // No request may leave the server: the page is self-contained.
    const foreign: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(server.monitorUrl!)) foreign.push(r.url());
    });
    await page.goto(`${server.monitorUrl}/`);
    await page.waitForFunction(() => document.body.dataset.updated !== undefined, undefined, { timeout: 5_000 });
    await page.waitForFunction(() => document.querySelectorAll("#chart path").length === 2, undefined, { timeout: 10_000 });

    expect(await page.textContent("#health")).toBe("healthy");
    expect(await page.textContent("#connections")).toBe("3");
    expect(await page.textContent("#subscriptions")).toBe(String(internalSubs + 6));
    expect(await page.textContent("#ident")).toContain("status-demo");
    const names = await page.$$eval("#conns tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
    expect(names.sort()).toEqual(["audit-log", "billing-worker", "orders-api"]);
    const account = await page.$$eval("#accounts tr td", (tds) => tds.map((td) => td.textContent));
    expect(account[0]).toBe("$G");
    expect(account[1]).toBe("3");
    expect(await page.textContent("#streams")).toContain("JetStream is not enabled");
    const rateIn = Number((await page.textContent("#rate-in"))!.replace(/k$/, "e3").replace(/M$/, "e6"));
    expect(rateIn).toBeGreaterThan(0);
    const pathPoints = await page.$$eval("#chart path", (ps) => ps.map((p) => (p.getAttribute("d") ?? "").split(" ").length));
    expect(pathPoints.every((n) => n >= 2)).toBe(true);

    const shot = updateDocs ? resolve(import.meta.dir, "../../docs/status-page.png") : join(tmpdir(), `nats-bun-status-${process.pid}.png`);
    mkdirSync(resolve(shot, ".."), { recursive: true });
    const png = await page.screenshot({ path: shot, fullPage: true });
    // Decode the screenshot in the browser and count pixels of the chart's two line colours.
    const counts = await page.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, img.width, img.height).data;
      const near = (i: number, r: number, g: number, b: number): boolean => Math.abs(d[i] - r) < 24 && Math.abs(d[i + 1] - g) < 24 && Math.abs(d[i + 2] - b) < 24;
      let inPx = 0;
      let outPx = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (near(i, 0x4f, 0xb3, 0xff)) inPx++;
        else if (near(i, 0x7e, 0xe7, 0x87)) outPx++;
      }
      return { inPx, outPx, width: img.width, height: img.height };
    }, png.toString("base64"));
    expect(counts.width).toBe(1280);
    // Lines two pixels wide across a 1200-pixel chart, plus the legend swatches.
    expect(counts.inPx).toBeGreaterThan(300);
    expect(counts.outPx).toBeGreaterThan(300);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  }, 30_000);

  test("refreshes live: a new connection shows up without reloading the page", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.monitorUrl}/`);
    await page.waitForFunction(() => document.getElementById("connections")?.textContent === "3", undefined, { timeout: 5_000 });
    const extra = await connect({ servers: server.url, name: "late-joiner" });
    clients.push(extra);
    await page.waitForFunction(() => document.getElementById("connections")?.textContent === "4", undefined, { timeout: 5_000 });
    expect(await page.textContent("#conns")).toContain("late-joiner");
    await page.close();
  }, 15_000);
});
