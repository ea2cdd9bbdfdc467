import { useMemo } from "react";
import { Link, useNavigate } from "react-router";
import { useWidth } from "../components/useWidth";
import { layoutMap } from "../lib/mapLayout";
import { MapCanvas } from "./ServiceMap";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatAge, formatClock, formatDateTime, formatDuration } from "../lib/format";
import { resolveRange, toApiRange, writeTimeRange } from "../lib/timeRange";
import type { CostResponse, MapNode, TraceSummary } from "../lib/types";
import { useRefreshTick } from "../lib/refresh";
import { useApi } from "../lib/useApi";
import { useTimeRange } from "../lib/useTimeRange";

// The search API pages at most 1,000 traces; the overview reads one page of
// all traces and one of error traces, and says so when a page was full.
const CAP = 1000;
// Span attributes of docs/attributes.md: OTel's cold start flag and the
// SDK's timeout marker.
const COLD = "attr.faas.coldstart";
const TIMEOUT = "attr.ariadne.timeout";

export function OverviewPage() {
  const [tr] = useTimeRange();
  const tick = useRefreshTick();
  const key = JSON.stringify(tr) + "#" + tick;
  const res = useApi(key, async (signal) => {
    const r = toApiRange(tr);
    const base = new URLSearchParams({ start: r.start, limit: String(CAP) });
    if (r.end) base.set("end", r.end);
    const errs = new URLSearchParams(base);
    errs.set("error", "true");
    const [all, errors] = await Promise.all([api.search(base, signal), api.search(errs, signal)]);
    return { all: all.traces, allMore: !!all.nextCursor, errors: errors.traces, errorsMore: !!errors.nextCursor };
  });
  // Secondary figures load on their own so that they never hold up the page.
  const extra = useApi(key, async (signal) => {
    const r = toApiRange(tr);
    const one = (k: string) => {
      const p = new URLSearchParams({ start: r.start, limit: String(CAP), [k]: "true" });
      if (r.end) p.set("end", r.end);
      return api.search(p, signal);
    };
    const [cold, timeouts, map, cost] = await Promise.all([
      one(COLD),
      one(TIMEOUT),
      api.serviceMap(r, signal),
      api.cost(r, signal),
    ]);
    // Issues outlive the range: the open ones are what needs attention now.
    const issues = await api.issues(new URLSearchParams({ status: "open", limit: "1000" }), signal).catch(() => null);
    return {
      cold: cold.traces.length,
      coldMore: !!cold.nextCursor,
      timeouts: timeouts.traces.length,
      timeoutsMore: !!timeouts.nextCursor,
      map,
      layout: layoutMap(map.nodes, map.edges),
      cost,
      openIssues: issues?.issues ?? null,
    };
  });
  const x = extra.data;
  const navigate = useNavigate();
  const { startMs, endMs } = useMemo(() => resolveRange(tr), [key]); // eslint-disable-line react-hooks/exhaustive-deps
  const rangeQS = writeTimeRange(new URLSearchParams(), tr).toString();
  const searchLink = (extra: Record<string, string>) =>
    "/search?" + new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(rangeQS)), ...extra }).toString();

  const raw = res.data;
  // When a page of all traces was full, the figures cover only the window
  // of the newest CAP traces: errors older than that window are left out so
  // that the counts, the rate and the chart compare like with like.
  const d = useMemo(() => {
    if (!raw) return undefined;
    const from = raw.allMore && raw.all.length > 0 ? raw.all[raw.all.length - 1].startTime : startMs * 1e6;
    const errors = raw.errors.filter((t) => t.startTime >= from);
    return { ...raw, errors, from, partial: raw.allMore };
  }, [raw, startMs]);
  const open = (t: TraceSummary) => navigate(`/trace/${t.traceId}`, { state: { from: "/" + (rangeQS ? "?" + rangeQS : "") } });
  const count = (n: number, more: boolean) => (more ? `${n.toLocaleString()}+` : n.toLocaleString());

  return (
    <div className="page">
      <h1>Overview</h1>
      {res.error && <div className="banner error">Could not load the overview: {res.error.message}</div>}
      {!d && res.loading && <div className="loading">Loading…</div>}
      {d && (
        <>
          <div className="grid cols-3" style={{ marginBottom: 14 }}>
            <div className="card stat" data-testid="stat-traces">
              <div className="value">{count(d.all.length, d.allMore)}</div>
              <div className="label">traces in range{d.partial && <> · counts below: since {formatClock(d.from).slice(0, 8)}</>}</div>
            </div>
            <div className="card stat" data-testid="stat-errors">
              <div className="value error-text">{count(d.errors.length, d.errorsMore && !d.partial)}</div>
              <div className="label">
                traces with errors ·{" "}
                <Link to={searchLink({ error: "true" })}>search them</Link>
              </div>
            </div>
            <div className="card stat">
              <div className="value">
                {d.all.length > 0 ? ((100 * d.errors.length) / d.all.length).toFixed(1) + "%" : "–"}
              </div>
              <div className="label">of traces have errors{d.partial ? ` (newest ${CAP.toLocaleString()})` : ""}</div>
            </div>
          </div>
          <div className="grid cols-3" style={{ marginBottom: 14 }}>
            <div className="card stat" data-testid="stat-cold">
              <div className="value">{x ? count(x.cold, x.coldMore) : "…"}</div>
              <div className="label">
                traces with a cold start · <Link to={searchLink({ [COLD]: "true" })}>search them</Link>
              </div>
            </div>
            <div className="card stat" data-testid="stat-timeouts">
              <div className={"value" + (x && x.timeouts > 0 ? " error-text" : "")}>
                {x ? count(x.timeouts, x.timeoutsMore) : "…"}
              </div>
              <div className="label">
                traces with a timeout (SDK marker) · <Link to={searchLink({ [TIMEOUT]: "true" })}>search them</Link>
              </div>
            </div>
            <div className="card stat" data-testid="stat-issues">
              <div className={"value" + (x?.openIssues?.length ? " error-text" : "")}>
                {x ? (x.openIssues ? x.openIssues.length.toLocaleString() : "–") : "…"}
              </div>
              <div className="label">
                open issues · <Link to="/issues?status=open">see them</Link>
              </div>
            </div>
          </div>
          <div className="card" style={{ marginBottom: 14 }}>
            <h2>
              Traces and errors over time{" "}
              {d.partial && (
                <span className="muted">
                  (the newest {CAP.toLocaleString()} traces, since {formatDateTime(d.from)})
                </span>
              )}
            </h2>
            <Histogram all={d.all} errors={d.errors} startMs={d.from / 1e6} endMs={endMs} />
          </div>
          <div className="grid cols-2">
            <div className="card">
              <h2>Functions that fail most</h2>
              {!x ? (
                <div className="muted">Loading…</div>
              ) : (
                <FunctionTable
                  nodes={x.map.nodes.filter((n) => n.kind === "function")}
                  cost={x.cost}
                  onOpen={(fn) => navigate(`/functions?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(rangeQS)), function: fn })}`)}
                />
              )}
            </div>
            <div className="card">
              <h2>Recent errors</h2>
              <TraceList traces={d.errors.slice(0, 8)} onOpen={open} empty="No errors in this range." />
            </div>
            <div className="card">
              <h2>
                Recent traces · <Link to={searchLink({})}>search</Link>
              </h2>
              <TraceList traces={d.all.slice(0, 8)} onOpen={open} empty="No traces in this range yet." testId="recent-traces" />
            </div>
            <div className="card">
              <h2>
                Service map · <Link to={"/map" + (rangeQS ? "?" + rangeQS : "")}>open</Link>
              </h2>
              {x && x.layout.nodes.length > 0 ? (
                <div className="mini-map" data-testid="mini-map">
                  <MapCanvas
                    layout={x.layout}
                    selected={null}
                    onSelect={(s) => s && navigate("/map" + (rangeQS ? "?" + rangeQS : ""))}
                  />
                </div>
              ) : (
                <div className="muted">{x ? "No traffic in this range." : "Loading…"}</div>
              )}

            </div>
          </div>
        </>
      )}
    </div>
  );
}

