// The memory limits every component shares, read from its config section's `limits`:
//   throttle: { burst, perMinute, senderBytes }       refusals per sender (sender-throttle.ts)
//   pending:  { total, totalBytes, perSender, perSenderBytes }   stanzas awaiting a decision (pending-budget.ts)
//   queue:    { stanzas, bytes }                      the outgoing queue (outgoing-queue.ts)
// Sizes are integers (bytes) or strings such as "32 MiB" / "512 KiB". Each component reads its own
// further keys from the same section (`RUNTIME_LIMIT_KEYS` lists these).
import type { ConfigReader } from "./config-reader.js";
import type { SenderThrottleOptions } from "./sender-throttle.js";
import type { PendingLimits } from "./pending-budget.js";

export const RUNTIME_LIMIT_KEYS = ["throttle", "pending", "queue"] as const;

export interface RuntimeLimits {
  throttle: SenderThrottleOptions;
  pending: PendingLimits;
  queue: { limit?: number; maxBytes?: number };
}

const UNITS: Record<string, number> = { "": 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A size in bytes: a non-negative integer, or "N KiB|MiB|GiB" (binary units). */
export function readBytes(r: ConfigReader, name: string, fallback: number): number {
  if (!r.has(name)) return fallback;
  const v = r.value[name];
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    const m = /^\s*(\d{1,12})\s*([KMG]iB|B)?\s*$/i.exec(v);
    const unit = UNITS[(m?.[2] ?? "").toLowerCase()];
    if (m && unit !== undefined) return Number(m[1]) * unit;
  }
  return r.fail(name, 'expected a size in bytes: an integer or e.g. "512 KiB", "32 MiB", "1 GiB"');
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Reads `throttle`, `pending` and `queue` of a `limits` section (absent: every default). */
export function readRuntimeLimits(limits: ConfigReader | undefined): RuntimeLimits {
  const throttle = limits?.optionalSection("throttle")?.only(["burst", "perMinute", "senderBytes"]);
  const pending = limits
    ?.optionalSection("pending")
    ?.only(["total", "totalBytes", "perSender", "perSenderBytes"]);
  const queue = limits?.optionalSection("queue")?.only(["stanzas", "bytes"]);
  const int = (r: ConfigReader | undefined, name: string, min = 0) =>
    r?.has(name) ? r.integer(name, undefined, { min }) : undefined;
  const size = (r: ConfigReader | undefined, name: string) =>
    r?.has(name) ? readBytes(r, name, 0) : undefined;
  return {
    throttle: defined({
      burst: int(throttle, "burst", 1),
      perMinute: int(throttle, "perMinute"),
      maxBytes: size(throttle, "senderBytes"),
    }),
    pending: defined({
      total: int(pending, "total", 1),
      totalBytes: size(pending, "totalBytes"),
      perSender: int(pending, "perSender", 1),
      perSenderBytes: size(pending, "perSenderBytes"),
    }),
    queue: defined({ limit: int(queue, "stanzas", 1), maxBytes: size(queue, "bytes") }),
  };
}
