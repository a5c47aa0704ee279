// Small hooks the pages share.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, toError, type ApiError } from "./api";

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
        setError(toError(e));
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

export interface Asked<T> {
  answer: T | undefined;
  problem: ApiError | undefined;
  /** Clears the last answer and problem, then keeps what `call` answers, or why it failed. */
  ask: (call: () => Promise<T>) => Promise<void>;
}

/** One question to the API at a time, asked on demand (a form's answer and its problem). */
export function useAsk<T>(): Asked<T> {
  const [answer, setAnswer] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<ApiError | undefined>(undefined);
  const ask = async (call: () => Promise<T>) => {
    setProblem(undefined);
    setAnswer(undefined);
    try {
      setAnswer(await call());
    } catch (e) {
      setProblem(toError(e));
    }
  };
  return { answer, problem, ask };
}
