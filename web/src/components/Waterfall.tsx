import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useRef, useState } from "react";
import { serviceColor } from "../lib/colors";
import { formatDuration, formatValue, niceTicks } from "../lib/format";
import type { Row, TraceModel } from "../lib/traceModel";

export const ROW_HEIGHT = 24;
const NAME_PCT = 38; // default width of the tree column, percent of the row
const NAME_KEY = "ariadne.waterfall.nameWidth";

function storedWidth(): number {
  const v = Number(localStorage.getItem(NAME_KEY));
  return v >= 15 && v <= 75 ? v : NAME_PCT;
}

interface Props {
  model: TraceModel;
  /** Row indices (into model.rows) currently shown, in order. */
  visible: number[];
  collapsed: ReadonlySet<number>;
  selected: number;
  matches: ReadonlySet<number>;
  /** Rows on the critical path when it is highlighted, else null. */
  critical: ReadonlySet<number> | null;
  currentMatch: number;
  /** The time window shown, ns from the model's start. */
  view: [number, number];
  /** Bumped whenever the selection should be scrolled into view. */
  scrollTick: number;
  onSelect: (row: number) => void;
  onToggle: (row: number) => void;
  onOpen: (row: number) => void;
  onKeyDown: (e: React.KeyboardEvent) => void;
}

/**
 * The virtualised waterfall: only the rows in the viewport (plus overscan)
 * are in the DOM, each positioned absolutely, so scrolling a 20,000-span
 * trace touches a few dozen elements per frame.
 */
