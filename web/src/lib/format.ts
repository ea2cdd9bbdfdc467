// Formatting of the API's units: times are Unix nanoseconds, durations
// nanoseconds. JavaScript numbers hold Unix ns to ~0.25 µs precision, which is
// below anything a waterfall can show.

export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return "–";
  const abs = Math.abs(ns);
  if (abs < 1_000) return `${Math.round(ns)} ns`;
  if (abs < 1_000_000) return `${trim(ns / 1_000)} µs`;
  if (abs < 1_000_000_000) return `${trim(ns / 1_000_000)} ms`;
  if (abs < 60_000_000_000) return `${trim(ns / 1_000_000_000)} s`;
  const s = Math.round(ns / 1_000_000_000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function trim(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Local wall-clock time with milliseconds: 23:04:05.123 */
export function formatClock(ns: number): string {
  const d = new Date(ns / 1e6);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Local date and time: 2026-11-25 23:04:05 */
export function formatDateTime(ns: number): string {
  const d = new Date(ns / 1e6);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

/** A short relative age: "12s ago", "5m ago". */
export function formatAge(ns: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - ns / 1e6) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** "1,234" */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Renders an attribute value for a table cell. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/**
 * Pretty-prints a captured payload: JSON is re-indented, anything else is
 * returned as it is (payloads are capped by the SDK and may be cut off).
 */
export function prettyPayload(s: string): { text: string; json: boolean } {
  const t = s.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return { text: JSON.stringify(JSON.parse(t), null, 2), json: true };
    } catch {
      // truncated or not JSON after all
    }
  }
  return { text: s, json: false };
}

/** Nice axis ticks (1, 2, 5 × 10^k) covering [0, span]. */
export function niceTicks(span: number, target = 6): number[] {
  if (!(span > 0)) return [0];
  const raw = span / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= span + step * 1e-9; v += step) out.push(v);
  return out;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };

/** Parses a duration like "5m", "1h30m" or "250ms" to nanoseconds; NaN when it is not one. */
export function parseDurationNs(s: string): number {
  const t = s.trim();
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d))+$/.test(t)) return NaN;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_NS[m[2]];
  return total;
}
