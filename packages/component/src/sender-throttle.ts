// Repeated abuse is throttled: a per-sender rate limit on the refusals and errors a component
// sends. Each sender (a bare JID, or a domain) has a token bucket of `burst` refusals refilled at
// `perMinute`; a refusal within it is answered as usual. The first refusal past it is answered
// `resource-constraint` (RFC 6120 §8.3.3.18, type wait) instead, and the ones after it get nothing
// until the bucket refills: a flood of refused stanzas costs the component no more outgoing
// stanzas than the limit (no amplification), and other senders are not affected. The map of
// senders is itself bounded in bytes (least recently seen forgotten first: a forgotten sender
// starts again with a full bucket).
import { ByteLru } from "@cordon/policy";
import { toBare } from "@cordon/jid";
import type { StanzaErrorSpec } from "./stanza-error.js";
import type { Element } from "./xml.js";

export interface SenderThrottleOptions {
  /** Refusals a sender may get at once. Default 30. */
  burst?: number;
  /** Refusals a sender regains per minute. Default 60. */
  perMinute?: number;
  /** Bytes the map of senders may hold (keys, buckets, overheads). Default 1 MiB. */
  maxBytes?: number;
  now?: () => number;
}

/** `answer`: send the refusal; `limit`: send resource-constraint (wait) instead; `silent`: send nothing. */
export type ThrottleVerdict = "answer" | "limit" | "silent";

interface Bucket {
  tokens: number;
  at: number;
  /** Whether the sender was told (resource-constraint) since the bucket ran dry. */
  told: boolean;
}

/** What a bucket weighs besides its key (object and three fields). */
const BUCKET_BYTES = 48;

export const DEFAULT_THROTTLE = { burst: 30, perMinute: 60, maxBytes: 1024 * 1024 } as const;

export class SenderThrottle {
  readonly burst: number;
  readonly perMinute: number;
  readonly #senders: ByteLru<Bucket>;
  readonly #now: () => number;
  /** Refusals turned into resource-constraint, and refusals not sent at all. */
  limited = 0;
  silenced = 0;

  constructor(options: SenderThrottleOptions = {}) {
    this.burst = Math.max(1, options.burst ?? DEFAULT_THROTTLE.burst);
    this.perMinute = Math.max(0, options.perMinute ?? DEFAULT_THROTTLE.perMinute);
    this.#senders = new ByteLru(options.maxBytes ?? DEFAULT_THROTTLE.maxBytes, () => BUCKET_BYTES);
    this.#now = options.now ?? Date.now;
  }

  /** Bytes the map of senders holds. */
  get bytes(): number {
    return this.#senders.bytes;
  }

  get maxBytes(): number {
    return this.#senders.maxBytes;
  }

  get senders(): number {
    return this.#senders.size;
  }

  /** Whether a refusal to `sender` (its bare JID or domain) may be sent now; counts it. */
  refusal(sender: string): ThrottleVerdict {
    const now = this.#now();
    let bucket = this.#senders.get(sender);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now, told: false };
      this.#senders.set(sender, bucket);
    } else {
      const elapsed = Math.max(0, now - bucket.at);
      bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsed * this.perMinute) / 60_000);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.told = false;
      return "answer";
    }
    if (!bucket.told) {
      bucket.told = true;
      this.limited++;
      return "limit";
    }
    this.silenced++;
    return "silent";
  }
}

/** RFC 6120 §8.3.3.18: the sender should wait and retry. No text: nothing the sender chose. */
export const RESOURCE_CONSTRAINT: StanzaErrorSpec = { condition: "resource-constraint", type: "wait" };

/** Whom a refusal is counted against: the sender's bare JID (every resource of one account), or its domain. */
export function throttleKey(stanza: Element): string {
  const from = stanza.attrs.from ?? "";
  return toBare(from) ?? from;
}

/**
 * The error to answer a refused `stanza` with under `throttle`: `spec` while the sender is within
 * its limit, resource-constraint once past it, then undefined (send nothing).
 */
export function throttledSpec(
  throttle: SenderThrottle,
  stanza: Element,
  spec: StanzaErrorSpec,
): StanzaErrorSpec | undefined {
  const verdict = throttle.refusal(throttleKey(stanza));
  if (verdict === "answer") return spec;
  return verdict === "limit" ? RESOURCE_CONSTRAINT : undefined;
}
