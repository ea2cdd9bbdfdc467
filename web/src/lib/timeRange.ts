// The time range shared by every page lives in the URL: either a relative
// window (?range=1h, the default) or absolute bounds (?start=…&end=… in RFC
// 3339). Links between pages carry these keys so a range survives navigation.

import type { RangeParams } from "./api";

export const RANGE_KEYS = ["range", "start", "end"] as const;

export const PRESETS: { key: string; label: string; ms: number }[] = [
  { key: "5m", label: "Last 5 minutes", ms: 5 * 60_000 },
  { key: "15m", label: "Last 15 minutes", ms: 15 * 60_000 },
  { key: "1h", label: "Last hour", ms: 3_600_000 },
  { key: "6h", label: "Last 6 hours", ms: 6 * 3_600_000 },
  { key: "24h", label: "Last 24 hours", ms: 24 * 3_600_000 },
  { key: "7d", label: "Last 7 days", ms: 7 * 24 * 3_600_000 },
];
export const DEFAULT_RANGE = "1h";

export type TimeRange = { kind: "relative"; key: string } | { kind: "absolute"; startMs: number; endMs: number };

function presetMs(key: string): number | undefined {
  return PRESETS.find((p) => p.key === key)?.ms;
}

export function parseTimeRange(p: URLSearchParams): TimeRange {
  const s = p.get("start");
  const e = p.get("end");
  if (s && e) {
    const startMs = Date.parse(s);
    const endMs = Date.parse(e);
    if (Number.isFinite(startMs) && Number.isFinite(endMs) && startMs < endMs) {
      return { kind: "absolute", startMs, endMs };
    }
  }
  const key = p.get("range") ?? "";
  return { kind: "relative", key: presetMs(key) ? key : DEFAULT_RANGE };
}

/** Writes tr into p (removing the other form); the default range is left implicit. */
export function writeTimeRange(p: URLSearchParams, tr: TimeRange): URLSearchParams {
  for (const k of RANGE_KEYS) p.delete(k);
  if (tr.kind === "absolute") {
    p.set("start", new Date(tr.startMs).toISOString());
    p.set("end", new Date(tr.endMs).toISOString());
  } else if (tr.key !== DEFAULT_RANGE) {
    p.set("range", tr.key);
  }
  return p;
}

/** Concrete bounds in milliseconds at nowMs. */
export function resolveRange(tr: TimeRange, nowMs = Date.now()): { startMs: number; endMs: number } {
  if (tr.kind === "absolute") return { startMs: tr.startMs, endMs: tr.endMs };
  return { startMs: nowMs - (presetMs(tr.key) ?? 3_600_000), endMs: nowMs };
}

/**
 * The API's form: a relative range is sent as "-1h" with an open end so that
 * data from clocks slightly ahead still shows; absolute bounds as RFC 3339.
 */
export function toApiRange(tr: TimeRange): RangeParams {
  if (tr.kind === "absolute") {
    return { start: new Date(tr.startMs).toISOString(), end: new Date(tr.endMs).toISOString() };
  }
  return { start: "-" + tr.key };
}

export function describeRange(tr: TimeRange): string {
  if (tr.kind === "relative") return PRESETS.find((p) => p.key === tr.key)?.label ?? tr.key;
  const f = (ms: number) => new Date(ms).toLocaleString();
  return `${f(tr.startMs)} – ${f(tr.endMs)}`;
}

/** The range keys of p alone, to carry across pages. */
export function rangeOnly(p: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of RANGE_KEYS) {
    const v = p.get(k);
    if (v !== null) out.set(k, v);
  }
  return out;
}
