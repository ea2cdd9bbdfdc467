import { formatClock, formatDuration, niceTicks } from "../lib/format";
import type { TraceSummary } from "../lib/types";
import { useWidth } from "./useWidth";

interface Props {
  traces: TraceSummary[];
  /** The x axis spans the searched range, ms. */
  startMs: number;
  endMs: number;
  onPick: (t: TraceSummary) => void;
}

const H = 180;
const M = { l: 64, r: 12, t: 10, b: 22 };

/** Trace duration over start time; errors in red. Plain SVG: a page holds at most 1,000 points. */
export function ScatterPlot({ traces, startMs, endMs, onPick }: Props) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const w = Math.max(200, width);
  // Zoom the x axis to the results when they cover a small part of the range.
  let x0 = startMs * 1e6;
  let x1 = endMs * 1e6;
  if (traces.length > 0) {
    const lo = Math.min(...traces.map((t) => t.startTime));
    const hi = Math.max(...traces.map((t) => t.startTime));
    if (hi > lo && (hi - lo) / (x1 - x0) < 0.5) {
      const pad = (hi - lo) * 0.05;
      x0 = lo - pad;
      x1 = hi + pad;
    }
  }
  const maxD = Math.max(1, ...traces.map((t) => t.durationNs)) * 1.05;
  const step = niceTicks(maxD, 4)[1] ?? maxD;
  // The top tick is the first one at or above the longest trace.
  const yMax = Math.ceil(maxD / step) * step;
  const yTicks = niceTicks(yMax, Math.round(yMax / step));
  const px = (ns: number) => M.l + ((ns - x0) / (x1 - x0 || 1)) * (w - M.l - M.r);
  const py = (d: number) => H - M.b - (d / yMax) * (H - M.t - M.b);
  const xRel = niceTicks(x1 - x0, Math.max(2, Math.floor(w / 140)));
  const xStep = xRel[1] ?? x1 - x0;
  // Ticks on round wall-clock times, labelled as finely as their spacing needs.
  const first = Math.ceil(x0 / xStep) * xStep;
  const xTicks = xRel.map((v) => first + v).filter((v) => v <= x1);
  const xLabel = (ns: number) => {
    const c = formatClock(ns);
    return xStep < 1e9 ? c : xStep < 60e9 ? c.slice(0, 8) : c.slice(0, 5);
  };

  return (
    <div ref={ref} className="card" style={{ padding: 6, marginBottom: 12 }} data-testid="scatter">
      <svg className="scatter" width={w - 14} height={H} role="img" aria-label="Duration over time">
        <g className="axis">
          {yTicks.map((v) => (
            <g key={v}>
              <line className="grid-line" x1={M.l} x2={w - M.r} y1={py(v)} y2={py(v)} />
              <text x={M.l - 6} y={py(v) + 3} textAnchor="end">
                {formatDuration(v)}
              </text>
            </g>
          ))}
          {xTicks.map((v) => (
            <text key={v} x={px(v)} y={H - 6} textAnchor="middle">
              {xLabel(v)}
            </text>
          ))}
        </g>
        {traces.map((t) => (
          <circle
            key={t.traceId}
            cx={px(t.startTime)}
            cy={py(t.durationNs)}
            r={Math.min(9, 3 + Math.sqrt(t.spanCount) / 2)}
            fill={t.errorCount > 0 ? "var(--error)" : "var(--accent)"}
            onClick={() => onPick(t)}
          >
            <title>
              {t.rootService} {t.rootName} — {formatDuration(t.durationNs)}, {t.spanCount} spans
              {t.errorCount > 0 ? `, ${t.errorCount} errors` : ""}
            </title>
          </circle>
        ))}
      </svg>
    </div>
  );
}
