// SecurityCategory values (RFC 2634 §5.3.2 `SecurityCategory ::= SEQUENCE { type [0] OID, value [1] ANY }`)
// in the ACP-145(A) syntaxes (2.16.840.1.101.2.1.8.3.0-.4), MISSI (…8.1, SDN.801c) and SSLPrivileges (…8.2).
// Unknown syntaxes are rejected (fail closed) rather than ignored.
import { CONTEXT, UNIVERSAL, is, readBitString, readInteger, readOid } from "../ber/reader.js";
import type { BerNode } from "../ber/reader.js";
import { bitString, integer, oid, oidContent, sequence, setOf, tlv } from "../ber/writer.js";
import { findCategory } from "../category.js";
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

function integers(set: BerNode): number[] {
  if (!is(set, UNIVERSAL, true, 17)) bad("Expected SET OF INTEGER");
  return set.children.map((c) => (is(c, UNIVERSAL, false, 2) ? readInteger(c) : bad("Expected INTEGER")));
}

function attributeValues(n: BerNode): number[] {
  if (is(n, UNIVERSAL, false, 3)) return readBitString(n);
  return integers(n);
}

/** MISSI/SSLPrivileges enumerated attributes count as permissive if the tag set has enumerated-permissive categories. */
function enumeratedKind(policy: Policy, tagSetId: string): TagType {
  const ts = policy.tagSetById.get(tagSetId);
  return ts?.byTypeLacv.get("enumeratedPermissive")?.size ? "enumeratedPermissive" : "enumeratedRestrictive";
}

function push(
  policy: Policy,
  out: Category[],
  tagSetId: string,
  type: TagType,
  lacvs: readonly number[],
): void {
  for (const l of lacvs) out.push(findCategory(policy, tagSetId, type, l));
}

