import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router";
import { CountBars } from "../components/CountBars";
import { SchemaDiff } from "../components/SchemaDiff";
import { api } from "../lib/api";
import { formatAge, formatDateTime } from "../lib/format";
import { useRefreshTick } from "../lib/refresh";
import { describeRange, parseTimeRange, rangeOnly, toApiRange, type TimeRange } from "../lib/timeRange";
import type { Issue } from "../lib/types";
import { useApi } from "../lib/useApi";

const KIND_LABEL: Record<string, string> = {
  error: "error",
  timeout: "timeout",
  oom: "out of memory",
  crash: "crash",
  throttle: "throttled",
  retry: "retries",
  dead_letter: "dead-lettered",
  partial_batch_failure: "partial batch failure",
  contract_drift: "contract drift",
  silent_async_failure: "silent async failure",
  cold_start: "cold starts",
  duplicate_side_effect: "duplicate side effect",
};
const kindLabel = (k: string) => KIND_LABEL[k] ?? k.replace(/_/g, " ");

/** Buckets of the list's sparklines and of an issue's chart. */
const LIST_BUCKETS = 30;
const CHART_BUCKETS = 60;

const severe = (i: Issue) => i.severity === "error" || i.severity === "critical";

/** "in the last hour", or "from … to …" for absolute bounds. */
function inRangeWords(tr: TimeRange): string {
  return tr.kind === "relative" ? "in the " + describeRange(tr).toLowerCase() : "from " + describeRange(tr).replace(" – ", " to ");
}

function StatusPill({ status }: { status: string }) {
  return <span className={"pill" + (status === "open" ? " error" : status === "resolved" ? " ok" : "")}>{status}</span>;
}

/**
 * Detected issues (GET /api/v1/issues): what went wrong without anyone
 * asking, most recently seen first. Filters live in the URL.
 */
