import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { Combobox } from "../components/Combobox";
import { ScatterPlot } from "../components/ScatterPlot";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatAge, formatDateTime, formatDuration } from "../lib/format";
import {
  LIMITS,
  type SearchQuery,
  checkDuration,
  emptyQuery,
  parseSearch,
  searchToAPI,
  searchToURL,
} from "../lib/searchQuery";
import { rangeOnly, resolveRange, toApiRange } from "../lib/timeRange";
import type { TraceSummary } from "../lib/types";
import { useRefreshTick } from "../lib/refresh";
import { useApi } from "../lib/useApi";
import { TransactionSearch } from "./TransactionSearch";

type SortKey = "start" | "duration" | "spans" | "errors";
// Sorting orders the page at hand; the API pages newest first.
const SORTS: Record<SortKey, (t: TraceSummary) => number> = {
  start: (t) => t.startTime,
  duration: (t) => t.durationNs,
  spans: (t) => t.spanCount,
  errors: (t) => t.errorCount,
};

/** Search: traces (the default) or transactions (mode=transactions), each query in the URL. */
export function SearchPage() {
  const [params] = useSearchParams();
  const mode = params.get("mode") === "transactions" ? "transactions" : "traces";
  const range = rangeOnly(params);
  const tab = (m: string, label: string) => {
    const p = new URLSearchParams(range);
    if (m === "transactions") p.set("mode", m);
    return (
      <Link to={{ search: p.toString() }} className={"tab" + (mode === m ? " active" : "")} data-testid={"tab-" + m}>
        {label}
      </Link>
    );
  };
  return (
    <div className="page">
      <div className="tabs">
        <h1>Search</h1>
        {tab("traces", "Traces")}
        {tab("transactions", "Transactions")}
      </div>
      {mode === "traces" ? <TraceSearch /> : <TransactionSearch />}
    </div>
  );
}

