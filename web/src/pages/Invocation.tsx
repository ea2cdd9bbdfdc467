import { Link, useLocation, useParams } from "react-router";
import { LogList } from "../components/LogList";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatDateTime, formatDuration } from "../lib/format";
import { useApi } from "../lib/useApi";

/**
 * One invocation (GET /api/v1/invocations/{requestId}): the record merged
 * from every source that reported it, its trace and its log lines.
 */
export function InvocationPage() {
  const { requestId = "" } = useParams();
  const location = useLocation();
  const back = (location.state as { from?: string } | null)?.from;
  const res = useApi(requestId, (signal) => api.invocation(requestId, signal));
  const v = res.data?.invocation;
  const fnLink = v ? `/functions?function=${encodeURIComponent(v.function)}` : "/functions";
  return (
    <div className="page">
      <div style={{ marginBottom: 6 }}>
        <Link to={back ?? fnLink}>← {back ? "Back" : "Functions"}</Link>
      </div>
      {res.error && <div className="banner error">Could not load invocation {requestId}: {res.error.message}</div>}
      {!v && res.loading && <div className="loading">Loading…</div>}
      {v && res.data && (
        <>
          <div className="trace-head">
            <h1 data-testid="invocation-title">
              <span className="svc-dot" style={{ background: serviceColor(v.function) }} />
              {v.function} <span className="muted mono">{v.requestId}</span>
            </h1>
            <div className="facts">
              <span data-testid="invocation-status">
                <span className={"pill" + (v.status === "ok" ? " ok" : v.status === "started" ? "" : " error")}>{v.status}</span>
                {v.errorType && <span className="muted"> {v.errorType}</span>}
              </span>
              <span>
                started <b>{formatDateTime(v.start)}</b>
              </span>
              {v.durationNs > 0 && (
                <span>
                  took <b>{formatDuration(v.durationNs)}</b>
                  {v.billedDurationNs > 0 && ` (billed ${formatDuration(v.billedDurationNs)})`}
                </span>
              )}
              {v.coldStart && (
                <span>
                  <b>cold start</b>
                  {v.initDurationNs > 0 && ` (init ${formatDuration(v.initDurationNs)})`}
                </span>
              )}
              {v.memoryMb > 0 && (
                <span>
                  memory <b>{v.maxMemoryMb || "?"}</b> / {v.memoryMb} MB
                </span>
              )}
              {v.attempt > 1 && (
                <span>
                  attempt <b>{v.attempt}</b>
                </span>
              )}
              {v.costUsd > 0 && <span>${v.costUsd.toFixed(7)}</span>}
              <span className="muted">from {v.source}</span>
            </div>
          </div>
          <div className="toolbar">
            {res.data.traceId ? (
              <Link
                to={`/trace/${res.data.traceId}${v.spanId ? "?span=" + v.spanId : ""}`}
                state={{ from: location.pathname }}
                data-testid="invocation-trace"
              >
                Open its trace →
              </Link>
            ) : (
              <span className="muted">No trace is known for this invocation.</span>
            )}
            <Link to={fnLink}>All invocations of {v.function}</Link>
          </div>
          <div className="card" style={{ padding: 0 }}>
            <h2 style={{ padding: "10px 12px 0" }}>Logs ({res.data.logs.length})</h2>
            {res.data.logs.length === 0 ? (
              <div className="muted" style={{ padding: "0 12px 12px" }}>
                No log line of this invocation was received.
              </div>
            ) : (
              <LogList logs={res.data.logs} showFunction={false} showInvocation={false} testId="invocation-logs" />
            )}
          </div>
        </>
      )}
    </div>
  );
}
