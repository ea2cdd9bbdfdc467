import { Link } from "react-router";
import { CopyButton } from "./CopyButton";
import { serviceColor } from "../lib/colors";
import { formatClock, formatDateTime, formatDuration, formatValue, prettyPayload } from "../lib/format";
import type { Row, TraceModel } from "../lib/traceModel";
import type { Attributes, Invocation, LogRecord, Span } from "../lib/types";

interface Props {
  model: TraceModel;
  row: Row;
  invocations: Invocation[];
  onClose: () => void;
  onSelectSpan: (traceId: string, spanId: string) => void;
  /** Zooms the waterfall to a window, ns from the trace start. */
  onZoom: (from: number, to: number) => void;
}

/** Details of the selected span (or log): what a user opens a trace for. */
export function SpanPanel({ model, row, invocations, onClose, onSelectSpan, onZoom }: Props) {
  return (
    <aside className="side-panel" data-testid="span-panel" aria-label="Span details">
      <button className="close" onClick={onClose} aria-label="Close panel" title="Close (Esc)">
        ×
      </button>
      {row.kind === "span" && row.span.durationNs > 0 && (
        <button
          className="close"
          style={{ marginRight: 6 }}
          title="Zoom the timeline to this span"
          onClick={() => onZoom(row.offset, row.offset + row.span.durationNs)}
        >
          Zoom
        </button>
      )}
      {row.kind === "span" ? (
        <SpanDetails model={model} span={row.span} error={row.error} invocations={invocations} onSelectSpan={onSelectSpan} />
      ) : (
        <LogDetails model={model} log={row.log} />
      )}
    </aside>
  );
}

