/** A small line chart of one series (plain SVG; a panel holds a few). */
export function Sparkline({
  values,
  color = "var(--accent)",
  label,
  format,
}: {
  values: number[];
  color?: string;
  label: string;
  format: (v: number) => string;
}) {
  const W = 260;
  const H = 40;
  const max = Math.max(...values, 0);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * W},${H - 2 - (max > 0 ? (v / max) * (H - 4) : 0)}`);
  const last = values.length > 0 ? values[values.length - 1] : 0;
  return (
    <div className="spark">
      <div className="spark-head">
        <span className="muted">{label}</span>
        <span>
          max {format(max)} · last {format(last)}
        </span>
      </div>
      <svg width="100%" height={H} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
        <polyline points={pts.join(" ")} fill="none" stroke={color} strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
      </svg>
    </div>
  );
}
