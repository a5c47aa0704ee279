// The ESS label and BER clearance decoders as they were before the in-place decoder (commit
// b6dad98: a tree of BerNode objects, categories listed then looked up, the ACDF pairs grouped
// through a Map), and the base64 decoder before its canonical fast path. Kept only as the
// reference test/formats/ess-differential.test.ts compares the decoders with.
import { Buffer } from "node:buffer";
import { CONTEXT, UNIVERSAL, decodeBer, is, readInteger, readOid, readString } from "../ber/tree-reader.js";
import type { BerNode } from "../ber/tree-reader.js";
import type { BerLimits } from "../../src/ber/limits.js";
import { DEFAULT_BER_LIMITS } from "../../src/ber/limits.js";
import { findCategory, inPolicyOrder, isPermissive, isRestrictive } from "../../src/category.js";
import { makeClearance } from "../../src/clearance.js";
import type { Clearance } from "../../src/clearance.js";
import {
  InvalidArgumentError,
  MalformedEncodingError,
  MissingPolicyError,
  NoDataError,
  UnknownClassificationError,
  UnsupportedFormatError,
} from "../../src/errors.js";
import {
  ACP145_ENUMERATED_PERMISSIVE,
  ACP145_ENUMERATED_RESTRICTIVE,
  ACP145_INFORMATIVE,
  ACP145_PERMISSIVE,
  ACP145_RESTRICTIVE,
  MISSI_SECURITY_CATEGORIES,
  SSL_PRIVILEGES,
} from "../../src/formats/ess-categories.js";
import type { Label, LabelAcdfData } from "../../src/label.js";
import type { PolicyRegistry } from "../../src/registry.js";
import type { Category, Classification, Policy, RequiredCategory, TagType } from "../../src/spif/model.js";

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const WHITESPACE = /\s/;

