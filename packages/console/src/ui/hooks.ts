// Small hooks the pages share.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "./api";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (again when it changes, and every `refreshMs` when given). */
export function useApi<T>(path: string | undefined, refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const latest = useRef(0);
  useEffect(() => {
    if (path === undefined) return;
    const n = ++latest.current;
    setLoading(true);
    api.get<T>(path).then(
      (value) => {
        if (n !== latest.current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (n !== latest.current) return;
        setError(e instanceof ApiError ? e : new ApiError(0, "CORDON_CONSOLE_BAD_ANSWER", String(e)));
        setLoading(false);
      },
    );
  }, [path, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = window.setInterval(reload, refreshMs);
    return () => window.clearInterval(timer);
  }, [refreshMs, reload]);
  return { data, error, loading, reload };
}
