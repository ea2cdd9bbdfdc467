import { useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import { Sparkline } from "../components/Sparkline";
import { api } from "../lib/api";
import { formatDuration } from "../lib/format";
import { NODE_H, NODE_W, type PlacedEdge, isAsync, layoutMap } from "../lib/mapLayout";
import { useRefreshTick } from "../lib/refresh";
import { toApiRange, writeTimeRange } from "../lib/timeRange";
import type { MapEdge, MapNode } from "../lib/types";
import { useApi } from "../lib/useApi";
import { useTimeRange } from "../lib/useTimeRange";

const KIND_LABEL: Record<string, string> = {
  function: "λ function",
  service: "service",
  queue: "queue",
  topic: "topic",
  stream: "stream",
  eventbus: "event bus",
  bucket: "bucket",
  table: "table",
  workflow: "workflow",
  database: "database",
  http: "HTTP",
  aws: "AWS",
};

const rate = (r: number) => (r >= 10 ? r.toFixed(0) : r.toFixed(2)) + "/s";
const pct = (r: number) => (r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1) + "%";

/**
 * The service map (GET /api/v1/servicemap): functions, services and the
 * queues, topics, buckets and tables between them, laid out left to right
 * by dagre. Drag to pan, wheel to zoom; a node or an edge opens its figures.
 */
export function ServiceMapPage() {
  const [tr] = useTimeRange();
  const tick = useRefreshTick();
  const key = JSON.stringify(tr) + "#" + tick;
  const res = useApi(key, (signal) => api.serviceMap(toApiRange(tr), signal));
  const layout = useMemo(() => (res.data ? layoutMap(res.data.nodes, res.data.edges) : null), [res.data]);
  const [sel, setSel] = useState<{ node?: MapNode; edge?: MapEdge } | null>(null);
  const rangeQS = writeTimeRange(new URLSearchParams(), tr).toString();

  return (
    <div className="page full">
      <h1>Service map</h1>
      {res.error && <div className="banner error">Could not load the service map: {res.error.message}</div>}
      {!res.data && res.loading && <div className="loading">Loading…</div>}
      {res.data?.truncated && (
        <div className="banner">The map was cut short: {res.data.truncatedReasons.join("; ")}.</div>
      )}
      {res.data && layout && layout.nodes.length === 0 && <div className="banner">No traffic in this range.</div>}
      {layout && layout.nodes.length > 0 && (
        <div className="map-wrap">
          <MapCanvas layout={layout} selected={sel} onSelect={setSel} />
          {sel && (
            <aside className="side-panel narrow" data-testid="map-panel">
              <button className="close" onClick={() => setSel(null)} aria-label="Close panel">
                ×
              </button>
              {sel.node && <NodePanel node={sel.node} rangeQS={rangeQS} trKey={key} />}
              {sel.edge && <EdgePanel edge={sel.edge} nodes={res.data!.nodes} />}
            </aside>
          )}
        </div>
      )}
    </div>
  );
}

export function MapCanvas({
  layout,
  selected,
  onSelect,
}: {
  layout: ReturnType<typeof layoutMap>;
  selected: { node?: MapNode; edge?: MapEdge } | null;
  onSelect: (s: { node?: MapNode; edge?: MapEdge } | null) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ x: 0, y: 0, k: 1 });
  const [dragging, setDragging] = useState(false);

  // Fit the map into the canvas when it (re)loads.
  const fit = () => {
    const el = ref.current;
    if (!el) return;
    const w = el.clientWidth;
    const h = el.clientHeight;
    const k = Math.min(1.4, (w - 20) / Math.max(1, layout.width), (h - 20) / Math.max(1, layout.height));
    setView({ k, x: (w - layout.width * k) / 2, y: (h - layout.height * k) / 2 });
  };
  useEffect(fit, [layout]); // eslint-disable-line react-hooks/exhaustive-deps
  // And again when the canvas changes size (a side panel opens or closes).
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let w = el.clientWidth;
    const ro = new ResizeObserver(() => {
      if (Math.abs(el.clientWidth - w) > 2) {
        w = el.clientWidth;
        fit();
      }
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [layout]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // Zoom around the cursor; a non-passive listener so the page does not scroll.
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const mx = e.clientX - r.left;
      const my = e.clientY - r.top;
      setView((v) => {
        const k = Math.min(4, Math.max(0.2, v.k * Math.exp(-e.deltaY * 0.0015)));
        return { k, x: mx - ((mx - v.x) * k) / v.k, y: my - ((my - v.y) * k) / v.k };
      });
    };
    el.addEventListener("wheel", wheel, { passive: false });
    return () => el.removeEventListener("wheel", wheel);
  }, []);

  const onDown = (e: React.MouseEvent) => {
    if ((e.target as Element).closest(".map-node, .map-edge")) return;
    const start = { x: e.clientX, y: e.clientY, v: view };
    let moved = false;
    setDragging(true);
    const move = (ev: MouseEvent) => {
      moved = moved || Math.abs(ev.clientX - start.x) + Math.abs(ev.clientY - start.y) > 3;
      setView({ ...start.v, x: start.v.x + ev.clientX - start.x, y: start.v.y + ev.clientY - start.y });
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      setDragging(false);
      if (!moved) onSelect(null);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };

  const zoomBy = (f: number) => {
    const el = ref.current!;
    const cx = el.clientWidth / 2;
    const cy = el.clientHeight / 2;
    setView((v) => {
      const k = Math.min(4, Math.max(0.2, v.k * f));
      return { k, x: cx - ((cx - v.x) * k) / v.k, y: cy - ((cy - v.y) * k) / v.k };
    });
  };

  return (
    <div ref={ref} className={"map-canvas" + (dragging ? " dragging" : "")} onMouseDown={onDown} data-testid="service-map">
      <svg role="img" aria-label="Service map">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--muted)" />
          </marker>
          <marker id="arrow-async" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--accent)" />
          </marker>
        </defs>
        <g transform={`translate(${view.x},${view.y}) scale(${view.k})`}>
          {layout.edges.map((pe) => (
            <EdgeShape key={pe.edge.id} pe={pe} selected={selected?.edge?.id === pe.edge.id} onSelect={() => onSelect({ edge: pe.edge })} />
          ))}
          {layout.nodes.map(({ node: n, x, y }) => (
            <g
              key={n.id}
              className={
                "map-node" +
                (selected?.node?.id === n.id ? " selected" : "") +
                (n.errors > 0 ? " failing" : "") +
                (n.instrumented ? "" : " uninstrumented")
              }
              transform={`translate(${x - NODE_W / 2},${y - NODE_H / 2})`}
              onClick={() => onSelect({ node: n })}
              data-testid="map-node"
              data-node-id={n.id}
            >
              <rect width={NODE_W} height={NODE_H} rx={n.kind === "function" || n.kind === "service" ? 10 : 3} />
              <text x={10} y={18} className="sub">
                {KIND_LABEL[n.kind] ?? n.kind}
              </text>
              <text x={10} y={35} fontWeight={600}>
                {n.name.length > 24 ? n.name.slice(0, 23) + "…" : n.name}
              </text>
              <text x={10} y={50} className={"sub" + (n.errors > 0 ? " err" : "")}>
                {rate(n.rate)}
                {n.errors > 0 ? ` · ${pct(n.errorRate)} errors` : ""}
                {n.p95Ns > 0 ? ` · p95 ${formatDuration(n.p95Ns)}` : ""}
              </text>
            </g>
          ))}
        </g>
      </svg>
      <div className="map-zoom">
        <button onClick={() => zoomBy(1.25)} aria-label="Zoom in">
          +
        </button>
        <button onClick={() => zoomBy(0.8)} aria-label="Zoom out">
          −
        </button>
        <button onClick={fit}>Fit</button>
      </div>
      <div className="map-legend">
        <span>── synchronous call</span>
        <span style={{ color: "var(--accent)" }}>- - asynchronous hop (label: p50 time in transit)</span>
        <span>dashed box: not instrumented (seen from its callers)</span>
      </div>
    </div>
  );
}