function KV({ rows }: { rows: [string, React.ReactNode][] }) {
  const shown = rows.filter(([, v]) => v !== "" && v !== undefined && v !== null && v !== false);
  if (shown.length === 0) return null;
  return (
    <table className="kv">
      <tbody>
        {shown.map(([k, v]) => (
          <tr key={k}>
            <td>{k}</td>
            <td className="v">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AttrTable({ attrs, testId }: { attrs: Attributes; testId?: string }) {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return <div className="muted">none</div>;
  return (
    <table className="kv" data-testid={testId}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <td>{k}</td>
            <td className="v">{formatValue(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Payload({ title, text, testId }: { title: string; text: string; testId: string }) {
  if (!text) return null;
  const p = prettyPayload(text);
  return (
    <section>
      <h3>
        {title} {!p.json && <span className="muted">(not JSON or cut off at the capture limit)</span>}
      </h3>
      <pre className="payload" data-testid={testId}>
        {p.text}
      </pre>
    </section>
  );
}

const strList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" && v ? [v] : []);

function SpanDetails({
  model,
  span: s,
  error,
  invocations,
  onSelectSpan,
}: {
  model: TraceModel;
  span: Span;
  error: boolean;
  invocations: Invocation[];
  onSelectSpan: (traceId: string, spanId: string) => void;
}) {
  const produced = strList(s.attributes["ariadne.refs.producer"]);
  const consumed = strList(s.attributes["ariadne.refs.consumer"]);
  const exceptions = s.events.filter((e) => e.name === "exception");
  const inv = s.invocationId ? invocations.filter((i) => i.requestId === s.invocationId) : [];
  const parentRow = s.parentSpanId ? model.spanRow.get(s.traceId + "/" + s.parentSpanId) : undefined;
  return (
    <>
      <h2 data-testid="panel-title">{s.name}</h2>
      <div className="muted" style={{ marginBottom: 6 }}>
        <span className="svc-dot" style={{ background: serviceColor(s.service) }} />
        {s.service} · {s.kind} · {formatDuration(s.durationNs)} · starts at +{formatDuration(s.startTime - model.start)}
        {s.coldStart && <span className="pill" style={{ marginLeft: 6 }}>cold start</span>}
        {error ? (
          <span className="pill error" style={{ marginLeft: 6 }}>error</span>
        ) : s.status.code === "ok" ? (
          <span className="pill ok" style={{ marginLeft: 6 }}>ok</span>
        ) : null}
      </div>

      {error && (
        <section>
          <h3>Error</h3>
          <div className="error-box" data-testid="panel-error">
            {s.errorType && <div><b>{s.errorType}</b></div>}
            <div>{s.errorMessage || s.status.message || "status error"}</div>
            {exceptions.map((e, i) => (
              <pre key={i} className="payload" style={{ marginTop: 6 }}>
                {formatValue(e.attributes["exception.type"])} {formatValue(e.attributes["exception.message"])}
                {e.attributes["exception.stacktrace"] ? "\n" + formatValue(e.attributes["exception.stacktrace"]) : ""}
              </pre>
            ))}
          </div>
        </section>
      )}

      <section>
        <h3>Span</h3>
        <KV
          rows={[
            ["start", formatDateTime(s.startTime) + "." + formatClock(s.startTime).slice(9)],
            ["trace id", <>{s.traceId}<CopyButton text={s.traceId} /></>],
            ["span id", <>{s.spanId}<CopyButton text={s.spanId} /></>],
            [
              "parent span id",
              s.parentSpanId &&
                (parentRow !== undefined ? (
                  <a href="#" onClick={(e) => (e.preventDefault(), onSelectSpan(s.traceId, s.parentSpanId))}>
                    {s.parentSpanId}
                  </a>
                ) : (
                  <span>{s.parentSpanId} (not in this trace)</span>
                )),
            ],
            ["status", s.status.code + (s.status.message ? ": " + s.status.message : "")],
            ["function", s.function],
            ["invocation id", s.invocationId && <>{s.invocationId}<CopyButton text={s.invocationId} /></>],
            ["trigger", s.trigger],
            ["http", [s.httpMethod, s.httpRoute, s.httpStatus || ""].filter(Boolean).join(" ")],
            ["db system", s.dbSystem],
            ["scope", s.scopeName ? `${s.scopeName} ${s.scopeVersion ?? ""}` : ""],
          ]}
        />
      </section>

      {(s.messagingSystem || s.destination || s.messageIds.length > 0 || produced.length > 0 || consumed.length > 0) && (
        <section>
          <h3>Messaging and strong ids</h3>
          <KV
            rows={[
              ["system", s.messagingSystem],
              ["operation", s.messagingOperation ?? ""],
              ["destination", s.destination],
            ]}
          />
          {s.messageIds.length > 0 && (
            <>
              <div className="muted" style={{ marginTop: 6 }}>message ids ({s.messageIds.length})</div>
              <ul className="ids" data-testid="panel-message-ids">
                {s.messageIds.map((m) => (
                  <li key={m}>
                    {m}
                    <CopyButton text={m} />
                  </li>
                ))}
              </ul>
            </>
          )}
          {produced.length > 0 && (
            <>
              <div className="muted" style={{ marginTop: 6 }}>produced</div>
              <ul className="ids">{produced.map((m) => <li key={m}>{m}</li>)}</ul>
            </>
          )}
          {consumed.length > 0 && (
            <>
              <div className="muted" style={{ marginTop: 6 }}>consumed</div>
              <ul className="ids">{consumed.map((m) => <li key={m}>{m}</li>)}</ul>
            </>
          )}
        </section>
      )}

      <Payload title="Request payload" text={s.requestPayload} testId="panel-request-payload" />
      <Payload title="Response payload" text={s.responsePayload} testId="panel-response-payload" />

      {inv.length > 0 && (
        <section>
          <h3>Invocation</h3>
          {inv.map((v, i) => (
            <KV
              key={i}
              rows={[
                ["source", v.source],
                ["status", v.status],
                ["duration", v.durationNs ? formatDuration(v.durationNs) : ""],
                ["billed", v.billedDurationNs ? formatDuration(v.billedDurationNs) : ""],
                ["init", v.initDurationNs ? formatDuration(v.initDurationNs) : ""],
                ["memory", v.memoryMb ? `${v.maxMemoryMb || "?"} / ${v.memoryMb} MB` : ""],
                ["attempt", v.attempt || ""],
                ["error type", v.errorType],
              ]}
            />
          ))}
        </section>
      )}

      <section>
        <h3>Attributes</h3>
        <AttrTable attrs={s.attributes} testId="panel-attributes" />
      </section>
      <section>
        <h3>Resource</h3>
        <AttrTable attrs={s.resourceAttributes} testId="panel-resource" />
      </section>
      {s.events.length > 0 && (
        <section>
          <h3>Events ({s.events.length})</h3>
          {s.events.map((e, i) => (
            <div key={i} style={{ marginBottom: 8 }}>
              <div>
                <b>{e.name}</b> <span className="muted">+{formatDuration(e.time - s.startTime)}</span>
              </div>
              {Object.keys(e.attributes).length > 0 && <AttrTable attrs={e.attributes} />}
            </div>
          ))}
        </section>
      )}
      {s.links.length > 0 && (
        <section>
          <h3>Links ({s.links.length})</h3>
          <ul className="ids">
            {s.links.map((l, i) => (
              <li key={i}>
                {model.spanRow.has(l.traceId + "/" + l.spanId) ? (
                  <a href="#" onClick={(e) => (e.preventDefault(), onSelectSpan(l.traceId, l.spanId))}>
                    {l.spanId} (in this view)
                  </a>
                ) : (
                  <Link to={`/trace/${l.traceId}?span=${l.spanId}`}>
                    trace {l.traceId.slice(0, 12)}… span {l.spanId}
                  </Link>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function LogDetails({ model, log: l }: { model: TraceModel; log: LogRecord }) {
  const body = typeof l.body === "string" ? prettyPayload(l.body).text : JSON.stringify(l.body, null, 2);
  return (
    <>
      <h2 data-testid="panel-title">Log · {l.severityText || `severity ${l.severityNumber}`}</h2>
      <div className="muted" style={{ marginBottom: 6 }}>
        <span className="svc-dot" style={{ background: serviceColor(l.service) }} />
        {l.service} · at +{formatDuration(l.time - model.start)} · {formatDateTime(l.time)}
      </div>
      <section>
        <h3>Body</h3>
        <pre className="payload">{body}</pre>
      </section>
      <section>
        <h3>Log</h3>
        <KV
          rows={[
            ["span id", l.spanId],
            ["function", l.function],
            ["invocation id", l.invocationId],
            ["severity", `${l.severityText} (${l.severityNumber})`],
          ]}
        />
      </section>
      <section>
        <h3>Attributes</h3>
        <AttrTable attrs={l.attributes} />
      </section>
    </>
  );
}
