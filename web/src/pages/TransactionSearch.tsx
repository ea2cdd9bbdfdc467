import { useEffect, useMemo, useState } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatAge, formatDateTime, formatDuration } from "../lib/format";
import { useRefreshTick } from "../lib/refresh";
import { parseTimeRange, toApiRange } from "../lib/timeRange";
import { useApi } from "../lib/useApi";

const LIMITS = [20, 50, 100];

/**
 * Transactions (GET /api/v1/transactions): the traces joined by async hops,
 * searched by outcome, channel (queue, topic, bucket…) or message id. The
 * query is in the URL with the API's parameter names, next to mode=transactions.
 */
export function TransactionSearch() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const tick = useRefreshTick();
  const urlKey = params.toString();
  const failed = ["true", "1"].includes(params.get("failed") ?? "");
  const channel = params.get("channel") ?? "";
  const messageId = params.get("messageId") ?? "";
  const limit = Number(params.get("limit")) || 20;
  const range = useMemo(() => parseTimeRange(params), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const [draft, setDraft] = useState({ channel, messageId });
  useEffect(() => setDraft({ channel, messageId }), [channel, messageId]);
  // The box follows the click at once; the URL (and so the search) follows
  // after the router's navigation, which may be deferred.
  const [failedBox, setFailedBox] = useState(failed);
  useEffect(() => setFailedBox(failed), [failed]);

  const res = useApi(urlKey + "#" + tick, (signal) => {
    const r = toApiRange(range);
    const p = new URLSearchParams({ start: r.start, limit: String(limit) });
    if (r.end) p.set("end", r.end);
    if (failed) p.set("failed", "true");
    if (channel) p.set("channel", channel);
    if (messageId) p.set("messageId", messageId);
    return api.transactions(p, signal);
  });
  const set = (kv: Record<string, string>) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      for (const [k, v] of Object.entries(kv)) {
        if (v) n.set(k, v);
        else n.delete(k);
      }
      return n;
    });
  const list = res.data?.transactions ?? [];

  return (
    <>
      <form
        className="filters card"
        onSubmit={(e) => {
          e.preventDefault();
          set({ channel: draft.channel.trim(), messageId: draft.messageId.trim() });
        }}
      >
        <label className="check">
          <input
            type="checkbox"
            data-testid="tx-failed"
            checked={failedBox}
            onChange={(e) => {
              setFailedBox(e.target.checked);
              set({ failed: e.target.checked ? "true" : "" });
            }}
          />
          Failed only
        </label>
        <label className="field">
          <span>Channel</span>
          <input
            data-testid="tx-channel"
            value={draft.channel}
            placeholder="queue, topic, bucket…"
            onChange={(e) => setDraft({ ...draft, channel: e.target.value })}
          />
        </label>
        <label className="field">
          <span>Message id</span>
          <input
            data-testid="tx-message"
            value={draft.messageId}
            placeholder="any strong id"
            style={{ width: 280 }}
            onChange={(e) => setDraft({ ...draft, messageId: e.target.value })}
          />
        </label>
        <label className="field">
          <span>Limit</span>
          <select value={limit} onChange={(e) => set({ limit: e.target.value === "20" ? "" : e.target.value })}>
            {LIMITS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      {res.error && <div className="banner error">Search failed: {res.error.message}</div>}
      {!res.data && res.loading && <div className="loading">Searching…</div>}
      {res.data && (
        <>
          <div className="results-head">
            <h2 style={{ margin: 0 }}>{list.length === 0 ? "No transactions" : `${list.length} transactions`}</h2>
          </div>
          {list.length > 0 && (
            <div className="card" style={{ padding: 0 }}>
              <table className="data" data-testid="tx-results">
                <thead>
                  <tr>
                    <th>Entry</th>
                    <th>Status</th>
                    <th>Start</th>
                    <th className="num">Duration</th>
                    <th className="num">Traces</th>
                    <th className="num">Hops</th>
                    <th className="num">Failed traces</th>
                    <th>Channels</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((t) => (
                    <tr
                      key={t.traceId}
                      className="clickable"
                      data-testid="tx-row"
                      onClick={() =>
                        navigate(`/transaction/${t.traceId}`, { state: { from: location.pathname + location.search } })
                      }
                    >
                      <td>
                        <span className="svc-dot" style={{ background: serviceColor(t.rootService) }} />
                        {t.rootService} <span className="muted">{t.rootName}</span>
                      </td>
                      <td>
                        <span className={"pill" + (t.status === "error" ? " error" : " ok")}>{t.status}</span>
                        {t.truncated && <span className="muted"> (cut short)</span>}
                      </td>
                      <td title={formatAge(t.startTime)}>{formatDateTime(t.startTime)}</td>
                      <td className="num">{formatDuration(t.durationNs)}</td>
                      <td className="num">{t.traceCount}</td>
                      <td className="num">{t.edgeCount}</td>
                      <td className="num">
                        {t.failedTraces > 0 ? <span className="pill error">{t.failedTraces}</span> : <span className="muted">0</span>}
                      </td>
                      <td className="muted">{t.channels.join(", ")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}
