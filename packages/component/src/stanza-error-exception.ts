// Thrown by handlers to answer with a specific stanza error instead of internal-server-error.
import { CordonComponentError } from "./errors.js";
import type { StanzaErrorSpec } from "./stanza-error.js";

export class StanzaErrorException extends CordonComponentError {
  readonly spec: StanzaErrorSpec;
  constructor(spec: StanzaErrorSpec) {
    super("CORDON_STANZA_ERROR", `stanza error: ${spec.condition}${spec.text ? ` (${spec.text})` : ""}`);
    this.spec = spec;
  }
}

/** Shorthand: `throw stanzaError("forbidden", "cancel", "not cleared")`. */
export function stanzaError(
  condition: StanzaErrorSpec["condition"],
  type?: StanzaErrorSpec["type"],
  text?: string,
): StanzaErrorException {
  return new StanzaErrorException({ condition, ...(type ? { type } : {}), ...(text ? { text } : {}) });
}