/** Trace search: the form edits a draft; submitting writes the URL, and the URL drives the request. */
function TraceSearch() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const urlKey = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const query = useMemo(() => parseSearch(params), [urlKey]);
  const [draft, setDraft] = useState<SearchQuery>(query);
  useEffect(() => setDraft(query), [query]);

  const tick = useRefreshTick();
  const reqKey = urlKey + "#" + tick;
  const res = useApi(reqKey, (signal) => api.search(searchToAPI(query), signal));
  const apiRange = toApiRange(query.range);
  const { startMs, endMs } = useMemo(() => resolveRange(query.range), [reqKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const go = (q: SearchQuery, state?: unknown) => navigate({ search: searchToURL(q).toString() }, { state });
  const submit = () => {
    if (checkDuration(draft.minDuration) || checkDuration(draft.maxDuration)) return;
    go({ ...draft, cursor: "", range: query.range });
  };
  const open = (t: TraceSummary) => navigate(`/trace/${t.traceId}`, { state: { from: location.pathname + location.search } });
  const set = (p: Partial<SearchQuery>) => setDraft((d) => ({ ...d, ...p }));

  const [attrKey, setAttrKey] = useState("");
  const [attrVal, setAttrVal] = useState("");
  const addAttr = () => {
    if (!attrKey.trim()) return;
    set({ attrs: [...draft.attrs, [attrKey.trim(), attrVal]] });
    setAttrKey("");
    setAttrVal("");
  };

  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "start", desc: true });
  // Results of an older URL stay shown while the new ones load, marked busy.
  const busy = res.loading || res.key !== reqKey;
  const traces = useMemo(() => {
    const list = res.data?.traces ?? [];
    if (sort.key === "start" && sort.desc) return list; // the API's order
    const v = SORTS[sort.key];
    return [...list].sort((a, b) => (sort.desc ? v(b) - v(a) : v(a) - v(b)));
  }, [res.data, sort]);
  const th = (key: SortKey, label: string, num = true) => (
    <th
      className={(num ? "num " : "") + "sortable"}
      aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}
      onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : true }))}
    >
      {label}
      {sort.key === key ? (sort.desc ? " ↓" : " ↑") : ""}
    </th>
  );
  const minErr = checkDuration(draft.minDuration);
  const maxErr = checkDuration(draft.maxDuration);
  const pageNo = (location.state as { page?: number } | null)?.page ?? (query.cursor ? 2 : 1);

  return (
    <>
      <form
        className="filters card"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label className="field">
          <span>Service</span>
          <Combobox
            label="Service"
            testId="filter-service"
            value={draft.service}
            onChange={(v) => set({ service: v, operation: v === draft.service ? draft.operation : "" })}
            suggest={(_, signal) => api.services(apiRange, signal).then((r) => r.services)}
            placeholder="any service"
            onEnter={submit}
          />
        </label>
        <label className="field">
          <span>Operation</span>
          <Combobox
            label="Operation"
            testId="filter-operation"
            value={draft.operation}
            onChange={(v) => set({ operation: v })}
            suggest={(_, signal) => api.operations(draft.service, apiRange, signal).then((r) => r.operations)}
            placeholder="any operation"
            width={220}
            onEnter={submit}
          />
        </label>
        <div className="field">
          <span>Attributes</span>
          <div className="attr-list">
            {draft.attrs.map(([k, v], i) => (
              <span className="chip mono" key={k + "=" + v + i} data-testid="attr-chip">
                {k}={v}
                <button
                  type="button"
                  aria-label={`Remove ${k}`}
                  onClick={() => set({ attrs: draft.attrs.filter((_, j) => j !== i) })}
                >
                  ×
                </button>
              </span>
            ))}
            <Combobox
              label="Attribute key"
              testId="filter-attr-key"
              value={attrKey}
              onChange={setAttrKey}
              suggest={(text, signal) => api.attributeKeys(text, apiRange, signal).then((r) => r.attributes)}
              placeholder="key"
              width={170}
            />
            <span>=</span>
            <Combobox
              label="Attribute value"
              testId="filter-attr-value"
              value={attrVal}
              onChange={setAttrVal}
              suggest={(text, signal) =>
                attrKey.trim()
                  ? api.attributeValues(attrKey.trim(), text, apiRange, signal).then((r) => r.values)
                  : Promise.resolve([])
              }
              placeholder="value"
              width={150}
              onEnter={addAttr}
            />
            <button type="button" onClick={addAttr} disabled={!attrKey.trim()}>
              Add
            </button>
          </div>
        </div>
        <label className="field">
          <span>Min duration</span>
          <input
            className={"short" + (minErr ? " invalid" : "")}
            data-testid="filter-min"
            value={draft.minDuration}
            placeholder="e.g. 250ms"
            title={minErr}
            onChange={(e) => set({ minDuration: e.target.value.trim() })}
          />
        </label>
        <label className="field">
          <span>Max duration</span>
          <input
            className={"short" + (maxErr ? " invalid" : "")}
            data-testid="filter-max"
            value={draft.maxDuration}
            placeholder="e.g. 2s"
            title={maxErr}
            onChange={(e) => set({ maxDuration: e.target.value.trim() })}
          />
        </label>
        <label className="field">
          <span>Text</span>
          <input
            data-testid="filter-text"
            value={draft.q}
            placeholder="name, attribute, log…"
            style={{ width: 180 }}
            onChange={(e) => set({ q: e.target.value })}
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            data-testid="filter-error"
            checked={draft.errorOnly}
            onChange={(e) => set({ errorOnly: e.target.checked })}
          />
          Errors only
        </label>
        <label className="field">
          <span>Limit</span>
          <select value={draft.limit} onChange={(e) => set({ limit: Number(e.target.value) })}>
            {LIMITS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" data-testid="search-submit" disabled={!!minErr || !!maxErr}>
          Search
        </button>
        {(minErr || maxErr) && <span className="hint error-text">{minErr || maxErr}</span>}
      </form>

      <div className="quick" data-testid="quick-filters">
        <span className="muted">Quick:</span>
        <button className="pill" onClick={() => go({ ...query, cursor: "", errorOnly: true })}>
          Errors
        </button>
        <button
          className="pill"
          onClick={() =>
            go({
              ...query,
              cursor: "",
              attrs: [...query.attrs.filter(([k]) => k !== "faas.coldstart"), ["faas.coldstart", "true"]],
            })
          }
        >
          Cold starts
        </button>
        <button className="pill" onClick={() => go({ ...query, cursor: "", minDuration: "1s" })}>
          Slower than 1 s
        </button>
        <button className="pill" onClick={() => go({ ...emptyQuery(query.range), limit: query.limit })}>
          Clear filters
        </button>
      </div>
      {res.error && <div className="banner error">Search failed: {res.error.message}</div>}
      {res.data && (
        <>
          <ScatterPlot traces={traces} startMs={startMs} endMs={endMs} onPick={open} />
          <div className="results-head">
            <h2 style={{ margin: 0 }} data-testid="result-count">
              {traces.length === 0 ? "No traces" : `${traces.length} traces`}
              {pageNo > 1 ? ` (page ${pageNo})` : ""}
            </h2>
            {busy && <span className="muted">updating…</span>}
          </div>
          {traces.length === 0 ? (
            <div className="banner">
              No trace in this range matches. Widen the time range or remove a filter.
            </div>
          ) : (
            <div className="card" style={{ padding: 0 }}>
              <table className="data" data-testid="results" aria-busy={busy}>
                <thead>
                  <tr>
                    <th>Root service</th>
                    <th>Root operation</th>
                    {th("start", "Start", false)}
                    {th("duration", "Duration")}
                    {th("spans", "Spans")}
                    {th("errors", "Errors")}
                    <th>Trace id</th>
                  </tr>
                </thead>
                <tbody>
                  {traces.map((t) => (
                    <tr
                      key={t.traceId}
                      className="clickable"
                      data-testid="result-row"
                      data-duration-ns={t.durationNs}
                      onClick={(e) => {
                        if (e.metaKey || e.ctrlKey) window.open(`/trace/${t.traceId}`, "_blank");
                        else open(t);
                      }}
                    >
                      <td>
                        <span className="svc-dot" style={{ background: serviceColor(t.rootService) }} />
                        {t.rootService || <span className="muted">(unknown)</span>}
                      </td>
                      <td>{t.rootName || <span className="muted">(root span missing)</span>}</td>
                      <td title={formatAge(t.startTime)}>{formatDateTime(t.startTime)}</td>
                      <td className="num">{formatDuration(t.durationNs)}</td>
                      <td className="num">{t.spanCount}</td>
                      <td className="num">
                        {t.errorCount > 0 ? <span className="pill error">{t.errorCount}</span> : <span className="muted">0</span>}
                      </td>
                      <td className="mono muted">{t.traceId.slice(0, 16)}…</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            <button
              disabled={!query.cursor}
              onClick={() => (pageNo > 1 && location.state ? navigate(-1) : go({ ...query, cursor: "" }))}
            >
              ← Newer
            </button>
            <button
              data-testid="next-page"
              disabled={!res.data.nextCursor}
              onClick={() => go({ ...query, cursor: res.data!.nextCursor }, { page: pageNo + 1 })}
            >
              Older →
            </button>
          </div>
        </>
      )}
      {!res.data && res.loading && <div className="loading">Searching…</div>}
    </>
  );
}
