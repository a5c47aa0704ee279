// SecurityCategory values (RFC 2634 §5.3.2 `SecurityCategory ::= SEQUENCE { type [0] OID, value [1] ANY }`)
// in the ACP-145(A) syntaxes (2.16.840.1.101.2.1.8.3.0-.4), MISSI (…8.1, SDN.801c) and SSLPrivileges (…8.2).
// Unknown syntaxes are rejected (fail closed) rather than ignored.
import { CONTEXT, UNIVERSAL, checkBitString, checkInteger, readIntegerAt, readOidAt } from "../ber/reader.js";
import { END, ID, NEXT, START, ident } from "../ber/flat.js";
import type { FlatBer } from "../ber/flat.js";
import { bitString, integer, oid, oidContent, sequence, setOf, tlv } from "../ber/writer.js";
import { categoriesOfType, categoryOf } from "../category.js";
import { MalformedEncodingError, UnsupportedFormatError } from "../errors.js";
import type { Category, Policy, TagType } from "../spif/model.js";

export const ACP145_RESTRICTIVE = "2.16.840.1.101.2.1.8.3.0";
export const ACP145_ENUMERATED_PERMISSIVE = "2.16.840.1.101.2.1.8.3.1";
export const ACP145_PERMISSIVE = "2.16.840.1.101.2.1.8.3.2";
export const ACP145_INFORMATIVE = "2.16.840.1.101.2.1.8.3.3";
export const ACP145_ENUMERATED_RESTRICTIVE = "2.16.840.1.101.2.1.8.3.4";
export const MISSI_SECURITY_CATEGORIES = "2.16.840.1.101.2.1.8.1";
export const SSL_PRIVILEGES = "2.16.840.1.101.2.1.8.2";

function bad(what: string): never {
  throw new MalformedEncodingError(what);
}

const SEQUENCE = ident(UNIVERSAL, true, 16);
const SET = ident(UNIVERSAL, true, 17);
const OID = ident(UNIVERSAL, false, 6);
const INTEGER = ident(UNIVERSAL, false, 2);
const BIT_STRING = ident(UNIVERSAL, false, 3);
const TYPE = ident(CONTEXT, false, 0);
const VALUE = ident(CONTEXT, true, 1);

/** The number of children of entry `i`. */
function childCount(t: Int32Array, i: number): number {
  let n = 0;
  for (let c = i + 1; c < t[4 * i + NEXT]!; c = t[4 * c + NEXT]!) n++;
  return n;
}

/** The entry after `i`'s subtree: its next sibling. */
const next = (t: Int32Array, i: number): number => t[4 * i + NEXT]!;
const idOf = (t: Int32Array, i: number): number => t[4 * i + ID]!;
const oidAt = (f: FlatBer, i: number): string =>
  readOidAt(f.input, f.table[4 * i + START]!, f.table[4 * i + END]!);

/** MISSI/SSLPrivileges enumerated attributes count as permissive if the tag set has enumerated-permissive categories. */
function enumeratedKind(policy: Policy, tagSetId: string): TagType {
  const ts = policy.tagSetById.get(tagSetId);
  return ts?.byTypeLacv.get("enumeratedPermissive")?.size ? "enumeratedPermissive" : "enumeratedRestrictive";
}

/**
 * The categories of the set bits of BIT STRING entry `i` (X.690 §8.6; bit n is category lacv n),
 * read in place. Every encoding check comes before the first lookup, as when the bits were
 * listed first.
 */
function pushBits(
  f: FlatBer,
  i: number,
  policy: Policy,
  out: Category[],
  tagSetId: string,
  type: TagType,
): void {
  const buf = f.input;
  const from = f.table[4 * i + START]!;
  const to = f.table[4 * i + END]!;
  checkBitString(buf, from, to);
  let byLacv: ReadonlyMap<number, Category> | undefined;
  let looked = false;
  for (let o = from + 1; o < to; o++) {
    const b = buf[o]!;
    if (b === 0) continue;
    for (let j = 0; j < 8; j++)
      if (b & (0x80 >> j)) {
        if (!looked) {
          byLacv = categoriesOfType(policy, tagSetId, type);
          looked = true;
        }
        out.push(categoryOf(byLacv, (o - from - 1) * 8 + j));
      }
  }
}

/**
 * The categories of SET OF INTEGER entry `i`. Every member is checked (an INTEGER of 1 to 6
 * octets in the minimal form, X.690 §8.3) before the first lookup, as when the values were listed first.
 */
function pushIntegers(
  f: FlatBer,
  i: number,
  policy: Policy,
  out: Category[],
  tagSetId: string,
  type: TagType,
): void {
  if (idOf(f.table, i) !== SET) bad("Expected SET OF INTEGER");
  pushImplicitIntegers(f, i, policy, out, tagSetId, type);
}

