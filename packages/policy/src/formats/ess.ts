// RFC 2634 §5.3.2 ESSSecurityLabel in BER/DER:
//   ESSSecurityLabel ::= SET { security-policy-identifier OID, security-classification INTEGER OPTIONAL,
//                              privacy-mark ESSPrivacyMark OPTIONAL, security-categories SecurityCategories OPTIONAL }
// SET members are accepted in any order; each may appear at most once.
import { readIntegerAt, readOidAt, readStringAt, UNIVERSAL } from "../ber/reader.js";
import { decodeBerFlat, END, ID, ident, NEXT, START } from "../ber/flat.js";
import type { BerLimits } from "../ber/limits.js";
import { DEFAULT_BER_LIMITS } from "../ber/limits.js";
import { integer, oid, setOf, utf8String, tlv } from "../ber/writer.js";
import {
  MalformedEncodingError,
  MissingPolicyError,
  NoDataError,
  UnknownClassificationError,
} from "../errors.js";
import { makeDecodedLabel } from "../label.js";
import type { Label } from "../label.js";
import type { PolicyRegistry } from "../registry.js";
import type { Category } from "../spif/model.js";
import { decodeSecurityCategory, encodeSecurityCategories } from "./ess-categories.js";

const SET = ident(UNIVERSAL, true, 17);
const OID = ident(UNIVERSAL, false, 6);
const INTEGER = ident(UNIVERSAL, false, 2);
const PRINTABLE_STRING = ident(UNIVERSAL, false, 19);
const UTF8_STRING = ident(UNIVERSAL, false, 12);

function fail(): never {
  throw new MalformedEncodingError("Failed to parse BER/DER encoded label");
}

/**
 * Decode an ESSSecurityLabel and resolve it against the registry. The value is decoded into a
 * table of TLVs (ber/flat.ts: no node objects) and its members are read in place.
 */
export function decodeEssLabel(
  bytes: Uint8Array,
  registry: PolicyRegistry,
  limits: BerLimits = DEFAULT_BER_LIMITS,
): Label {
  if (bytes.length === 0) throw new NoDataError();
  const f = decodeBerFlat(bytes, limits);
  const t = f.table;
  if (t[ID] !== SET) fail();
  let policyId: string | undefined;
  let classification: number | undefined;
  let privacyMark: string | undefined;
  let categories = -1;
  const stop = t[NEXT]!;
  for (let c = 1; c < stop; c = t[4 * c + NEXT]!) {
    const id = t[4 * c + ID]!;
    const from = t[4 * c + START]!;
    const to = t[4 * c + END]!;
    if (id >>> 29 !== UNIVERSAL) fail();
    if (id === OID && policyId === undefined) policyId = readOidAt(bytes, from, to);
    else if (id === INTEGER && classification === undefined) classification = readIntegerAt(bytes, from, to);
    else if ((id === PRINTABLE_STRING || id === UTF8_STRING) && privacyMark === undefined)
      privacyMark = readStringAt(bytes, from, to);
    else if (id === SET && categories === -1) categories = c;
    else fail();
  }
  if (policyId === undefined) throw new MissingPolicyError("label");
  const policy = registry.require(policyId);
  if (classification === undefined) throw new UnknownClassificationError("No classification in label");
  const cls = policy.classificationByLacv.get(classification);
  if (!cls) throw new UnknownClassificationError();
  const cats: Category[] = [];
  if (categories !== -1)
    for (let sc = categories + 1; sc < t[4 * categories + NEXT]!; sc = t[4 * sc + NEXT]!)
      decodeSecurityCategory(f, sc, policy, cats, false);
  return makeDecodedLabel(policy, cls, cats, { privacyMark, encoded: bytes });
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
