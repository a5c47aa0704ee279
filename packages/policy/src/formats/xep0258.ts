// XEP-0258 Security Labels in XMPP (https://xmpp.org/extensions/xep-0258.html):
// <securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking fgcolor bgcolor/>?<label/>?<equivalentlabel/>*</securitylabel>
import { encodeEssLabel } from "./ess.js";
import { decodeLabelNode } from "./detect.js";
import { NS_SEC_LABEL, NS_SEC_LABEL_ESS } from "../namespaces.js";
import { MalformedEncodingError, PolicyError } from "../errors.js";
import type { Label } from "../label.js";
import { labelMarking, markingColours } from "../marking.js";
import type { PolicyRegistry } from "../registry.js";
import { childElements, firstChild, textOf } from "../xml/node.js";
import type { XmlElementLike, XmlNode } from "../xml/node.js";
import { parseXml } from "../xml/reader.js";
import { resolveElement } from "../xml/resolve.js";
import { escapeAttr, escapeText, serializeXml } from "../xml/serialize.js";

export interface DisplayMarking {
  readonly text: string;
  readonly fgcolor: string | undefined;
  readonly bgcolor: string | undefined;
}

/** The parsed XEP-0258 element. Payloads are kept as trees so unknown forms round-trip unchanged. */
export interface SecurityLabelElement {
  readonly displayMarking: DisplayMarking | undefined;
  /** Whether a `<label>` element was present at all. */
  readonly hasLabel: boolean;
  /** The `<label>` child payload; undefined when `<label/>` is empty (XEP-0258 §3: use the default label). */
  readonly label: XmlNode | undefined;
  /** Payload of each `<equivalentlabel>`, in order. */
  readonly equivalentLabels: readonly XmlNode[];
}

function onlyChild(el: XmlNode, what: string): XmlNode | undefined {
  const kids = childElements(el);
  if (kids.length > 1) throw new MalformedEncodingError(`<${what}> must hold one element`);
  if (kids.length === 0 && textOf(el).trim() !== "")
    throw new MalformedEncodingError(`<${what}> must hold an element`);
  return kids[0];
}

function toNode(input: XmlElementLike | string): XmlNode {
  if (typeof input === "string") return parseXml(input);
  return resolveElement(input);
}

/** Parse a `<securitylabel>` from an ltx-like element or from its serialised XML. */
export function parseSecurityLabelElement(input: XmlElementLike | string): SecurityLabelElement {
  const root = toNode(input);
  if (root.uri !== NS_SEC_LABEL || root.local !== "securitylabel")
    throw new MalformedEncodingError("Not a urn:xmpp:sec-label:0 securitylabel");
  // Every <label> and <equivalentlabel> is a form the decision must cover: a second <label>, or
  // one in another namespace, is a form that a client matching by name (or taking the last) could
  // show while the decision is about another. Refused, not skipped.
  for (const c of childElements(root))
    if ((c.local === "label" || c.local === "equivalentlabel") && c.uri !== NS_SEC_LABEL)
      throw new MalformedEncodingError(`<${c.local}> outside ${NS_SEC_LABEL}`);
  if (childElements(root, "label", NS_SEC_LABEL).length > 1)
    throw new MalformedEncodingError("A securitylabel may have one <label>");
  const dm = firstChild(root, "displaymarking", NS_SEC_LABEL);
  const le = firstChild(root, "label", NS_SEC_LABEL);
  return {
    displayMarking: dm
      ? { text: textOf(dm), fgcolor: dm.attrs["fgcolor"], bgcolor: dm.attrs["bgcolor"] }
      : undefined,
    hasLabel: le !== undefined,
    label: le ? onlyChild(le, "label") : undefined,
    equivalentLabels: childElements(root, "equivalentlabel", NS_SEC_LABEL).map((e) => {
      const p = onlyChild(e, "equivalentlabel");
      if (!p) throw new MalformedEncodingError("<equivalentlabel> must hold an element");
      return p;
    }),
  };
}

