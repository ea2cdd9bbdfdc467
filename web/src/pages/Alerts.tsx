import { useState } from "react";
import { Link } from "react-router";
import { api } from "../lib/api";
import { formatAge, formatDateTime, formatDuration, parseDurationNs } from "../lib/format";
import type { AlertRule } from "../lib/types";
import { useApi } from "../lib/useApi";

const KINDS = ["", "error", "timeout", "oom", "retry", "dlq", "contract", "silent_async_failure", "cold_start"];

type Draft = {
  name: string;
  kind: string;
  function: string;
  anyNew: boolean;
  threshold: string;
  window: string;
  target: string;
  url: string;
  to: string;
};
const EMPTY: Draft = {
  name: "",
  kind: "",
  function: "",
  anyNew: true,
  threshold: "5",
  window: "10m",
  target: "webhook",
  url: "",
  to: "",
};

function condition(r: AlertRule): string {
  const what = (r.kind ? r.kind.replace(/_/g, " ") + " issue" : "issue") + (r.function ? ` of ${r.function}` : "");
  return r.anyNew ? `any new ${what}` : `${what} seen ${r.threshold}× within ${formatDuration(r.windowNs)}`;
}

/** Alert rules (CRUD over /api/v1/alerts/rules) and their delivery history (/alerts/events). */
export function AlertsPage() {
  const [version, setVersion] = useState(0);
  const rules = useApi("rules#" + version, (signal) => api.alertRules(signal));
  const events = useApi("events#" + version, (signal) => api.alertEvents(signal));
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [error, setError] = useState("");
  const set = (p: Partial<Draft>) => setDraft((d) => ({ ...d, ...p }));
  const ruleName = (id: string) => rules.data?.rules.find((r) => r.id === id)?.name || id;

  const create = () => {
    setError("");
    const windowNs = parseDurationNs(draft.window);
    if (!draft.anyNew && !Number.isFinite(windowNs)) {
      setError("window: want a duration like 10m or 1h");
      return;
    }
    api
      .createAlertRule({
        name: draft.name.trim(),
        kind: draft.kind,
        function: draft.function.trim(),
        anyNew: draft.anyNew,
        threshold: draft.anyNew ? 0 : Number(draft.threshold),
        windowNs: draft.anyNew ? 0 : windowNs,
        target: draft.target,
        url: draft.target === "email" ? "" : draft.url.trim(),
        to: draft.target === "email" ? draft.to.trim() : "",
      })
      .then(
        () => {
          setDraft(EMPTY);
          setVersion((v) => v + 1);
        },
        (e: Error) => setError(e.message),
      );
  };

  return (
    <div className="page">
      <h1>Alerts</h1>
      <div className="card" style={{ marginBottom: 14 }}>
        <h2>New rule</h2>
        <form
          className="filters"
          style={{ marginBottom: 0 }}
          onSubmit={(e) => {
            e.preventDefault();
            create();
          }}
        >
          <label className="field">
            <span>Name</span>
            <input data-testid="rule-name" value={draft.name} onChange={(e) => set({ name: e.target.value })} placeholder="payments on fire" />
          </label>
          <label className="field">
            <span>Issue kind</span>
            <select value={draft.kind} onChange={(e) => set({ kind: e.target.value })}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {k ? k.replace(/_/g, " ") : "any"}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Function or channel</span>
            <input value={draft.function} onChange={(e) => set({ function: e.target.value })} placeholder="any" style={{ width: 140 }} />
          </label>
          <label className="check">
            <input type="checkbox" checked={draft.anyNew} onChange={(e) => set({ anyNew: e.target.checked })} />
            any new issue
          </label>
          {!draft.anyNew && (
            <>
              <label className="field">
                <span>At least</span>
                <input className="short" value={draft.threshold} onChange={(e) => set({ threshold: e.target.value })} />
              </label>
              <label className="field">
                <span>Within</span>
                <input className="short" value={draft.window} onChange={(e) => set({ window: e.target.value })} />
              </label>
            </>
          )}
          <label className="field">
            <span>Send to</span>
            <select data-testid="rule-target" value={draft.target} onChange={(e) => set({ target: e.target.value })}>
              <option value="webhook">webhook</option>
              <option value="slack">Slack</option>
              <option value="email">e-mail</option>
            </select>
          </label>
          {draft.target === "email" ? (
            <label className="field">
              <span>To</span>
              <input value={draft.to} onChange={(e) => set({ to: e.target.value })} placeholder="oncall@example.com" style={{ width: 220 }} />
            </label>
          ) : (
            <label className="field">
              <span>URL</span>
              <input
                data-testid="rule-url"
                value={draft.url}
                onChange={(e) => set({ url: e.target.value })}
                placeholder="https://hooks.example.com/…"
                style={{ width: 260 }}
              />
            </label>
          )}
          <button type="submit" className="primary" data-testid="rule-create">
            Create
          </button>
        </form>
        {error && (
          <div className="error-text" data-testid="rule-error" style={{ marginTop: 8 }}>
            {error}
          </div>
        )}
      </div>

      <div className="card" style={{ marginBottom: 14, padding: 0 }}>
        <h2 style={{ padding: "12px 14px 0" }}>Rules</h2>
        {rules.error && <div className="banner error">Could not load rules: {rules.error.message}</div>}
        {rules.data && rules.data.rules.length === 0 && <div className="muted" style={{ padding: "0 14px 12px" }}>No rules yet.</div>}
        {rules.data && rules.data.rules.length > 0 && (
          <table className="data" data-testid="rules-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>When</th>
                <th>Send to</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rules.data.rules.map((r) => (
                <tr key={r.id} data-testid="rule-row">
                  <td>{r.name || <span className="muted">(unnamed)</span>}</td>
                  <td>{condition(r)}</td>
                  <td>
                    {r.target} <span className="muted">{r.target === "email" ? r.to : r.url}</span>
                  </td>
                  <td title={formatDateTime(r.created)}>{formatAge(r.created)}</td>
                  <td className="num">
                    <button
                      onClick={() => api.deleteAlertRule(r.id).then(() => setVersion((v) => v + 1), (e: Error) => setError(e.message))}
                      aria-label={`Delete rule ${r.name}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div className="card" style={{ padding: 0 }}>
        <h2 style={{ padding: "12px 14px 0" }}>Deliveries</h2>
        {events.data && events.data.events.length === 0 && (
          <div className="muted" style={{ padding: "0 14px 12px" }}>Nothing sent yet.</div>
        )}
        {events.data && events.data.events.length > 0 && (
          <table className="data" data-testid="events-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Rule</th>
                <th>Issue</th>
                <th>Type</th>
                <th>State</th>
                <th className="num">Attempts</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr key={e.id}>
                  <td title={formatDateTime(e.created)}>{formatAge(e.created)}</td>
                  <td>{ruleName(e.ruleId)}</td>
                  <td>
                    <Link to={`/issues/${e.issueId}`}>{e.issueId}</Link>
                  </td>
                  <td>{e.type}</td>
                  <td>
                    <span className={"pill" + (e.state === "delivered" ? " ok" : e.state === "failed" ? " error" : "")}>{e.state}</span>
                  </td>
                  <td className="num">{e.attempts}</td>
                  <td className="muted">{e.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
