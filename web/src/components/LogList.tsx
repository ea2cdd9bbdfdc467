import { useState } from "react";
import { Link, useLocation } from "react-router";
import { serviceColor } from "../lib/colors";
import { formatClock, formatDateTime } from "../lib/format";
import type { LogRecord } from "../lib/types";

/** The OpenTelemetry severity ranges, lowest number of each. */
export const LEVELS: { key: string; label: string; min: number }[] = [
  { key: "", label: "any level", min: 0 },
  { key: "debug", label: "debug and up", min: 5 },
  { key: "info", label: "info and up", min: 9 },
  { key: "warn", label: "warn and up", min: 13 },
  { key: "error", label: "error and up", min: 17 },
];

export function levelName(l: LogRecord): string {
  if (l.severityText) return l.severityText.toUpperCase();
  const n = l.severityNumber;
  if (n >= 21) return "FATAL";
  if (n >= 17) return "ERROR";
  if (n >= 13) return "WARN";
  if (n >= 9) return "INFO";
  if (n >= 5) return "DEBUG";
  if (n >= 1) return "TRACE";
  return "LOG";
}

const severityClass = (n: number) => (n >= 17 ? "error" : n >= 13 ? "warn" : "");

export function logBody(l: LogRecord): string {
  return typeof l.body === "string" ? l.body : JSON.stringify(l.body);
}

/**
 * Log records as a table: time, level, (function,) body, and links to the
 * trace (at the span that logged) and the invocation each came from. A long
 * body opens in full on click.
 */
export function LogList({
  logs,
  showFunction = true,
  showInvocation = true,
  testId = "log-list",
}: {
  logs: LogRecord[];
  showFunction?: boolean;
  showInvocation?: boolean;
  testId?: string;
}) {
  const location = useLocation();
  const from = { from: location.pathname + location.search };
  const [open, setOpen] = useState<Set<number>>(new Set());
  const toggle = (i: number) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });
  return (
    <table className="data logs" data-testid={testId}>
      <thead>
        <tr>
          <th>Time</th>
          <th>Level</th>
          {showFunction && <th>Function</th>}
          <th style={{ width: "100%" }}>Message</th>
          <th>Open</th>
        </tr>
      </thead>
      <tbody>
        {logs.map((l, i) => {
          const body = logBody(l);
          const fn = l.function || l.service;
          return (
            <tr key={i} data-testid="log-row" data-severity={l.severityNumber}>
              <td className="mono nowrap" title={formatDateTime(l.time)}>
                {formatClock(l.time)}
              </td>
              <td>
                <span className={"sev " + severityClass(l.severityNumber)}>{levelName(l)}</span>
              </td>
              {showFunction && (
                <td className="nowrap">
                  {fn && <span className="svc-dot" style={{ background: serviceColor(fn) }} />}
                  {fn}
                </td>
              )}
              <td
                className={"mono log-body" + (open.has(i) ? " open" : "")}
                onClick={() => toggle(i)}
                title={open.has(i) ? "" : "Click to show it all"}
                data-testid="log-body"
              >
                {body}
              </td>
              <td className="nowrap links">
                {l.traceId && (
                  <Link
                    to={`/trace/${l.traceId}${l.spanId ? "?span=" + l.spanId : ""}`}
                    state={from}
                    data-testid="log-trace"
                  >
                    trace
                  </Link>
                )}
                {showInvocation && l.invocationId && (
                  <Link to={`/invocations/${encodeURIComponent(l.invocationId)}`} state={from} data-testid="log-invocation">
                    invocation
                  </Link>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
