// Builders of wire objects for unit tests.
import type { LogRecord, Span } from "./types";

export function span(p: Partial<Span> & { spanId: string }): Span {
  return {
    traceId: "t1",
    parentSpanId: "",
    name: "op-" + p.spanId,
    kind: "internal",
    service: "svc",
    startTime: 0,
    durationNs: 10,
    status: { code: "unset", message: "" },
    function: "",
    invocationId: "",
    coldStart: false,
    trigger: "",
    messagingSystem: "",
    destination: "",
    messageIds: [],
    httpMethod: "",
    httpRoute: "",
    httpStatus: 0,
    dbSystem: "",
    errorType: "",
    errorMessage: "",
    requestPayload: "",
    responsePayload: "",
    attributes: {},
    resourceAttributes: {},
    events: [],
    links: [],
    ...p,
  };
}

export function log(p: Partial<LogRecord> & { time: number }): LogRecord {
  return {
    traceId: "t1",
    spanId: "",
    severityNumber: 9,
    severityText: "INFO",
    body: "hello",
    service: "svc",
    function: "",
    invocationId: "",
    attributes: {},
    ...p,
  };
}
