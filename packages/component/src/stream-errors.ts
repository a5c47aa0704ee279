// Stream errors (RFC 6120 §4.9 https://www.rfc-editor.org/rfc/rfc6120#section-4.9) that end a
// component for good: the server refused the handshake secret (`not-authorized`, XEP-0114 §3),
// another connection serves the domain (`conflict`, §4.9.3.3) or the domain is not declared
// (`host-unknown`, §4.9.3.6). Retrying these would loop forever; every other error is retried.
import {
  AuthenticationFailedError,
  DomainConflictError,
  UnknownDomainError,
  type CordonComponentError,
} from "./errors.js";
import type { LinkState } from "./link-state.js";
import type { Logger } from "./logger.js";

const FATAL_CONDITIONS: Record<string, (domain: string) => CordonComponentError> = {
  "not-authorized": (d) => new AuthenticationFailedError(d),
  conflict: (d) => new DomainConflictError(d),
  "host-unknown": (d) => new UnknownDomainError(d),
};

/** The fatal error a stream error condition means for `domain`, or undefined when it is retried. */
export function fatalStreamError(
  condition: string | undefined,
  domain: string,
): CordonComponentError | undefined {
  // Own properties only: a condition named "constructor" or "toString" is not fatal.
  const make =
    condition && Object.hasOwn(FATAL_CONDITIONS, condition) ? FATAL_CONDITIONS[condition] : undefined;
  return make?.(domain);
}

/** Notes a connection error on the link: the first fatal one is kept (and logged once). */
export function recordStreamError(
  link: LinkState,
  error: Error & { condition?: string },
  domain: string,
  logger: Logger,
): void {
  const fatal = fatalStreamError(error.condition, domain);
  if (fatal && !link.fatalError) {
    link.fatalError = fatal;
    logger.error({ code: fatal.code }, fatal.message);
  } else if (!fatal) {
    logger.debug({ err: error.message }, "connection error");
  }
}
