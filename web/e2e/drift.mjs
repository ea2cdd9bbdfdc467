// A contract drift sent over OTLP/HTTP JSON, as the shop's drift fault
// produces it: checkout-api 1.4.2 sends orders to the SQS queue "payments"
// with "amount"; 2.0.0 renames it "total" (and adds "channel"); the payment
// function fails on each 2.0.0 message and logs why. The synthetic demo has
// no captured payloads, so the UI tests add this to see the schema diff,
// and the payment function's logs that link to their invocations.

import { randomBytes, randomUUID } from "node:crypto";

const hex = (bytes) => randomBytes(bytes).toString("hex");
const str = (key, v) => ({ key, value: { stringValue: v } });
const bool = (key, v) => ({ key, value: { boolValue: v } });
const strs = (key, vs) => ({ key, value: { arrayValue: { values: vs.map((v) => ({ stringValue: v })) } } });
const ns = (n) => String(BigInt(Math.round(n)));

function resource(service, version) {
  return {
    attributes: [
      str("service.name", service),
      str("service.version", version),
      str("faas.name", service),
      str("cloud.provider", "aws"),
      str("cloud.platform", "aws_lambda"),
      str("cloud.region", "eu-west-1"),
      str("deployment.environment.name", "demo"),
    ],
  };
}

/**
 * Returns { requests, channel, consumer, requestIds, orders }. All spans end
 * between startNs and startNs + 2.5 s: keep that window after the
 * detectors' watermark (their lag, 30 s by default, behind now) so they read it.
 */
export function contractDrift({ startNs }) {
  const channel = "payments";
  const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/payments";
  const ms = 1e6;
  const producers = { "1.4.2": [], "2.0.0": [] };
  const consumers = [];
  const logs = [];
  const requestIds = [];
  const orders = [];
  const order = (version, at, n) => {
    const orderId = `ord-drift-${n}`;
    orders.push(orderId);
    const msg = version === "1.4.2"
      ? { orderId, items: 2, amount: 42.5, currency: "EUR", customer: { id: "c-17", email: "ada@example.com" } }
      : { orderId, items: 2, total: 42.5, currency: "EUR", channel: "web", customer: { id: "c-17", email: "ada@example.com" } };
    const traceId = hex(16);
    const root = hex(8);
    const send = hex(8);
    const msgId = randomUUID();
    const req = randomUUID();
    producers[version].push(
      {
        traceId, spanId: root, name: "POST /orders", kind: 2,
        startTimeUnixNano: ns(at), endTimeUnixNano: ns(at + 60 * ms),
        attributes: [str("http.request.method", "POST"), str("http.route", "/orders"), str("faas.invocation_id", req),
          str("ariadne.trigger", "apigatewayv2"), bool("faas.coldstart", false)],
        status: { code: 0 },
      },
      {
        traceId, spanId: send, parentSpanId: root, name: "SQS.SendMessage", kind: 4,
        startTimeUnixNano: ns(at + 10 * ms), endTimeUnixNano: ns(at + 40 * ms),
        attributes: [
          str("messaging.system", "aws_sqs"), str("messaging.operation.type", "send"),
          str("messaging.destination.name", channel), strs("ariadne.refs.producer", [`sqs:${msgId}`]),
          str("ariadne.request.payload", JSON.stringify({ QueueUrl: queueUrl, MessageBody: JSON.stringify(msg) })),
        ],
        status: { code: 0 },
      },
    );
    if (version === "1.4.2") return;
    // payment receives the 2.0.0 message and fails on it.
    const ctrace = hex(16);
    const cspan = hex(8);
    const creq = randomUUID();
    requestIds.push(creq);
    const cstart = at + 200 * ms;
    const why = `order ${orderId}: field "amount" is missing (got total, channel)`;
    consumers.push({
      traceId: ctrace, spanId: cspan, name: "payment", kind: 5,
      startTimeUnixNano: ns(cstart), endTimeUnixNano: ns(cstart + 35 * ms),
      attributes: [
        str("messaging.system", "aws_sqs"), str("messaging.operation.type", "process"),
        str("messaging.destination.name", channel), strs("ariadne.refs.consumer", [`sqs:${msgId}`]),
        str("faas.invocation_id", creq), str("ariadne.trigger", "sqs"), bool("faas.coldstart", false),
        str("ariadne.request.payload", JSON.stringify(msg)),
      ],
      status: { code: 2, message: "ValidationError: " + why },
      events: [{ timeUnixNano: ns(cstart + 30 * ms), name: "exception", attributes: [str("exception.type", "ValidationError"), str("exception.message", why)] }],
    });
    logs.push(
      {
        timeUnixNano: ns(cstart + 5 * ms), severityNumber: 9, severityText: "INFO",
        body: { stringValue: `charging ${orderId}` }, traceId: ctrace, spanId: cspan,
        attributes: [str("faas.name", "payment"), str("faas.invocation_id", creq)],
      },
      {
        timeUnixNano: ns(cstart + 30 * ms), severityNumber: 17, severityText: "ERROR",
        body: { stringValue: `rejected ${why}` }, traceId: ctrace, spanId: cspan,
        attributes: [str("faas.name", "payment"), str("faas.invocation_id", creq)],
      },
    );
  };
  order("1.4.2", startNs, 1);
  order("2.0.0", startNs + 1000 * ms, 2);
  order("2.0.0", startNs + 1500 * ms, 3);
  order("2.0.0", startNs + 2000 * ms, 4);
  const scope = { name: "ariadne-e2e-drift" };
  const requests = [
    {
      path: "/v1/traces",
      body: {
        resourceSpans: [
          { resource: resource("checkout-api", "1.4.2"), scopeSpans: [{ scope, spans: producers["1.4.2"] }] },
          { resource: resource("checkout-api", "2.0.0"), scopeSpans: [{ scope, spans: producers["2.0.0"] }] },
          { resource: resource("payment", "1.4.2"), scopeSpans: [{ scope, spans: consumers }] },
        ],
      },
    },
    {
      path: "/v1/logs",
      body: { resourceLogs: [{ resource: resource("payment", "1.4.2"), scopeLogs: [{ scope, logRecords: logs }] }] },
    },
  ];
  return { requests, channel, consumer: "payment", requestIds, orders };
}
