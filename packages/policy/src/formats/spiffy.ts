// The simple XML label/clearance form of the corpus (namespace http://surevine.com/xmlns/spiffy):
// <label|clearance><policy id/><classification lacv/>…<tag type id lacv/>…</…>
import { findCategory } from "../category.js";
import { makeClearance } from "../clearance.js";
import type { Clearance } from "../clearance.js";
import {
  MalformedEncodingError,
  MissingPolicyError,
  UnknownClassificationError,
  UnsupportedFormatError,
} from "../errors.js";
import { makeLabel } from "../label.js";
import type { Label } from "../label.js";
import type { PolicyRegistry } from "../registry.js";
import { TAG_TYPES } from "../spif/model.js";
import type { Category, Classification, Policy, TagType } from "../spif/model.js";
import { childElements, firstChild } from "../xml/node.js";
import type { XmlNode } from "../xml/node.js";

export const SPIFFY_NS = "http://surevine.com/xmlns/spiffy";

function lacvOf(el: XmlNode): number {
  const s = el.attrs["lacv"];
  if (s === undefined || !/^\s*\d{1,15}\s*$/.test(s))
    throw new MalformedEncodingError(`Bad lacv: ${s ?? "(missing)"}`);
  return Number(s);
}

function policyOf(root: XmlNode, registry: PolicyRegistry, what: "label" | "clearance"): Policy {
  const id = firstChild(root, "policy", SPIFFY_NS)?.attrs["id"];
  if (!id) throw new MissingPolicyError(what);
  return registry.require(id);
}

function categories(root: XmlNode, policy: Policy, forClearance: boolean): Category[] {
  const out: Category[] = [];
  for (const t of childElements(root, "tag", SPIFFY_NS)) {
    const type = t.attrs["type"] ?? "";
    if (!(TAG_TYPES as readonly string[]).includes(type) || (forClearance && type === "informative")) {
      throw new UnsupportedFormatError(`unsupported tag type ${type}`);
    }
    out.push(findCategory(policy, t.attrs["id"] ?? "", type as TagType, lacvOf(t)));
  }
  return out;
}

/** Decode a spiffy `<label>`. */
export function decodeSpiffyLabel(root: XmlNode, registry: PolicyRegistry): Label {
  if (root.local !== "label") throw new UnsupportedFormatError(`Not a spiffy label: ${root.local}`);
  const policy = policyOf(root, registry, "label");
  const ce = firstChild(root, "classification", SPIFFY_NS);
  if (!ce) throw new UnknownClassificationError("No classification in label");
  const cls = policy.classificationByLacv.get(lacvOf(ce));
  if (!cls) throw new UnknownClassificationError();
  return makeLabel(policy, cls, categories(root, policy, false));
}

/** Decode a spiffy `<clearance>`. */
export function decodeSpiffyClearance(root: XmlNode, registry: PolicyRegistry): Clearance {
  if (root.local !== "clearance") throw new UnsupportedFormatError(`Not a spiffy clearance: ${root.local}`);
  const policy = policyOf(root, registry, "clearance");
  const classes: Classification[] = [];
  for (const ce of childElements(root, "classification", SPIFFY_NS)) {
    const c = policy.classificationByLacv.get(lacvOf(ce));
    if (!c) throw new UnknownClassificationError();
    classes.push(c);
  }
  return makeClearance(policy, classes, categories(root, policy, true));
}