/** A BIT STRING's or a SET OF INTEGER's categories (the attribute encodings of ACP-145(A) and SDN.801c). */
function pushValues(
  f: FlatBer,
  i: number,
  policy: Policy,
  out: Category[],
  tagSetId: string,
  type: TagType,
): void {
  if (idOf(f.table, i) === BIT_STRING) pushBits(f, i, policy, out, tagSetId, type);
  else pushIntegers(f, i, policy, out, tagSetId, type);
}

/**
 * Decode SecurityCategory entry `i` of a decoded value into the policy's categories, reading the
 * input in place. `forClearance` rejects informative tags.
 */
export function decodeSecurityCategory(
  f: FlatBer,
  i: number,
  policy: Policy,
  out: Category[],
  forClearance: boolean,
): void {
  const t = f.table;
  if (idOf(t, i) !== SEQUENCE || childCount(t, i) !== 2) bad("Bad SecurityCategory");
  const ti = i + 1;
  const vi = next(t, ti);
  if (idOf(t, ti) !== TYPE || idOf(t, vi) !== VALUE || childCount(t, vi) !== 1) bad("Bad SecurityCategory");
  const type = oidAt(f, ti);
  const value = vi + 1;
  switch (type) {
    case ACP145_RESTRICTIVE:
    case ACP145_PERMISSIVE:
    case ACP145_ENUMERATED_PERMISSIVE:
    case ACP145_ENUMERATED_RESTRICTIVE:
    case ACP145_INFORMATIVE: {
      // ACP-145(A): SEQUENCE { tagName OID, attributeFlags BIT STRING | attributeList SET OF INTEGER | field CHOICE }
      if (idOf(t, value) !== SEQUENCE || childCount(t, value) !== 2) bad("Bad ACP-145 tag");
      const name = value + 1;
      const attrs = next(t, name);
      if (idOf(t, name) !== OID) bad("Bad ACP-145 tag");
      const tagSetId = oidAt(f, name);
      let kind: TagType;
      if (type === ACP145_RESTRICTIVE) kind = "restrictive";
      else if (type === ACP145_PERMISSIVE) kind = "permissive";
      else if (type === ACP145_ENUMERATED_PERMISSIVE) kind = "enumeratedPermissive";
      else if (type === ACP145_ENUMERATED_RESTRICTIVE) kind = "enumeratedRestrictive";
      else kind = "informative";
      if (kind === "informative" && forClearance)
        throw new UnsupportedFormatError("unsupported tag type informative");
      const bits = kind === "restrictive" || kind === "permissive";
      if (bits && idOf(t, attrs) !== BIT_STRING) bad("Expected BIT STRING");
      if ((kind === "enumeratedPermissive" || kind === "enumeratedRestrictive") && idOf(t, attrs) !== SET)
        bad("Expected SET OF INTEGER");
      pushValues(f, attrs, policy, out, tagSetId, kind);
      return;
    }
    case MISSI_SECURITY_CATEGORIES: {
      // SDN.801c: CHOICE { lrbacInfo (unsupported), prbacSecurityCategories SET OF NamedTagSet }
      if (forClearance) throw new UnsupportedFormatError("MISSI categories are not a clearance syntax");
      if (idOf(t, value) !== SET) throw new UnsupportedFormatError("Unsupported MISSI security category");
      for (let nts = value + 1; nts < next(t, value); nts = next(t, nts)) {
        if (idOf(t, nts) !== SEQUENCE || childCount(t, nts) !== 2) bad("Bad NamedTagSet");
        const name = nts + 1;
        const tags = next(t, name);
        if (idOf(t, name) !== OID || idOf(t, tags) !== SEQUENCE) bad("Bad NamedTagSet");
        const tagSetId = oidAt(f, name);
        for (let st = tags + 1; st < next(t, tags); st = next(t, st)) {
          const id = idOf(t, st);
          // Context class (2), constructed.
          if (id >>> 28 !== ((CONTEXT << 1) | 1)) bad("Bad SecurityTag");
          const tag = id & 0xfffffff;
          const kids = childCount(t, st);
          if (tag === 7) {
            // [7] EXPLICIT TagType7Data ::= CHOICE { bitSetAttributes BIT STRING, securityAttributes SET OF INTEGER }
            if (kids !== 1) bad("Bad SecurityTag");
            pushValues(f, st + 1, policy, out, tagSetId, "informative");
            continue;
          }
          // [1]/[2]/[6] IMPLICIT SEQUENCE { level INTEGER OPTIONAL, attributes }
          if (kids === 0 || kids > 2 || (kids === 2 && idOf(t, st + 1) !== INTEGER)) bad("Bad SecurityTag");
          // The level is not used, but is an INTEGER as X.690 §8.3 has it (not `02 00`).
          if (kids === 2) checkInteger(f.input, t[4 * (st + 1) + START]!, t[4 * (st + 1) + END]!);
          const last = kids === 2 ? next(t, st + 1) : st + 1;
          if (tag === 1 || tag === 6) {
            if (idOf(t, last) !== BIT_STRING) bad("Expected BIT STRING");
            pushBits(f, last, policy, out, tagSetId, tag === 1 ? "restrictive" : "permissive");
          } else if (tag === 2)
            pushIntegers(f, last, policy, out, tagSetId, enumeratedKind(policy, tagSetId));
          else bad("Bad SecurityTag");
        }
      }
      return;
    }
    case SSL_PRIVILEGES: {
      // SET OF SEQUENCE { tagSetName OID, SEQUENCE OF CHOICE { [1] IMPLICIT BIT STRING, [2] IMPLICIT SET OF INTEGER, [6] IMPLICIT BIT STRING } }
      if (!forClearance) throw new UnsupportedFormatError("SSLPrivileges is not a label syntax");
      if (idOf(t, value) !== SET) bad("Bad SSLPrivileges");
      for (let p = value + 1; p < next(t, value); p = next(t, p)) {
        if (idOf(t, p) !== SEQUENCE || childCount(t, p) !== 2) bad("Bad SSLPrivilege");
        const name = p + 1;
        const tags = next(t, name);
        if (idOf(t, name) !== OID || idOf(t, tags) !== SEQUENCE) bad("Bad SSLPrivilege");
        const tagSetId = oidAt(f, name);
        for (let st = tags + 1; st < next(t, tags); st = next(t, st)) {
          const id = idOf(t, st);
          if (id >>> 29 !== CONTEXT) bad("Bad SSLPrivilege");
          if (id === ident(CONTEXT, false, 1)) pushBits(f, st, policy, out, tagSetId, "restrictive");
          else if (id === ident(CONTEXT, false, 6)) pushBits(f, st, policy, out, tagSetId, "permissive");
          else if (id === ident(CONTEXT, true, 2)) {
            // [2] IMPLICIT SET OF INTEGER: the members as pushIntegers checks them.
            pushImplicitIntegers(f, st, policy, out, tagSetId, enumeratedKind(policy, tagSetId));
          } else bad("Bad SSLPrivilege");
        }
      }
      return;
    }
    default:
      throw new UnsupportedFormatError(`Unsupported security category syntax ${type}`);
  }
}

