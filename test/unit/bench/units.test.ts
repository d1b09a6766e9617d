import { describe, expect, test } from "bun:test";
import { formatBytes, formatCount, formatNs, parseCount, parseDurationMs, parseSize } from "../../../src/cli/bench/units.ts";

describe("parseSize", () => {
  test("plain numbers are bytes", () => {
    expect(parseSize("16")).toBe(16);
    expect(parseSize("0")).toBe(0);
  });
  test("units are binary, as nats bench (1 KB = 1024 B)", () => {
    expect(parseSize("16B")).toBe(16);
    expect(parseSize("1KB")).toBe(1024);
    expect(parseSize("1KiB")).toBe(1024);
    expect(parseSize("1k")).toBe(1024);
    expect(parseSize("16kb")).toBe(16 * 1024);
    expect(parseSize("1MB")).toBe(1024 * 1024);
    expect(parseSize("2MiB")).toBe(2 * 1024 * 1024);
    expect(parseSize("1GB")).toBe(1024 ** 3);
    expect(parseSize(" 8 KB ")).toBe(8192);
  });
  test("rejects bad input", () => {
    for (const bad of ["", "abc", "-1", "1.5KB", "12XB", "KB", "1 2"]) expect(() => parseSize(bad)).toThrow(/invalid size/);
  });
});

describe("parseDurationMs", () => {
  test("go-style durations and bare seconds", () => {
    expect(parseDurationMs("500ms")).toBe(500);
    expect(parseDurationMs("2s")).toBe(2000);
    expect(parseDurationMs("1m30s")).toBe(90_000);
    expect(parseDurationMs("250us")).toBe(0.25);
    expect(parseDurationMs("3")).toBe(3000);
  });
  test("rejects bad input", () => {
    for (const bad of ["", "s", "5x", "1s junk"]) expect(() => parseDurationMs(bad)).toThrow(/duration/);
  });
});

describe("parseCount", () => {
  test("accepts separators", () => {
    expect(parseCount("1,000,000", "--msgs")).toBe(1_000_000);
    expect(parseCount("1_000", "--msgs")).toBe(1000);
  });
  test("enforces the minimum", () => {
    expect(() => parseCount("0", "--msgs")).toThrow(/at least 1/);
    expect(parseCount("0", "--randomize", 0)).toBe(0);
    expect(() => parseCount("x", "--msgs")).toThrow(/whole number/);
  });
});

describe("formatting", () => {
  test("counts, bytes and durations", () => {
    expect(formatCount(1234567.4)).toBe("1,234,567");
    expect(formatBytes(16)).toBe("16 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(16 * 1024)).toBe("16 KiB");
    expect(formatBytes(1.5 * 1024 * 1024)).toBe("1.5 MiB");
    expect(formatNs(850)).toBe("850ns");
    expect(formatNs(12_300)).toBe("12.3µs");
    expect(formatNs(4_560_000)).toBe("4.56ms");
    expect(formatNs(1_200_000_000)).toBe("1.20s");
  });
});
