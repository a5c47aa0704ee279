// A label or a clearance as an administrator writes it in configuration (the MUC's named labels and
// service clearance, catalog items, the relay's default labels and clearances, seeded clearances,
// store catalog records). One syntax, one parser, one set of error messages:
//
//   label:     { policy?: NAME|OID, classification: NAME, categories?: [NAME | "TagSet/NAME"] }
//   clearance: { policy?: NAME|OID, classifications: [NAME, ...], categories?: [NAME | "TagSet/NAME"] }
//   either:    { file: PATH }                  a label/clearance file in any supported format
//                                              (XML forms, BER/DER, base64), where files are read
//              { encoding: xml|ber, data }    a stored raw value (XML text, or BER as base64)
//              "TEXT"                         label/clearance data inline (XML or base64 BER/DER)
//
// `policy` defaults to the caller's policy (the governing policy, or a relay side's policy). A
// category name two tag sets share (e.g. "NATO" in a releasability and a membership tag set) is
// written "TagSet/NAME"; the error for the bare name lists the choices.
import { PolicyError } from "./errors.js";
import { makeLabel, type Label } from "./label.js";
import { isValidLabel } from "./validate.js";
import { makeClearance, type Clearance } from "./clearance.js";
import { parseClearance, parseLabelData } from "./formats/detect.js";
import type { PolicyRegistry } from "./registry.js";
import type { Category, Classification, Policy } from "./spif/model.js";

/** A label or clearance written in configuration does not read. `key` names where, `reason` why. */
export class SpecError extends PolicyError {
  readonly key: string;
  readonly reason: string;
  constructor(key: string, reason: string, options?: { cause?: unknown }) {
    super("CORDON_POLICY_SPEC_INVALID", `${key}: ${reason}`, options);
    this.key = key;
    this.reason = reason;
  }
}

export interface SpecOptions {
  registry: PolicyRegistry;
  /** Policy (name or OID) of a label or clearance written by name without `policy`. */
  policy?: string;
  /**
   * Reads the file of `{ file: PATH }` (resolving PATH against the config file). Without it, files
   * are refused (store records must not make a component read local files).
   */
  readFile?: (path: string) => Uint8Array | string;
}

const LABEL_KEYS = ["policy", "classification", "categories"] as const;
const CLEARANCE_KEYS = ["policy", "classifications", "categories"] as const;

/** A label written in configuration (see the file comment). Throws SpecError naming the key. */
export function labelFromSpec(value: unknown, key: string, options: SpecOptions): Label {
  return fromSpec(value, key, options, "label", (spec, policy) => {
    only(spec, LABEL_KEYS, key);
    const name = spec.classification;
    if (typeof name !== "string" || name === "")
      throw new SpecError(`${key}.classification`, "required: expected a classification name");
    return makeLabel(
      policy,
      classificationByName(policy, name, `${key}.classification`),
      categoriesByName(policy, spec.categories, `${key}.categories`),
    );
  });
}

/**
 * A default label written in configuration (the label of unlabelled messages): as `labelFromSpec`,
 * and valid under its policy — one its policy excludes would be refused on every unlabelled message
 * (@cordon/rules stanza-label, default-label-invalid), so the configuration is refused instead.
 */
export function defaultLabelFromSpec(value: unknown, key: string, options: SpecOptions): Label {
  const label = labelFromSpec(value, key, options);
  return validDefaultLabel(label, key);
}

/** `label` when valid under its policy; else SpecError naming `key` (a default label by name, say). */
export function validDefaultLabel(label: Label, key: string): Label {
  if (!isValidLabel(label))
    throw new SpecError(
      key,
      "the default label is not valid under its policy (its classification or categories exclude each other)",
    );
  return label;
}

/** A clearance written in configuration (see the file comment). Throws SpecError naming the key. */
export function clearanceFromSpec(value: unknown, key: string, options: SpecOptions): Clearance {
  return fromSpec(value, key, options, "clearance", (spec, policy) => {
    only(spec, CLEARANCE_KEYS, key);
    const names = spec.classifications ?? [];
    if (!isStringList(names))
      throw new SpecError(`${key}.classifications`, "expected a list of classification names");
    return makeClearance(
      policy,
      names.map((n, i) => classificationByName(policy, n, `${key}.classifications[${i}]`)),
      categoriesByName(policy, spec.categories, `${key}.categories`),
    );
  });
}