/** pushIntegers for an IMPLICIT SET OF INTEGER (any identifier on the set itself). */
function pushImplicitIntegers(
  f: FlatBer,
  i: number,
  policy: Policy,
  out: Category[],
  tagSetId: string,
  type: TagType,
): void {
  const t = f.table;
  const stop = next(t, i);
  for (let c = i + 1; c < stop; c = next(t, c)) {
    if (idOf(t, c) !== INTEGER) bad("Expected INTEGER");
    checkInteger(f.input, t[4 * c + START]!, t[4 * c + END]!);
  }
  if (i + 1 === stop) return;
  const byLacv = categoriesOfType(policy, tagSetId, type);
  for (let c = i + 1; c < stop; c = next(t, c))
    out.push(categoryOf(byLacv, readIntegerAt(f.input, t[4 * c + START]!, t[4 * c + END]!)));
}

const TYPE_OID: Readonly<Record<TagType, string>> = {
  restrictive: ACP145_RESTRICTIVE,
  permissive: ACP145_PERMISSIVE,
  enumeratedPermissive: ACP145_ENUMERATED_PERMISSIVE,
  enumeratedRestrictive: ACP145_ENUMERATED_RESTRICTIVE,
  informative: ACP145_INFORMATIVE,
};

/** Encode categories as ACP-145(A) SecurityCategory values, one per (tag set, tag type, encoding), DER. */
export function encodeSecurityCategories(cats: readonly Category[], forClearance: boolean): Uint8Array[] {
  const groups = new Map<string, { tagSetId: string; type: TagType; bits: boolean; lacvs: number[] }>();
  for (const c of cats) {
    if (forClearance && c.tagType === "informative") continue;
    const bits =
      c.tagType === "restrictive" ||
      c.tagType === "permissive" ||
      (c.tagType === "informative" && c.tag.tag7Encoding !== "securityAttributes");
    const key = `${c.tagSet.id} ${c.tagType} ${bits ? "b" : "i"}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { tagSetId: c.tagSet.id, type: c.tagType, bits, lacvs: [] }));
    g.lacvs.push(c.lacv);
  }
  const out: Uint8Array[] = [];
  for (const g of groups.values()) {
    const attrs = g.bits ? bitString(g.lacvs) : setOf(g.lacvs.map(integer));
    const value = sequence(oid(g.tagSetId), attrs);
    out.push(sequence(tlv(0x80, oidContent(TYPE_OID[g.type])), tlv(0xa1, value)));
  }
  return out;
}
