// planReload: every option is either applied live or refused — none is silently ignored —
// with the reference's names and spellings.
import { describe, expect, test } from "bun:test";
import { defaultOptions, type ServerOptions } from "../../../src/config/options.ts";
import { planReload } from "../../../src/config/reload.ts";

/** Options that are not configuration values (compared by other means or not at all). */
const notCompared = new Set(["configFile", "checkConfig", "explicit"]);

function changed(key: keyof ServerOptions): ServerOptions {
  const o = defaultOptions();
  const v = o[key];
  (o as unknown as Record<string, unknown>)[key] = typeof v === "boolean" ? !v : typeof v === "number" ? v + 1 : `${String(v)}x`;
  return o;
}

describe("planReload", () => {
  test("every option is either reloadable or refused", () => {
    for (const key of Object.keys(defaultOptions()) as (keyof ServerOptions)[]) {
      if (notCompared.has(key)) continue;
      const plan = planReload(defaultOptions(), changed(key));
      if (plan.ok) expect({ key, changes: plan.changes.length }).toEqual({ key, changes: 1 });
      else expect(plan.error).toStartWith("config reload not supported for ");
    }
  });

  test("the reference's wording", () => {
    const next = defaultOptions();
    next.port = 5000;
    expect(planReload(defaultOptions(), next)).toEqual({ ok: false, error: "config reload not supported for Port: old=4222, new=5000" });
    const ld = defaultOptions();
    ld.lameDuckDurationMs = 40_000;
    expect(planReload(defaultOptions(), ld)).toEqual({ ok: false, error: "config reload not supported for LameDuckDuration: old=2m0s, new=40s" });
    const live = defaultOptions();
    live.pingIntervalMs = 60_000;
    live.debug = true;
    live.password = "secret";
    const plan = planReload(defaultOptions(), live);
    expect(plan.ok && plan.changes.map((c) => c.text)).toEqual(["Reloaded: debug = true", "Reloaded: authorization password", "Reloaded: ping_interval = 1m0s"]);
  });
});
