// User limits that depend on the connection: source networks (`src`) and connection-time
// windows (`times` + `times_location`). Expected values are Go's (net.ParseCIDR,
// IPNet.Contains, time.Parse, time.LoadLocation and the reference's validateTimes), checked
// with Go 1.19 on the same inputs, DST transitions included.
import { describe, expect, test } from "bun:test";
import { networkContains, parseCidr, parseIp } from "../../../../src/auth/jwt/cidr.ts";
import { checkTimeWindows, checkTimeZone, parseClock, type ZoneFile } from "../../../../src/auth/jwt/time_window.ts";
import { sourceAllowed } from "../../../../src/auth/jwt/verify.ts";

describe("CIDR parsing and matching as Go's net package", () => {
  test("parse", () => {
    const valid = ["1.2.3.4/24", "::1/128", "::ffff:1.2.3.0/120", "1.2.3.4/08", "::/0", "0.0.0.0/0", "1:2:3:4:5:6:7:8/64", "1:2:3:4:5:6:1.2.3.4/96", "::1.2.3.4/120", "000001::/16"];
    const invalid = ["1.2.3.4", "1.2.3.4/33", "01.2.3.4/8", "1.2.3.4/+8", " 1.2.3.4/8", "1.2.3.4/8 ", "1.2.3/8", "fe80::1%eth0/64", "a::b::c/64", "1.2.3.256/8", "1.2.3.4/", "12345::/16"];
    for (const c of valid) expect({ c, ok: parseCidr(c) !== null }).toEqual({ c, ok: true });
    for (const c of invalid) expect({ c, ok: parseCidr(c) !== null }).toEqual({ c, ok: false });
  });

  test("contains: IPv4-mapped networks and addresses are IPv4; IPv6 networks never hold IPv4", () => {
    const cases: [string, string, boolean][] = [
      ["1.2.3.0/24", "1.2.3.9", true],
      ["1.2.3.0/24", "1.2.4.9", false],
      ["::ffff:1.2.3.0/120", "1.2.3.9", true],
      ["::/0", "1.2.3.4", false],
      ["0.0.0.0/0", "::1", false],
      ["0.0.0.0/0", "::ffff:9.9.9.9", true],
      ["::ffff:0:0/96", "1.2.3.4", true],
      ["fe80::/10", "fe80::1", true],
      ["::1/128", "::1", true],
    ];
    for (const [net, ip, want] of cases) expect({ net, ip, in: networkContains(parseCidr(net)!, parseIp(ip)!) }).toEqual({ net, ip, in: want });
  });

  test("sourceAllowed: any listed network admits; none listed admits all; an unparsable entry refuses", () => {
    expect(sourceAllowed(null, "1.2.3.4")).toBe(true);
    expect(sourceAllowed([], "1.2.3.4")).toBe(true);
    expect(sourceAllowed(["10.0.0.0/8", "127.0.0.0/8"], "127.0.0.1")).toBe(true);
    expect(sourceAllowed(["10.0.0.0/8"], "127.0.0.1")).toBe(false);
    expect(sourceAllowed(["10.0.0.0/8"], "")).toBe(false);
    expect(sourceAllowed(["10.0.0.0/8"], "not-an-ip")).toBe(false);
    expect(sourceAllowed(["bad", "127.0.0.0/8"], "127.0.0.1")).toBe(false);
  });
});

