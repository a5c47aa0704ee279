// What a recipient is shown of a label: the display marking and the outgoing XEP-0258
// <securitylabel/> (marking, colours, the label as ESS DER in base64), computed from the policy —
// never the sender's <displaymarking/> (XEP-0258 §3: the marking is the policy's rendering of the
// label). Rendered once per label and language, and kept as long as the label is.
//
// The ESS payload is encoded afresh from the decided label — its policy, classification and
// categories alone (RFC 2634 §5.4 DER) — never the sender's bytes (`Label.encoded`: any BER the
// decoder accepted) and never its ESSPrivacyMark (RFC 2634 §5.3.2: free text the policy does not
// define, which some clients show): the privacy mark is dropped, what is shown of a label comes
// from the policy.
import { parseElement, type Element } from "@cordon/component";
import { buildSecurityLabelXml, internalized, labelMarking, makeLabel, type Label } from "@cordon/policy";

/** Languages whose rendering is kept per label; others are rendered each time (xml:lang is the sender's). */
export const MAX_LANGUAGES = 32;

/** `label` as Cordon sends it on: no original encoding, no privacy mark (itself when it has neither). */
export function canonicalLabel(label: Label): Label {
  if (label.encoded === undefined && label.privacyMark === undefined) return label;
  return makeLabel(label.policy, label.classification, label.categories);
}

interface Rendered {
  readonly marking: string;
  readonly xml: string;
  element?: Element;
}

export class Markings {
  readonly #rendered = new WeakMap<Label, Map<string, Rendered>>();

  /** The display marking of `label` in `lang` ("" for the policy's untagged markings). */
  marking(label: Label, lang = ""): string {
    return this.#render(label, lang).marking;
  }

  /** The compact outgoing <securitylabel/> XML for `label`, its marking in `lang`. */
  securityLabelXml(label: Label, lang = ""): string {
    return this.#render(label, lang).xml;
  }

  /** The same as an element (shared: copy it before attaching it to a stanza). */
  securityLabelElement(label: Label, lang = ""): Element {
    const rendered = this.#render(label, lang);
    return (rendered.element ??= parseElement(rendered.xml));
  }

  #render(label: Label, lang: string): Rendered {
    let byLang = this.#rendered.get(label);
    if (!byLang) {
      byLang = new Map();
      this.#rendered.set(label, byLang);
    }
    let hit = byLang.get(lang);
    if (!hit) {
      hit = {
        marking: labelMarking(label, lang),
        xml: buildSecurityLabelXml(canonicalLabel(label), { lang }),
      };
      // The language is the stanza's xml:lang, which the sender chooses: at most MAX_LANGUAGES are
      // kept per label (past them, rendered each time), each as a copy of its own — an attribute
      // value is a V8 view of the whole socket read it came in (review keep15: 200 languages kept
      // 40 MB alive, and the map grew with every new one).
      if (byLang.size < MAX_LANGUAGES) byLang.set(internalized(lang), hit);
    }
    return hit;
  }
}