/** Decode one SecurityCategory into the policy's categories. `forClearance` rejects informative tags. */
export function decodeSecurityCategory(
  node: BerNode,
  policy: Policy,
  out: Category[],
  forClearance: boolean,
): void {
  if (!is(node, UNIVERSAL, true, 16) || node.children.length !== 2) bad("Bad SecurityCategory");
  const [t, v] = node.children as [BerNode, BerNode];
  if (!is(t, CONTEXT, false, 0) || !is(v, CONTEXT, true, 1) || v.children.length !== 1)
    bad("Bad SecurityCategory");
  const type = readOid(t);
  const value = v.children[0]!;
  switch (type) {
    case ACP145_RESTRICTIVE:
    case ACP145_PERMISSIVE:
    case ACP145_ENUMERATED_PERMISSIVE:
    case ACP145_ENUMERATED_RESTRICTIVE:
    case ACP145_INFORMATIVE: {
      // ACP-145(A): SEQUENCE { tagName OID, attributeFlags BIT STRING | attributeList SET OF INTEGER | field CHOICE }
      if (!is(value, UNIVERSAL, true, 16) || value.children.length !== 2) bad("Bad ACP-145 tag");
      const [name, attrs] = value.children as [BerNode, BerNode];
      if (!is(name, UNIVERSAL, false, 6)) bad("Bad ACP-145 tag");
      const tagSetId = readOid(name);
      let kind: TagType;
      if (type === ACP145_RESTRICTIVE) kind = "restrictive";
      else if (type === ACP145_PERMISSIVE) kind = "permissive";
      else if (type === ACP145_ENUMERATED_PERMISSIVE) kind = "enumeratedPermissive";
      else if (type === ACP145_ENUMERATED_RESTRICTIVE) kind = "enumeratedRestrictive";
      else kind = "informative";
      if (kind === "informative" && forClearance)
        throw new UnsupportedFormatError("unsupported tag type informative");
      const bits = kind === "restrictive" || kind === "permissive";
      if (bits && !is(attrs, UNIVERSAL, false, 3)) bad("Expected BIT STRING");
      if (
        (kind === "enumeratedPermissive" || kind === "enumeratedRestrictive") &&
        !is(attrs, UNIVERSAL, true, 17)
      )
        bad("Expected SET OF INTEGER");
      push(policy, out, tagSetId, kind, attributeValues(attrs));
      return;
    }
    case MISSI_SECURITY_CATEGORIES: {
      // SDN.801c: CHOICE { lrbacInfo (unsupported), prbacSecurityCategories SET OF NamedTagSet }
      if (forClearance) throw new UnsupportedFormatError("MISSI categories are not a clearance syntax");
      if (!is(value, UNIVERSAL, true, 17))
        throw new UnsupportedFormatError("Unsupported MISSI security category");
      for (const nts of value.children) {
        if (!is(nts, UNIVERSAL, true, 16) || nts.children.length !== 2) bad("Bad NamedTagSet");
        const [name, tags] = nts.children as [BerNode, BerNode];
        if (!is(name, UNIVERSAL, false, 6) || !is(tags, UNIVERSAL, true, 16)) bad("Bad NamedTagSet");
        const tagSetId = readOid(name);
        for (const st of tags.children) {
          if (st.cls !== CONTEXT || !st.constructed) bad("Bad SecurityTag");
          if (st.tag === 7) {
            // [7] EXPLICIT TagType7Data ::= CHOICE { bitSetAttributes BIT STRING, securityAttributes SET OF INTEGER }
            if (st.children.length !== 1) bad("Bad SecurityTag");
            push(policy, out, tagSetId, "informative", attributeValues(st.children[0]!));
            continue;
          }
          // [1]/[2]/[6] IMPLICIT SEQUENCE { level INTEGER OPTIONAL, attributes }
          const kids = st.children;
          const last = kids[kids.length - 1];
          if (!last || kids.length > 2 || (kids.length === 2 && !is(kids[0]!, UNIVERSAL, false, 2)))
            bad("Bad SecurityTag");
          if (st.tag === 1) push(policy, out, tagSetId, "restrictive", readBits(last));
          else if (st.tag === 6) push(policy, out, tagSetId, "permissive", readBits(last));
          else if (st.tag === 2)
            push(policy, out, tagSetId, enumeratedKind(policy, tagSetId), integers(last));
          else bad("Bad SecurityTag");
        }
      }
      return;
    }
    case SSL_PRIVILEGES: {
      // SET OF SEQUENCE { tagSetName OID, SEQUENCE OF CHOICE { [1] IMPLICIT BIT STRING, [2] IMPLICIT SET OF INTEGER, [6] IMPLICIT BIT STRING } }
      if (!forClearance) throw new UnsupportedFormatError("SSLPrivileges is not a label syntax");
      if (!is(value, UNIVERSAL, true, 17)) bad("Bad SSLPrivileges");
      for (const p of value.children) {
        if (!is(p, UNIVERSAL, true, 16) || p.children.length !== 2) bad("Bad SSLPrivilege");
        const [name, tags] = p.children as [BerNode, BerNode];
        if (!is(name, UNIVERSAL, false, 6) || !is(tags, UNIVERSAL, true, 16)) bad("Bad SSLPrivilege");
        const tagSetId = readOid(name);
        for (const st of tags.children) {
          if (st.cls !== CONTEXT) bad("Bad SSLPrivilege");
          if (st.tag === 1 && !st.constructed) push(policy, out, tagSetId, "restrictive", readBitString(st));
          else if (st.tag === 6 && !st.constructed)
            push(policy, out, tagSetId, "permissive", readBitString(st));
          else if (st.tag === 2 && st.constructed) {
            const vals = st.children.map((c) =>
              is(c, UNIVERSAL, false, 2) ? readInteger(c) : bad("Expected INTEGER"),
            );
            push(policy, out, tagSetId, enumeratedKind(policy, tagSetId), vals);
          } else bad("Bad SSLPrivilege");
        }
      }
      return;
    }
    default:
      throw new UnsupportedFormatError(`Unsupported security category syntax ${type}`);
  }
}

function readBits(n: BerNode): number[] {
  if (!is(n, UNIVERSAL, false, 3)) bad("Expected BIT STRING");
  return readBitString(n);
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
