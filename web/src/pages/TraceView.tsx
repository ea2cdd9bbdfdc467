import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useParams, useSearchParams } from "react-router";
import { Minimap } from "../components/Minimap";
import { SpanPanel } from "../components/SpanPanel";
import { Waterfall } from "../components/Waterfall";
import { api } from "../lib/api";
import { serviceColor } from "../lib/colors";
import { formatDateTime, formatDuration } from "../lib/format";
import {
  type TraceModel,
  TraceFinder,
  buildTraceModel,
  criticalPath,
  reveal,
  spanKey,
  visibleRows,
} from "../lib/traceModel";
import type { TraceResponse } from "../lib/types";
import { mergeInvocations } from "../lib/invocations";
import { useApi } from "../lib/useApi";

/** What the end-to-end benchmark reads: time spent in each phase, ms. */
declare global {
  interface Window {
    __ariadneTrace?: { fetchMs: number; buildMs: number; rows: number };
  }
}

export function TraceViewPage() {
  const { traceId = "" } = useParams();
  const res = useApi(traceId, async (signal) => {
    const t0 = performance.now();
    const data = await api.trace(traceId, signal);
    const fetchMs = performance.now() - t0;
    const t1 = performance.now();
    const model = buildTraceModel(data.spans, data.logs);
    window.__ariadneTrace = { fetchMs, buildMs: performance.now() - t1, rows: model.rows.length };
    return { data, model };
  });
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;

  return (
    <div className="page full">
      <div style={{ marginBottom: 6 }}>
        <Link to={from ?? "/search"}>← {from ? "Back to results" : "Search"}</Link>
      </div>
      {res.error && (
        <div className="banner error" data-testid="trace-error">
          {(res.error as { status?: number }).status === 404
            ? `Trace ${traceId} was not found. It may be older than the retention, or not have arrived yet.`
            : `Could not load trace ${traceId}: ${res.error.message}`}
        </div>
      )}
      {!res.data && res.loading && <div className="loading">Loading trace…</div>}
      {res.data && res.data.model.rows.length === 0 && (
        <div className="banner">Trace {traceId} has no spans yet.</div>
      )}
      {res.data && res.data.model.rows.length > 0 && (
        <TraceExplorer
          key={traceId}
          data={res.data.data}
          model={res.data.model}
          headerExtra={<TransactionLink traceId={traceId} />}
        />
      )}
    </div>
  );
}

