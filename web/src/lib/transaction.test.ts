import { describe, expect, it } from "vitest";
import { span } from "./testdata";
import { buildTransaction } from "./transaction";
import type { TransactionResponse } from "./types";

const tx: TransactionResponse = {
  traceId: "B",
  status: "error",
  failedTraces: 1,
  startTime: 0,
  endTime: 300,
  durationNs: 300,
  truncated: false,
  truncatedReasons: [],
  destinations: ["orders"],
  traces: [],
  edges: [
    {
      producerTraceId: "A", producerSpanId: "pub", consumerTraceId: "B", consumerSpanId: "cons",
      channel: "sns", destination: "orders", messageIds: ["m1"], keys: ["sns:m1"],
      producerEnd: 60, consumerStart: 200, lagNs: 140, status: "ok",
    },
    {
      producerTraceId: "", producerSpanId: "", consumerTraceId: "C", consumerSpanId: "c",
      channel: "sqs", destination: "dlq", messageIds: [], keys: [], producerEnd: 0, consumerStart: 0, lagNs: null, status: "ok",
    },
  ],
  criticalPath: [],
  spans: [
    { ...span({ traceId: "A", spanId: "api", startTime: 0, durationNs: 100 }) },
    { ...span({ traceId: "A", spanId: "pub", parentSpanId: "api", startTime: 50, durationNs: 10 }) },
    { ...span({ traceId: "B", spanId: "cons", startTime: 200, durationNs: 100, status: { code: "error", message: "502" } }) },
  ],
};

describe("buildTransaction", () => {
  it("uses full traces where fetched, summaries elsewhere, and nests consumers under producers", () => {
    const full = new Map([
      ["B", { spans: [span({ traceId: "B", spanId: "cons", startTime: 200, durationNs: 100, attributes: { k: "v" } })], logs: [], invocations: [] }],
    ]);
    const { data, model } = buildTransaction(tx, full);
    expect(data.spans.map((s) => s.traceId + "/" + s.spanId).sort()).toEqual(["A/api", "A/pub", "B/cons"]);
    const rows = model.rows.map((r) => (r.kind === "span" ? `${r.depth}:${r.span.spanId}` : ""));
    expect(rows).toEqual(["0:api", "1:pub", "2:cons"]);
    const cons = model.rows[2];
    expect(cons.kind === "span" && cons.hop).toEqual({ from: 1, lagNs: 140, via: "sns orders" });
    expect(cons.kind === "span" && cons.span.attributes).toEqual({ k: "v" }); // the full span, not the summary
  });
});
