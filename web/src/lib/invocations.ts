// Several sources may describe one function invocation (the SDK's span,
// the Lambda Telemetry API, platform log lines); the API returns each
// source's row. The trace view shows one line per invocation, merged.
import type { Invocation } from "./types";

// Worse outcomes win when sources disagree: a platform that saw the
// timeout knows more than an SDK that was killed mid-flight.
const SEVERITY = ["", "ok", "throttled", "error", "timeout", "oom", "crash"];
const rank = (s: string) => Math.max(0, SEVERITY.indexOf(s));

export function mergeInvocations(list: Invocation[]): Invocation[] {
  const by = new Map<string, Invocation>();
  const order: string[] = [];
  for (const v of list) {
    const key = v.requestId || `${v.function}@${v.start}`;
    const cur = by.get(key);
    if (!cur) {
      by.set(key, { ...v });
      order.push(key);
      continue;
    }
    const m = cur as unknown as Record<string, unknown>;
    for (const [k, val] of Object.entries(v)) {
      if (m[k] === "" || m[k] === 0 || m[k] === false) m[k] = val;
    }
    if (rank(v.status) > rank(cur.status)) {
      cur.status = v.status;
      if (v.errorType) cur.errorType = v.errorType;
    }
    if (!cur.source.split("+").includes(v.source)) cur.source += "+" + v.source;
  }
  return order.map((k) => by.get(k)!).sort((a, b) => a.start - b.start);
}
