// The waterfall's model, computed once per trace: the span tree flattened in
// display order with logs interleaved under their span at their time, and
// each row's place on the shared time axis. Rendering then only slices this
// array (virtualised), and collapsing a subtree only skips a range of it, so
// a 20,000-span trace costs one O(n log n) pass and nothing per frame.
//
// The builder takes spans of any number of traces: a transaction (several
// traces joined by async hops, a later API) is laid out on the same axis with
// one root per trace.

import type { LogRecord, Span } from "./types";

interface RowBase {
  /** Index of this row in TraceModel.rows. */
  index: number;
  depth: number;
  /** Row index of the parent span, -1 for a root. */
  parent: number;
  /** First row index after this row's subtree (index + 1 for a leaf). */
  end: number;
  /** Start relative to the model's start, ns. */
  offset: number;
}

export interface SpanRow extends RowBase {
  kind: "span";
  span: Span;
  error: boolean;
  /** Parent id given but not in the trace (a lost or late parent). */
  orphan: boolean;
  /** Number of child spans and logs directly under this span. */
  children: number;
  serviceIndex: number;
  /** Set when this span is the far side of an async hop placed under its producer. */
  hop?: HopInfo;
}

/**
 * An asynchronous hop between two traces of a transaction: the span that
 * produced a message (SNS publish, SQS send, S3 put, Lambda invoke) and
 * the span that consumed it, usually the root of another trace. The
 * transactions API (DESIGN.md §5) is what supplies these.
 */
export interface Hop {
  from: { traceId: string; spanId: string };
  to: { traceId: string; spanId: string };
  /** What carried it, e.g. "sqs:<MessageId>"; shown on the gap. */
  via?: string;
}

export interface HopInfo {
  /** Row index of the producing span. */
  from: number;
  /** Consumer start minus producer end: the time in the queue (may be < 0 under clock skew). */
  lagNs: number;
  via: string;
}

export interface LogRow extends RowBase {
  kind: "log";
  log: LogRecord;
  error: boolean;
  serviceIndex: number;
}

export type Row = SpanRow | LogRow;

export interface TraceModel {
  rows: Row[];
  /** Earliest start of any span or log, Unix ns. */
  start: number;
  /** Latest end of any span or log, Unix ns. */
  end: number;
  duration: number;
  /** Services in order of first appearance; serviceIndex points here. */
  services: string[];
  traceIds: string[];
  spanCount: number;
  logCount: number;
  errorCount: number;
  maxDepth: number;
  /** Row index of each span, by spanKey. */
  spanRow: Map<string, number>;
}

export const spanKey = (traceId: string, spanId: string) => traceId + "/" + spanId;

export function isErrorSpan(s: Span): boolean {
  return s.status?.code === "error" || s.errorType !== "" || s.errorMessage !== "";
}

export function isErrorLog(l: LogRecord): boolean {
  return l.severityNumber >= 17; // ERROR and FATAL in OTel's severity numbers
}

type Item = { span: Span; time: number } | { log: LogRecord; time: number };

