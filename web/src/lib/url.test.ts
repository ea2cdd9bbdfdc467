import { describe, expect, it } from "vitest";
import { checkDuration, parseSearch, searchToAPI, searchToURL } from "./searchQuery";
import { parseTimeRange, resolveRange, toApiRange, writeTimeRange } from "./timeRange";
import { formatDuration, niceTicks, parseDurationNs, prettyPayload } from "./format";

describe("time range in the URL", () => {
  it("defaults to the last hour and keeps it implicit", () => {
    const tr = parseTimeRange(new URLSearchParams(""));
    expect(tr).toEqual({ kind: "relative", key: "1h" });
    expect(writeTimeRange(new URLSearchParams(), tr).toString()).toBe("");
    expect(toApiRange(tr)).toEqual({ start: "-1h" });
  });

  it("reads presets and absolute bounds; ignores nonsense", () => {
    expect(parseTimeRange(new URLSearchParams("range=15m"))).toEqual({ kind: "relative", key: "15m" });
    expect(parseTimeRange(new URLSearchParams("range=3y"))).toEqual({ kind: "relative", key: "1h" });
    const abs = parseTimeRange(new URLSearchParams("start=2026-11-25T22:00:00Z&end=2026-11-25T23:00:00Z"));
    expect(abs).toEqual({ kind: "absolute", startMs: Date.UTC(2026, 10, 25, 22), endMs: Date.UTC(2026, 10, 25, 23) });
    expect(toApiRange(abs)).toEqual({ start: "2026-11-25T22:00:00.000Z", end: "2026-11-25T23:00:00.000Z" });
    expect(parseTimeRange(new URLSearchParams("start=2026-11-25T23:00:00Z&end=2026-11-25T22:00:00Z")).kind).toBe(
      "relative",
    );
    expect(resolveRange({ kind: "relative", key: "5m" }, 1_000_000)).toEqual({ startMs: 700_000, endMs: 1_000_000 });
  });
});

describe("search query in the URL", () => {
  it("round-trips every filter", () => {
    const url =
      "range=6h&service=payment&operation=POST+%2Forders&error=true&minDuration=250ms&maxDuration=2s&q=ord-42" +
      "&attr.http.route=%2Forders&attr.faas.coldstart=true&limit=100&cursor=abc";
    const q = parseSearch(new URLSearchParams(url));
    expect(q).toMatchObject({
      service: "payment",
      operation: "POST /orders",
      errorOnly: true,
      minDuration: "250ms",
      maxDuration: "2s",
      q: "ord-42",
      attrs: [
        ["http.route", "/orders"],
        ["faas.coldstart", "true"],
      ],
      limit: 100,
      cursor: "abc",
    });
    expect(searchToURL(q).toString()).toBe(url);
  });

  it("leaves defaults out of the URL and puts them in the API request", () => {
    const q = parseSearch(new URLSearchParams(""));
    expect(searchToURL(q).toString()).toBe("");
    expect(searchToAPI(q).toString()).toBe("start=-1h&limit=50");
  });

  it("checks durations the way the API parses them", () => {
    for (const ok of ["", "250ms", "1.5s", "2m", "1h30m", "1000"]) expect(checkDuration(ok)).toBe("");
    for (const bad of ["fast", "1.5", "-2s", "ms"]) expect(checkDuration(bad)).not.toBe("");
  });
});

describe("format", () => {
  it("formats durations", () => {
    expect(formatDuration(512)).toBe("512 ns");
    expect(formatDuration(1_500)).toBe("1.50 µs");
    expect(formatDuration(245_000_000)).toBe("245 ms");
    expect(formatDuration(12_300_000_000)).toBe("12.3 s");
    expect(formatDuration(125e9)).toBe("2m 5s");
  });
  it("makes nice ticks", () => {
    expect(niceTicks(1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
  });
  it("pretty-prints JSON payloads and leaves the rest", () => {
    expect(prettyPayload('{"a":1}')).toEqual({ text: '{\n  "a": 1\n}', json: true });
    expect(prettyPayload('{"a":1, "cut')).toEqual({ text: '{"a":1, "cut', json: false });
  });
});

describe("parseDurationNs", () => {
  it("reads Go-style durations", () => {
    expect(parseDurationNs("5m")).toBe(300e9);
    expect(parseDurationNs("1h30m")).toBe(5400e9);
    expect(parseDurationNs("250ms")).toBe(250e6);
    expect(parseDurationNs("soon")).toBeNaN();
    expect(parseDurationNs("")).toBeNaN();
  });
});
