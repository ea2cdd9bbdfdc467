import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { Combobox } from "../components/Combobox";
import { Sparkline } from "../components/Sparkline";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatAge, formatDateTime, formatDuration } from "../lib/format";
import { useRefreshTick } from "../lib/refresh";
import { parseTimeRange, toApiRange } from "../lib/timeRange";
import type { InvocationRecord } from "../lib/types";
import { useApi } from "../lib/useApi";
import { FunctionLogs, LogFilters } from "./FunctionLogs";

const STATUSES = ["ok", "error", "timeout", "oom", "crash", "throttled", "started"];
const LIMIT = 100;

/**
 * Functions: the invocations (GET /api/v1/invocations: one row per request
 * id, merged from every source that reported it) or the logs
 * (view=logs) of one function or all, with its RED charts. The filters are
 * the API's parameters, kept in the URL like the search page's.
 */
export function FunctionsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const tick = useRefreshTick();
  const urlKey = params.toString();
  const fn = params.get("function") ?? "";
  const status = params.get("status") ?? "";
  const cold = params.get("coldStart") ?? "";
  const cursor = params.get("cursor") ?? "";
  const view = params.get("view") === "logs" ? "logs" : "invocations";
  // The selects follow the user at once; the URL (and the list) follows
  // after the router's navigation, which may be deferred.
  const [box, setBox] = useState({ status, coldStart: cold });
  useEffect(() => setBox({ status, coldStart: cold }), [status, cold]);
  const range = useMemo(() => parseTimeRange(params), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const apiRange = toApiRange(range);

  // The invocations' own key, so that log filters do not reload them.
  const invKey = [fn, status, cold, cursor, apiRange.start, apiRange.end ?? "", view, tick].join("|");
  const res = useApi(invKey, (signal) => {
    if (view !== "invocations") return Promise.resolve(null);
    const p = new URLSearchParams({ start: apiRange.start, limit: String(LIMIT) });
    if (apiRange.end) p.set("end", apiRange.end);
    if (fn) p.set("function", fn);
    if (status) p.set("status", status);
    if (cold) p.set("coldStart", cold);
    if (cursor) p.set("cursor", cursor);
    return api.invocations(p, signal);
  });
  // Typing a function name replaces the history entry rather than adding one per key.
  const set = (k: string, v: string, replace = false) => {
    if (k in box) setBox((b) => ({ ...b, [k]: v }));
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (v) n.set(k, v);
        else n.delete(k);
        n.delete("cursor");
        return n;
      },
      { replace },
    );
  };
  const red = useApi(`red|${fn}|${apiRange.start}|${apiRange.end ?? ""}#${tick}`, (signal) =>
    fn ? api.red("function", fn, apiRange, signal) : Promise.resolve(null),
  );
  const points = red.data?.series[0]?.points ?? [];
  const list = res.data?.invocations ?? [];
  const failed = list.filter((v) => v.status !== "ok" && v.status !== "started").length;
  const colds = list.filter((v) => v.coldStart).length;
  const cost = list.reduce((a, v) => a + v.costUsd, 0);
  const from = { from: location.pathname + location.search };
  const open = (v: InvocationRecord) =>
    navigate(
      v.traceId
        ? `/trace/${v.traceId}${v.spanId ? "?span=" + v.spanId : ""}`
        : `/invocations/${encodeURIComponent(v.requestId)}`,
      { state: from },
    );
  const tab = (m: string, label: string) => {
    const p = new URLSearchParams(params);
    for (const k of ["cursor", "logCursor"]) p.delete(k);
    if (m === "logs") p.set("view", "logs");
    else p.delete("view");
    return (
      <Link to={{ search: p.toString() }} className={"tab" + (view === m ? " active" : "")} data-testid={"tab-" + m}>
        {label}
      </Link>
    );
  };

  return (
    <div className="page">
      <div className="tabs">
        <h1>Functions</h1>
        {tab("invocations", "Invocations")}
        {tab("logs", "Logs")}
      </div>
      <div className="filters card">
        <label className="field">
          <span>Function</span>
          <Combobox
            label="Function"
            testId="filter-function"
            value={fn}
            onChange={(v) => set("function", v, true)}
            suggest={(_, signal) => api.services(apiRange, signal).then((r) => r.services)}
            placeholder="any function"
          />
        </label>
        {view === "invocations" && (
          <>
            <label className="field">
              <span>Status</span>
              <select data-testid="filter-status" value={box.status} onChange={(e) => set("status", e.target.value)}>
                <option value="">any</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
                <option value="error,timeout,oom,crash,throttled">any failure</option>
              </select>
            </label>
            <label className="field">
              <span>Cold start</span>
              <select data-testid="filter-cold" value={box.coldStart} onChange={(e) => set("coldStart", e.target.value)}>
                <option value="">any</option>
                <option value="true">cold starts only</option>
                <option value="false">warm only</option>
              </select>
            </label>
          </>
        )}
        {view === "logs" && <LogFilters />}
      </div>
      {fn && points.length > 0 && (
        <div className="grid cols-3 card" style={{ marginBottom: 12 }} data-testid="function-red">
          <Sparkline label={`${fn}: invocations / s`} values={points.map((p) => p.rate)} format={(v) => v.toFixed(2) + "/s"} />
          <Sparkline label="errors" values={points.map((p) => p.errors)} color="var(--error)" format={(v) => String(v)} />
          <Sparkline label="p95 duration" values={points.map((p) => p.p95Ns)} color="var(--warn)" format={formatDuration} />
        </div>
      )}
      {view === "logs" && <FunctionLogs fn={fn} range={apiRange} />}
      {view === "invocations" && res.error && <div className="banner error">Could not load invocations: {res.error.message}</div>}
      {view === "invocations" && !res.data && res.loading && <div className="loading">Loading…</div>}
      {view === "invocations" && res.data && (
        <>
          <div className="results-head">
            <h2 style={{ margin: 0 }} data-testid="invocation-count">
              {list.length} invocations{cursor ? " (older page)" : ""}
            </h2>
            <span className={failed > 0 ? "error-text" : "muted"}>{failed} failed</span>
            <span className="muted">{colds} cold starts</span>
            {cost > 0 && <span className="muted">${cost.toFixed(6)} on this page</span>}
          </div>
          {list.length === 0 ? (
            <div className="banner">No invocation in this range matches.</div>
          ) : (
            <div className="card" style={{ padding: 0 }}>
              <table className="data" data-testid="invocations-table">
                <thead>
                  <tr>
                    <th>Function</th>
                    <th>Status</th>
                    <th>Start</th>
                    <th className="num">Duration</th>
                    <th className="num">Billed</th>
                    <th>Cold start</th>
                    <th className="num">Memory (max / set)</th>
                    <th className="num">Cost</th>
                    <th className="num">Attempt</th>
                    <th>Request id</th>
                    <th>Sources</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((v) => (
                    <tr
                      key={v.requestId}
                      className="clickable"
                      data-testid="invocation-row"
                      onClick={() => open(v)}
                      title={v.traceId ? "Open its trace" : "Open the invocation (no trace is known for it)"}
                    >
                      <td>
                        <span className="svc-dot" style={{ background: serviceColor(v.function) }} />
                        {v.function}
                      </td>
                      <td>
                        <span className={"pill" + (v.status === "ok" ? " ok" : v.status === "started" ? "" : " error")}>
                          {v.status}
                        </span>
                        {v.errorType && <span className="muted"> {v.errorType}</span>}
                      </td>
                      <td title={formatAge(v.start)}>{formatDateTime(v.start)}</td>
                      <td className="num">{v.durationNs ? formatDuration(v.durationNs) : "–"}</td>
                      <td className="num">{v.billedDurationNs ? formatDuration(v.billedDurationNs) : "–"}</td>
                      <td>{v.coldStart ? "cold" + (v.initDurationNs ? ` (init ${formatDuration(v.initDurationNs)})` : "") : ""}</td>
                      <td className="num">
                        {v.memoryMb ? `${v.maxMemoryMb || "?"} / ${v.memoryMb} MB` : "–"}
                      </td>
                      <td className="num">{v.costUsd ? "$" + v.costUsd.toFixed(7) : "–"}</td>
                      <td className="num">{v.attempt || ""}</td>
                      <td className="mono">
                        <Link
                          to={`/invocations/${encodeURIComponent(v.requestId)}`}
                          state={from}
                          onClick={(e) => e.stopPropagation()}
                          title="The invocation: its record and its logs"
                          data-testid="invocation-link"
                        >
                          {v.requestId.slice(0, 13)}…
                        </Link>
                      </td>
                      <td className="muted">{v.source}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            <button disabled={!cursor} onClick={() => set("cursor", "")}>
              ← Newest
            </button>
            <button
              data-testid="invocations-next"
              disabled={!res.data.nextCursor}
              onClick={() => setParams((p) => {
                const n = new URLSearchParams(p);
                n.set("cursor", res.data!.nextCursor);
                return n;
              })}
            >
              Older →
            </button>
          </div>
        </>
      )}
    </div>
  );
}
