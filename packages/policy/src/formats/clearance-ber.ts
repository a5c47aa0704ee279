// RFC 5755 §4.4.6 Clearance in BER/DER:
//   Clearance ::= SEQUENCE { policyId OID, classList ClassList DEFAULT {unclassified}, securityCategories SET OF SecurityCategory OPTIONAL }
// The RFC 3281 tagged form ([0], [1], [2]) is accepted too.
import { CONTEXT, decodeBer, is, readBitString, readOid, UNIVERSAL } from "../ber/reader.js";
import type { BerNode } from "../ber/reader.js";
import type { BerLimits } from "../ber/limits.js";
import { DEFAULT_BER_LIMITS } from "../ber/limits.js";
import { bitString, oid, sequence, setOf } from "../ber/writer.js";
import { makeClearance } from "../clearance.js";
import type { Clearance } from "../clearance.js";
import {
  MalformedEncodingError,
  MissingPolicyError,
  NoDataError,
  UnknownClassificationError,
} from "../errors.js";
import type { PolicyRegistry } from "../registry.js";
import type { Category, Classification } from "../spif/model.js";
import { decodeSecurityCategory, encodeSecurityCategories } from "./ess-categories.js";

function fail(): never {
  throw new MalformedEncodingError("Failed to parse BER/DER encoded clearance");
}

/** Decode a Clearance and resolve it against the registry. */
export function decodeBerClearance(
  bytes: Uint8Array,
  registry: PolicyRegistry,
  limits: BerLimits = DEFAULT_BER_LIMITS,
): Clearance {
  if (bytes.length === 0) throw new NoDataError();
  const root = decodeBer(bytes, limits);
  if (!is(root, UNIVERSAL, true, 16)) fail();
  let policyId: string | undefined;
  let classList: number[] | undefined;
  let categories: BerNode | undefined;
  let step = 0;
  for (const c of root.children) {
    if (step === 0 && (is(c, UNIVERSAL, false, 6) || is(c, CONTEXT, false, 0))) {
      policyId = readOid(c);
      step = 1;
    } else if (step === 1 && (is(c, UNIVERSAL, false, 3) || is(c, CONTEXT, false, 1))) {
      classList = readBitString(c);
      step = 2;
    } else if (step >= 1 && step < 3 && (is(c, UNIVERSAL, true, 17) || is(c, CONTEXT, true, 2))) {
      categories = c;
      step = 3;
    } else fail();
  }
  if (policyId === undefined) throw new MissingPolicyError("clearance");
  const policy = registry.require(policyId);
  const classes: Classification[] = [];
  if (classList === undefined) {
    // RFC 5755: DEFAULT { unclassified } (bit 1), kept only when the policy defines lacv 1.
    const u = policy.classificationByLacv.get(1);
    if (u) classes.push(u);
  } else {
    for (const l of classList) {
      const c = policy.classificationByLacv.get(l);
      if (!c) throw new UnknownClassificationError();
      classes.push(c);
    }
  }
  const cats: Category[] = [];
  if (categories) for (const sc of categories.children) decodeSecurityCategory(sc, policy, cats, true);
  return makeClearance(policy, classes, cats);
}

/** DER encoding of a clearance (untagged RFC 5755 form, ACP-145(A) category syntaxes). */
export function encodeBerClearance(clearance: Clearance): Uint8Array {
  const cats = encodeSecurityCategories(clearance.categories, true);
  const parts = [oid(clearance.policy.id), bitString(clearance.classifications.map((c) => c.lacv))];
  if (cats.length > 0) parts.push(setOf(cats));
  return sequence(...parts);
}
