// The relay's memory limits (`components.relay.limits`; defaults in the README's "Memory limits"):
// IQ requests waiting for their answers (iq-control.ts), stanzas waiting for their decision,
// refusals per sender and each link's outgoing queue (the runtime's, @cordon/component).
import {
  readBytes,
  readRuntimeLimits,
  RUNTIME_LIMIT_KEYS,
  type ConfigReader,
  type PendingLimits,
  type SenderThrottleOptions,
} from "@cordon/component";
import type { IqTrackerOptions } from "./iq-control.js";

export interface RelayLimits {
  /** Per peering: bytes and requests per sender waiting for their answers. */
  iq?: Pick<IqTrackerOptions, "maxBytes" | "perSender">;
  /** Stanzas received and not yet decided and handed on (all links together). */
  pending?: PendingLimits;
  throttle?: SenderThrottleOptions;
  /** Each link's outgoing queue. */
  queue?: { limit?: number; maxBytes?: number };
}

/** Reads `limits: { iq: { bytes, perSender }, pending, throttle, queue }` (absent: the defaults). */
export function readRelayLimits(limits: ConfigReader | undefined): RelayLimits {
  limits?.only([...RUNTIME_LIMIT_KEYS, "iq"]);
  const runtime = readRuntimeLimits(limits);
  const iq = limits?.optionalSection("iq")?.only(["bytes", "perSender"]);
  return {
    ...runtime,
    iq: {
      ...(iq?.has("bytes") ? { maxBytes: readBytes(iq, "bytes", 0) } : {}),
      ...(iq?.has("perSender") ? { perSender: iq.integer("perSender", undefined, { min: 1 }) } : {}),
    },
  };
}
