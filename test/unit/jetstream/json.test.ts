import { describe, expect, test } from "bun:test";
import { nsToDecimal } from "../../../src/jetstream/json.ts";

describe("nsToDecimal", () => {
  test("equals BigInt formatting for timestamps around now, across second boundaries and re-basing", () => {
    const base = 1_765_075_000_000_000_000n;
    const cases = [0n, 1n, 999_999_999n, 1_000_000_000n, base, base - 1n, base + 999_999_999n, base + 1_000_000_000n, base + 2n ** 50n, base - 2n ** 50n, 2n ** 63n - 1n];
    for (let i = 0; i < 2000; i++) cases.push(base + BigInt(Math.floor(Math.random() * 1e12)));
    for (const ns of cases) expect(nsToDecimal(ns)).toBe(ns.toString());
  });
});
