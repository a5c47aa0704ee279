// Builds the BER/DER files of the project's conformance corpus (test/conformance/*.ber) from its XML
// labels and clearances with the policy package's own DER writer. ACP-145(A) encodings come from
// encodeEssLabel / encodeBerClearance; the MISSI (SDN.801c) label, the SSLPrivileges clearance and the
// hand-made error cases are assembled here from the writer's primitives (docs/spif.md §2).
//   node packages/policy/dist/test/conformance/make-ber.js   rewrites the .ber files
// ber-files.test.ts checks that the committed files equal what this builds.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  bitString,
  bitStringContent,
  integer,
  oid,
  oidContent,
  sequence,
  setOf,
  tlv,
} from "../../src/ber/writer.js";
import type { Category } from "../../src/spif/model.js";
import { encodeBerClearance } from "../../src/formats/clearance-ber.js";
import { encodeEssLabel } from "../../src/formats/ess.js";
import { MISSI_SECURITY_CATEGORIES, SSL_PRIVILEGES } from "../../src/formats/ess-categories.js";
import { parseClearance, parseLabelData } from "../../src/formats/detect.js";
import { PolicyRegistry } from "../../src/registry.js";
import { CORPUS } from "../corpus.js";

/** SecurityCategory ::= SEQUENCE { type [0] IMPLICIT OID, value [1] EXPLICIT ANY } */
const securityCategory = (type: string, value: Uint8Array): Uint8Array =>
  sequence(tlv(0x80, oidContent(type)), tlv(0xa1, value));

/** Categories grouped by tag set OID, in first-seen order. */
function byTagSet(cats: readonly Category[]): Map<string, Category[]> {
  const m = new Map<string, Category[]>();
  for (const c of cats) m.set(c.tagSet.id, [...(m.get(c.tagSet.id) ?? []), c]);
  return m;
}

const lacvs = (cats: readonly Category[], pred: (c: Category) => boolean): number[] =>
  cats.filter(pred).map((c) => c.lacv);

/** MISSI prbacSecurityCategories: SET OF NamedTagSet { tagSetName, SEQUENCE OF SecurityTag }. */
function missiCategories(cats: readonly Category[]): Uint8Array {
  const named: Uint8Array[] = [];
  for (const [tagSetId, group] of byTagSet(cats)) {
    const tags: Uint8Array[] = [];
    const restrictive = lacvs(group, (c) => c.tagType === "restrictive");
    const enumerated = lacvs(group, (c) => c.tagType.startsWith("enumerated"));
    const permissive = lacvs(group, (c) => c.tagType === "permissive");
    const informative = lacvs(group, (c) => c.tagType === "informative");
    // [1] IMPLICIT SEQUENCE { attributeFlags BIT STRING }: restrictive
    if (restrictive.length) tags.push(tlv(0xa1, bitString(restrictive)));
    // [2] IMPLICIT SEQUENCE { attributeList SET OF INTEGER }: enumerated
    if (enumerated.length) tags.push(tlv(0xa2, setOf(enumerated.map(integer))));
    // [6] IMPLICIT SEQUENCE { attributeFlags BIT STRING }: permissive
    if (permissive.length) tags.push(tlv(0xa6, bitString(permissive)));
    // [7] EXPLICIT TagType7Data: informative, as a bit set
    if (informative.length) tags.push(tlv(0xa7, bitString(informative)));
    named.push(sequence(oid(tagSetId), sequence(...tags)));
  }
  return securityCategory(MISSI_SECURITY_CATEGORIES, setOf(named));
}

