// Subject transforms (ADR-30 examples), weighted mappings, and the reverse route of service
// imports whose `to` refers to the import subject's wildcards.
import { describe, expect, test } from "bun:test";
import { SubjectMapping, SubjectTransform, SubjectTransformError } from "../../../src/server/subject_transform.ts";
import { serviceImportRoute } from "../../../src/server/imports.ts";

describe("ADR-30 examples", () => {
  test.each([
    ["one.two.three", ">", "uno.>", "uno.one.two.three"],
    ["four.five.six", ">", "eins.zwei.drei.vier.>", "eins.zwei.drei.vier.four.five.six"],
    ["one.two.three", "one.>", "uno.>", "uno.two.three"],
    ["one.two.three", "one.two.>", "uno.dos.>", "uno.dos.three"],
    ["one", "one", "uno", "uno"],
    ["one.two.three.four.five", "one.*.three.*.five", "uno.$2.$1", "uno.four.two"],
    ["one.two.three.four.five", "one.*.three.*.five", "uno.{{wildcard(2)}}.{{wildcard(1)}}", "uno.four.two"],
    ["one.two.three.four.five", "*.two.three.>", "uno.$1.>", "uno.one.four.five"],
    ["-abc-def--ghij-", "*", "{{split(1,-)}}", "abc.def.ghij"],
    ["12345", "*", "{{splitfromleft(1,3)}}", "123.45"],
    ["12345", "*", "{{SplitFromRight(1,3)}}", "12.345"],
    ["1234567890", "*", "{{SliceFromLeft(1,3)}}", "123.456.789.0"],
    ["1234567890", "*", "{{SliceFromRight(1,3)}}", "1.234.567.890"],
  ])("%s: %s → %s", (input, source, destination, output) => {
    const t = new SubjectTransform(source, destination);
    expect(t.matches(input)).toBe(true);
    expect(t.transform(input)).toBe(output);
  });

  test("partition is deterministic and within range", () => {
    const t = new SubjectTransform("orders.*", "orders.{{partition(5,1)}}.$1");
    const out = t.transform("orders.customer-42");
    expect(out).toMatch(/^orders\.[0-4]\.customer-42$/);
    expect(t.transform("orders.customer-42")).toBe(out);
  });

  test("invalid destinations", () => {
    expect(() => new SubjectTransform("a.*", "b.$2")).toThrow(SubjectTransformError);
    expect(() => new SubjectTransform("a.*", "b.{{nope(1)}}")).toThrow("unknown mapping function");
    expect(() => new SubjectTransform("a.*", "b.>")).toThrow(SubjectTransformError);
    expect(() => new SubjectTransform("a.*", "b..c")).toThrow(SubjectTransformError);
  });
});

describe("weighted mappings", () => {
  test("weights choose a destination; below 100% the rest is unmapped", () => {
    const m = new SubjectMapping("w", [{ subject: "w1", weight: 30 }, { subject: "w2", weight: 50 }]);
    expect(m.select("w", () => 0.1)).toBe("w1");
    expect(m.select("w", () => 0.31)).toBe("w2");
    expect(m.select("w", () => 0.79)).toBe("w2");
    expect(m.select("w", () => 0.8)).toBeNull();
    expect(m.matches("w")).toBe(true);
    expect(m.matches("w.x")).toBe(false);
  });
});

describe("service import routes", () => {
  test("`to` with references is subscribed with wildcards and mapped back by reference", () => {
    const r = serviceImportRoute("wild.*.*", "local.$2.$1");
    expect(r.local).toBe("local.*.*");
    expect(r.transform!.transform("local.two.one")).toBe("wild.one.two");
  });

  test("plain `to` and none", () => {
    expect(serviceImportRoute("svc.x", "").local).toBe("svc.x");
    const r = serviceImportRoute("svc.x", "x");
    expect([r.local, r.transform!.transform("x")]).toEqual(["x", "svc.x"]);
    const w = serviceImportRoute("svc.*", "local.*");
    expect(w.transform!.transform("local.q")).toBe("svc.q");
  });
});
