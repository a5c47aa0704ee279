// NATO STANAG 4774 (ADatP-4774) confidentiality labels and clearances in XML.
// PolicyIdentifier text is the policy name, Classification the classification name,
// Category@TagName the tag set name, Category@Type PERMISSIVE|RESTRICTIVE|INFORMATIVE, GenericValue the category names.
import { findCategoryByName } from "../category.js";
import { makeClearance } from "../clearance.js";
import type { Clearance } from "../clearance.js";
import {
  MalformedEncodingError,
  MissingPolicyError,
  PolicyMismatchError,
  UnknownClassificationError,
  UnsupportedFormatError,
} from "../errors.js";
import { makeLabel } from "../label.js";
import type { Label } from "../label.js";
import type { PolicyRegistry } from "../registry.js";
import type { Category, Classification, Policy, TagType } from "../spif/model.js";
import { childElements, firstChild, textOf } from "../xml/node.js";
import type { XmlNode } from "../xml/node.js";

export const NATO_LABEL_NS = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0";
export const NATO_CLEARANCE_NS = "urn:nato:stanag:4774:confidentialityclearance:1:0";

const TYPES: Readonly<Record<string, readonly TagType[]>> = {
  PERMISSIVE: ["permissive", "enumeratedPermissive"],
  RESTRICTIVE: ["restrictive", "enumeratedRestrictive"],
  INFORMATIVE: ["informative"],
};

function policyOf(el: XmlNode | undefined, registry: PolicyRegistry, what: "label" | "clearance"): Policy {
  if (!el) throw new MissingPolicyError(what);
  const name = textOf(el).trim();
  if (name === "") throw new MissingPolicyError(what);
  const policy = registry.requireName(name);
  const uri = el.attrs["URI"];
  if (uri !== undefined) {
    const m = /^urn:oid:(.*)$/.exec(uri.trim());
    if (!m || m[1] !== policy.id) throw new PolicyMismatchError(`Policy mismatch: ${m ? m[1]! : uri}`);
  }
  return policy;
}

function classificationByName(policy: Policy, el: XmlNode): Classification {
  const c = policy.classificationByName.get(textOf(el).trim());
  if (!c) throw new UnknownClassificationError();
  return c;
}

function categories(parent: XmlNode, policy: Policy, forClearance: boolean): Category[] {
  const out: Category[] = [];
  for (const ce of childElements(parent, "Category", NATO_LABEL_NS)) {
    const type = ce.attrs["Type"] ?? "";
    const types = TYPES[type];
    if (!types || (forClearance && type === "INFORMATIVE"))
      throw new UnsupportedFormatError(`unsupported tag type ${type}`);
    const tagSet = ce.attrs["TagName"] ?? "";
    for (const v of childElements(ce, "GenericValue", NATO_LABEL_NS))
      out.push(findCategoryByName(policy, tagSet, types, textOf(v).trim()));
  }
  return out;
}

/** Decode a STANAG 4774 label (root element in the label namespace). */
export function decodeNatoLabel(root: XmlNode, registry: PolicyRegistry): Label {
  const info =
    root.local === "ConfidentialityInformation"
      ? root
      : firstChild(root, "ConfidentialityInformation", NATO_LABEL_NS);
  if (!info) throw new MalformedEncodingError("No ConfidentialityInformation in label");
  const policy = policyOf(firstChild(info, "PolicyIdentifier", NATO_LABEL_NS), registry, "label");
  const ce = firstChild(info, "Classification", NATO_LABEL_NS);
  if (!ce) throw new UnknownClassificationError("No classification in label");
  return makeLabel(policy, classificationByName(policy, ce), categories(info, policy, false));
}

/** Decode a STANAG 4774 clearance (root ConfidentialityClearance in the clearance namespace). */
export function decodeNatoClearance(root: XmlNode, registry: PolicyRegistry): Clearance {
  if (root.local !== "ConfidentialityClearance")
    throw new UnsupportedFormatError(`Not a STANAG 4774 clearance: ${root.local}`);
  const policy = policyOf(firstChild(root, "PolicyIdentifier", NATO_LABEL_NS), registry, "clearance");
  const classes: Classification[] = [];
  for (const list of childElements(root, "ClassificationList", NATO_CLEARANCE_NS)) {
    for (const c of childElements(list, "Classification", NATO_LABEL_NS))
      classes.push(classificationByName(policy, c));
  }
  return makeClearance(policy, classes, categories(root, policy, true));
}
