// What a recipient is shown of a label: the display marking and the outgoing XEP-0258
// <securitylabel/> (marking, colours, the label as ESS DER in base64), computed from the policy —
// never the sender's <displaymarking/> (XEP-0258 §3: the marking is the policy's rendering of the
// label). Rendered once per label and language, and kept as long as the label is.
import { parseElement, type Element } from "@cordon/component";
import { buildSecurityLabelXml, labelMarking, type Label } from "@cordon/policy";

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
      hit = { marking: labelMarking(label, lang), xml: buildSecurityLabelXml(label, { lang }) };
      byLang.set(lang, hit);
    }
    return hit;
  }
}