export function buildTraceModel(spans: Span[], logs: LogRecord[], hops: Hop[] = []): TraceModel {
  const byKey = new Map<string, Span>();
  for (const s of spans) {
    const k = spanKey(s.traceId, s.spanId);
    if (!byKey.has(k)) byKey.set(k, s); // writes are idempotent; keep the first
  }
  // Children of each span (and of each trace's virtual root "") as items.
  const kids = new Map<string, Item[]>();
  const push = (parentKey: string, it: Item) => {
    const l = kids.get(parentKey);
    if (l) l.push(it);
    else kids.set(parentKey, [it]);
  };
  const roots: Item[] = [];
  const orphan = new Set<Span>();
  // A hop's consumer that is the root of its trace goes under the producer,
  // so that a transaction reads as one tree with the queue time as a gap.
  const hopTo = new Map<string, Hop>();
  for (const h of hops) {
    const fk = spanKey(h.from.traceId, h.from.spanId);
    const tk = spanKey(h.to.traceId, h.to.spanId);
    const to = byKey.get(tk);
    if (!to || !byKey.has(fk) || fk === tk || hopTo.has(tk)) continue;
    if (to.parentSpanId && byKey.has(spanKey(to.traceId, to.parentSpanId))) continue;
    hopTo.set(tk, h);
  }
  for (const s of byKey.values()) {
    const pk = s.parentSpanId ? spanKey(s.traceId, s.parentSpanId) : "";
    const hop = hopTo.get(spanKey(s.traceId, s.spanId));
    if (hop) {
      push(spanKey(hop.from.traceId, hop.from.spanId), { span: s, time: s.startTime });
    } else if (pk && byKey.has(pk) && pk !== spanKey(s.traceId, s.spanId)) {
      push(pk, { span: s, time: s.startTime });
    } else {
      if (pk) orphan.add(s);
      roots.push({ span: s, time: s.startTime });
    }
  }
  // A log that names no known span but an invocation (a Lambda platform
  // line: START, END, REPORT) goes under that invocation's first span;
  // anything else sits at the top level at its time.
  const invocationSpan = new Map<string, Span>();
  for (const s of byKey.values()) {
    if (!s.invocationId) continue;
    const prev = invocationSpan.get(s.invocationId);
    if (!prev || s.startTime < prev.startTime) invocationSpan.set(s.invocationId, s);
  }
  for (const l of logs) {
    const k = l.spanId ? spanKey(l.traceId, l.spanId) : "";
    const inv = l.invocationId ? invocationSpan.get(l.invocationId) : undefined;
    if (k && byKey.has(k)) push(k, { log: l, time: l.time });
    else if (inv) push(spanKey(inv.traceId, inv.spanId), { log: l, time: l.time });
    else roots.push({ log: l, time: l.time });
  }
  const byTime = (a: Item, b: Item) =>
    a.time - b.time || ("span" in a ? 0 : 1) - ("span" in b ? 0 : 1) || nameOf(a).localeCompare(nameOf(b));
  roots.sort(byTime);
  for (const l of kids.values()) l.sort(byTime);

  const rows: Row[] = [];
  const services: string[] = [];
  const serviceIdx = new Map<string, number>();
  const svc = (name: string) => {
    let i = serviceIdx.get(name);
    if (i === undefined) {
      i = services.length;
      services.push(name);
      serviceIdx.set(name, i);
    }
    return i;
  };
  const spanRow = new Map<string, number>();
  const visited = new Set<string>();
  let start = Infinity;
  let end = -Infinity;
  let errorCount = 0;
  let maxDepth = 0;

  // Iterative DFS: real traces can nest thousands deep (recursive fan-out,
  // retries), deeper than the JS stack allows for recursion.
  type Frame = { items: Item[]; i: number; row: number; depth: number };
  const walk = (top: Item[], topDepth: number, topParent: number) => {
    const stack: Frame[] = [{ items: top, i: 0, row: topParent, depth: topDepth }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1];
      if (f.i >= f.items.length) {
        if (f.row >= 0) rows[f.row].end = rows.length;
        stack.pop();
        continue;
      }
      const it = f.items[f.i++];
      const index = rows.length;
      if ("span" in it) {
        const s = it.span;
        const k = spanKey(s.traceId, s.spanId);
        if (visited.has(k)) continue;
        visited.add(k);
        const error = isErrorSpan(s);
        if (error) errorCount++;
        const children = kids.get(k) ?? [];
        rows.push({
          kind: "span",
          index,
          depth: f.depth,
          parent: f.row,
          end: index + 1,
          offset: 0,
          span: s,
          error,
          orphan: orphan.has(s),
          children: children.length,
          serviceIndex: svc(s.service),
        });
        const hop = hopTo.get(k);
        if (hop && f.row >= 0) {
          const from = byKey.get(spanKey(hop.from.traceId, hop.from.spanId))!;
          (rows[index] as SpanRow).hop = {
            from: f.row,
            lagNs: s.startTime - (from.startTime + from.durationNs),
            via: hop.via ?? "",
          };
        }
        spanRow.set(k, index);
        if (s.startTime < start) start = s.startTime;
        if (s.startTime + s.durationNs > end) end = s.startTime + s.durationNs;
        if (f.depth > maxDepth) maxDepth = f.depth;
        if (children.length > 0) stack.push({ items: children, i: 0, row: index, depth: f.depth + 1 });
      } else {
        const l = it.log;
        rows.push({
          kind: "log",
          index,
          depth: f.depth,
          parent: f.row,
          end: index + 1,
          offset: 0,
          log: l,
          error: isErrorLog(l),
          serviceIndex: svc(l.service),
        });
        if (l.time < start) start = l.time;
        if (l.time > end) end = l.time;
      }
    }
  };
  walk(roots, 0, -1);
  // Spans caught in a parent cycle are reachable from no root: show them as roots.
  for (const s of byKey.values()) {
    if (!visited.has(spanKey(s.traceId, s.spanId))) {
      orphan.add(s);
      walk([{ span: s, time: s.startTime }], 0, -1);
    }
  }
  if (rows.length === 0) {
    start = 0;
    end = 0;
  }
  for (const r of rows) r.offset = (r.kind === "span" ? r.span.startTime : r.log.time) - start;
  const traceIds = [...new Set(spans.map((s) => s.traceId))];
  return {
    rows,
    start,
    end,
    duration: Math.max(0, end - start),
    services,
    traceIds,
    spanCount: spanRow.size,
    logCount: rows.length - spanRow.size,
    errorCount,
    maxDepth,
    spanRow,
  };
}