function EdgeShape({ pe, selected, onSelect }: { pe: PlacedEdge; selected: boolean; onSelect: () => void }) {
  const e = pe.edge;
  const d = pe.points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
  const mid = pe.points[Math.floor(pe.points.length / 2)] ?? { x: 0, y: 0 };
  const async = isAsync(e);
  return (
    <g
      className={"map-edge" + (async ? " async" : "") + (e.errors > 0 ? " failing" : "") + (selected ? " selected" : "")}
      onClick={onSelect}
      data-testid="map-edge"
    >
      <path className="line" d={d} markerEnd={async ? "url(#arrow-async)" : "url(#arrow)"} />
      <path className="hit" d={d} />
      <text x={mid.x} y={mid.y - 5} textAnchor="middle">
        {rate(e.rate)}
        {async && e.lag ? ` · ${formatDuration(e.lag.p50Ns)}` : ""}
      </text>
    </g>
  );
}

function Figures({ s }: { s: MapNode | MapEdge }) {
  return (
    <table className="kv">
      <tbody>
        <tr>
          <td>requests</td>
          <td className="v">
            {s.count.toLocaleString()} ({rate(s.rate)})
          </td>
        </tr>
        <tr>
          <td>errors</td>
          <td className={"v" + (s.errors > 0 ? " error-text" : "")}>
            {s.errors.toLocaleString()} ({pct(s.errorRate)})
          </td>
        </tr>
        {s.p50Ns > 0 && (
          <tr>
            <td>duration p50 / p95 / p99</td>
            <td className="v">
              {formatDuration(s.p50Ns)} / {formatDuration(s.p95Ns)} / {formatDuration(s.p99Ns)}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function NodePanel({ node: n, rangeQS, trKey }: { node: MapNode; rangeQS: string; trKey: string }) {
  const [tr] = useTimeRange();
  const by = n.kind === "function" ? "function" : n.instrumented && n.service ? "service" : null;
  const name = by === "function" ? n.name : n.service;
  const red = useApi(`${trKey}|${by}|${name}`, (signal) =>
    by ? api.red(by, name, toApiRange(tr), signal) : Promise.resolve(null),
  );
  const points = red.data?.series[0]?.points ?? [];
  const qs = (extra: Record<string, string>) =>
    new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(rangeQS)), ...extra }).toString();
  return (
    <>
      <h2 data-testid="map-panel-title">{n.name}</h2>
      <div className="muted" style={{ marginBottom: 8 }}>
        {KIND_LABEL[n.kind] ?? n.kind}
        {n.instrumented ? "" : " · not instrumented: figures from its callers"}
      </div>
      <Figures s={n} />
      {n.kind === "function" && n.count > 0 && (
        <div className="muted" style={{ marginTop: 6 }}>
          {n.coldStarts.toLocaleString()} cold starts ({pct(n.coldStartShare)})
        </div>
      )}
      {points.length > 0 && (
        <section>
          <h3>Over the range</h3>
          <Sparkline label="requests / s" values={points.map((p) => p.rate)} format={rate} />
          <Sparkline label="errors" values={points.map((p) => p.errors)} color="var(--error)" format={(v) => String(v)} />
          <Sparkline label="p95 duration" values={points.map((p) => p.p95Ns)} color="var(--warn)" format={formatDuration} />
        </section>
      )}
      <section>
        <h3>Open</h3>
        <ul className="ids" style={{ fontFamily: "inherit" }}>
          {n.service && (
            <li>
              <Link to={`/search?${qs({ service: n.service })}`}>traces of {n.service}</Link>
              {n.errors > 0 && (
                <>
                  {" · "}
                  <Link to={`/search?${qs({ service: n.service, error: "true" })}`}>with errors</Link>
                </>
              )}
            </li>
          )}
          {n.kind === "function" && (
            <li>
              <Link to={`/functions?${qs({ function: n.name })}`}>invocations of {n.name}</Link>
            </li>
          )}
        </ul>
      </section>
    </>
  );
}

function EdgePanel({ edge: e, nodes }: { edge: MapEdge; nodes: MapNode[] }) {
  const name = (id: string) => {
    const n = nodes.find((x) => x.id === id);
    if (!n) return id;
    return n.kind === "function" || n.kind === "service" ? n.name : `${n.name} (${KIND_LABEL[n.kind] ?? n.kind})`;
  };
  return (
    <>
      <h2 data-testid="map-panel-title">
        {name(e.from)} → {name(e.to)}
      </h2>
      <div className="muted" style={{ marginBottom: 8 }}>
        {e.kind} · {isAsync(e) ? "asynchronous" : "synchronous"}
      </div>
      <Figures s={e} />
      {e.lag && (
        <section>
          <h3>Time in transit</h3>
          <table className="kv">
            <tbody>
              <tr>
                <td>p50 / p95 / p99</td>
                <td className="v">
                  {formatDuration(e.lag.p50Ns)} / {formatDuration(e.lag.p95Ns)} / {formatDuration(e.lag.p99Ns)}
                </td>
              </tr>
              <tr>
                <td>messages measured</td>
                <td className="v">{e.lag.count.toLocaleString()}</td>
              </tr>
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}
