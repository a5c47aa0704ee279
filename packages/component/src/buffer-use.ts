// What one bounded buffer of a component holds now, for the memory metrics
// (`cordon_memory_bytes` / `cordon_memory_limit_bytes` of `cordon start`).
export interface BufferUse {
  /** A stable name: "history", "iq-tracking", "pending", "throttle", "outgoing-queue"... */
  buffer: string;
  /** Bytes held now (estimate: two a character, plus overheads). */
  bytes: number;
  /** The configured limit in bytes. */
  maxBytes: number;
  entries: number;
}
