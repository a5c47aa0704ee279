// Typed errors of the guard: one class per condition, each with a stable `code` (docs/errors.md).
import { CordonError } from "@cordon/errors";

/** Base of every error the guard package throws at callers. */
export abstract class CordonGuardError extends CordonError {}

/** Bad guard options (no served domain, a served domain that is also the guard's). */
export class GuardOptionsError extends CordonGuardError {
  constructor(message: string) {
    super("CORDON_GUARD_OPTIONS_INVALID", message);
  }
}
