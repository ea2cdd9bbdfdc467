// Turns a transaction (GET /api/v1/transactions/{id}) and the full traces
// it joins into one waterfall: spans and logs of every trace, with each
// async hop placing the consumer's trace under the producing span.
import { type Hop, type TraceModel, buildTraceModel } from "./traceModel";
import type { Span, TraceResponse, TransactionResponse, TransactionSpan } from "./types";

/** Traces fetched in full; beyond this the transaction's span summaries are drawn. */
export const MAX_FULL_TRACES = 40;

export function spanFromSummary(s: TransactionSpan): Span {
  return {
    ...s,
    httpMethod: "",
    httpRoute: "",
    dbSystem: "",
    requestPayload: "",
    responsePayload: "",
    attributes: {},
    resourceAttributes: {},
    events: [],
    links: [],
  };
}

export function hopsOf(tx: TransactionResponse): Hop[] {
  return tx.edges
    .filter((e) => e.producerSpanId && e.consumerSpanId)
    .map((e) => ({
      from: { traceId: e.producerTraceId, spanId: e.producerSpanId },
      to: { traceId: e.consumerTraceId, spanId: e.consumerSpanId },
      via: [e.channel, e.destination].filter(Boolean).join(" "),
    }));
}

/**
 * full maps trace ids to their full answers (a missing entry: not fetched or
 * failed); those traces are drawn from the transaction's span summaries.
 */
export function buildTransaction(
  tx: TransactionResponse,
  full: Map<string, TraceResponse>,
): { data: TraceResponse; model: TraceModel } {
  const data: TraceResponse = { spans: [], logs: [], invocations: [] };
  for (const t of full.values()) {
    data.spans.push(...t.spans);
    data.logs.push(...t.logs);
    data.invocations.push(...t.invocations);
  }
  for (const s of tx.spans) if (!full.has(s.traceId)) data.spans.push(spanFromSummary(s));
  return { data, model: buildTraceModel(data.spans, data.logs, hopsOf(tx)) };
}
