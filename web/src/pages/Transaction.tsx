import { Link, useLocation, useParams } from "react-router";
import { api } from "../lib/api";
import { formatDuration } from "../lib/format";
import { MAX_FULL_TRACES, buildTransaction } from "../lib/transaction";
import type { TraceResponse } from "../lib/types";
import { useApi } from "../lib/useApi";
import { TraceExplorer } from "./TraceView";

/**
 * A transaction: every trace joined to this one by async hops (queues,
 * topics, object events, invokes) on one waterfall, consumers under their
 * producers with the time in transit as a gap.
 */
export function TransactionPage() {
  const { traceId = "" } = useParams();
  const location = useLocation();
  const res = useApi("tx:" + traceId, async (signal) => {
    const tx = await api.transaction(traceId, signal);
    const ids = tx.traces.filter((t) => !t.missing).map((t) => t.traceId).slice(0, MAX_FULL_TRACES);
    const answers = await Promise.all(ids.map((id) => api.trace(id, signal).catch(() => null)));
    const full = new Map<string, TraceResponse>();
    answers.forEach((a, i) => a && full.set(ids[i], a));
    return { tx, ...buildTransaction(tx, full) };
  });
  const from = (location.state as { from?: string } | null)?.from;
  const d = res.data;
  const missing = d ? d.tx.traces.filter((t) => t.missing).length : 0;
  return (
    <div className="page full">
      <div style={{ marginBottom: 6, display: "flex", gap: 16 }}>
        {from && <Link to={from}>← Back</Link>}
        <Link to={`/trace/${traceId}`}>This trace alone</Link>
      </div>
      {res.error && (
        <div className="banner error" data-testid="transaction-error">
          Could not load the transaction of {traceId}: {res.error.message}
        </div>
      )}
      {!d && res.loading && <div className="loading">Loading the transaction…</div>}
      {d && d.tx.truncated && (
        <div className="banner">
          This transaction was cut short: {d.tx.truncatedReasons.join("; ") || "it is larger than the server follows"}.
        </div>
      )}
      {d && d.model.rows.length > 0 && (
        <TraceExplorer
          key={traceId}
          data={d.data}
          model={d.model}
          headerExtra={
            <>
              <span className={"pill" + (d.tx.status === "error" ? " error" : " ok")} data-testid="transaction-status">
                transaction {d.tx.status}
              </span>
              <span>
                <b>{d.tx.edges.length}</b> async hops
              </span>
              {d.tx.failedTraces > 0 && (
                <span className="error-text">
                  <b>{d.tx.failedTraces}</b> failed {d.tx.failedTraces === 1 ? "trace" : "traces"}
                </span>
              )}
              {d.tx.destinations.length > 0 && <span>via {d.tx.destinations.join(", ")}</span>}
              {missing > 0 && <span className="muted">{missing} referenced traces not stored</span>}
              <span className="muted">{formatDuration(d.tx.durationNs)} end to end</span>
            </>
          }
        />
      )}
    </div>
  );
}
