import { useEffect, useRef, useState } from "react";
import { serviceColor } from "../lib/colors";
import type { TraceModel } from "../lib/traceModel";
import { useWidth } from "./useWidth";

const H = 44;

interface Props {
  model: TraceModel;
  /** The shown window, ns from the model's start. */
  view: [number, number];
  onView: (v: [number, number]) => void;
}

/**
 * The whole trace in one strip (every span a line, drawn once on a canvas),
 * with the waterfall's time window on it: drag across it to zoom into a
 * window, double-click to see everything again.
 */
export function Minimap({ model, view, onView }: Props) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drag, setDrag] = useState<[number, number] | null>(null);
  const dur = model.duration || 1;

  useEffect(() => {
    const c = canvas.current;
    if (!c || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(H * dpr);
    const g = c.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, H);
    const rows = model.rows;
    // Small traces get thin lines too, stacked from the top.
    const rowH = Math.min(5, Math.max(1, H / rows.length));
    const yOf = (i: number) => (rows.length * rowH <= H ? i * rowH + 2 : Math.floor((i / rows.length) * H));
    for (const r of rows) {
      if (r.kind !== "span") continue;
      const x0 = (r.offset / dur) * width;
      const w = Math.max(1, (r.span.durationNs / dur) * width);
      g.fillStyle = r.error ? "#e5484d" : serviceColor(r.span.service);
      g.fillRect(x0, yOf(r.index), w, Math.ceil(rowH) - (rowH > 2 ? 1 : 0));
    }
  }, [model, width, dur]);

  const toNs = (clientX: number) => {
    const rect = ref.current!.getBoundingClientRect();
    return Math.min(dur, Math.max(0, ((clientX - rect.left) / rect.width) * dur));
  };
  const onDown = (e: React.MouseEvent) => {
    e.preventDefault();
    const a = toNs(e.clientX);
    setDrag([a, a]);
    const move = (ev: MouseEvent) => setDrag([a, toNs(ev.clientX)]);
    const up = (ev: MouseEvent) => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      setDrag(null);
      const b = toNs(ev.clientX);
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      if (hi - lo > dur / 500) onView([lo, hi]);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };

  const pct = (ns: number) => (ns / dur) * 100 + "%";
  const sel = drag ? [Math.min(...drag), Math.max(...drag)] : null;
  return (
    <div
      ref={ref}
      className="minimap"
      data-testid="minimap"
      onMouseDown={onDown}
      onDoubleClick={() => onView([0, dur])}
      title="Drag to zoom into a time window; double-click to reset"
    >
      <canvas ref={canvas} style={{ width: "100%", height: H }} />
      <div className="mm-shade" style={{ left: 0, width: pct(view[0]) }} />
      <div className="mm-shade" style={{ left: pct(view[1]), right: 0 }} />
      <div className="mm-window" style={{ left: pct(view[0]), width: pct(view[1] - view[0]) }} />
      {sel && <div className="mm-drag" style={{ left: pct(sel[0]), width: pct(sel[1] - sel[0]) }} />}
    </div>
  );
}