export function TraceExplorer({
  data,
  model,
  headerExtra,
}: {
  data: TraceResponse;
  model: TraceModel;
  /** Shown after the trace's facts (the transaction link, or the transaction's own facts). */
  headerExtra?: React.ReactNode;
}) {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const [collapsed, setCollapsed] = useState<Set<number>>(() => new Set());
  const [showLogs, setShowLogs] = useState(true);
  const visible = useMemo(() => visibleRows(model, collapsed, showLogs), [model, collapsed, showLogs]);
  const invocations = useMemo(() => mergeInvocations(data.invocations), [data]);
  const [selected, setSelected] = useState<number>(() => {
    const want = params.get("span");
    const found = want ? model.traceIds.map((t) => model.spanRow.get(spanKey(t, want))).find((i) => i !== undefined) : undefined;
    return found ?? 0;
  });
  const [panelOpen, setPanelOpen] = useState(() => params.has("span"));
  const [scrollTick, setScrollTick] = useState(0);
  const finder = useMemo(() => new TraceFinder(model), [model]);
  const [findText, setFindText] = useState("");
  const [findQuery, setFindQuery] = useState("");
  const [current, setCurrent] = useState(-1);
  const findRef = useRef<HTMLInputElement>(null);
  const [showCritical, setShowCritical] = useState(false);
  const full: [number, number] = [0, model.duration];
  const [view, setView] = useState<[number, number]>(full);
  const zoomed = view[0] > 0 || view[1] < model.duration;
  const critical = useMemo(() => (showCritical ? criticalPath(model) : null), [model, showCritical]);
  const wfRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    performance.mark("ariadne:trace-rendered");
    if (params.has("span")) setScrollTick((t) => t + 1);
    // Arrow keys work at once; "/" finds from anywhere on the page.
    wfRef.current?.querySelector<HTMLElement>(".waterfall")?.focus({ preventScroll: true });
    const slash = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName)) {
        e.preventDefault();
        findRef.current?.focus();
      }
    };
    window.addEventListener("keydown", slash);
    return () => window.removeEventListener("keydown", slash);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Debounce find so that typing in a 20,000-span trace stays responsive.
  useEffect(() => {
    const t = setTimeout(() => setFindQuery(findText), 150);
    return () => clearTimeout(t);
  }, [findText]);
  const matchList = useMemo(() => finder.find(findQuery), [finder, findQuery]);
  const matches = useMemo(() => new Set(matchList), [matchList]);
  useEffect(() => setCurrent(-1), [matchList]);

  const select = useCallback((row: number, scroll = true) => {
    setSelected(row);
    if (scroll) setScrollTick((t) => t + 1);
  }, []);

  const goMatch = (dir: 1 | -1) => {
    if (matchList.length === 0) return;
    const next = current < 0 ? (dir === 1 ? 0 : matchList.length - 1) : (current + dir + matchList.length) % matchList.length;
    setCurrent(next);
    const row = matchList[next];
    setCollapsed((c) => reveal(model, c, row));
    select(row);
  };

  const toggle = useCallback(
    (row: number) =>
      setCollapsed((c) => {
        const n = new Set(c);
        if (n.has(row)) n.delete(row);
        else n.add(row);
        return n;
      }),
    [],
  );
  // A click selects a row and shows its details, as in Jaeger.
  const open = useCallback((row: number) => {
    setSelected(row);
    setPanelOpen(true);
  }, []);

  // Keep ?span= in the URL so that a selected span can be shared.
  useEffect(() => {
    const r = model.rows[selected];
    const want = panelOpen && r?.kind === "span" ? r.span.spanId : "";
    if ((params.get("span") ?? "") === want) return;
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (want) n.set("span", want);
        else n.delete("span");
        return n;
      },
      // Keep the history entry's state (where "back to results" leads).
      { replace: true, state: location.state },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, panelOpen]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    const pos = visible.indexOf(selected);
    const row = model.rows[selected];
    const move = (to: number) => {
      e.preventDefault();
      if (to >= 0 && to < visible.length) select(visible[to]);
    };
    switch (e.key) {
      case "ArrowDown":
        return move(pos + 1);
      case "ArrowUp":
        return move(pos - 1);
      case "PageDown":
        return move(Math.min(visible.length - 1, pos + 20));
      case "PageUp":
        return move(Math.max(0, pos - 20));
      case "Home":
        return move(0);
      case "End":
        return move(visible.length - 1);
      case "ArrowLeft":
        e.preventDefault();
        if (row?.kind === "span" && row.children > 0 && !collapsed.has(selected)) toggle(selected);
        else if (row && row.parent >= 0) select(row.parent);
        return;
      case "ArrowRight":
        e.preventDefault();
        if (row?.kind === "span" && row.children > 0) {
          if (collapsed.has(selected)) toggle(selected);
          else select(selected + 1);
        }
        return;
      case "Enter":
        e.preventDefault();
        setPanelOpen(true);
        return;
      case "Escape":
        setPanelOpen(false);
        return;
    }
  };

  const root = model.rows.find((r) => r.kind === "span");
  const rootSpan = root?.kind === "span" ? root.span : undefined;
  const selRow = model.rows[selected];

  return (
    <>
      <div className="trace-head">
        <h1 data-testid="trace-title">
          {rootSpan ? (
            <>
              <span className="svc-dot" style={{ background: serviceColor(rootSpan.service) }} />
              {rootSpan.service}: {rootSpan.name}
            </>
          ) : (
            "Trace"
          )}
        </h1>
        <div className="facts">
          <span>
            <b>{formatDuration(model.duration)}</b> total
          </span>
          <span>
            started <b>{formatDateTime(model.start)}</b>
          </span>
          <span>
            <b data-testid="trace-span-count">{model.spanCount.toLocaleString()}</b> spans
          </span>
          <span>
            <b>{model.logCount.toLocaleString()}</b> logs
          </span>
          <span>
            <b className={model.errorCount > 0 ? "error-text" : ""}>{model.errorCount}</b> errors
          </span>
          {model.traceIds.length === 1 ? (
            <>
              <span className="mono">{model.traceIds[0]}</span>
              <a href={`/api/v1/traces/${model.traceIds[0]}`} target="_blank" rel="noreferrer" title="The API's answer for this trace">
                JSON
              </a>
            </>
          ) : (
            <span>
              <b>{model.traceIds.length}</b> traces
            </span>
          )}
          {headerExtra}
        </div>
      </div>
      <div className="legend">
        {model.services.map((s) => (
          <span key={s}>
            <span className="svc-dot" style={{ background: serviceColor(s) }} />
            {s}
          </span>
        ))}
      </div>
      {invocations.length > 0 && (
        <div className="invocations" data-testid="invocations">
          <span className="muted">Invocations</span>
          {invocations.map((v) => {
            const row =
              (v.spanId ? model.spanRow.get(spanKey(v.traceId, v.spanId)) : undefined) ??
              model.rows.find((r) => r.kind === "span" && r.span.invocationId === v.requestId)?.index;
            const bad = v.status !== "ok" && v.status !== "";
            return (
              <button
                key={v.requestId || v.start}
                className={"inv-chip" + (bad ? " error" : "")}
                disabled={row === undefined}
                onClick={() => {
                  if (row === undefined) return;
                  setCollapsed((c) => reveal(model, c, row));
                  select(row);
                  setPanelOpen(true);
                }}
                title={`request id ${v.requestId} · from ${v.source}`}
              >
                <span className="svc-dot" style={{ background: serviceColor(v.function) }} />
                <span>
                  {[
                    v.function,
                    v.status || "?",
                    v.durationNs > 0 ? formatDuration(v.durationNs) : "",
                    v.coldStart ? "cold start" + (v.initDurationNs > 0 ? ` (init ${formatDuration(v.initDurationNs)})` : "") : "",
                    v.memoryMb > 0 ? `${v.maxMemoryMb > 0 ? v.maxMemoryMb + "/" : ""}${v.memoryMb} MB` : "",
                    v.attempt > 1 ? `attempt ${v.attempt}` : "",
                  ]
                    .filter(Boolean)
                    .join(" · ")}
                </span>
              </button>
            );
          })}
        </div>
      )}
      <div className="toolbar">
        <input
          ref={findRef}
          className="find"
          data-testid="find"
          placeholder="Find in trace (name, attribute, id, log)…  /"
          value={findText}
          onChange={(e) => setFindText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") goMatch(e.shiftKey ? -1 : 1);
            if (e.key === "Escape") {
              setFindText("");
              wfRef.current?.querySelector<HTMLElement>(".waterfall")?.focus();
            }
          }}
        />
        <span className="muted" data-testid="find-count">
          {findQuery.trim() ? `${current >= 0 ? current + 1 : 0} / ${matchList.length}` : ""}
        </span>
        <button onClick={() => goMatch(-1)} disabled={matchList.length === 0} title="Previous match (Shift+Enter)">
          ↑
        </button>
        <button onClick={() => goMatch(1)} disabled={matchList.length === 0} title="Next match (Enter)">
          ↓
        </button>
        <span style={{ flex: 1 }} />
        {zoomed && (
          <button data-testid="reset-zoom" onClick={() => setView(full)}>
            Reset zoom
          </button>
        )}
        <label className="check" title="Show log records on the timeline">
          <input type="checkbox" data-testid="show-logs" checked={showLogs} onChange={(e) => setShowLogs(e.target.checked)} />
          Logs
        </label>
        <label className="check" title="Highlight the spans that determined the trace's duration">
          <input
            type="checkbox"
            data-testid="critical-path"
            checked={showCritical}
            onChange={(e) => setShowCritical(e.target.checked)}
          />
          Critical path
        </label>
        <button onClick={() => setCollapsed(new Set())}>Expand all</button>
        <button
          onClick={() =>
            setCollapsed(new Set(model.rows.filter((r) => r.kind === "span" && r.depth >= 1 && r.children > 0).map((r) => r.index)))
          }
        >
          Collapse all
        </button>
        <span className="muted">
          <kbd>↑</kbd>
          <kbd>↓</kbd> move · <kbd>←</kbd>
          <kbd>→</kbd> collapse/expand · <kbd>Enter</kbd> details
        </span>
      </div>
      <Minimap model={model} view={view} onView={setView} />
      <div className="trace-body" ref={wfRef}>
        <Waterfall
          model={model}
          visible={visible}
          collapsed={collapsed}
          selected={selected}
          matches={matches}
          critical={critical}
          view={view}
          currentMatch={current >= 0 ? matchList[current] : -1}
          scrollTick={scrollTick}
          onSelect={open}
          onToggle={toggle}
          onOpen={open}
          onKeyDown={onKeyDown}
        />
        {panelOpen && selRow && (
          <SpanPanel
            model={model}
            row={selRow}
            invocations={invocations}
            onClose={() => setPanelOpen(false)}
            onZoom={(from, to) => {
              const pad = (to - from) * 0.05;
              setView([Math.max(0, from - pad), Math.min(model.duration, to + pad)]);
            }}
            onSelectSpan={(t, s) => {
              const r = model.spanRow.get(spanKey(t, s));
              if (r !== undefined) {
                setCollapsed((c) => reveal(model, c, r));
                select(r);
              }
            }}
          />
        )}
      </div>
    </>
  );
}

/**
 * Links to the transaction when the trace is one hop of several: the
 * transaction view draws every trace joined by async hops on one timeline.
 */
function TransactionLink({ traceId }: { traceId: string }) {
  const tx = useApi("tx:" + traceId, (signal) => api.transaction(traceId, signal));
  const location = useLocation();
  const t = tx.data;
  if (!t || t.traces.length < 2) return null;
  return (
    <Link
      to={`/transaction/${traceId}`}
      state={{ from: location.pathname + location.search }}
      className={"pill" + (t.status === "error" ? " error" : "")} data-testid="transaction-link">
      part of a transaction: {t.traces.length} traces, {t.edges.length} hops{t.failedTraces > 0 ? `, ${t.failedTraces} failed` : ""} ›
    </Link>
  );
}