/** SSLPrivileges: SET OF SEQUENCE { tagSetName, SEQUENCE OF CHOICE { [1] bits, [2] SET OF INTEGER, [6] bits } }. */
function sslPrivileges(cats: readonly Category[]): Uint8Array {
  const privileges: Uint8Array[] = [];
  for (const [tagSetId, group] of byTagSet(cats)) {
    const tags: Uint8Array[] = [];
    const restrictive = lacvs(group, (c) => c.tagType === "restrictive");
    const enumerated = lacvs(group, (c) => c.tagType.startsWith("enumerated"));
    const permissive = lacvs(group, (c) => c.tagType === "permissive");
    // IMPLICIT tags replace the universal tag: [1]/[6] primitive BIT STRING content, [2] constructed SET.
    if (restrictive.length) tags.push(tlv(0x81, bitStringContent(restrictive)));
    if (enumerated.length) tags.push(tlv(0xa2, ...enumerated.map(integer)));
    if (permissive.length) tags.push(tlv(0x86, bitStringContent(permissive)));
    privileges.push(sequence(oid(tagSetId), sequence(...tags)));
  }
  return securityCategory(SSL_PRIVILEGES, setOf(privileges));
}

const HARBOUR = "1.3.6.1.4.1.99999.2.1";

/** Every .ber file of the corpus, by file name. */
export function buildBerFiles(dir: string = CORPUS): Map<string, Uint8Array> {
  const registry = new PolicyRegistry();
  registry.loadString(readFileSync(resolve(dir, "harbour-policy.xml"), "utf8"));
  const label = (f: string) => parseLabelData(readFileSync(resolve(dir, f)), registry);
  const clearance = (f: string) => parseClearance(readFileSync(resolve(dir, f)), registry);
  const out = new Map<string, Uint8Array>();

  const allKinds = label("harbour-label-all-kinds.xml");
  out.set("harbour-label-all-kinds.ber", encodeEssLabel(allKinds, { reencode: true }));
  // MISSI has no syntax for securityAttributes-encoded informative categories: leave COUNTED out.
  const missiCats = allKinds.categories.filter((c) => c.name !== "COUNTED");
  out.set(
    "harbour-label-all-kinds-missi.ber",
    tlv(0x31, integer(allKinds.classification.lacv), oid(HARBOUR), setOf([missiCategories(missiCats)])),
  );
  const crew = label("harbour-label-crew-cargo.xml");
  out.set("harbour-label-crew-cargo.ber", encodeEssLabel(crew, { reencode: true }));
  // ESSSecurityLabel is a SET: a BER encoder may put the policy OID first (not DER order).
  const south = label("harbour-label-4774-no-uri.xml");
  out.set("harbour-label-oid-first.ber", oidFirst(encodeEssLabel(south, { reencode: true })));
  out.set("no-policy-label.ber", tlv(0x31, integer(2)));
  out.set("unknown-policy-label.ber", tlv(0x31, integer(1), oid("1.3.6.1.4.1.99999.2.99")));

  const officer = clearance("harbour-clearance-officer.xml");
  out.set("harbour-clearance-officer.ber", encodeBerClearance(officer));
  out.set(
    "harbour-clearance-officer-sslprivileges.ber",
    sequence(
      oid(HARBOUR),
      bitString(officer.classifications.map((c) => c.lacv)),
      setOf([sslPrivileges(officer.categories)]),
    ),
  );
  return out;
}

/** Re-order a DER ESSSecurityLabel's members so that the policy OID comes first. */
function oidFirst(der: Uint8Array): Uint8Array {
  // The SET's members: INTEGER (0x02), OID (0x06), SET OF categories (0x31); short lengths only here.
  if (der[1]! >= 0x80) throw new Error("oidFirst handles short-form lengths only");
  const members: Uint8Array[] = [];
  let i = 2;
  while (i < der.length) {
    const len = der[i + 1]!;
    members.push(der.subarray(i, i + 2 + len));
    i += 2 + len;
  }
  members.sort((a, b) => (a[0] === 0x06 ? -1 : b[0] === 0x06 ? 1 : 0));
  return tlv(0x31, ...members);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, bytes] of buildBerFiles()) writeFileSync(resolve(CORPUS, name), bytes);
  console.log(`wrote ${[...buildBerFiles().keys()].join(", ")} to ${CORPUS}`);
}
