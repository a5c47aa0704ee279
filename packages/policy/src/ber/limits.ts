// Resource limits applied to every BER/DER object the engine decodes.

export interface BerLimits {
  /** Maximum encoded size in bytes. */
  readonly maxBytes: number;
  /** Maximum nesting depth of constructed values. */
  readonly maxDepth: number;
  /** Maximum number of TLV nodes. */
  readonly maxNodes: number;
}

/** Defaults for labels and clearances. */
export const DEFAULT_BER_LIMITS: BerLimits = { maxBytes: 64 * 1024, maxDepth: 16, maxNodes: 4096 };
