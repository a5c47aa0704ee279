// The one base class of every error Cordon throws at a caller (in the manner of @fastify/error and
// undici's error catalog): each condition is its own subclass with a stable `code`, so callers,
// logs, metrics and the admin API can match on the code instead of the message. Every code is
// listed in docs/errors.md (what it means, who raises it, what an operator does about it).

/** A stable error code: `CORDON_` then upper-case words joined by `_`. */
export type CordonErrorCode = `CORDON_${string}`;

/**
 * Base of every Cordon error class. Abstract: a condition gets its own subclass with its own code
 * (two classes never share a code; a test checks it against docs/errors.md).
 */
export abstract class CordonError extends Error {
  readonly code: CordonErrorCode;
  constructor(code: CordonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * True for a Cordon error, also one from another copy of this package (a second install in
 * node_modules makes `instanceof` fail): an Error whose `code` starts with `CORDON_`.
 */
export function isCordonError(value: unknown): value is CordonError {
  if (value instanceof CordonError) return true;
  if (!(value instanceof Error)) return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("CORDON_");
}