function fromSpec<T>(
  value: unknown,
  key: string,
  options: SpecOptions,
  what: "label" | "clearance",
  byName: (spec: Record<string, unknown>, policy: Policy) => T,
): T {
  const parse = (what === "label" ? parseLabelData : parseClearance) as (
    input: Uint8Array | string,
    registry: PolicyRegistry,
  ) => T;
  const decode = (data: Uint8Array | string, where: string, source: string): T => {
    try {
      return parse(typeof data === "string" ? data.trim() : data, options.registry);
    } catch (error) {
      throw new SpecError(where, `${source} is not a ${what} of a loaded policy: ${message(error)}`, {
        cause: error,
      });
    }
  };
  if (typeof value === "string" && value.trim() !== "") return decode(value, key, "the inline data");
  if (!isRecord(value)) throw new SpecError(key, expected(what));
  if (value.file !== undefined) {
    only(value, ["file"], key);
    const path = value.file;
    if (typeof path !== "string" || path === "")
      throw new SpecError(`${key}.file`, "expected the path of a file");
    if (!options.readFile) throw new SpecError(`${key}.file`, `files are not read here; write the ${what}`);
    let data: Uint8Array | string;
    try {
      data = options.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SpecError(`${key}.file`, `cannot read ${path} (${code ?? message(error)})`, { cause: error });
    }
    return decode(data, `${key}.file`, path);
  }
  if (value.encoding !== undefined || value.data !== undefined) {
    only(value, ["encoding", "data"], key);
    if ((value.encoding !== "xml" && value.encoding !== "ber") || typeof value.data !== "string")
      throw new SpecError(key, 'expected encoding "xml" or "ber" and data as a string');
    return decode(value.data, key, "the data");
  }
  const policyName = value.policy ?? options.policy;
  if (typeof policyName !== "string" || policyName === "")
    throw new SpecError(`${key}.policy`, "required: expected the name or OID of a loaded policy");
  const policy = options.registry.get(policyName);
  if (!policy) throw new SpecError(`${key}.policy`, `no loaded policy named or numbered "${policyName}"`);
  return byName(value, policy);
}

function expected(what: "label" | "clearance"): string {
  const names = what === "label" ? "{ classification, categories }" : "{ classifications, categories }";
  return `expected a ${what}: ${names} by name, { file: PATH }, or ${what} data (XML or base64)`;
}

function classificationByName(policy: Policy, name: string, key: string): Classification {
  const found = policy.classificationByName.get(name);
  if (!found)
    throw new SpecError(
      key,
      `policy "${policy.name}" has no classification "${name}" (it has: ${policy.classifications.map((c) => c.name).join(", ")})`,
    );
  return found;
}

function categoriesByName(policy: Policy, names: unknown, key: string): Category[] {
  if (names === undefined || names === null) return [];
  if (!isStringList(names)) throw new SpecError(key, "expected a list of category names");
  return names.map((n, i) => categoryByName(policy, n, `${key}[${i}]`));
}

/**
 * A category by name, or as "TagSet/NAME" (the tag set by name, as STANAG 4774 names categories).
 * A name several tag sets use is ambiguous: the error names the tag sets to choose from.
 */
function categoryByName(policy: Policy, text: string, key: string): Category {
  const slash = text.indexOf("/");
  const tagSet = slash > 0 ? policy.tagSetByName.get(text.slice(0, slash)) : undefined;
  if (tagSet) {
    const name = text.slice(slash + 1);
    for (const tag of tagSet.tags) for (const c of tag.categories) if (c.name === name) return c;
    throw new SpecError(key, `tag set "${tagSet.name}" of policy "${policy.name}" has no category "${name}"`);
  }
  const hits = policy.categories.filter((c) => c.name === text);
  const tagSets = [...new Set(hits.map((c) => c.tagSet.name))];
  if (tagSets.length === 1) return hits[0]!;
  if (tagSets.length === 0) throw new SpecError(key, `policy "${policy.name}" has no category "${text}"`);
  throw new SpecError(
    key,
    `category "${text}" is in ${tagSets.length} tag sets of policy "${policy.name}": write ${tagSets
      .map((t) => `"${t}/${text}"`)
      .join(" or ")}`,
  );
}

function only(value: Record<string, unknown>, allowed: readonly string[], key: string): void {
  for (const k of Object.keys(value))
    if (!allowed.includes(k))
      throw new SpecError(`${key}.${k}`, `unknown setting (expected one of: ${allowed.join(", ")})`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