export function IssuesPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const tick = useRefreshTick();
  const [runTick, setRunTick] = useState(0);
  const [running, setRunning] = useState("");
  const urlKey = params.toString();
  const status = params.get("status") ?? "";
  const kind = params.get("kind") ?? "";
  const range = useMemo(() => parseTimeRange(params), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  // The selects follow the user at once; the URL (and the list) follows
  // after the router's navigation, which may be deferred.
  const [box, setBox] = useState({ status, kind });
  useEffect(() => setBox({ status, kind }), [status, kind]);
  const res = useApi(`${urlKey}#${tick}#${runTick}`, (signal) => {
    const r = toApiRange(range);
    const p = new URLSearchParams({ limit: "200", start: r.start, buckets: String(LIST_BUCKETS) });
    if (r.end) p.set("end", r.end);
    if (status) p.set("status", status);
    if (kind) p.set("kind", kind);
    return api.issues(p, signal);
  });
  const rangeSearch = rangeOnly(params).toString();
  const set = (k: string, v: string) => {
    setBox((b) => ({ ...b, [k]: v }));
    setParams((p) => {
      const n = new URLSearchParams(p);
      if (v) n.set(k, v);
      else n.delete(k);
      return n;
    });
  };
  const list = res.data?.issues ?? [];
  const kinds = [...new Set([...list.map((i) => i.kind), ...(kind ? [kind] : [])])].sort();

  return (
    <div className="page">
      <h1>Issues</h1>
      <div className="filters card">
        <label className="field">
          <span>Status</span>
          <select data-testid="issue-status" value={box.status} onChange={(e) => set("status", e.target.value)}>
            <option value="">any</option>
            <option value="open">open</option>
            <option value="resolved">resolved</option>
            <option value="ignored">ignored</option>
          </select>
        </label>
        <label className="field">
          <span>Kind</span>
          <select data-testid="issue-kind" value={box.kind} onChange={(e) => set("kind", e.target.value)}>
            <option value="">any</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <span style={{ flex: 1 }} />
        <button
          data-testid="run-detect"
          title="Detection runs in the background; this runs it now"
          onClick={() => {
            setRunning("running…");
            api.detect().then(
              (r) => {
                setRunning(`${r.occurrences} occurrences in ${r.windows} windows`);
                setRunTick((t) => t + 1);
              },
              (e: Error) => setRunning("failed: " + e.message),
            );
          }}
        >
          Detect now
        </button>
        {running && <span className="muted">{running}</span>}
      </div>
      {res.error && <div className="banner error">Could not load issues: {res.error.message}</div>}
      {!res.data && res.loading && <div className="loading">Loading…</div>}
      {res.data && list.length === 0 && (
        <div className="banner">
          No issue seen {inRangeWords(range)} matches. Detection runs in the background; new ones
          appear as they are found.
        </div>
      )}
      {list.length > 0 && (
        <div className="card" style={{ padding: 0 }}>
          <table className="data" data-testid="issues-table">
            <thead>
              <tr>
                <th>Issue</th>
                <th>Kind</th>
                <th>Function / channel</th>
                <th className="num" title="Occurrences since the issue was first seen">Total</th>
                <th title={`Occurrences ${inRangeWords(range)}`}>Over the range</th>
                <th>First seen</th>
                <th>Last seen</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <tr
                  key={i.id}
                  className="clickable"
                  data-testid="issue-row"
                  onClick={() => navigate({ pathname: `/issues/${i.id}`, search: rangeSearch })}
                >
                  <td>
                    {severe(i) ? <span className="err-mark">!</span> : null}
                    {i.title}
                  </td>
                  <td>{kindLabel(i.kind)}</td>
                  <td>
                    {i.function}
                    {i.channel && <span className="muted"> via {i.channel}</span>}
                  </td>
                  <td className="num">{i.count.toLocaleString()}</td>
                  <td>
                    <CountBars
                      counts={i.series}
                      start={res.data!.seriesStart}
                      stepNs={res.data!.seriesStepNs}
                      color={severe(i) ? "var(--error)" : "var(--warn)"}
                      label={`Occurrences of ${i.title}`}
                      testId="issue-spark"
                    />
                  </td>
                  <td title={formatDateTime(i.firstSeen)}>{formatAge(i.firstSeen)}</td>
                  <td title={formatDateTime(i.lastSeen)}>{formatAge(i.lastSeen)}</td>
                  <td>
                    <StatusPill status={i.status} />
                    {i.regressions > 0 && <span className="muted"> ({i.regressions} regressions)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** One issue: its explanation, status actions and sample transactions. */
export function IssuePage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const [params] = useSearchParams();
  const tick = useRefreshTick();
  const urlKey = params.toString();
  const range = useMemo(() => parseTimeRange(params), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const [version, setVersion] = useState(0);
  const res = useApi(`${id}#${version}#${urlKey}#${tick}`, (signal) => {
    const r = toApiRange(range);
    const p = new URLSearchParams({ start: r.start, buckets: String(CHART_BUCKETS) });
    if (r.end) p.set("end", r.end);
    return api.issue(id, p, signal);
  });
  const [err, setErr] = useState("");
  const is: Issue | undefined = res.data?.issue;
  const inRange = is ? is.series.reduce((a, b) => a + b, 0) : 0;
  const setStatus = (s: string) =>
    api.setIssueStatus(id, s).then(
      () => setVersion((v) => v + 1),
      (e: Error) => setErr(e.message),
    );
  return (
    <div className="page">
      <div style={{ marginBottom: 6 }}>
        <Link to={{ pathname: "/issues", search: rangeOnly(params).toString() }}>← Issues</Link>
      </div>
      {res.error && <div className="banner error">Could not load issue {id}: {res.error.message}</div>}
      {!is && res.loading && <div className="loading">Loading…</div>}
      {is && (
        <>
          <h1 data-testid="issue-title">{is.title}</h1>
          <div className="trace-head">
            <div className="facts">
              <span>
                <StatusPill status={is.status} />
              </span>
              <span>{kindLabel(is.kind)}</span>
              <span>
                severity <b>{is.severity}</b>
              </span>
              <span>
                <b>{is.count.toLocaleString()}</b> occurrences
              </span>
              <span>
                first <b>{formatDateTime(is.firstSeen)}</b>
              </span>
              <span>
                last <b>{formatDateTime(is.lastSeen)}</b>
              </span>
              {is.regressions > 0 && <span>{is.regressions} regressions</span>}
            </div>
          </div>
          <div className="card" style={{ marginBottom: 14 }}>
            <h2>What happened</h2>
            <p data-testid="issue-explanation" style={{ margin: 0, whiteSpace: "pre-wrap" }}>
              {is.explanation}
            </p>
          </div>
          {is.kind === "contract_drift" && (
            <div className="card" style={{ marginBottom: 14 }}>
              <h2>What changed in the message</h2>
              {res.data?.contract ? (
                <SchemaDiff drift={res.data.contract} />
              ) : (
                <div className="muted">The shapes this drift compared are no longer stored.</div>
              )}
            </div>
          )}
          <div className="card" style={{ marginBottom: 14 }}>
            <div className="results-head" style={{ marginTop: 0 }}>
              <h2 style={{ margin: 0 }}>Occurrences</h2>
              <span className="muted" data-testid="issue-in-range">
                {inRange.toLocaleString()} {inRangeWords(range)}
              </span>
            </div>
            <CountBars
              counts={is.series}
              start={res.data!.seriesStart}
              stepNs={res.data!.seriesStepNs}
              width={1200}
              height={64}
              fluid
              color={severe(is) ? "var(--error)" : "var(--warn)"}
              label={`Occurrences of ${is.title}`}
              testId="issue-chart"
            />
            <div className="chart-axis muted">
              <span>{formatDateTime(res.data!.seriesStart)}</span>
              <span>{range.kind === "absolute" ? formatDateTime(range.endMs * 1e6) : "now"}</span>
            </div>
          </div>
          <div className="toolbar">
            {is.status !== "resolved" && (
              <button data-testid="issue-resolve" onClick={() => setStatus("resolved")}>
                Resolve
              </button>
            )}
            {is.status !== "ignored" && <button onClick={() => setStatus("ignored")}>Ignore</button>}
            {is.status !== "open" && <button onClick={() => setStatus("open")}>Reopen</button>}
            {err && <span className="error-text">{err}</span>}
          </div>
          <div className="card">
            <h2>Sample transactions</h2>
            {is.sampleTraces.length === 0 ? (
              <div className="muted">No sample kept.</div>
            ) : (
              <table className="data" data-testid="issue-samples">
                <tbody>
                  {is.sampleTraces.map((t) => (
                    <tr key={t}>
                      <td className="mono">{t}</td>
                      <td>
                        <Link
                          to={`/transaction/${t}`}
                          state={{ from: location.pathname }}
                          data-testid="issue-sample-transaction"
                        >
                          transaction (every hop)
                        </Link>
                      </td>
                      <td>
                        <Link to={`/trace/${t}`} state={{ from: location.pathname }}>
                          this trace
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
          {is.function && (
            <p className="muted">
              More: <Link to={`/functions?function=${encodeURIComponent(is.function)}`}>invocations of {is.function}</Link>
              {" · "}
              <Link to={`/search?service=${encodeURIComponent(is.function)}&error=true`}>its traces with errors</Link>
            </p>
          )}
        </>
      )}
    </div>
  );
}
