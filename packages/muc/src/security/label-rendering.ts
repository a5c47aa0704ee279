// What recipients see of a label: the XEP-0258 <securitylabel/> with the display marking computed
// from the policy (never the sender's, docs/labels.md §4) and, for label-unaware clients, the marking
// as the body's first line (FLOT). Rendered once per label and cached.
import { buildSecurityLabelXml, labelMarking, translateLabel, type Label, type Policy } from "@cordon/policy";

export class LabelRendering {
  readonly #xml = new WeakMap<Label, string>();
  readonly #marking = new WeakMap<Label, string>();
  readonly #translated = new WeakMap<Label, Map<Policy, Label | null>>();

  /** The compact <securitylabel/> XML for `label`. */
  securityLabelXml(label: Label): string {
    let xml = this.#xml.get(label);
    if (xml === undefined) {
      xml = buildSecurityLabelXml(label);
      this.#xml.set(label, xml);
    }
    return xml;
  }

  /** The display marking text. */
  marking(label: Label): string {
    let text = this.#marking.get(label);
    if (text === undefined) {
      text = labelMarking(label);
      this.#marking.set(label, text);
    }
    return text;
  }

  /** The label in another (equivalent) policy, or null when it has no equivalent there. */
  translate(label: Label, target: Policy): Label | null {
    if (label.policy === target) return label;
    let byPolicy = this.#translated.get(label);
    if (!byPolicy) {
      byPolicy = new Map();
      this.#translated.set(label, byPolicy);
    }
    if (!byPolicy.has(target)) {
      let translated: Label | null;
      try {
        translated = translateLabel(label, target);
      } catch {
        translated = null;
      }
      byPolicy.set(target, translated);
    }
    return byPolicy.get(target) ?? null;
  }
}

/** FLOT: the marking as the first line of the body, so a label-unaware client shows it. */
export function flotBody(marking: string, body: string): string {
  return `${marking}\n${body}`;
}