/** Serialise a SecurityLabelElement compactly. Payloads are written with their namespace declarations in scope. */
export function serializeSecurityLabelElement(sl: SecurityLabelElement): string {
  let s = `<securitylabel xmlns='${NS_SEC_LABEL}'>`;
  if (sl.displayMarking) {
    const d = sl.displayMarking;
    s += "<displaymarking";
    if (d.fgcolor !== undefined) s += ` fgcolor='${escapeAttr(d.fgcolor)}'`;
    if (d.bgcolor !== undefined) s += ` bgcolor='${escapeAttr(d.bgcolor)}'`;
    s += d.text === "" ? "/>" : `>${escapeText(d.text)}</displaymarking>`;
  }
  if (sl.hasLabel || sl.label) s += sl.label ? `<label>${payloadXml(sl.label)}</label>` : "<label/>";
  for (const e of sl.equivalentLabels) s += `<equivalentlabel>${payloadXml(e)}</equivalentlabel>`;
  return s + "</securitylabel>";
}

/** Serialise a payload, adding an xmlns declaration when its namespace is not declared on it. */
function payloadXml(n: XmlNode): string {
  const colon = n.name.indexOf(":");
  const prefix = colon < 0 ? "" : n.name.slice(0, colon);
  const decl = prefix === "" ? "xmlns" : `xmlns:${prefix}`;
  if (n.attrs[decl] !== undefined || n.uri === "") return serializeXml(n);
  return serializeXml({ name: n.name, attrs: { [decl]: n.uri, ...n.attrs }, children: n.children });
}

/**
 * The forms of a `<securitylabel>` (XEP-0258 §3): `<label>` and every `<equivalentlabel>`, each
 * decoded once under its own policy, in order; a form that does not decode is its PolicyError.
 * An empty or absent `<label>` is kind "empty" ("the default label"), with its equivalents'
 * count, so a caller can refuse an empty label that has equivalents. Deciding which form counts,
 * and whether they agree, is @cordon/rules' stanza-label rule.
 */
export type SecurityLabelForms =
  | { readonly kind: "empty"; readonly equivalents: number }
  | { readonly kind: "forms"; readonly forms: readonly (Label | PolicyError)[] };

export function securityLabelForms(
  input: XmlElementLike | string | SecurityLabelElement,
  registry: PolicyRegistry,
  maxForms = Infinity,
): SecurityLabelForms {
  const sl =
    typeof input === "object" && "equivalentLabels" in input ? input : parseSecurityLabelElement(input);
  if (!sl.label) return { kind: "empty", equivalents: sl.equivalentLabels.length };
  const payloads = [sl.label, ...sl.equivalentLabels];
  if (payloads.length > maxForms)
    throw new MalformedEncodingError(`A security label may have at most ${maxForms} forms`);
  return {
    kind: "forms",
    forms: payloads.map((payload) => {
      try {
        return decodeLabelNode(payload, registry);
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e;
        return e;
      }
    }),
  };
}

export interface BuildSecurityLabelOptions {
  /** Language for the display marking (default: untagged markings). */
  readonly lang?: string;
  /** Equivalent labels to add as `<equivalentlabel>`s. */
  readonly equivalents?: readonly Label[];
}

function essPayload(label: Label): string {
  return `<esssecuritylabel xmlns='${NS_SEC_LABEL_ESS}'>${Buffer.from(encodeEssLabel(label)).toString("base64")}</esssecuritylabel>`;
}

/**
 * The outgoing XEP-0258 element for a label: the display marking computed from the policy (never a sender's),
 * colours from the classification, and the label as ESS DER in base64 (original bytes when it was received so).
 */
export function buildSecurityLabelXml(label: Label, options: BuildSecurityLabelOptions = {}): string {
  const text = labelMarking(label, options.lang ?? "");
  const { fgcolor, bgcolor } = markingColours(label.classification);
  let s = `<securitylabel xmlns='${NS_SEC_LABEL}'><displaymarking`;
  if (fgcolor !== undefined) s += ` fgcolor='${escapeAttr(fgcolor)}'`;
  if (bgcolor !== undefined) s += ` bgcolor='${escapeAttr(bgcolor)}'`;
  s += `>${escapeText(text)}</displaymarking><label>${essPayload(label)}</label>`;
  for (const e of options.equivalents ?? []) s += `<equivalentlabel>${essPayload(e)}</equivalentlabel>`;
  return s + "</securitylabel>";
}
