// Latency and error metrics of the clearance store (Redis or in-memory) and the LDAP directory
// resolver,
// observed from the outside: a Proxy times every method that returns a promise. A rejection, or a
// clearance lookup answering `unknown` (the store's "backend unavailable", store.ts), counts as an
// error. Operation names are method names (a fixed, small set).
import type { CordonMetrics } from "./registry.js";

/** `store`: the clearance store; `users`: user-clearance lookups through the directory resolver (store, then LDAP). */
export type StoreBackend = "store" | "users";

/** Wraps `target` so each async method call is timed under `backend`; other members pass through. */
export function instrumentStore<T extends object>(
  target: T,
  metrics: CordonMetrics,
  backend: StoreBackend,
): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, property) {
      const value: unknown = Reflect.get(obj, property);
      if (typeof value !== "function" || typeof property !== "string" || property === "constructor")
        return value;
      const cached = wrapped.get(property);
      if (cached) return cached;
      const fn = value as (...args: unknown[]) => unknown;
      const timed = function (this: unknown, ...args: unknown[]): unknown {
        const started = process.hrtime.bigint();
        const result = fn.apply(obj, args);
        if (!(result instanceof Promise)) return result;
        const done = (failed: boolean) => {
          metrics.storeLatency
            .labels(backend, property)
            .observe(Number(process.hrtime.bigint() - started) / 1e9);
          if (failed) metrics.storeErrors.labels(backend, property).inc();
        };
        return result.then(
          (answer: unknown) => {
            done(isUnknownLookup(answer));
            return answer;
          },
          (error: unknown) => {
            done(true);
            throw error;
          },
        );
      };
      wrapped.set(property, timed);
      return timed;
    },
  });
}

function isUnknownLookup(answer: unknown): boolean {
  return (
    typeof answer === "object" && answer !== null && (answer as { status?: unknown }).status === "unknown"
  );
}
