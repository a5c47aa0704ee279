// The label rule (XEP-0258 https://xmpp.org/extensions/xep-0258.html): a stanza's
// `<securitylabel/>`, or the default label, must be valid under its policy and granted by the
// clearances that guard the crossing; it is then expressed in the receiving side's policy
// (equivalent-policy translation, docs/spif.md §7) with the marking recomputed from that policy
// (a sender's `<displaymarking/>` is never trusted, docs/labels.md §4).
import { parseElement, isElement, NS_SEC_LABEL, type Element } from "@cordon/component";
import {
  acdf,
  buildSecurityLabelXml,
  isValidLabel,
  labelMarking,
  parseClearance,
  parseLabelData,
  PolicyError,
  PolicyMismatchError,
  resolveSecurityLabel,
  sameLabel,
  translateLabel,
  UnknownPolicyError,
  type AcdfReason,
  type Clearance,
  type Label,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import type { LabelProblem } from "@cordon/rules";
import { copyElement } from "./copy.js";
import type { UnlabelledAction } from "./peering.js";

export type { LabelProblem };
export type GrantRefusal = "untranslatable" | "classification" | "category" | "policy-mismatch";

export type ResolvedLabel =
  { ok: true; label: Label; source: "stanza" | "default" } | { ok: false; problem: LabelProblem };

/** The `<securitylabel/>` children of a stanza. */
export function securityLabels(stanza: Element): Element[] {
  return stanza.children.filter(
    (c): c is Element => isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL,
  );
}

export function removeSecurityLabels(stanza: Element): void {
  stanza.children = stanza.children.filter(
    (c) => !(isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL),
  );
}

const MAX_CACHE = 10_000;

/** Label parsing, translation, ACDF and marking, with caches keyed to the registry generation. */
export class LabelEngine {
  #generation: number;
  readonly #elements = new Map<string, ResolvedLabel>();
  readonly #data = new Map<string, Label | PolicyError>();
  readonly #clearances = new Map<string, Clearance | PolicyError>();
  #translations = new WeakMap<Label, Map<Policy, Label | PolicyError>>();
  #outgoing = new WeakMap<Label, Map<string, { marking: string; element: Element }>>();

  constructor(readonly registry: PolicyRegistry) {
    this.#generation = registry.generation;
  }

  #fresh(): void {
    if (this.registry.generation === this.#generation) return;
    this.#generation = this.registry.generation;
    this.#elements.clear();
    this.#data.clear();
    this.#clearances.clear();
    this.#translations = new WeakMap();
    this.#outgoing = new WeakMap();
  }

  policy(oid: string): Policy {
    return this.registry.require(oid);
  }

  /** Label data (XML or base64) as a label; throws PolicyError. */
  labelFromData(data: string): Label {
    this.#fresh();
    let hit = this.#data.get(data);
    if (!hit) {
      try {
        hit = parseLabelData(data.trim(), this.registry);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        hit = error;
      }
      remember(this.#data, data, hit);
    }
    if (hit instanceof PolicyError) throw hit;
    return hit;
  }

  /** Clearance data (XML or base64 BER) as a clearance; undefined when it cannot be read. */
  clearanceFromData(data: string): Clearance | undefined {
    this.#fresh();
    let hit = this.#clearances.get(data);
    if (!hit) {
      try {
        hit = parseClearance(data.trim(), this.registry);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        hit = error;
      }
      remember(this.#clearances, data, hit);
    }
    return hit instanceof PolicyError ? undefined : hit;
  }

  /**
   * The stanza's label in the sending side's policy (XEP-0258 §3: among `<label/>` and the
   * `<equivalentlabel/>`s, the one in our policy; a label already in the receiving side's policy is
   * accepted too). No label, or an empty `<label/>`, means the default label when `unlabelled` is
   * "default" and a default exists; otherwise the stanza is refused.
   */
  resolve(
    stanza: Element,
    sending: Policy,
    receiving: Policy,
    unlabelled: UnlabelledAction,
    defaultLabel: Label | undefined,
  ): ResolvedLabel {
    this.#fresh();
    const found = securityLabels(stanza);
    if (found.length > 1) return { ok: false, problem: "label-several" };
    let resolved: ResolvedLabel | "default";
    if (found.length === 0) resolved = "default";
    else {
      const el = found[0]!;
      const key = `${sending.id} ${receiving.id} ${el.toString()}`;
      let hit = this.#elements.get(key);
      if (!hit) {
        hit = this.#parseElement(el, sending, receiving);
        remember(this.#elements, key, hit);
      }
      resolved = hit.ok && hit.source === "default" ? "default" : hit;
    }
    if (resolved !== "default") return resolved;
    if (unlabelled === "default" && defaultLabel) return { ok: true, label: defaultLabel, source: "default" };
    return { ok: false, problem: "unlabelled" };
  }

  #parseElement(el: Element, sending: Policy, receiving: Policy): ResolvedLabel {
    let label: Label;
    try {
      let r = safeResolve(el, this.registry, sending.id);
      if (r === "mismatch" && receiving !== sending) r = safeResolve(el, this.registry, receiving.id);
      if (r === "mismatch") return { ok: false, problem: "label-unknown-policy" };
      if (r.kind === "default") return { ok: true, label: DEFAULT_MARKER, source: "default" };
      label = r.label;
    } catch (error) {
      if (error instanceof UnknownPolicyError) return { ok: false, problem: "label-unknown-policy" };
      if (error instanceof PolicyError) return { ok: false, problem: "label-malformed" };
      throw error;
    }
    // Spiffing FAQ / docs/spif.md §9: validate before any access decision.
    if (!isValidLabel(label)) return { ok: false, problem: "label-invalid" };
    // XEP-0258 §"Equivalent labels": the forms must say the same thing. One judged here while
    // another, under another loaded policy, says something else (shown by the sender's client,
    // say) is refused rather than judged on whichever form the relay happens to read.
    if (!this.#consistent(el, label)) return { ok: false, problem: "label-inconsistent" };
    return { ok: true, label, source: "stanza" };
  }

  /** Every other form of the label under a loaded policy translates to `label`. */
  #consistent(el: Element, label: Label): boolean {
    for (const policy of this.registry.policies()) {
      if (policy === label.policy) continue;
      let other: Label;
      try {
        const r = safeResolve(el, this.registry, policy.id);
        if (r === "mismatch" || r.kind !== "label") continue;
        other = r.label;
      } catch {
        return false; // a form that does not even decode under its policy
      }
      const translated = this.translate(other, label.policy);
      if (!translated || !sameLabel(translated, label)) return false;
    }
    return true;
  }

  /** The label expressed in `target` (the label itself when already there). */
  translate(label: Label, target: Policy): Label | undefined {
    if (label.policy === target) return label;
    let byPolicy = this.#translations.get(label);
    if (!byPolicy) {
      byPolicy = new Map();
      this.#translations.set(label, byPolicy);
    }
    let hit = byPolicy.get(target);
    if (!hit) {
      try {
        hit = translateLabel(label, target);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        hit = error;
      }
      byPolicy.set(target, hit);
    }
    return hit instanceof PolicyError ? undefined : hit;
  }

  /** Undefined when `clearance` grants `label` (translated into the clearance's policy if needed), else why not. */
  refusal(label: Label, clearance: Clearance): GrantRefusal | undefined {
    const expressed = this.translate(label, clearance.policy);
    if (!expressed) return "untranslatable";
    return refusalOf(acdf(expressed, clearance).reason);
  }

  /** The outgoing `<securitylabel/>` (policy marking, ESS payload) and its marking text. */
  outgoing(label: Label, lang: string): { marking: string; element: Element } {
    this.#fresh();
    let byLang = this.#outgoing.get(label);
    if (!byLang) {
      byLang = new Map();
      this.#outgoing.set(label, byLang);
    }
    let hit = byLang.get(lang);
    if (!hit) {
      hit = {
        marking: labelMarking(label, lang),
        element: parseElement(buildSecurityLabelXml(label, { lang })),
      };
      byLang.set(lang, hit);
    }
    return { marking: hit.marking, element: copyElement(hit.element) };
  }
}

function refusalOf(reason: AcdfReason): GrantRefusal | undefined {
  switch (reason) {
    case "CORDON_ACDF_GRANTED":
      return undefined;
    case "CORDON_ACDF_CLASSIFICATION":
      return "classification";
    case "CORDON_ACDF_RESTRICTIVE_CATEGORY":
    case "CORDON_ACDF_PERMISSIVE_CATEGORY":
      return "category";
    default:
      return "policy-mismatch";
  }
}

function safeResolve(
  el: Element,
  registry: PolicyRegistry,
  oid: string,
): ReturnType<typeof resolveSecurityLabel> | "mismatch" {
  try {
    return resolveSecurityLabel(el, registry, oid);
  } catch (error) {
    if (error instanceof PolicyMismatchError) return "mismatch";
    throw error;
  }
}

/** Stands for "the element asked for the default label" inside the element cache. */
const DEFAULT_MARKER = Object.freeze({}) as Label;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_CACHE) map.clear();
  map.set(key, value);
}
