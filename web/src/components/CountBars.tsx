import { formatClock, formatDateTime } from "../lib/format";

/**
 * Counts per time bucket as small bars (an issue's occurrences over the
 * range): a sparkline for whole numbers, where a quiet bucket is a gap
 * rather than a line dipping to zero. Each bar tells its bucket and count
 * on hover.
 */
export function CountBars({
  counts,
  start,
  stepNs,
  width = 120,
  height = 24,
  color = "var(--accent)",
  label,
  testId,
  fluid = false,
}: {
  counts: number[];
  /** Unix ns of the first bucket, and the bucket width. */
  start: number;
  stepNs: number;
  width?: number;
  height?: number;
  color?: string;
  label: string;
  testId?: string;
  /** Stretches to the width of its box (width is then the drawing's). */
  fluid?: boolean;
}) {
  const max = Math.max(1, ...counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const n = Math.max(1, counts.length);
  const slot = width / n;
  const gap = slot > 4 ? 1 : 0;
  const at = (i: number) => {
    const t = start + i * stepNs;
    return stepNs >= 86_400e9 ? formatDateTime(t).slice(0, 10) : formatClock(t).slice(0, 5);
  };
  return (
    <svg
      className="count-bars"
      width={fluid ? "100%" : width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio={fluid ? "none" : undefined}
      role="img"
      aria-label={`${label}: ${total} in the range`}
      data-testid={testId}
      data-total={total}
    >
      <line x1={0} x2={width} y1={height - 0.5} y2={height - 0.5} className="baseline" />
      {counts.map((c, i) =>
        c > 0 ? (
          <rect
            key={i}
            x={i * slot + gap / 2}
            width={Math.max(1, slot - gap)}
            y={height - 1 - Math.max(2, (c / max) * (height - 2))}
            height={Math.max(2, (c / max) * (height - 2))}
            fill={color}
          >
            <title>{`${at(i)}–${at(i + 1)}: ${c.toLocaleString("en-US")}`}</title>
          </rect>
        ) : null,
      )}
    </svg>
  );
}
