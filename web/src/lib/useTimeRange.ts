import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";
import { type TimeRange, parseTimeRange, writeTimeRange } from "./timeRange";

/** The page's time range from the URL and a setter that pushes a new URL. */
export function useTimeRange(): [TimeRange, (tr: TimeRange) => void] {
  const [params, setParams] = useSearchParams();
  const key = ["range", "start", "end"].map((k) => params.get(k) ?? "").join("|");
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const tr = useMemo(() => parseTimeRange(params), [key]);
  const set = useCallback(
    (next: TimeRange) => {
      setParams((p) => {
        const out = writeTimeRange(new URLSearchParams(p), next);
        out.delete("cursor"); // a page of another range means nothing
        return out;
      });
    },
    [setParams],
  );
  return [tr, set];
}