export function Waterfall(p: Props) {
  const { model, visible } = p;
  const scrollRef = useRef<HTMLDivElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const [namePct, setNamePct] = useState(storedWidth);
  // Drag the column divider to share the width between names and bars.
  const startDrag = (e: React.MouseEvent) => {
    e.preventDefault();
    const rect = rootRef.current!.getBoundingClientRect();
    let last = namePct;
    const move = (ev: MouseEvent) => {
      last = Math.min(75, Math.max(15, ((ev.clientX - rect.left) / rect.width) * 100));
      setNamePct(last);
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      try {
        localStorage.setItem(NAME_KEY, last.toFixed(1));
      } catch {
        // not remembered in private mode
      }
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };
  const v = useVirtualizer({
    count: visible.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  // Keyboard moves and find-in-trace scroll the selection into view.
  useEffect(() => {
    const i = visible.indexOf(p.selected);
    if (i >= 0) v.scrollToIndex(i, { align: "auto" });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.scrollTick]);

  const [v0, v1] = p.view;
  const span = Math.max(1, v1 - v0);
  // Ticks on round offsets inside the window; the last label would run off
  // the right edge, so ticks stop at 88%.
  const step = niceTicks(span, 8)[1] ?? span;
  const ticks: number[] = [];
  for (let t = Math.ceil(v0 / step) * step; t <= v0 + span * 0.88; t += step) ticks.push(t);
  const pct = (ns: number) => ((ns - v0) / span) * 100;
  const guideLeft = (t: number) => `calc(${namePct}% + ${pct(t) / 100} * (100% - ${namePct}%))`;

  return (
    <div
      ref={rootRef}
      className="waterfall"
      role="tree"
      aria-activedescendant={visible.includes(p.selected) ? `wf-row-${p.selected}` : undefined}
      tabIndex={0}
      data-testid="waterfall"
      onKeyDown={p.onKeyDown}
      style={{ ["--name-width" as string]: namePct + "%" }}
      aria-label="Trace waterfall. Up and down move, left and right collapse and expand, Enter opens the span."
    >
      <div className="wf-header">
        <div className="name-col">
          {model.spanCount.toLocaleString()} spans · {model.logCount.toLocaleString()} logs
        </div>
        <div
          className="col-resizer"
          style={{ left: `calc(${namePct}% - 3px)` }}
          onMouseDown={startDrag}
          title="Drag to resize"
          role="separator"
          aria-orientation="vertical"
        />
        <div className="time-col">
          {ticks.map((t) => (
            <div className="tick" key={t} style={{ left: pct(t) + "%" }}>
              <span>{formatDuration(t)}</span>
            </div>
          ))}
        </div>
      </div>
      <div className="wf-scroll" ref={scrollRef} data-testid="waterfall-scroll">
        <div style={{ height: v.getTotalSize(), position: "relative" }}>
          <div className="guides">
            {ticks.map((t) => (
              <div className="tick" key={t} style={{ left: guideLeft(t) }} />
            ))}
          </div>
          {v.getVirtualItems().map((vi) => {
            const idx = visible[vi.index];
            return (
              <WaterfallRow
                key={idx}
                row={model.rows[idx]}
                top={vi.start}
                v0={v0}
                duration={span}
                collapsed={p.collapsed.has(idx)}
                selected={p.selected === idx}
                match={p.matches.has(idx)}
                current={p.currentMatch === idx}
                offPath={p.critical !== null && !p.critical.has(idx)}
                onSelect={p.onSelect}
                onToggle={p.onToggle}
                onOpen={p.onOpen}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

interface RowProps {
  row: Row;
  top: number;
  /** Start of the shown window and its length, ns. */
  v0: number;
  duration: number;
  collapsed: boolean;
  selected: boolean;
  match: boolean;
  current: boolean;
  offPath: boolean;
  onSelect: (row: number) => void;
  onToggle: (row: number) => void;
  onOpen: (row: number) => void;
}

const severityClass = (n: number) => (n >= 17 ? "error" : n >= 13 ? "warn" : "");

const WaterfallRow = memo(function WaterfallRow(p: RowProps) {
  const { row, duration, v0 } = p;
  const cls = [
    "wf-row",
    row.kind,
    p.selected ? "selected" : "",
    p.match ? "match" : "",
    p.current ? "current" : "",
    p.offPath ? "off-path" : "",
  ].join(" ");
  const left = duration > 0 ? ((row.offset - v0) / duration) * 100 : 0;
  const indent = row.depth * 14 + 4;
  const color = serviceColor(row.kind === "span" ? row.span.service : row.log.service);

  if (row.kind === "log") {
    const l = row.log;
    return (
      <div
        className={cls}
        style={{ transform: `translateY(${p.top}px)`, height: ROW_HEIGHT }}
        data-testid="waterfall-log"
        data-row={row.index}
        id={`wf-row-${row.index}`}
        role="treeitem"
        aria-level={row.depth + 1}
        aria-selected={p.selected}
        onClick={() => p.onSelect(row.index)}
        onDoubleClick={() => p.onOpen(row.index)}
      >
        <div className="name-col" style={{ paddingLeft: indent + 16 }}>
          <span className={"sev " + severityClass(l.severityNumber)}>{l.severityText || "LOG"}</span>
          <span className="label">{formatValue(l.body)}</span>
        </div>
        <div className="time-col">
          <div
            className={"log-mark " + (row.error ? "error" : "")}
            style={{ left: `min(${left}%, 100% - 6px)`, background: color }}
          />
        </div>
      </div>
    );
  }

  const s = row.span;
  const width = duration > 0 ? Math.max((s.durationNs / duration) * 100, 0.15) : 100;
  // The duration label goes right of the bar, else left of it, else (a long
  // bar from the very start) inside it.
  const gap = row.hop && row.hop.lagNs > 0 && duration > 0 ? row.hop.lagNs / duration : 0;
  const roomRight = left + width < 75;
  // Left of the bar only when that space is free (not a hop's queue gap).
  const roomLeft = left > 12 && gap === 0;
  // Inside the bar needs a wide bar; failing that, right of it even if cut off.
  const inside = !roomRight && !roomLeft && width > 8;
  const labelPos: React.CSSProperties = roomLeft && !roomRight
    ? { right: `calc(${100 - left}% + 4px)` }
    : inside
      ? { left: `calc(${left}% + 6px)` }
      : { left: `calc(${left + width}% + 4px)` };
  return (
    <div
      className={cls}
      style={{ transform: `translateY(${p.top}px)`, height: ROW_HEIGHT }}
      data-testid="waterfall-row"
      data-row={row.index}
      id={`wf-row-${row.index}`}
      role="treeitem"
      aria-level={row.depth + 1}
      aria-selected={p.selected}
      aria-expanded={row.children > 0 ? !p.collapsed : undefined}
      data-span-id={s.spanId}
      onClick={() => p.onSelect(row.index)}
      onDoubleClick={() => p.onOpen(row.index)}
    >
      <div className="name-col" style={{ paddingLeft: indent }}>
        <span
          className="toggle"
          onClick={(e) => {
            if (row.children === 0) return;
            e.stopPropagation();
            p.onToggle(row.index);
          }}
        >
          {row.children > 0 ? (p.collapsed ? "▶" : "▼") : ""}
        </span>
        {row.hop && (
          <span className="hop-mark" title={`asynchronous hop${row.hop.via ? " via " + row.hop.via : ""}`}>
            ↪
          </span>
        )}
        <span className="svc-dot" style={{ background: color }} />
        {row.error && (
          <span className="err-mark" title="error">
            !
          </span>
        )}
        <span className="svc">{s.service}</span>
        <span className="label" title={s.name}>
          {s.name}
        </span>
        {p.collapsed && <span className="count">+{row.end - row.index - 1}</span>}
        {row.orphan && (
          <span className="count" title="its parent span is not in this trace">
            (orphan)
          </span>
        )}
      </div>
      <div className="time-col">
        {row.hop && gap > 0 && (
          <div
            className="hop-gap"
            style={{ left: ((row.offset - row.hop.lagNs - v0) / duration) * 100 + "%", width: gap * 100 + "%" }}
            title={`${formatDuration(row.hop.lagNs)} between the producer's end and this span's start${row.hop.via ? " (" + row.hop.via + ")" : ""}`}
          >
            {gap > 0.08 && <span>{formatDuration(row.hop.lagNs)} in transit</span>}
          </div>
        )}
        <div
          className={"bar " + (row.error ? "error" : "")}
          style={{ left: left + "%", width: width + "%", background: color }}
        />
        {duration > 0 &&
          s.events.slice(0, 50).map((e, i) => (
            <div
              key={i}
              className={"event-mark" + (e.name === "exception" ? " error" : "")}
              style={{ left: ((row.offset - v0 + e.time - s.startTime) / duration) * 100 + "%" }}
            />
          ))}
        <span className={"bar-label" + (inside ? " inside" : "")} style={labelPos}>
          {formatDuration(s.durationNs)}
          {s.coldStart ? " · cold start" : ""}
        </span>
      </div>
    </div>
  );
});