/** Strict base64 (RFC 4648 §4), whitespace ignored: the decoder before the canonical fast path. */
export function referenceDecodeBase64(text: string): Uint8Array {
  const s = WHITESPACE.test(text) ? text.replace(/\s+/g, "") : text;
  if (s.length === 0) throw new NoDataError();
  if (s.length % 4 !== 0 || !BASE64.test(s)) throw new MalformedEncodingError("Malformed base64");
  const b = Buffer.from(s, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** readBitString before checkBitString. */
function readBitString(value: BerNode): number[] {
  const [buf, from, to] = [value.input, value.contentStart, value.contentEnd];
  if (to === from) throw new MalformedEncodingError("Bad BIT STRING");
  const unused = buf[from]!;
  if (unused > 7 || (to - from === 1 && unused !== 0)) throw new MalformedEncodingError("Bad BIT STRING");
  const bits: number[] = [];
  const last = to - 1;
  for (let i = from + 1; i < to; i++) {
    const b = buf[i]!;
    if (b === 0) continue;
    if (i === last && (b & ((1 << unused) - 1)) !== 0) throw new MalformedEncodingError("Bad BIT STRING");
    for (let j = 0; j < 8; j++) if (b & (0x80 >> j)) bits.push((i - from - 1) * 8 + j);
  }
  return bits;
}

function failLabel(): never {
  throw new MalformedEncodingError("Failed to parse BER/DER encoded label");
}

function failClearance(): never {
  throw new MalformedEncodingError("Failed to parse BER/DER encoded clearance");
}

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
function decodeSecurityCategory(node: BerNode, policy: Policy, out: Category[], forClearance: boolean): void {
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
          if (kids.length === 2) readInteger(kids[0]!); // the level checked (added on adv41)
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

/** Decode an ESSSecurityLabel and resolve it against the registry. */
export function referenceDecodeEssLabel(
  bytes: Uint8Array,
  registry: PolicyRegistry,
  limits: BerLimits = DEFAULT_BER_LIMITS,
): Label {
  if (bytes.length === 0) throw new NoDataError();
  const root = decodeBer(bytes, limits);
  if (!is(root, UNIVERSAL, true, 17)) failLabel();
  let policyId: string | undefined;
  let classification: number | undefined;
  let privacyMark: string | undefined;
  let categories: BerNode | undefined;
  for (const c of root.children) {
    if (c.cls !== UNIVERSAL) failLabel();
    if (c.tag === 6 && !c.constructed && policyId === undefined) policyId = readOid(c);
    else if (c.tag === 2 && !c.constructed && classification === undefined) classification = readInteger(c);
    else if ((c.tag === 19 || c.tag === 12) && !c.constructed && privacyMark === undefined)
      privacyMark = readString(c);
    else if (c.tag === 17 && c.constructed && categories === undefined) categories = c;
    else failLabel();
  }
  if (policyId === undefined) throw new MissingPolicyError("label");
  const policy = registry.require(policyId);
  if (classification === undefined) throw new UnknownClassificationError("No classification in label");
  const cls = policy.classificationByLacv.get(classification);
  if (!cls) throw new UnknownClassificationError();
  const cats: Category[] = [];
  if (categories) for (const sc of categories.children) decodeSecurityCategory(sc, policy, cats, false);
  return referenceMakeLabel(policy, cls, cats, { privacyMark, encoded: bytes });
}

/** Decode a Clearance and resolve it against the registry. */
export function referenceDecodeBerClearance(
  bytes: Uint8Array,
  registry: PolicyRegistry,
  limits: BerLimits = DEFAULT_BER_LIMITS,
): Clearance {
  if (bytes.length === 0) throw new NoDataError();
  const root = decodeBer(bytes, limits);
  if (!is(root, UNIVERSAL, true, 16)) failClearance();
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
    } else failClearance();
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

/** (word, mask) pairs of categories given in policy order (ascending index, so words ascend too). */
function pairs(cats: readonly Category[]): Int32Array {
  let words = 0;
  let last = -1;
  for (const c of cats) {
    const w = c.index >>> 5;
    if (w !== last) {
      words++;
      last = w;
    }
  }
  const out = new Int32Array(words * 2);
  let i = -2;
  last = -1;
  for (const c of cats) {
    const w = c.index >>> 5;
    if (w !== last) {
      i += 2;
      out[i] = w;
      last = w;
    }
    out[i + 1]! |= 1 << (c.index & 31);
  }
  return out;
}

const NO_GROUPS: readonly (readonly number[])[] = [];

/** `categories` in policy order (makeLabel's). The pairs as lists (the label's form since ess11). */
function acdfData(categories: readonly Category[]): LabelAcdfData {
  const restrictive: Category[] = [];
  // X.841 permissive rule: categories of the same tag form one group (grouped by tag identity).
  let groups: Map<unknown, Category[]> | undefined;
  for (const c of categories) {
    if (isRestrictive(c.tagType)) restrictive.push(c);
    else if (isPermissive(c.tagType)) {
      groups ??= new Map();
      const g = groups.get(c.tag);
      if (g) g.push(c);
      else groups.set(c.tag, [c]);
    }
  }
  return {
    restrictive: [...pairs(restrictive)],
    permissive: groups ? [...groups.values()].map((g) => [...pairs(g)]) : NO_GROUPS,
  };
}

interface MakeLabelOptions {
  readonly privacyMark?: string | undefined;
  readonly encoded?: Uint8Array | undefined;
}

/** Build a label from policy objects (used by every decoder and by catalogs). */
export function referenceMakeLabel(
  policy: Policy,
  classification: Classification,
  categories: Iterable<Category>,
  options: MakeLabelOptions = {},
): Label {
  if (policy.classifications[classification.index] !== classification)
    throw new InvalidArgumentError("Classification is not from this policy");
  const cats = inPolicyOrder(categories);
  for (const c of cats)
    if (policy.categories[c.index] !== c) throw new InvalidArgumentError("Category is not from this policy");
  return {
    policy,
    classification,
    categories: cats,
    privacyMark: options.privacyMark,
    encoded: options.encoded,
    acdf: acdfData(cats),
  };
}

// validate.ts before membership was tested without a closure.
/** Membership in a label's categories: the list itself when short (no set to build), else a set. */
interface Holds {
  has(c: Category): boolean;
}

function holds(categories: readonly Category[]): Holds {
  if (categories.length > 16) return new Set(categories);
  return { has: (c) => categories.includes(c) };
}

function groupMatches(req: RequiredCategory, has: Holds): boolean {
  let matched = 0;
  for (const entry of req.groups) if (entry.some((c) => has.has(c))) matched++;
  if (req.operation === "all") return matched === req.groups.length;
  if (req.operation === "oneOrMore") return matched >= 1;
  return matched === 1; // onlyOne counts matching entries, not categories
}

/**
 * Whether the label is valid under its policy: the same rules as labelProblems, stopping at the
 * first problem and building no text (every component validates a label per stanza).
 */
export function referenceIsValidLabel(label: Label): boolean {
  const cats = label.categories;
  const cls = label.classification;
  const has = holds(cats);
  for (const req of cls.required) if (!groupMatches(req, has)) return false;
  for (const c of cats) {
    if (c.excludedClasses.has(cls.lacv)) return false;
    for (const ex of c.excludedCategories) for (const x of ex) if (has.has(x)) return false;
    for (const req of c.required) if (!groupMatches(req, has)) return false;
  }
  return true;
}
