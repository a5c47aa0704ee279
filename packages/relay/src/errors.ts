// Errors of the relay: one class per condition, each with a stable `code`, on a common base
// (every code is listed in docs/errors.md).
import { CordonError } from "@cordon/errors";

/** Base of every error the relay throws at callers. */
export abstract class CordonRelayError extends CordonError {}

/** The peering configuration is inconsistent (overlapping domains, unknown policy, bad label data). */
export class PeeringConfigError extends CordonRelayError {
  readonly key: string;
  constructor(key: string, message: string) {
    super("CORDON_RELAY_CONFIG", `${key}: ${message}`);
    this.key = key;
  }
}

/** The relay was started twice, or used after stop(). */
export class RelayStateError extends CordonRelayError {
  constructor(message: string) {
    super("CORDON_RELAY_STATE", message);
  }
}

/** The audit log could not be opened or written; the relay fails closed when it happens. */
export class AuditWriteError extends CordonRelayError {
  constructor(file: string, cause: unknown) {
    super(
      "CORDON_RELAY_AUDIT_WRITE",
      `audit log ${file}: cannot write (${cause instanceof Error ? cause.message : String(cause)})`,
      { cause },
    );
  }
}

/** An existing audit log to append to does not end in a well-formed, chained record. */
export class AuditChainBrokenError extends CordonRelayError {
  constructor(file: string, detail: string) {
    super("CORDON_RELAY_AUDIT_CHAIN", `audit log ${file}: refusing to append to a broken chain (${detail})`);
  }
}
