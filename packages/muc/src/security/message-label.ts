// The effective label of a stanza (XEP-0258 §"Use in XMPP"): the <label> or <equivalentlabel>
// expressed in the governing policy; an empty <label/> or no <securitylabel/> means the default
// label (the room's, then the service's); no default means the nil label, which is always denied.
// Parsed <securitylabel/> elements are cached by their serialised form, so a label seen before
// costs one map lookup on the hot path.
import {
  isValidLabel,
  resolveSecurityLabel,
  sameLabel,
  translateLabel,
  PolicyMismatchError,
  UnknownPolicyError,
  type Label,
  type PolicyRegistry,
} from "@cordon/policy";
import type { Element } from "@cordon/component";
import type { LabelProblem } from "@cordon/rules";
import { NS_SEC_LABEL } from "../namespaces.js";

export type LabelOutcome =
  | { readonly ok: true; readonly label: Label; readonly fromDefault: boolean }
  | { readonly ok: false; readonly reason: LabelProblem };

export type { LabelProblem };

export interface LabelDefaults {
  room?: Label | undefined;
  service?: Label | undefined;
}

type Parsed = { label: Label | undefined; problem: LabelProblem | undefined };

export class MessageLabelResolver {
  readonly #registry: PolicyRegistry;
  readonly #governing: string;
  readonly #cache = new Map<string, { generation: number; parsed: Parsed }>();
  readonly #max: number;

  constructor(registry: PolicyRegistry, governingPolicyId: string, maxCached = 5_000) {
    this.#registry = registry;
    this.#governing = governingPolicyId;
    this.#max = maxCached;
  }

  get governingPolicyId(): string {
    return this.#governing;
  }

  /** The label elements of a stanza (a stanza may carry at most one). */
  static labelElements(stanza: Element): Element[] {
    return stanza.getChildren("securitylabel", NS_SEC_LABEL);
  }

  resolve(stanza: Element, defaults: LabelDefaults): LabelOutcome {
    const elements = MessageLabelResolver.labelElements(stanza);
    if (elements.length > 1) return { ok: false, reason: "label-several" };
    const element = elements[0];
    if (element) {
      const parsed = this.#parse(element);
      if (parsed.problem) return { ok: false, reason: parsed.problem };
      if (parsed.label) return { ok: true, label: parsed.label, fromDefault: false };
    }
    const fallback = defaults.room ?? defaults.service;
    return fallback ? { ok: true, label: fallback, fromDefault: true } : { ok: false, reason: "unlabelled" };
  }

  /** Parses a label carried in stored form (history), under the governing policy. */
  resolveText(securityLabelXml: string): Label | undefined {
    return this.#parseText(securityLabelXml).label;
  }

  #parse(element: Element): Parsed {
    return this.#parseText(element.toString());
  }

  #parseText(key: string): Parsed {
    const generation = this.#registry.generation;
    const hit = this.#cache.get(key);
    if (hit && hit.generation === generation) return hit.parsed;
    const parsed = this.#decode(key);
    if (this.#cache.size >= this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, { generation, parsed });
    return parsed;
  }

  /**
   * XEP-0258 §"Equivalent labels": every form under another loaded policy must translate to the
   * governing one; a sender's client could otherwise show one label while the room judges another.
   */
  #consistent(xml: string, label: Label): boolean {
    for (const policy of this.#registry.policies()) {
      if (policy === label.policy) continue;
      try {
        const other = resolveSecurityLabel(xml, this.#registry, policy.id);
        if (other.kind !== "label") continue;
        if (!sameLabel(translateLabel(other.label, label.policy), label)) return false;
      } catch (error) {
        if (error instanceof PolicyMismatchError) continue; // no form under this policy
        return false;
      }
    }
    return true;
  }

  #decode(xml: string): Parsed {
    try {
      const resolved = resolveSecurityLabel(xml, this.#registry, this.#governing);
      if (resolved.kind === "default") return { label: undefined, problem: undefined };
      if (!isValidLabel(resolved.label)) return { label: undefined, problem: "label-invalid" };
      if (!this.#consistent(xml, resolved.label)) return { label: undefined, problem: "label-inconsistent" };
      return { label: resolved.label, problem: undefined };
    } catch (error) {
      if (error instanceof PolicyMismatchError) return { label: undefined, problem: "label-wrong-policy" };
      if (error instanceof UnknownPolicyError) return { label: undefined, problem: "label-unknown-policy" };
      // Every other failure (PolicyError or not) is a label we cannot decide on: fail closed.
      return { label: undefined, problem: "label-malformed" };
    }
  }
}
