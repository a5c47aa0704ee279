// RFC 2634 §5.3.2 ESSSecurityLabel in BER/DER:
//   ESSSecurityLabel ::= SET { security-policy-identifier OID, security-classification INTEGER OPTIONAL,
//                              privacy-mark ESSPrivacyMark OPTIONAL, security-categories SecurityCategories OPTIONAL }
// SET members are accepted in any order; each may appear at most once.
import { decodeBer, is, readInteger, readOid, readString, UNIVERSAL } from "../ber/reader.js";
import type { BerNode } from "../ber/reader.js";
import type { BerLimits } from "../ber/limits.js";
import { DEFAULT_BER_LIMITS } from "../ber/limits.js";
import { integer, oid, setOf, utf8String, tlv } from "../ber/writer.js";
import {
  MalformedEncodingError,
  MissingPolicyError,
  NoDataError,
  UnknownClassificationError,
} from "../errors.js";
import { makeLabel } from "../label.js";
import type { Label } from "../label.js";
import type { PolicyRegistry } from "../registry.js";
import type { Category } from "../spif/model.js";
import { decodeSecurityCategory, encodeSecurityCategories } from "./ess-categories.js";

function fail(): never {
  throw new MalformedEncodingError("Failed to parse BER/DER encoded label");
}

/** Decode an ESSSecurityLabel and resolve it against the registry. */
export function decodeEssLabel(
  bytes: Uint8Array,
  registry: PolicyRegistry,
  limits: BerLimits = DEFAULT_BER_LIMITS,
): Label {
  if (bytes.length === 0) throw new NoDataError();
  const root = decodeBer(bytes, limits);
  if (!is(root, UNIVERSAL, true, 17)) fail();
  let policyId: string | undefined;
  let classification: number | undefined;
  let privacyMark: string | undefined;
  let categories: BerNode | undefined;
  for (const c of root.children) {
    if (c.cls !== UNIVERSAL) fail();
    if (c.tag === 6 && !c.constructed && policyId === undefined) policyId = readOid(c);
    else if (c.tag === 2 && !c.constructed && classification === undefined) classification = readInteger(c);
    else if ((c.tag === 19 || c.tag === 12) && !c.constructed && privacyMark === undefined)
      privacyMark = readString(c);
    else if (c.tag === 17 && c.constructed && categories === undefined) categories = c;
    else fail();
  }
  if (policyId === undefined) throw new MissingPolicyError("label");
  const policy = registry.require(policyId);
  if (classification === undefined) throw new UnknownClassificationError("No classification in label");
  const cls = policy.classificationByLacv.get(classification);
  if (!cls) throw new UnknownClassificationError();
  const cats: Category[] = [];
  if (categories) for (const sc of categories.children) decodeSecurityCategory(sc, policy, cats, false);
  return makeLabel(policy, cls, cats, { privacyMark, encoded: bytes });
}

/** DER encoding of a label (ACP-145(A) category syntaxes). Returns the original bytes when it has them. */
export function encodeEssLabel(label: Label, options: { readonly reencode?: boolean } = {}): Uint8Array {
  if (label.encoded && !options.reencode) return label.encoded;
  const parts = [oid(label.policy.id), integer(label.classification.lacv)];
  if (label.privacyMark !== undefined) parts.push(utf8String(label.privacyMark));
  const cats = encodeSecurityCategories(label.categories, false);
  if (cats.length > 0) parts.push(setOf(cats));
  // DER SET: components in ascending tag order (X.690 §10.3).
  return tlv(0x31, ...parts.sort((a, b) => a[0]! - b[0]!));
}