describe("connection-time windows", () => {
  test("clock syntax (time.Parse with 15:04:05)", () => {
    const ok = ["09:00:00", "9:00:00", "23:59:59", "00:00:00", "12:30:00.5", "12:30:00,25"];
    const bad = ["9:0:00", "24:00:00", "23:59:60", "12:30", "12:30:00 ", "-1:00:00", "", "12:60:00", "123:00:00"];
    for (const c of ok) expect({ c, v: parseClock(c) !== null }).toEqual({ c, v: true });
    for (const c of bad) expect({ c, v: parseClock(c) !== null }).toEqual({ c, v: false });
    expect(parseClock("01:02:03.5")).toBe(3723.5);
  });

  test("zone names (time.LoadLocation)", () => {
    const files = new Map<string, ZoneFile>([
      ["/usr/share/zoneinfo/Europe/Berlin", { kind: "file", head: new Uint8Array([0x54, 0x5a, 0x69, 0x66]) }],
      ["/usr/share/zoneinfo/Asia", { kind: "directory" }],
      ["/usr/share/zoneinfo/zone.tab", { kind: "file", head: new Uint8Array([0x23, 0x20, 0x74, 0x7a]) }],
    ]);
    const lookup = (p: string): ZoneFile => files.get(p) ?? { kind: "missing" };
    const dirs = (p: string): boolean => p === "/usr/share/zoneinfo/";
    expect(checkTimeZone("", lookup, dirs)).toEqual({ ok: true });
    expect(checkTimeZone("UTC", lookup, dirs)).toEqual({ ok: true });
    expect(checkTimeZone("Local", lookup, dirs)).toEqual({ ok: true });
    expect(checkTimeZone("Europe/Berlin", lookup, dirs)).toEqual({ ok: true });
    expect(checkTimeZone("utc", lookup, dirs)).toEqual({ ok: false, error: "unknown time zone utc" });
    expect(checkTimeZone("Foo/Bar", lookup, dirs)).toEqual({ ok: false, error: "unknown time zone Foo/Bar" });
    expect(checkTimeZone("../etc", lookup, dirs)).toEqual({ ok: false, error: "time: invalid location name" });
    expect(checkTimeZone("/etc/localtime", lookup, dirs)).toEqual({ ok: false, error: "time: invalid location name" });
    expect(checkTimeZone("Asia", lookup, dirs)).toEqual({ ok: false, error: "is a directory" });
    expect(checkTimeZone("zone.tab", lookup, dirs)).toEqual({ ok: false, error: "malformed time zone information" });
    // Without any zone database the runtime's own (Intl) decides.
    expect(checkTimeZone("Europe/Berlin", lookup, () => false)).toEqual({ ok: true });
    expect(checkTimeZone("Foo/Bar", lookup, () => false)).toEqual({ ok: false, error: "unknown time zone Foo/Bar" });
  });

  const at = (iso: string): number => Date.parse(iso);

  test("inside a window: allowed until its end; outside: refused; no windows: allowed without deadline", () => {
    const times = [{ start: "08:00:00", end: "17:00:00" }];
    expect(checkTimeWindows(times, "UTC", at("2024-05-01T12:00:00Z"))).toEqual({ allowed: true, validForMs: 5 * 3600_000 });
    expect(checkTimeWindows(times, "UTC", at("2024-05-01T07:59:59Z"))).toEqual({ allowed: false, validForMs: 0 });
    expect(checkTimeWindows(times, "UTC", at("2024-05-01T17:00:00Z"))).toEqual({ allowed: false, validForMs: 0 });
    // The bounds are exclusive.
    expect(checkTimeWindows(times, "UTC", at("2024-05-01T08:00:00Z"))).toEqual({ allowed: false, validForMs: 0 });
    expect(checkTimeWindows(null, "UTC", 0)).toEqual({ allowed: true, validForMs: 0 });
    expect(checkTimeWindows([], "", 0)).toEqual({ allowed: true, validForMs: 0 });
    // The first window that holds now wins.
    const two = [{ start: "01:00:00", end: "02:00:00" }, { start: "11:00:00", end: "13:00:00" }];
    expect(checkTimeWindows(two, "UTC", at("2024-05-01T12:30:00Z"))).toEqual({ allowed: true, validForMs: 30 * 60_000 });
  });

  test("windows are wall-clock times in the zone", () => {
    const times = [{ start: "08:00:00", end: "17:00:00" }];
    // 12:00 UTC is 08:00 in New York (EDT): the start bound, refused; 13:00 UTC is 09:00.
    expect(checkTimeWindows(times, "America/New_York", at("2024-05-01T12:00:00Z")).allowed).toBe(false);
    expect(checkTimeWindows(times, "America/New_York", at("2024-05-01T13:00:00Z"))).toEqual({ allowed: true, validForMs: 8 * 3600_000 });
    // Across a DST change the end is still 17:00 local (EST in winter: 22:00 UTC).
    expect(checkTimeWindows(times, "America/New_York", at("2024-01-10T21:00:00Z"))).toEqual({ allowed: true, validForMs: 3600_000 });
    expect(checkTimeWindows(times, "Asia/Kolkata", at("2024-01-10T03:00:00Z"))).toEqual({ allowed: true, validForMs: 8.5 * 3600_000 });
  });

  test("an overnight window closes tomorrow, and is only tried from today's start (the reference's rule)", () => {
    const night = [{ start: "22:00:00", end: "06:00:00" }];
    expect(checkTimeWindows(night, "UTC", at("2024-05-01T23:00:00Z"))).toEqual({ allowed: true, validForMs: 7 * 3600_000 });
    // 02:00 belongs to the window that opened yesterday, which the reference never tries.
    expect(checkTimeWindows(night, "UTC", at("2024-05-01T02:00:00Z"))).toEqual({ allowed: false, validForMs: 0 });
  });

  test("unparsable clocks and unknown zones refuse", () => {
    expect(checkTimeWindows([{ start: "8:00", end: "17:00:00" }], "UTC", at("2024-05-01T12:00:00Z")).allowed).toBe(false);
    expect(checkTimeWindows([{ start: "08:00:00", end: "17:00:00" }], "Foo/Bar", at("2024-05-01T12:00:00Z")).allowed).toBe(false);
  });

  test("fractional seconds count", () => {
    expect(checkTimeWindows([{ start: "12:00:00.5", end: "12:00:01" }], "UTC", at("2024-05-01T12:00:00.750Z"))).toEqual({ allowed: true, validForMs: 250 });
  });
});
