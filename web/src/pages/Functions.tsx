import { useMemo } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";
import { Combobox } from "../components/Combobox";
import { Sparkline } from "../components/Sparkline";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatAge, formatDateTime, formatDuration } from "../lib/format";
import { useRefreshTick } from "../lib/refresh";
import { parseTimeRange, toApiRange } from "../lib/timeRange";
import type { InvocationRecord } from "../lib/types";
import { useApi } from "../lib/useApi";

const STATUSES = ["ok", "error", "timeout", "oom", "crash", "throttled", "started"];
const LIMIT = 100;

/**
 * Function invocations (GET /api/v1/invocations): one row per request id,
 * merged from every source that reported it. The filters are the API's
 * parameters, kept in the URL like the search page's.
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
  const range = useMemo(() => parseTimeRange(params), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const apiRange = toApiRange(range);

  const res = useApi(urlKey + "#" + tick, (signal) => {
    const p = new URLSearchParams({ start: apiRange.start, limit: String(LIMIT) });
    if (apiRange.end) p.set("end", apiRange.end);
    if (fn) p.set("function", fn);
    if (status) p.set("status", status);
    if (cold) p.set("coldStart", cold);
    if (cursor) p.set("cursor", cursor);
    return api.invocations(p, signal);
  });
  // Typing a function name replaces the history entry rather than adding one per key.
  const set = (k: string, v: string, replace = false) =>
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
  const red = useApi(`red|${fn}|${urlKey}#${tick}`, (signal) =>
    fn ? api.red("function", fn, apiRange, signal) : Promise.resolve(null),
  );
  const points = red.data?.series[0]?.points ?? [];
  const list = res.data?.invocations ?? [];
  const failed = list.filter((v) => v.status !== "ok" && v.status !== "started").length;
  const colds = list.filter((v) => v.coldStart).length;
  const cost = list.reduce((a, v) => a + v.costUsd, 0);
  const open = (v: InvocationRecord) =>
    v.traceId &&
    navigate(`/trace/${v.traceId}${v.spanId ? "?span=" + v.spanId : ""}`, {
      state: { from: location.pathname + location.search },
    });

  return (
    <div className="page">
      <h1>Functions</h1>
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
        <label className="field">
          <span>Status</span>
          <select data-testid="filter-status" value={status} onChange={(e) => set("status", e.target.value)}>
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
          <select data-testid="filter-cold" value={cold} onChange={(e) => set("coldStart", e.target.value)}>
            <option value="">any</option>
            <option value="true">cold starts only</option>
            <option value="false">warm only</option>
          </select>
        </label>
      </div>
      {fn && points.length > 0 && (
        <div className="grid cols-3 card" style={{ marginBottom: 12 }} data-testid="function-red">
          <Sparkline label={`${fn}: invocations / s`} values={points.map((p) => p.rate)} format={(v) => v.toFixed(2) + "/s"} />
          <Sparkline label="errors" values={points.map((p) => p.errors)} color="var(--error)" format={(v) => String(v)} />
          <Sparkline label="p95 duration" values={points.map((p) => p.p95Ns)} color="var(--warn)" format={formatDuration} />
        </div>
      )}
      {res.error && <div className="banner error">Could not load invocations: {res.error.message}</div>}
      {!res.data && res.loading && <div className="loading">Loading…</div>}
      {res.data && (
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
                      className={v.traceId ? "clickable" : ""}
                      data-testid="invocation-row"
                      onClick={() => open(v)}
                      title={v.traceId ? "Open its trace" : "No trace is known for this invocation"}
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
                      <td className="mono muted">{v.requestId.slice(0, 13)}…</td>
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
