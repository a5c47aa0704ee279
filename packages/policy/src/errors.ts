// Typed errors of the policy engine. One class per condition, each with a stable `code`.
// Messages are the exact strings the conformance corpus compares
// (docs/spif.md §8). Every code is listed in docs/errors.md.
import { CordonError } from "@cordon/errors";

/** Base class of every error the policy engine throws at a caller. */
export abstract class PolicyError extends CordonError {}

/** Empty or missing input. */
export class NoDataError extends PolicyError {
  constructor() {
    super("CORDON_POLICY_NO_DATA", "No data to parse");
  }
}

/** A label, clearance or translation names a policy that is not loaded. */
export class UnknownPolicyError extends PolicyError {
  readonly policy: string;
  constructor(policy: string, by: "id" | "name" = "id") {
    super("CORDON_POLICY_UNKNOWN", `Unknown policy ${by}: ${policy}`);
    this.policy = policy;
  }
}

/** A BER/DER or XML encoding could not be decoded (bad syntax, trailing bytes, wrong structure). */
export class MalformedEncodingError extends PolicyError {
  constructor(message: string) {
    super("CORDON_POLICY_MALFORMED", message);
  }
}

/** Input exceeded a decoder limit (size, depth, node count). */
export class LimitExceededError extends PolicyError {
  constructor(message: string) {
    super("CORDON_POLICY_LIMIT", message);
  }
}

/** Input is in a format or namespace this engine does not understand. */
export class UnsupportedFormatError extends PolicyError {
  constructor(message: string) {
    super("CORDON_POLICY_UNSUPPORTED", message);
  }
}

/** A label or clearance carries no policy identifier. */
export class MissingPolicyError extends PolicyError {
  constructor(what: "label" | "clearance") {
    super("CORDON_POLICY_MISSING_POLICY", `No policy in ${what}`);
  }
}

/** A classification lacv or name that the policy does not define. */
export class UnknownClassificationError extends PolicyError {
  constructor(message = "Unknown classification") {
    super("CORDON_POLICY_UNKNOWN_CLASSIFICATION", message);
  }
}

/** A category (tag set, tag type, lacv or name) that the policy does not define. */
export class UnknownCategoryError extends PolicyError {
  constructor(message = "Cannot find the tagType/LACV") {
    super("CORDON_POLICY_UNKNOWN_CATEGORY", message);
  }
}

/** An object was used with a policy other than its own. */
export class PolicyMismatchError extends PolicyError {
  constructor(message: string) {
    super("CORDON_POLICY_MISMATCH", message);
  }
}

/** Translation found no equivalent classification in the target policy. */
export class NoEquivalentClassificationError extends PolicyError {
  constructor() {
    super("CORDON_POLICY_NO_EQUIVALENT_CLASSIFICATION", "No equivalent classification");
  }
}

/** Translation found no equivalent for a category in the target policy. */
export class NoEquivalentCategoryError extends PolicyError {
  readonly category: string;
  constructor(category: string) {
    super("CORDON_POLICY_NO_EQUIVALENT_CATEGORY", `No equivalence to ${category}`);
    this.category = category;
  }
}

/** A SPIF document is inconsistent or incomplete. */
export class InvalidPolicyError extends PolicyError {
  constructor(message: string) {
    super("CORDON_POLICY_INVALID_SPIF", message);
  }
}

/** A label breaks its policy's validity rules (excluded class/category, required category). */
export class InvalidLabelError extends PolicyError {
  readonly reasons: readonly string[];
  constructor(reasons: readonly string[]) {
    super("CORDON_POLICY_INVALID_LABEL", `Invalid label: ${reasons.join("; ")}`);
    this.reasons = reasons;
  }
}

/** A caller passed an argument outside the API contract (for example a bad OID string). */
export class InvalidArgumentError extends PolicyError {
  constructor(message: string) {
    super("CORDON_POLICY_INVALID_ARGUMENT", message);
  }
}
