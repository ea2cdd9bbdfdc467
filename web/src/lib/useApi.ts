import { useEffect, useState } from "react";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** The key the data (or error) belongs to; differs from the current key while a new one loads. */
  key: string | undefined;
}

/**
 * Runs load whenever key changes, aborting the previous request; the last
 * data stays shown while the next loads so that pages do not flicker.
 */
export function useApi<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true, key: undefined });
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: undefined, loading: false, key }),
      (error: Error) =>
        !ctl.signal.aborted && error.name !== "AbortError" && setState({ data: undefined, error, loading: false, key }),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}