function TraceList({
  traces,
  onOpen,
  empty,
  testId,
}: {
  traces: TraceSummary[];
  onOpen: (t: TraceSummary) => void;
  empty: string;
  testId?: string;
}) {
  if (traces.length === 0) return <div className="muted">{empty}</div>;
  return (
    <table className="data" data-testid={testId}>
      <tbody>
        {traces.map((t) => (
          <tr key={t.traceId} className="clickable" onClick={() => onOpen(t)}>
            <td>
              <span className="svc-dot" style={{ background: serviceColor(t.rootService) }} />
              {t.rootService} <span className="muted">{t.rootName}</span>
            </td>
            <td className="num">{formatDuration(t.durationNs)}</td>
            <td className="num">{t.errorCount > 0 ? <span className="pill error">{t.errorCount}</span> : ""}</td>
            <td className="num muted">{formatAge(t.startTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Histogram({ all, errors, startMs, endMs }: { all: TraceSummary[]; errors: TraceSummary[]; startMs: number; endMs: number }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const H = 140;
  const n = Math.max(10, Math.min(60, Math.floor(width / 16)));
  const span = (endMs - startMs) * 1e6;
  const s0 = startMs * 1e6;
  const bucket = (list: TraceSummary[]) => {
    const b = new Array<number>(n).fill(0);
    for (const t of list) {
      const i = Math.floor(((t.startTime - s0) / span) * n);
      if (i >= 0 && i < n) b[i]++;
      else if (i >= n) b[n - 1]++;
    }
    return b;
  };
  const a = bucket(all);
  const e = bucket(errors);
  const max = Math.max(1, ...a, ...e);
  const bw = width / n;
  return (
    <div ref={ref} data-testid="histogram">
      <svg width={width} height={H + 16} className="bars" role="img" aria-label="Traces and errors over time">
        {a.map((v, i) => (
          <g key={i}>
            <rect className="all" x={i * bw + 1} width={Math.max(1, bw - 2)} y={H - (v / max) * H} height={(v / max) * H}>
              <title>
                {formatClock((s0 + (i * span) / n)).slice(0, 8)}: {v} traces, {e[i]} with errors
              </title>
            </rect>
            <rect className="err" x={i * bw + 1} width={Math.max(1, bw - 2)} y={H - (e[i] / max) * H} height={(e[i] / max) * H} />
          </g>
        ))}
        <text x={0} y={H + 13}>
          {formatDateTime(startMs * 1e6)}
        </text>
        <text x={width} y={H + 13} textAnchor="end">
          {formatDateTime(endMs * 1e6)}
        </text>
      </svg>
    </div>
  );
}

function FunctionTable({
  nodes,
  cost,
  onOpen,
}: {
  nodes: MapNode[];
  cost: CostResponse;
  onOpen: (fn: string) => void;
}) {
  if (nodes.length === 0) return <div className="muted">No function ran in this range.</div>;
  const costOf = new Map(cost.functions.map((f) => [f.function, f]));
  const rows = [...nodes].sort((a, b) => b.errorRate - a.errorRate || b.count - a.count).slice(0, 8);
  const priced = cost.total.billed > 0;
  return (
    <>
      <table className="data" data-testid="top-functions">
        <thead>
          <tr>
            <th>Function</th>
            <th className="num">Invocations</th>
            <th className="num">Errors</th>
            <th className="num">p95</th>
            <th className="num">Cold starts</th>
            <th className="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => {
            const c = costOf.get(n.name);
            return (
              <tr key={n.id} className="clickable" onClick={() => onOpen(n.name)}>
                <td>
                  <span className="svc-dot" style={{ background: serviceColor(n.name) }} />
                  {n.name}
                </td>
                <td className="num">{n.count.toLocaleString()}</td>
                <td className="num">
                  {n.errors > 0 ? (
                    <span className="pill error">{(n.errorRate * 100).toFixed(1)}%</span>
                  ) : (
                    <span className="muted">0</span>
                  )}
                </td>
                <td className="num">{n.p95Ns ? formatDuration(n.p95Ns) : "–"}</td>
                <td className="num">{n.coldStarts.toLocaleString()}</td>
                <td className="num">{c && c.costUsd > 0 ? "$" + c.costUsd.toFixed(4) : "–"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {!priced && (
        <div className="muted" style={{ marginTop: 6, fontSize: 12 }}>
          No cost yet: pricing needs billed durations from the Lambda Telemetry API or platform REPORT lines.
        </div>
      )}
    </>
  );
}
