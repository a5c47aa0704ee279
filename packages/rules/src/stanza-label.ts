// The effective label of a stanza (XEP-0258 §3 "Security Label", §4 "Use in XMPP"), answered once
// with the label or a typed problem (refusal-reasons.ts):
// - only the stanza's own top level is labelled: hidden content (@cordon/component hiddenContent:
//   a nested or prefixed <securitylabel/>, an embedded stanza, nesting too deep) is refused, and so
//   is more than one <securitylabel xmlns='urn:xmpp:sec-label:0'/>;
// - every form (<label> and each <equivalentlabel>) is decoded once, must decode under a loaded
//   policy, must be valid under it, and must say what every other form says — equal when they
//   share a policy (forms in the label's own policy included), else one translated into the
//   other's policy (XEP-0258 §3: the equivalent labels are the same label in other policies). A
//   client shows one form; the decision must be about the same label;
// - the effective label is the form in the first policy the caller accepts;
// - no <securitylabel/>, or an empty <label/> (and no form beside it), means the default label,
//   which must be valid under its policy too (`default-label-invalid`); none means `unlabelled`. An empty <label/> beside <equivalentlabel>s is refused: the sender's
//   client may show an equivalent while the stanza would be judged on the default.
// Readings of a <securitylabel/> are cached by its XML, bounded in bytes (GenerationalLru), so a
// label seen before costs one lookup and refused ones cannot fill memory.
import { hiddenContent, isElement, NS_SEC_LABEL, serialise, type Element } from "@cordon/component";
import {
  GenerationalLru,
  internalized,
  isLoaded,
  isValidLabel,
  labelBytes,
  retainedLabel,
  sameLabel,
  securityLabelForms,
  UnknownPolicyError,
  type Clearance,
  type Label,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import type { LabelProblem, RefusalReason } from "./refusal-reasons.js";
import { Translations } from "./translation.js";

/** How many forms (<label> and <equivalentlabel>s) one label may have: each pair is compared. */
export const MAX_LABEL_FORMS = 8;

export interface StanzaLabelOptions {
  /** OIDs of the policies a label is accepted in, preferred first. */
  readonly accept: readonly string[];
  /** The label of a stanza without one (or with an empty <label/>); undefined: refused, `unlabelled`. */
  readonly defaultLabel: Label | undefined;
  /** How deep the stanza's elements may nest (its children are at depth 1). */
  readonly maxDepth: number;
}

export type StanzaLabel =
  | { readonly ok: true; readonly label: Label; readonly source: "stanza" | "default" }
  | { readonly ok: false; readonly problem: RefusalReason };

/** A <securitylabel/> read on its own: its label in an accepted policy, undefined for "the default", or why not. */
export type LabelReading =
  | { readonly ok: true; readonly label: Label | undefined }
  | { readonly ok: false; readonly problem: LabelProblem };

/** What the cache holds per <securitylabel/>: every form decoded and checked, or the problem. */
type Forms = { readonly forms: readonly Label[] } | { readonly problem: LabelProblem };

export interface StanzaLabelsOptions {
  /** Byte budget of the reading cache (default 8 MiB). */
  readonly maxCacheBytes?: number;
  /** Byte budget of the translation cache (default 4 MiB). */
  readonly maxTranslationBytes?: number;
}

/** The <securitylabel/> children of a stanza (XEP-0258 §4: at most one is accepted). */
export function securityLabels(stanza: Element): Element[] {
  return stanza.children.filter(
    (c): c is Element => isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL,
  );
}

export class StanzaLabels {
  readonly translations: Translations;
  readonly #readings: GenerationalLru<Forms>;
  /** Default labels' validity by label object (a label never changes; weak: no bound needed). */
  readonly #defaultValidity = new WeakMap<Label, boolean>();

  constructor(
    readonly registry: PolicyRegistry,
    options: StanzaLabelsOptions = {},
  ) {
    this.translations = new Translations(registry, options.maxTranslationBytes);
    this.#readings = new GenerationalLru(registry, options.maxCacheBytes ?? 8 * 1024 * 1024, (v) =>
      "forms" in v ? v.forms.reduce((n, l) => n + labelBytes(l), 16) : 16,
    );
  }

  /** Bytes the reading cache holds. */
  get cacheBytes(): number {
    return this.#readings.bytes;
  }

  /** The reading cache's limit in bytes, and its entries. */
  get cacheMaxBytes(): number {
    return this.#readings.maxBytes;
  }

  get cacheSize(): number {
    return this.#readings.size;
  }

  /** The effective label of `stanza`, or why it has none. */
  of(stanza: Element, options: StanzaLabelOptions): StanzaLabel {
    const hidden = hiddenContent(stanza, options.maxDepth);
    if (hidden) return { ok: false, problem: hidden };
    const found = securityLabels(stanza);
    if (found.length > 1) return { ok: false, problem: "label-several" };
    const reading: LabelReading = found[0]
      ? this.read(found[0], options.accept)
      : { ok: true, label: undefined };
    if (!reading.ok) return reading;
    if (reading.label) return { ok: true, label: reading.label, source: "stanza" };
    if (!options.defaultLabel) return { ok: false, problem: "unlabelled" };
    // The default label is checked as a stanza's would be (Spiffing FAQ: validated before any access
    // decision): one configured or chosen by a room owner that its policy excludes is refused, not
    // applied (was: the MUC delivered under it live, then refused it in history replay).
    if (!this.#validDefault(options.defaultLabel)) return { ok: false, problem: "default-label-invalid" };
    return { ok: true, label: options.defaultLabel, source: "default" };
  }

  /**
   * Whether a default label is valid under its policy (remembered per label object) and bound to
   * the policy loaded now: one a policy reload could not re-bind (its policy removed, or no longer
   * defining what it holds) is not applied (adv15: it was, and granted through an equivalent policy).
   */
  #validDefault(label: Label): boolean {
    if (!isLoaded(label.policy, this.registry)) return false;
    let valid = this.#defaultValidity.get(label);
    if (valid === undefined) {
      valid = isValidLabel(label);
      this.#defaultValidity.set(label, valid);
    }
    return valid;
  }

  /** A <securitylabel/> (the element, or its XML as stored with a message) read as a stanza's is. */
  read(securityLabel: Element | string, accept: readonly string[]): LabelReading {
    // The element's XML as ltx writes it (component serialise.ts: the same text, written faster).
    const key = typeof securityLabel === "string" ? securityLabel : serialise(securityLabel);
    let forms = this.#readings.fresh().get(key);
    if (!forms) {
      forms = this.#forms(securityLabel);
      // Kept as a copy of its own: the key is made of the parsed label's texts and attribute
      // values, slices of the parser's read (V8 keeps a substring of 13 characters or more as a
      // view of its parent), and would keep that whole read alive (review adv13: 300 labels of
      // large stanzas held 60 MB behind 139 KB of keys).
      this.#readings.set(internalized(key), forms);
    }
    if ("problem" in forms) return { ok: false, problem: forms.problem };
    if (forms.forms.length === 0) return { ok: true, label: undefined };
    for (const oid of accept) {
      const label = forms.forms.find((l) => l.policy.id === oid);
      if (label) return { ok: true, label };
    }
    return { ok: false, problem: "label-wrong-policy" };
  }

  /** `label` in `target`, through the shared translation cache. */
  translate(label: Label, target: Policy): Label | undefined {
    return this.translations.translate(label, target);
  }

  /** Whether `clearance` (of any loaded policy) grants `label`: translation.ts `decide`. */
  grants(label: Label | undefined, clearance: Clearance | undefined): boolean {
    return this.translations.decide(label, clearance).granted;
  }

  #forms(securityLabel: Element | string): Forms {
    let decoded: ReturnType<typeof securityLabelForms>;
    try {
      decoded = securityLabelForms(securityLabel, this.registry, MAX_LABEL_FORMS);
    } catch {
      // Not a readable <securitylabel/> at all (or too many forms): nothing to decide on.
      return { problem: "label-malformed" };
    }
    if (decoded.kind === "empty")
      return decoded.equivalents > 0 ? { problem: "label-malformed" } : { forms: [] };
    const forms: Label[] = [];
    let unknownPolicy = false;
    for (const form of decoded.forms) {
      if (form instanceof UnknownPolicyError) unknownPolicy = true;
      else if (form instanceof Error) return { problem: "label-malformed" };
      else forms.push(retainedLabel(form)); // kept in the reading cache: bytes of its own (policy retain.ts)
    }
    if (unknownPolicy) return { problem: "label-unknown-policy" };
    // Spiffing FAQ: a label is validated before any access decision, every form under its policy.
    if (!forms.every(isValidLabel)) return { problem: "label-invalid" };
    return this.#agree(forms) ? { forms } : { problem: "label-inconsistent" };
  }

  /** Every form says what every other says (every pair, whatever their policies). */
  #agree(forms: readonly Label[]): boolean {
    for (let i = 0; i < forms.length; i++)
      for (let j = i + 1; j < forms.length; j++) if (!this.#same(forms[i]!, forms[j]!)) return false;
    return true;
  }

  /**
   * Equal in the same policy; across policies, one is the other translated (XML-SPIF
   * equivalentPolicy). Either direction: translation is not symmetric, it may add the receiving
   * policy's import categories, so the form a client derived from the other matches one way only.
   */
  #same(a: Label, b: Label): boolean {
    if (a.policy === b.policy) return sameLabel(a, b);
    const ab = this.translations.translate(a, b.policy);
    if (ab && sameLabel(ab, b)) return true;
    const ba = this.translations.translate(b, a.policy);
    return ba !== undefined && sameLabel(ba, a);
  }
}
