// The search page's whole query lives in the URL so that it can be shared
// and so that back/forward replay it. The URL keys are the API's own
// parameters (service, operation, error, minDuration, maxDuration, q,
// attr.KEY, limit, cursor) plus the shared time range (lib/timeRange), so a
// search URL maps one to one onto the API request it makes.

import { type TimeRange, parseTimeRange, toApiRange, writeTimeRange } from "./timeRange";

export interface SearchQuery {
  service: string;
  operation: string;
  errorOnly: boolean;
  /** Durations as the API takes them: "250ms", "1.5s" or nanoseconds. */
  minDuration: string;
  maxDuration: string;
  q: string;
  attrs: [string, string][];
  limit: number;
  cursor: string;
  range: TimeRange;
}

export const DEFAULT_LIMIT = 50;
export const LIMITS = [20, 50, 100, 200, 500];
const ATTR = "attr.";

export function emptyQuery(range: TimeRange): SearchQuery {
  return {
    service: "",
    operation: "",
    errorOnly: false,
    minDuration: "",
    maxDuration: "",
    q: "",
    attrs: [],
    limit: DEFAULT_LIMIT,
    cursor: "",
    range,
  };
}

export function parseSearch(p: URLSearchParams): SearchQuery {
  const q = emptyQuery(parseTimeRange(p));
  q.service = p.get("service") ?? "";
  q.operation = p.get("operation") ?? "";
  q.errorOnly = ["1", "true", "yes", ""].includes(p.get("error") ?? "-");
  q.minDuration = p.get("minDuration") ?? "";
  q.maxDuration = p.get("maxDuration") ?? "";
  q.q = p.get("q") ?? "";
  q.cursor = p.get("cursor") ?? "";
  const limit = Number(p.get("limit"));
  if (Number.isInteger(limit) && limit >= 1 && limit <= 1000) q.limit = limit;
  for (const [k, v] of p) {
    if (k.startsWith(ATTR) && k.length > ATTR.length) q.attrs.push([k.slice(ATTR.length), v]);
  }
  return q;
}

/** The URL form: empty fields are left out so that shared links stay short. */
export function searchToURL(q: SearchQuery): URLSearchParams {
  const p = new URLSearchParams();
  writeTimeRange(p, q.range);
  if (q.service) p.set("service", q.service);
  if (q.operation) p.set("operation", q.operation);
  if (q.errorOnly) p.set("error", "true");
  if (q.minDuration) p.set("minDuration", q.minDuration);
  if (q.maxDuration) p.set("maxDuration", q.maxDuration);
  if (q.q) p.set("q", q.q);
  for (const [k, v] of q.attrs) if (k) p.append(ATTR + k, v);
  if (q.limit !== DEFAULT_LIMIT) p.set("limit", String(q.limit));
  if (q.cursor) p.set("cursor", q.cursor);
  return p;
}

/** The API request of q. */
export function searchToAPI(q: SearchQuery): URLSearchParams {
  const p = new URLSearchParams();
  const r = toApiRange(q.range);
  p.set("start", r.start);
  if (r.end) p.set("end", r.end);
  if (q.service) p.set("service", q.service);
  if (q.operation) p.set("operation", q.operation);
  if (q.errorOnly) p.set("error", "true");
  if (q.minDuration) p.set("minDuration", q.minDuration);
  if (q.maxDuration) p.set("maxDuration", q.maxDuration);
  if (q.q) p.set("q", q.q);
  for (const [k, v] of q.attrs) if (k) p.append(ATTR + k, v);
  p.set("limit", String(q.limit));
  if (q.cursor) p.set("cursor", q.cursor);
  return p;
}

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^\d+$/;

/** "" when s is a duration the API accepts (or empty), else why not. */
export function checkDuration(s: string): string {
  if (s === "" || DURATION.test(s.trim())) return "";
  return "want a duration like 250ms, 1.5s or 2m";
}