function nameOf(it: Item): string {
  return "span" in it ? it.span.name : "";
}

/**
 * Indices of the rows shown when the spans at `collapsed` (row indices) are
 * collapsed; log rows are left out when logs is false.
 */
export function visibleRows(model: TraceModel, collapsed: ReadonlySet<number>, logs = true): number[] {
  const out: number[] = [];
  const rows = model.rows;
  let i = 0;
  while (i < rows.length) {
    if (logs || rows[i].kind === "span") out.push(i);
    i = collapsed.has(i) ? rows[i].end : i + 1;
  }
  return out;
}

/** Row indices of the ancestors of row i, nearest first. */
export function ancestors(model: TraceModel, i: number): number[] {
  const out: number[] = [];
  for (let p = model.rows[i]?.parent ?? -1; p >= 0; p = model.rows[p].parent) out.push(p);
  return out;
}

/** The collapsed set with every ancestor of row i expanded, so that i is shown. */
export function reveal(model: TraceModel, collapsed: ReadonlySet<number>, i: number): Set<number> {
  const next = new Set(collapsed);
  for (const a of ancestors(model, i)) next.delete(a);
  return next;
}

/** Lower-cased text a find-in-trace query is matched against, per row (built lazily, once). */
export function searchText(row: Row): string {
  if (row.kind === "span") {
    const s = row.span;
    return [
      s.name,
      s.service,
      s.spanId,
      s.function,
      s.invocationId,
      s.destination,
      s.errorType,
      s.errorMessage,
      s.status.message,
      s.httpRoute,
      ...s.messageIds,
      JSON.stringify(s.attributes),
    ]
      .join("\n")
      .toLowerCase();
  }
  const l = row.log;
  return [typeof l.body === "string" ? l.body : JSON.stringify(l.body), l.severityText, l.service, JSON.stringify(l.attributes)]
    .join("\n")
    .toLowerCase();
}

export class TraceFinder {
  private texts: string[] | null = null;
  constructor(private readonly model: TraceModel) {}

  /** Row indices matching query (case-insensitive substring), in display order. */
  find(query: string): number[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    if (!this.texts) this.texts = this.model.rows.map(searchText);
    const out: number[] = [];
    for (let i = 0; i < this.texts.length; i++) if (this.texts[i].includes(q)) out.push(i);
    return out;
  }
}

/**
 * Row indices of the spans on the critical path of each trace in the model:
 * from a root, the child that finished last, then (before that child
 * started) the one that finished last before it, and so on, recursively,
 * like Jaeger's. A child that outlives its parent counts up to the parent's
 * end; spans that ran alongside a longer sibling are off the path.
 */
export function criticalPath(model: TraceModel): Set<number> {
  const rows = model.rows;
  const kids: number[][] = rows.map(() => []);
  for (const r of rows) if (r.kind === "span" && r.parent >= 0) kids[r.parent].push(r.index);
  const startOf = (i: number) => (rows[i] as SpanRow).span.startTime;
  const endOf = (i: number) => startOf(i) + (rows[i] as SpanRow).span.durationNs;
  const out = new Set<number>();
  const stack: [number, number][] = [];
  for (const r of rows) if (r.kind === "span" && r.parent < 0) stack.push([r.index, endOf(r.index)]);
  while (stack.length > 0) {
    const [i, until] = stack.pop()!;
    out.add(i);
    let t = Math.min(until, endOf(i));
    const byEnd = kids[i].slice().sort((a, b) => endOf(b) - endOf(a));
    for (const k of byEnd) {
      if (startOf(k) >= t) continue; // started after the path moved on (or after the parent ended)
      stack.push([k, Math.min(endOf(k), t)]);
      t = startOf(k);
    }
  }
  return out;
}
