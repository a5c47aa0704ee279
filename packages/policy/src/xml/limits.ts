// Resource limits applied to every XML document the engine reads.

export interface XmlLimits {
  /** Maximum document size in UTF-16 code units. */
  readonly maxChars: number;
  /** Maximum element nesting depth. */
  readonly maxDepth: number;
  /** Maximum number of nodes (elements plus text nodes). */
  readonly maxNodes: number;
  /** Maximum attributes on one element. */
  readonly maxAttributes: number;
}

/** Defaults sized for labels and clearances (small objects). */
export const LABEL_XML_LIMITS: XmlLimits = {
  maxChars: 64 * 1024,
  maxDepth: 32,
  maxNodes: 4096,
  maxAttributes: 64,
};

/** Defaults sized for SPIF policies (the NATO SPIF is ~100 KiB and ~7000 nodes). */
export const SPIF_XML_LIMITS: XmlLimits = {
  maxChars: 8 * 1024 * 1024,
  maxDepth: 64,
  maxNodes: 500_000,
  maxAttributes: 64,
};
