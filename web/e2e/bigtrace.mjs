// A large synthetic trace sent over OTLP/HTTP JSON, for the waterfall's
// 20,000-span benchmark. Shape: an API root fanning out to calls across ten
// services, each call with its own subtree a few levels deep, some errors,
// events and logs; deterministic for a given seed.

const SERVICES = [
  "gateway", "orders", "payment", "inventory", "shipping",
  "pricing", "search", "users", "notify", "ledger",
];
const OPS = ["GET /items", "DynamoDB.Query", "SQS.SendMessage", "POST /charge", "S3.GetObject", "render", "cache.get"];

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s + Math.imul(s ^ (s >>> 7), s | 61);
    return ((s ^ (s >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, "0");
const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: String(v) } });

/**
 * Returns { traceId, spans, logs, requests }: requests are OTLP/HTTP JSON
 * bodies ({path, body}) of at most batch spans each.
 */
export function bigTrace({ spans: total = 20_000, seed = 7, startNs, batch = 4000 }) {
  const r = rng(seed);
  const traceId = "b16" + hex(seed, 2) + "0".repeat(32 - 8) + "1";
  const rootDur = 30e9;
  const t0 = BigInt(startNs);
  const list = [];
  const logs = [];
  const mk = (parent, depth, start, dur) => {
    const i = list.length;
    const service = i === 0 ? "gateway" : SERVICES[1 + Math.floor(r() * (SERVICES.length - 1))];
    const name = i === 0 ? "POST /checkout/bulk" : `${OPS[Math.floor(r() * OPS.length)]} #${i}`;
    const error = i > 0 && r() < 0.01;
    const s = {
      service,
      span: {
        traceId,
        spanId: hex(i + 1, 8),
        parentSpanId: parent ? parent.span.spanId : "",
        name,
        kind: i === 0 ? 2 : 3,
        startTimeUnixNano: String(t0 + BigInt(Math.round(start))),
        endTimeUnixNano: String(t0 + BigInt(Math.round(start + dur))),
        attributes: [str("span.index", `span-${i}`), int("depth", depth), str("ariadne.test", "bigtrace")],
        status: error ? { code: 2, message: "synthetic failure " + i } : { code: 0 },
        events: error ? [{ timeUnixNano: String(t0 + BigInt(Math.round(start + dur / 2))), name: "exception", attributes: [str("exception.type", "SyntheticError"), str("exception.message", "failure " + i)] }] : [],
      },
      start,
      dur,
      depth,
    };
    list.push(s);
    if (i % 100 === 0) {
      logs.push({
        service,
        log: {
          timeUnixNano: String(t0 + BigInt(Math.round(start + dur / 3))),
          severityNumber: error ? 17 : 9,
          severityText: error ? "ERROR" : "INFO",
          body: { stringValue: `step ${i} of the bulk checkout` },
          traceId,
          spanId: s.span.spanId,
        },
      });
    }
    return s;
  };
  // Breadth-first growth: each span gets children inside its interval until
  // the total is reached; fan-out shrinks with depth.
  const root = mk(null, 0, 0, rootDur);
  const queue = [root];
  while (list.length < total && queue.length > 0) {
    const p = queue.shift();
    const fan = p.depth === 0 ? 60 : Math.max(2, 8 - p.depth);
    const slot = p.dur / fan;
    for (let k = 0; k < fan && list.length < total; k++) {
      const start = p.start + k * slot + r() * slot * 0.2;
      const c = mk(p, p.depth + 1, start, slot * (0.3 + r() * 0.6));
      queue.push(c);
    }
  }
  const requests = [];
  for (let i = 0; i < list.length; i += batch) {
    const bySvc = new Map();
    for (const s of list.slice(i, i + batch)) {
      if (!bySvc.has(s.service)) bySvc.set(s.service, []);
      bySvc.get(s.service).push(s.span);
    }
    requests.push({
      path: "/v1/traces",
      body: {
        resourceSpans: [...bySvc].map(([service, spans]) => ({
          resource: { attributes: [str("service.name", service), str("deployment.environment.name", "bench")] },
          scopeSpans: [{ scope: { name: "ariadne-e2e-bigtrace" }, spans }],
        })),
      },
    });
  }
  const logsBySvc = new Map();
  for (const l of logs) {
    if (!logsBySvc.has(l.service)) logsBySvc.set(l.service, []);
    logsBySvc.get(l.service).push(l.log);
  }
  requests.push({
    path: "/v1/logs",
    body: {
      resourceLogs: [...logsBySvc].map(([service, logRecords]) => ({
        resource: { attributes: [str("service.name", service)] },
        scopeLogs: [{ scope: { name: "ariadne-e2e-bigtrace" }, logRecords }],
      })),
    },
  });
  return { traceId, spans: list.length, logs: logs.length, requests };
}

/** Sends the requests to an OTLP/HTTP endpoint (http://host:port). */
export async function send(endpoint, requests) {
  for (const req of requests) {
    const res = await fetch(endpoint + req.path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(req.body),
    });
    if (!res.ok) throw new Error(`OTLP ${req.path}: ${res.status} ${await res.text()}`);
  }
}
