// RFC 5755 §4.4.6 Clearance in BER/DER:
//   Clearance ::= SEQUENCE { policyId OID, classList ClassList DEFAULT {unclassified}, securityCategories SET OF SecurityCategory OPTIONAL }
// The RFC 3281 tagged form ([0], [1], [2]) is accepted too.
import { CONTEXT, readBitString, readOidAt, UNIVERSAL } from "../ber/reader.js";
import { decodeBerFlat, END, ID, ident, NEXT, START } from "../ber/flat.js";
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

// RFC 5755 §4.4.6 members, untagged and as RFC 3281 tagged them.
const SEQUENCE = ident(UNIVERSAL, true, 16);
const OID = ident(UNIVERSAL, false, 6);
const TAGGED_OID = ident(CONTEXT, false, 0);
const BIT_STRING = ident(UNIVERSAL, false, 3);
const TAGGED_BIT_STRING = ident(CONTEXT, false, 1);
const SET = ident(UNIVERSAL, true, 17);
const TAGGED_SET = ident(CONTEXT, true, 2);

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
  const f = decodeBerFlat(bytes, limits);
  const t = f.table;
  if (t[ID] !== SEQUENCE) fail();
  let policyId: string | undefined;
  let classList: number[] | undefined;
  let categories = -1;
  let step = 0;
  for (let c = 1; c < t[NEXT]!; c = t[4 * c + NEXT]!) {
    const id = t[4 * c + ID]!;
    const from = t[4 * c + START]!;
    const to = t[4 * c + END]!;
    if (step === 0 && (id === OID || id === TAGGED_OID)) {
      policyId = readOidAt(bytes, from, to);
      step = 1;
    } else if (step === 1 && (id === BIT_STRING || id === TAGGED_BIT_STRING)) {
      classList = readBitString(bytes, from, to);
      step = 2;
    } else if (step >= 1 && step < 3 && (id === SET || id === TAGGED_SET)) {
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
  if (categories !== -1)
    for (let sc = categories + 1; sc < t[4 * categories + NEXT]!; sc = t[4 * sc + NEXT]!)
      decodeSecurityCategory(f, sc, policy, cats, true);
  return makeClearance(policy, classes, cats);
}

/** DER encoding of a clearance (untagged RFC 5755 form, ACP-145(A) category syntaxes). */
export function encodeBerClearance(clearance: Clearance): Uint8Array {
  const cats = encodeSecurityCategories(clearance.categories, true);
  const parts = [oid(clearance.policy.id), bitString(clearance.classifications.map((c) => c.lacv))];
  if (cats.length > 0) parts.push(setOf(cats));
  return sequence(...parts);
}
