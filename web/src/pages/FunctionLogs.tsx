import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { LEVELS, LogList } from "../components/LogList";
import { api, type RangeParams } from "../lib/api";
import { useRefreshTick } from "../lib/refresh";
import { useApi } from "../lib/useApi";

const LIMIT = 100;

/** Writes kv into the URL's query; any change but the cursor's starts again at the newest page. */
function useSetLogParams() {
  const [, setParams] = useSearchParams();
  return (kv: Record<string, string>, replace = false) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        for (const [k, v] of Object.entries(kv)) {
          if (v) n.set(k, v);
          else n.delete(k);
        }
        if (!("logCursor" in kv)) n.delete("logCursor");
        return n;
      },
      { replace },
    );
}

/**
 * The log filters, level and text, for the Functions page's filter bar;
 * they live in the URL (level, logq) for FunctionLogs to read.
 */
export function LogFilters() {
  const [params] = useSearchParams();
  const set = useSetLogParams();
  const level = params.get("level") ?? "";
  const text = params.get("logq") ?? "";
  // Inputs follow the user at once; the URL (and the query) follows after
  // the router's navigation, and for text after a pause in typing.
  const [levelBox, setLevelBox] = useState(level);
  useEffect(() => setLevelBox(level), [level]);
  const [draft, setDraft] = useState(text);
  // (A draft that only differs by spaces being typed is kept.)
  useEffect(() => setDraft((d) => (d.trim() === text ? d : text)), [text]);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return (
    <>
      <label className="field">
        <span>Level</span>
        <select
          data-testid="log-level"
          value={levelBox}
          onChange={(e) => {
            setLevelBox(e.target.value);
            set({ level: e.target.value });
          }}
        >
          {LEVELS.map((l) => (
            <option key={l.key} value={l.key}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Text in the message</span>
        <input
          data-testid="log-text"
          className="log-text"
          value={draft}
          placeholder="e.g. failed, ord-123"
          onChange={(e) => {
            const v = e.target.value;
            setDraft(v);
            window.clearTimeout(timer.current);
            timer.current = window.setTimeout(() => set({ logq: v.trim() }, true), 250);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              window.clearTimeout(timer.current);
              set({ logq: draft.trim() });
            }
          }}
        />
      </label>
    </>
  );
}

/**
 * A function's recent logs (GET /api/v1/logs), newest first, filtered by
 * level and text (LogFilters); the filters and the page are in the URL
 * (level, logq, logCursor) next to the Functions page's own. fn "" lists
 * every function's logs.
 */
export function FunctionLogs({ fn, range }: { fn: string; range: RangeParams }) {
  const [params] = useSearchParams();
  const set = useSetLogParams();
  const tick = useRefreshTick();
  const level = params.get("level") ?? "";
  const text = params.get("logq") ?? "";
  const cursor = params.get("logCursor") ?? "";
  const key = [fn, level, text, cursor, range.start, range.end ?? "", tick].join("|");
  const res = useApi(key, (signal) => {
    const p = new URLSearchParams({ start: range.start, limit: String(LIMIT) });
    if (range.end) p.set("end", range.end);
    if (fn) p.set("function", fn);
    if (level) p.set("severity", level);
    if (text) p.set("q", text);
    if (cursor) p.set("cursor", cursor);
    return api.logs(p, signal);
  });
  const logs = res.data?.logs ?? [];

  return (
    <>
      {res.error && <div className="banner error">Could not load logs: {res.error.message}</div>}
      {!res.data && res.loading && <div className="loading">Loading…</div>}
      {res.data && (
        <>
          <div className="results-head">
            <h2 style={{ margin: 0 }} data-testid="log-count" aria-busy={res.loading}>
              {logs.length === LIMIT ? `${LIMIT}+` : logs.length} log lines{cursor ? " (older page)" : ""}
            </h2>
            <span className="muted">newest first{fn ? ` · ${fn}` : " · every function"}</span>
          </div>
          {logs.length === 0 ? (
            <div className="banner">No log line in this range matches.</div>
          ) : (
            <div className="card" style={{ padding: 0 }}>
              <LogList key={key} logs={logs} showFunction={!fn} />
            </div>
          )}
          <div className="pager">
            <button disabled={!cursor} onClick={() => set({ logCursor: "" })}>
              ← Newest
            </button>
            <button
              data-testid="logs-next"
              disabled={!res.data.nextCursor}
              onClick={() => set({ logCursor: res.data!.nextCursor })}
            >
              Older →
            </button>
          </div>
        </>
      )}
    </>
  );
}
