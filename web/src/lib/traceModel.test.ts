import { describe, expect, it } from "vitest";
import { TraceFinder, ancestors, buildTraceModel, criticalPath, reveal, visibleRows } from "./traceModel";
import { log, span } from "./testdata";

const label = (m: ReturnType<typeof buildTraceModel>, rows = m.rows.map((r) => r.index)) =>
  rows.map((i) => {
    const r = m.rows[i];
    return "  ".repeat(r.depth) + (r.kind === "span" ? r.span.spanId : "log:" + String(r.log.body));
  });

describe("buildTraceModel", () => {
  it("orders children by start time and puts logs under their span at their time", () => {
    const m = buildTraceModel(
      [
        span({ spanId: "root", startTime: 100, durationNs: 1000 }),
        span({ spanId: "b", parentSpanId: "root", startTime: 500, durationNs: 100, service: "pay" }),
        span({ spanId: "a", parentSpanId: "root", startTime: 200, durationNs: 100 }),
        span({ spanId: "a1", parentSpanId: "a", startTime: 250, durationNs: 10 }),
      ],
      [log({ spanId: "root", time: 400, body: "between" }), log({ spanId: "a", time: 210, body: "first" })],
    );
    expect(label(m)).toEqual(["root", "  a", "    log:first", "    a1", "  log:between", "  b"]);
    expect(m.start).toBe(100);
    expect(m.end).toBe(1100);
    expect(m.services).toEqual(["svc", "pay"]);
    expect(m.spanCount).toBe(4);
    expect(m.logCount).toBe(2);
    // subtree ends
    expect(m.rows.map((r) => r.end)).toEqual([6, 4, 3, 4, 5, 6]);
    expect(m.rows[5].offset).toBe(400);
  });

  it("shows spans with a missing parent as orphan roots and survives cycles and duplicates", () => {
    const m = buildTraceModel(
      [
        span({ spanId: "x", parentSpanId: "gone", startTime: 5 }),
        span({ spanId: "c1", parentSpanId: "c2", startTime: 1 }),
        span({ spanId: "c2", parentSpanId: "c1", startTime: 2 }),
        span({ spanId: "x", parentSpanId: "gone", startTime: 5, name: "duplicate" }),
        span({ spanId: "self", parentSpanId: "self", startTime: 9 }),
      ],
      [log({ time: 3, body: "loose" })],
    );
    expect(m.spanCount).toBe(4);
    const spans = m.rows.filter((r) => r.kind === "span");
    expect(spans.find((r) => r.span.spanId === "x")).toMatchObject({ orphan: true, depth: 0 });
    expect(spans.find((r) => r.span.spanId === "self")).toMatchObject({ depth: 0 });
    expect(label(m).slice(0, 3)).toEqual(["log:loose", "x", "self"]); // the loose log at its time, top level
    expect(m.rows.every((r, i) => r.index === i && r.end > i)).toBe(true);
  });

  it("puts a log without a span under its invocation's first span", () => {
    const m = buildTraceModel(
      [
        span({ spanId: "inv", startTime: 10, invocationId: "req-1" }),
        span({ spanId: "child", parentSpanId: "inv", startTime: 12, invocationId: "req-1" }),
      ],
      [log({ time: 30, invocationId: "req-1", body: "REPORT" }), log({ time: 5, invocationId: "req-2", body: "other" })],
    );
    expect(label(m)).toEqual(["log:other", "inv", "  child", "  log:REPORT"]);
  });

  it("counts errors from status, error fields and severe logs", () => {
    const m = buildTraceModel(
      [
        span({ spanId: "r", status: { code: "error", message: "boom" } }),
        span({ spanId: "c", parentSpanId: "r", errorType: "Timeout" }),
        span({ spanId: "d", parentSpanId: "r" }),
      ],
      [log({ spanId: "d", time: 1, severityNumber: 17 })],
    );
    expect(m.errorCount).toBe(2);
    expect(m.rows.filter((r) => r.error).length).toBe(3);
  });

  it("lays out several traces on one axis", () => {
    const m = buildTraceModel(
      [span({ spanId: "a", traceId: "t1", startTime: 1000 }), span({ spanId: "a", traceId: "t2", startTime: 3000 })],
      [],
    );
    expect(m.traceIds).toEqual(["t1", "t2"]);
    expect(m.rows.map((r) => r.offset)).toEqual([0, 2000]);
  });

  it("handles a chain 50,000 deep without recursion", () => {
    const spans = Array.from({ length: 50_000 }, (_, i) =>
      span({ spanId: "s" + i, parentSpanId: i ? "s" + (i - 1) : "", startTime: i }),
    );
    const m = buildTraceModel(spans, []);
    expect(m.maxDepth).toBe(49_999);
    expect(m.rows[0].end).toBe(50_000);
  });

  it("builds 20,000 spans quickly", () => {
    const spans = [span({ spanId: "root", durationNs: 1e9 })];
    for (let i = 1; i < 20_000; i++) {
      spans.push(span({ spanId: "s" + i, parentSpanId: i < 100 ? "root" : "s" + (i % 100 || 1), startTime: i * 10 }));
    }
    const t0 = performance.now();
    const m = buildTraceModel(spans, []);
    const ms = performance.now() - t0;
    expect(m.spanCount).toBe(20_000);
    expect(ms).toBeLessThan(2000); // ~150 ms in Chromium; generous for loaded CI machines
  });
});

