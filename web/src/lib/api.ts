import type {
  AlertEvent,
  AlertRule,
  CostResponse,
  InvocationResponse,
  InvocationsResponse,
  Issue,
  IssueResponse,
  IssuesResponse,
  LogsResponse,
  REDResponse,
  SearchResponse,
  ServiceMapResponse,
  TraceResponse,
  TransactionResponse,
  TransactionSummary,
} from "./types";

/** An error answered by the API ({"error":{code,message}}) or the network. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function getJSON<T>(path: string, params?: URLSearchParams, signal?: AbortSignal, init?: RequestInit): Promise<T> {
  const qs = params && [...params.keys()].length > 0 ? "?" + params.toString() : "";
  let res: Response;
  try {
    res = await fetch(path + qs, { signal, ...init, headers: { Accept: "application/json", ...init?.headers } });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "unreachable", "the Ariadne server did not answer: " + (e as Error).message);
  }
  if (!res.ok) {
    let code = "http_" + res.status;
    let message = res.statusText;
    try {
      const body = await res.json();
      if (body?.error) {
        code = body.error.code ?? code;
        message = body.error.message ?? message;
      }
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(res.status, code, message);
  }
  return (await res.json()) as T;
}

/** Time bounds as the API takes them (RFC 3339, Unix ns or relative like -1h). */
export interface RangeParams {
  start: string;
  end?: string;
}

function rangeParams(r: RangeParams, p = new URLSearchParams()): URLSearchParams {
  p.set("start", r.start);
  if (r.end) p.set("end", r.end);
  return p;
}

export const api = {
  trace(traceId: string, signal?: AbortSignal) {
    return getJSON<TraceResponse>(`/api/v1/traces/${encodeURIComponent(traceId)}`, undefined, signal);
  },
  transaction(traceId: string, signal?: AbortSignal) {
    return getJSON<TransactionResponse>(`/api/v1/transactions/${encodeURIComponent(traceId)}`, undefined, signal);
  },
  cost(r: RangeParams, signal?: AbortSignal) {
    return getJSON<CostResponse>("/api/v1/cost", rangeParams(r), signal);
  },
  serviceMap(r: RangeParams, signal?: AbortSignal) {
    return getJSON<ServiceMapResponse>("/api/v1/servicemap", rangeParams(r), signal);
  },
  /** RED series of one service or function (by: "service" or "function"), about 30 points over the range. */
  red(by: "service" | "function", name: string, r: RangeParams, signal?: AbortSignal) {
    const p = rangeParams(r);
    p.set(by, name);
    return getJSON<REDResponse>("/api/v1/metrics/red", p, signal);
  },
  /** params are the API's parameters of GET /api/v1/transactions. */
  transactions(params: URLSearchParams, signal?: AbortSignal) {
    return getJSON<{ transactions: TransactionSummary[] }>("/api/v1/transactions", params, signal);
  },
  /** params are the API's parameters of GET /api/v1/issues (buckets adds each issue's series). */
  issues(params: URLSearchParams, signal?: AbortSignal) {
    return getJSON<IssuesResponse>("/api/v1/issues", params, signal);
  },
  /** params: start, end and buckets of the issue's series. */
  issue(id: string, params?: URLSearchParams, signal?: AbortSignal) {
    return getJSON<IssueResponse>(`/api/v1/issues/${encodeURIComponent(id)}`, params, signal);
  },
  /** params are the API's parameters of GET /api/v1/logs. */
  logs(params: URLSearchParams, signal?: AbortSignal) {
    return getJSON<LogsResponse>("/api/v1/logs", params, signal);
  },
  invocation(requestId: string, signal?: AbortSignal) {
    return getJSON<InvocationResponse>(`/api/v1/invocations/${encodeURIComponent(requestId)}`, undefined, signal);
  },
  setIssueStatus(id: string, status: string) {
    return getJSON<{ issue: Issue }>(`/api/v1/issues/${encodeURIComponent(id)}`, undefined, undefined, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status }),
    });
  },
  alertRules(signal?: AbortSignal) {
    return getJSON<{ rules: AlertRule[] }>("/api/v1/alerts/rules", undefined, signal);
  },
  createAlertRule(rule: Omit<AlertRule, "id" | "created">) {
    return getJSON<{ rule: AlertRule }>("/api/v1/alerts/rules", undefined, undefined, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(rule),
    });
  },
  deleteAlertRule(id: string) {
    return fetch(`/api/v1/alerts/rules/${encodeURIComponent(id)}`, { method: "DELETE" }).then((r) => {
      if (!r.ok) throw new ApiError(r.status, "http_" + r.status, r.statusText);
    });
  },
  alertEvents(signal?: AbortSignal) {
    return getJSON<{ events: AlertEvent[] }>("/api/v1/alerts/events", new URLSearchParams({ limit: "100" }), signal);
  },
  /** Runs the detectors now (they also run in the background). */
  detect() {
    return getJSON<{ windows: number; occurrences: number }>("/api/v1/issues/detect", undefined, undefined, {
      method: "POST",
    });
  },
  /** params are the API's parameters of GET /api/v1/invocations. */
  invocations(params: URLSearchParams, signal?: AbortSignal) {
    return getJSON<InvocationsResponse>("/api/v1/invocations", params, signal);
  },
  /** params are the API's search parameters as they are (see lib/searchQuery). */
  search(params: URLSearchParams, signal?: AbortSignal) {
    return getJSON<SearchResponse>("/api/v1/traces", params, signal);
  },
  services(r: RangeParams, signal?: AbortSignal) {
    return getJSON<{ services: string[] }>("/api/v1/services", rangeParams(r), signal);
  },
  operations(service: string, r: RangeParams, signal?: AbortSignal) {
    const p = rangeParams(r);
    if (service) p.set("service", service);
    return getJSON<{ operations: string[] }>("/api/v1/operations", p, signal);
  },
  attributeKeys(prefix: string, r: RangeParams, signal?: AbortSignal) {
    const p = rangeParams(r);
    if (prefix) p.set("prefix", prefix);
    return getJSON<{ attributes: string[] }>("/api/v1/attributes", p, signal);
  },
  attributeValues(key: string, prefix: string, r: RangeParams, signal?: AbortSignal) {
    const p = rangeParams(r);
    if (prefix) p.set("prefix", prefix);
    return getJSON<{ key: string; values: string[] }>(
      `/api/v1/attributes/${encodeURIComponent(key)}/values`,
      p,
      signal,
    );
  },
};
