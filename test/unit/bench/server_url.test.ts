import { describe, expect, test } from "bun:test";
import { parseServerUrl } from "../../../src/cli/bench/raw/server_url.ts";

describe("parseServerUrl", () => {
  test("forms the raw client accepts", () => {
    expect(parseServerUrl("nats://127.0.0.1:4333")).toEqual({ host: "127.0.0.1", port: 4333, tls: false, user: "", pass: "", token: "" });
    expect(parseServerUrl("localhost")).toMatchObject({ host: "localhost", port: 4222 });
    expect(parseServerUrl("10.0.0.1:5000")).toMatchObject({ host: "10.0.0.1", port: 5000 });
    expect(parseServerUrl("nats://u%40x:p%3Aw@h:1")).toMatchObject({ user: "u@x", pass: "p:w", token: "" });
    expect(parseServerUrl("nats://s3cret@h")).toMatchObject({ user: "", pass: "", token: "s3cret" });
    expect(parseServerUrl("tls://h:4443")).toMatchObject({ tls: true, port: 4443 });
    expect(parseServerUrl("nats://[::1]:4222")).toMatchObject({ host: "::1" });
    expect(parseServerUrl("nats://a:1, nats://b:2")).toMatchObject({ host: "a", port: 1 });
  });
  test("other schemes and junk are refused", () => {
    expect(() => parseServerUrl("http://h:1")).toThrow(/scheme/);
    expect(() => parseServerUrl("nats://h:notaport")).toThrow(/invalid server URL/);
  });
});