describe("collapse and find", () => {
  const m = buildTraceModel(
    [
      span({ spanId: "root" }),
      span({ spanId: "a", parentSpanId: "root", startTime: 1 }),
      span({ spanId: "a1", parentSpanId: "a", startTime: 2, attributes: { "order.id": "ord-42" } }),
      span({ spanId: "b", parentSpanId: "root", startTime: 3 }),
    ],
    [log({ spanId: "b", time: 4, body: "charged ord-42" })],
  );

  it("skips a collapsed subtree", () => {
    expect(label(m, visibleRows(m, new Set([1])))).toEqual(["root", "  a", "  b", "    log:charged ord-42"]);
    expect(label(m, visibleRows(m, new Set([0])))).toEqual(["root"]);
    expect(visibleRows(m, new Set()).length).toBe(5);
    expect(label(m, visibleRows(m, new Set(), false))).toEqual(["root", "  a", "    a1", "  b"]);
  });

  it("reveals a row by expanding its ancestors", () => {
    expect(ancestors(m, 2)).toEqual([1, 0]);
    const c = reveal(m, new Set([0, 1, 3]), 2);
    expect([...c]).toEqual([3]);
  });

  it("finds rows by attribute values and log bodies", () => {
    const f = new TraceFinder(m);
    expect(f.find("ORD-42")).toEqual([2, 4]);
    expect(f.find("  ")).toEqual([]);
    expect(f.find("nothing")).toEqual([]);
  });
});

describe("criticalPath", () => {
  it("follows the last finisher back to the start, skipping parallel work", () => {
    // root 0..100: a 0..30, b 10..60 (parallel to a, ends later), c 70..95; b1 20..55 inside b
    const m = buildTraceModel(
      [
        span({ spanId: "root", startTime: 0, durationNs: 100 }),
        span({ spanId: "a", parentSpanId: "root", startTime: 0, durationNs: 30 }),
        span({ spanId: "b", parentSpanId: "root", startTime: 10, durationNs: 50 }),
        span({ spanId: "b1", parentSpanId: "b", startTime: 20, durationNs: 35 }),
        span({ spanId: "c", parentSpanId: "root", startTime: 70, durationNs: 25 }),
        span({ spanId: "late", parentSpanId: "root", startTime: 99.5, durationNs: 300 }),
      ],
      [],
    );
    const ids = [...criticalPath(m)].map((i) => (m.rows[i] as { span: { spanId: string } }).span.spanId).sort();
    expect(ids).toEqual(["a", "b", "b1", "c", "late", "root"]);
  });

  it("drops a sibling that ran entirely alongside the path", () => {
    const m = buildTraceModel(
      [
        span({ spanId: "root", startTime: 0, durationNs: 100 }),
        span({ spanId: "long", parentSpanId: "root", startTime: 0, durationNs: 90 }),
        span({ spanId: "short", parentSpanId: "root", startTime: 20, durationNs: 10 }),
      ],
      [],
    );
    const ids = [...criticalPath(m)].map((i) => (m.rows[i] as { span: { spanId: string } }).span.spanId).sort();
    expect(ids).toEqual(["long", "root"]);
  });
});

describe("transactions (several traces joined by async hops)", () => {
  const spans = [
    span({ traceId: "A", spanId: "api", startTime: 0, durationNs: 100 }),
    span({ traceId: "A", spanId: "publish", parentSpanId: "api", startTime: 50, durationNs: 10 }),
    span({ traceId: "B", spanId: "consumer", startTime: 200, durationNs: 100 }),
    span({ traceId: "B", spanId: "db", parentSpanId: "consumer", startTime: 210, durationNs: 10 }),
    span({ traceId: "C", spanId: "unrelated", startTime: 20, durationNs: 5 }),
  ];

  it("puts a consumer trace under its producer with the queue time", () => {
    const m = buildTraceModel(spans, [], [
      { from: { traceId: "A", spanId: "publish" }, to: { traceId: "B", spanId: "consumer" }, via: "sqs:m-1" },
    ]);
    expect(label(m)).toEqual(["api", "  publish", "    consumer", "      db", "unrelated"]);
    const consumer = m.rows[2];
    expect(consumer).toMatchObject({ kind: "span", hop: { from: 1, lagNs: 140, via: "sqs:m-1" } });
    expect(m.traceIds).toEqual(["A", "B", "C"]);
    expect(m.duration).toBe(300);
  });

  it("ignores hops to missing spans, to non-roots, and loops", () => {
    const m = buildTraceModel(spans, [], [
      { from: { traceId: "A", spanId: "publish" }, to: { traceId: "B", spanId: "db" } }, // db has a parent
      { from: { traceId: "A", spanId: "nope" }, to: { traceId: "B", spanId: "consumer" } },
      { from: { traceId: "B", spanId: "consumer" }, to: { traceId: "A", spanId: "api" } },
      { from: { traceId: "A", spanId: "api" }, to: { traceId: "B", spanId: "consumer" } },
    ]);
    // api ⇄ consumer is a loop: both still show, once each.
    expect(m.spanCount).toBe(5);
    expect(new Set(m.rows.map((r) => (r.kind === "span" ? r.span.spanId : ""))).size).toBe(5);
  });
});
