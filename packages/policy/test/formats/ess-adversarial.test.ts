// Adversarial tests of the in-place ESS label decoder (ber/flat.ts, formats/ess.ts) and of the ACDF
// permissive groups taken as runs (label.ts): X.690 §8.1.2.2 / §8.3.2 encodings both decoders used
// to accept, a fail-closed guard on the shared TLV table, and a feedback-guided differential fuzz
// against the tree decoder (test/formats/ess-reference.ts) with X.690 oracles of its own: every
// accepted input is strict BER by an independent check, and no strict prefix of it is accepted.
// CORDON_ESS_FUZZ_MS=60000 runs the fuzz for that long (a local run); CI runs a fixed count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { acdf } from "../../src/acdf.js";
import { makeClearance } from "../../src/clearance.js";
import type { Clearance } from "../../src/clearance.js";
import { LimitExceededError, MalformedEncodingError, MissingPolicyError } from "../../src/errors.js";
import { decodeBerClearance } from "../../src/formats/clearance-ber.js";
import {
  ACP145_ENUMERATED_PERMISSIVE,
  ACP145_ENUMERATED_RESTRICTIVE,
  ACP145_INFORMATIVE,
  ACP145_PERMISSIVE,
  ACP145_RESTRICTIVE,
  MISSI_SECURITY_CATEGORIES,
} from "../../src/formats/ess-categories.js";
import { decodeEssLabel } from "../../src/formats/ess.js";
import { prng } from "../../src/fuzz.js";
import { makeLabel } from "../../src/label.js";
import type { Label } from "../../src/label.js";
import { PolicyRegistry } from "../../src/registry.js";
import type { Category, Policy, TagType } from "../../src/spif/model.js";
import { CORPUS, EXTRA_CORPUS, corpusFile, corpusText } from "../corpus.js";
import { readFileSync } from "node:fs";
import { referenceDecodeBerClearance, referenceDecodeEssLabel, referenceMakeLabel } from "./ess-reference.js";

const registry = new PolicyRegistry();
for (const f of ["harbour-policy.xml", "tlp-extended-policy.xml", "tlp-policy.xml"])
  registry.loadString(corpusText(f));
registry.loadString(
  readFileSync(resolve(CORPUS, "../../packages/policy/test/fixtures/shared-category-policy.xml"), "utf8"),
);
if (EXTRA_CORPUS) registry.loadString(readFileSync(resolve(EXTRA_CORPUS, "food-policy-missi.xml"), "utf8"));
const policies: Policy[] = registry.policies();

// ---------------------------------------------------------------------------------------------
// DER/BER building blocks with a chosen length form.

type Form = "short" | "long0" | "indef";

function len(n: number, form: Form): number[] {
  if (form === "long0") return [0x84, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  if (n < 128) return [n];
  if (n < 256) return [0x81, n];
  return [0x82, n >> 8, n & 255];
}

function tlv(id: number, content: number[], form: Form = "short"): number[] {
  if (form === "indef" && id & 0x20) return [id, 0x80, ...content, 0, 0];
  return [id, ...len(content.length, form === "indef" ? "short" : form), ...content];
}

function oidContent(oid: string): number[] {
  const arcs = oid.split(".").map(Number);
  const out: number[] = [];
  const sub = (v: number): void => {
    const b = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  };
  sub(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) sub(a);
  return out;
}

function intContent(v: number): number[] {
  const out: number[] = [];
  for (let x = v; ;) {
    const b = ((x % 256) + 256) % 256;
    out.unshift(b);
    x = Math.floor(x / 256);
    if ((x === 0 && !(b & 0x80)) || (x === -1 && b & 0x80)) break;
  }
  return out;
}

function bitsContent(bits: readonly number[]): number[] {
  if (bits.length === 0) return [0];
  const max = Math.max(...bits);
  const out = new Array<number>(1 + (max >> 3) + 1).fill(0);
  for (const b of bits) out[1 + (b >> 3)]! |= 0x80 >> (b & 7);
  out[0] = 7 - (max & 7);
  return out;
}

// ---------------------------------------------------------------------------------------------
// An independent X.690 check: the structure is BER (tags in their shortest form, lengths inside
// the parent, indefinite only on constructed values, no trailing bytes) and the universal
// INTEGER, BIT STRING and OBJECT IDENTIFIER contents are well formed (§8.3.2, §8.6.2, §8.19.2).

function strictBer(b: Uint8Array): boolean {
  const node = (p: number, limit: number, depth: number): number => {
    if (depth > 40 || p >= limit) return -1;
    const first = b[p++]!;
    let tag = first & 0x1f;
    if (tag === 0x1f) {
      tag = 0;
      if (p >= limit || b[p] === 0x80) return -1;
      for (;;) {
        if (p >= limit) return -1;
        const x = b[p++]!;
        tag = tag * 128 + (x & 0x7f);
        if (!(x & 0x80)) break;
      }
      if (tag < 31) return -1;
    }
    const constructed = (first & 0x20) !== 0;
    if (p >= limit) return -1;
    const l = b[p++]!;
    if (l === 0x80) {
      if (!constructed) return -1;
      for (;;) {
        if (p + 2 > limit) return -1;
        if (b[p] === 0 && b[p + 1] === 0) return p + 2;
        p = node(p, limit, depth + 1);
        if (p < 0) return -1;
      }
    }
    let n = l;
    if (l > 0x80) {
      n = 0;
      for (let i = 0; i < (l & 0x7f); i++) {
        if (p >= limit) return -1;
        n = n * 256 + b[p++]!;
      }
    }
    const end = p + n;
    if (end > limit) return -1;
    if (constructed) {
      while (p < end) {
        p = node(p, end, depth + 1);
        if (p < 0) return -1;
      }
      return end;
    }
    if (first >> 6 === 0 && tag === 2) {
      if (n === 0) return -1;
      if (n > 1 && ((b[p] === 0 && b[p + 1]! < 0x80) || (b[p] === 0xff && b[p + 1]! >= 0x80))) return -1;
    }
    if (first >> 6 === 0 && tag === 3) {
      if (n === 0 || b[p]! > 7 || (n === 1 && b[p] !== 0)) return -1;
      if (n > 1 && (b[end - 1]! & ((1 << b[p]!) - 1)) !== 0) return -1;
    }
    if (first >> 6 === 0 && tag === 6) {
      if (n === 0 || b[end - 1]! & 0x80) return -1;
      for (let i = p; i < end; i++) if (b[i] === 0x80 && (i === p || !(b[i - 1]! & 0x80))) return -1;
    }
    return end;
  };
  return b.length > 0 && node(0, b.length, 1) === b.length;
}

// ---------------------------------------------------------------------------------------------
// Comparison of the two decoders.

type Outcome<T> = { value: T } | { error: unknown };

function run<T>(f: () => T): Outcome<T> {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function sameLabel(a: Label, b: Label, what: string): void {
  assert.equal(a.policy, b.policy, what);
  assert.equal(a.classification, b.classification, what);
  assert.deepEqual(
    a.categories.map((c) => c.index),
    b.categories.map((c) => c.index),
    what,
  );
  assert.equal(a.privacyMark, b.privacyMark, what);
  assert.deepEqual([...a.acdf.restrictive], [...b.acdf.restrictive], what);
  assert.deepEqual(
    a.acdf.permissive.map((p) => [...p]),
    b.acdf.permissive.map((p) => [...p]),
    what,
  );
}

function errorKey(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}:${e.message}` : String(e);
}

const stats = { inputs: 0, labels: 0, clearances: 0, strictRefusedPrefixes: 0, signatures: 0 };

/** Both decoders on `bytes`; the outcome's signature (feedback for the fuzz). */
function compare(bytes: Uint8Array): string {
  stats.inputs++;
  const what = hex(bytes);
  const l1 = run(() => decodeEssLabel(bytes, registry));
  const l0 = run(() => referenceDecodeEssLabel(bytes, registry));
  assert.equal("value" in l1, "value" in l0, `label accepted by one decoder only: ${what}`);
  let sig: string;
  if ("value" in l1 && "value" in l0) {
    sameLabel(l1.value, l0.value, what);
    assert.ok(strictBer(bytes), `label accepted but not strict BER: ${what}`);
    stats.labels++;
    sig = `L${l1.value.classification.index}:${l1.value.categories.map((c) => c.index).join(",")}`;
  } else {
    const e1 = (l1 as { error: unknown }).error;
    const e0 = (l0 as { error: unknown }).error;
    assert.equal(errorKey(e1), errorKey(e0), what);
    sig = `E${errorKey(e1)}`;
  }
  const c1 = run(() => decodeBerClearance(bytes, registry));
  const c0 = run(() => referenceDecodeBerClearance(bytes, registry));
  assert.equal("value" in c1, "value" in c0, `clearance accepted by one decoder only: ${what}`);
  if ("value" in c1 && "value" in c0) {
    assert.deepEqual(
      c1.value.categories.map((c) => c.index),
      c0.value.categories.map((c) => c.index),
      what,
    );
    assert.deepEqual([...c1.value.catBits], [...c0.value.catBits], what);
    assert.ok(strictBer(bytes), `clearance accepted but not strict BER: ${what}`);
    stats.clearances++;
    sig += "|C";
  } else {
    assert.equal(
      errorKey((c1 as { error: unknown }).error),
      errorKey((c0 as { error: unknown }).error),
      what,
    );
  }
  return sig;
}

/** An accepted input: no strict prefix of it may be accepted (X.690: one value, then nothing). */
function prefixesRefused(bytes: Uint8Array): void {
  for (let n = 0; n < bytes.length; n++) {
    const p = bytes.subarray(0, n);
    assert.ok("error" in run(() => decodeEssLabel(p, registry)), `prefix ${n} accepted: ${hex(bytes)}`);
    assert.ok("error" in run(() => decodeBerClearance(p, registry)), `prefix ${n} accepted: ${hex(bytes)}`);
    stats.strictRefusedPrefixes++;
  }
}

// ---------------------------------------------------------------------------------------------
// A generator of labels over the registry's policies in every category syntax the decoder reads.

const TYPE_OID: Record<TagType, string> = {
  restrictive: ACP145_RESTRICTIVE,
  permissive: ACP145_PERMISSIVE,
  enumeratedPermissive: ACP145_ENUMERATED_PERMISSIVE,
  enumeratedRestrictive: ACP145_ENUMERATED_RESTRICTIVE,
  informative: ACP145_INFORMATIVE,
};

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

function genLabel(rnd: () => number, policy: Policy): number[] {
  const form = (): Form => (rnd() < 0.7 ? "short" : rnd() < 0.5 ? "long0" : "indef");
  const lacvs = (cs: readonly Category[]): number[] => {
    const out = cs.filter(() => rnd() < 0.4).map((c) => c.lacv);
    if (rnd() < 0.1) out.push(Math.floor(rnd() * 40)); // perhaps unknown
    return out;
  };
  const attrs = (type: TagType, vals: number[]): number[] =>
    type === "restrictive" || type === "permissive" || (type === "informative" && rnd() < 0.5)
      ? tlv(0x03, bitsContent(vals.filter((v) => v < 512)))
      : tlv(
          0x31,
          vals.flatMap((v) => tlv(0x02, intContent(v))),
          form(),
        );
  const cats: number[][] = [];
  for (const ts of policy.tagSets)
    for (const tag of ts.tags) {
      if (rnd() < 0.4) continue;
      const vals = lacvs(tag.categories);
      if (rnd() < 0.75) {
        const v = tlv(0x30, [...tlv(0x06, oidContent(ts.id)), ...attrs(tag.tagType, vals)], form());
        cats.push(
          tlv(0x30, [...tlv(0x80, oidContent(TYPE_OID[tag.tagType])), ...tlv(0xa1, v, form())], form()),
        );
      } else {
        // SDN.801c MISSI: SET OF NamedTagSet { OID, SEQUENCE OF SecurityTag }.
        const n = {
          restrictive: 1,
          permissive: 6,
          enumeratedPermissive: 2,
          enumeratedRestrictive: 2,
          informative: 7,
        }[tag.tagType];
        const inner =
          n === 2
            ? tlv(
                0x31,
                vals.flatMap((v) => tlv(0x02, intContent(v))),
              )
            : attrs(tag.tagType, vals);
        const level = n !== 7 && rnd() < 0.3 ? tlv(0x02, intContent(Math.floor(rnd() * 3))) : [];
        const st = tlv(0xa0 | n, [...level, ...inner], form());
        const nts = tlv(0x30, [...tlv(0x06, oidContent(ts.id)), ...tlv(0x30, st)], form());
        cats.push(
          tlv(0x30, [
            ...tlv(0x80, oidContent(MISSI_SECURITY_CATEGORIES)),
            ...tlv(0xa1, tlv(0x31, nts), form()),
          ]),
        );
      }
    }
  const members: number[][] = [
    tlv(0x06, oidContent(policy.id)),
    tlv(0x02, intContent(rnd() < 0.9 ? pick(rnd, policy.classifications).lacv : Math.floor(rnd() * 9) - 2)),
  ];
  if (rnd() < 0.2) members.push(tlv(rnd() < 0.5 ? 0x13 : 0x0c, [...Buffer.from("MARK")]));
  if (cats.length || rnd() < 0.1) members.push(tlv(0x31, cats.flat(), form()));
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [members[i], members[j]] = [members[j]!, members[i]!];
  }
  return tlv(0x31, members.flat(), form());
}

/** RFC 5755 §4.4.6 Clearance (untagged or RFC 3281 tagged), ACP-145(A) or SSLPrivileges categories. */
function genClearance(rnd: () => number, policy: Policy): number[] {
  const form = (): Form => (rnd() < 0.7 ? "short" : rnd() < 0.5 ? "long0" : "indef");
  const tagged = rnd() < 0.4;
  const members: number[][] = [tlv(tagged ? 0x80 : 0x06, oidContent(policy.id))];
  if (rnd() < 0.8) {
    const bits = policy.classifications.filter(() => rnd() < 0.5).map((c) => c.lacv);
    if (rnd() < 0.1) bits.push(Math.floor(rnd() * 12));
    members.push(tlv(tagged ? 0x81 : 0x03, bitsContent(bits.filter((b) => b < 256))));
  }
  const cats: number[][] = [];
  for (const ts of policy.tagSets) {
    if (rnd() < 0.3) continue;
    if (rnd() < 0.6) {
      for (const tag of ts.tags) {
        if (rnd() < 0.3) continue;
        const vals = tag.categories.filter(() => rnd() < 0.5).map((c) => c.lacv);
        const bitsForm = tag.tagType === "restrictive" || tag.tagType === "permissive" || rnd() < 0.2;
        const attrs = bitsForm
          ? tlv(0x03, bitsContent(vals.filter((v) => v < 512)))
          : tlv(
              0x31,
              vals.flatMap((v) => tlv(0x02, intContent(v))),
              form(),
            );
        const v = tlv(0x30, [...tlv(0x06, oidContent(ts.id)), ...attrs], form());
        cats.push(tlv(0x30, [...tlv(0x80, oidContent(TYPE_OID[tag.tagType])), ...tlv(0xa1, v, form())]));
      }
    } else {
      // SSLPrivileges: SET OF SEQUENCE { tagSetName, SEQUENCE OF [1]/[2]/[6] IMPLICIT }.
      const choices: number[] = [];
      for (const tag of ts.tags) {
        const vals = tag.categories.filter(() => rnd() < 0.5).map((c) => c.lacv);
        if (tag.tagType === "restrictive") choices.push(...tlv(0x81, bitsContent(vals)));
        else if (tag.tagType === "permissive") choices.push(...tlv(0x86, bitsContent(vals)));
        else
          choices.push(
            ...tlv(
              0xa2,
              vals.flatMap((v) => tlv(0x02, intContent(v))),
              form(),
            ),
          );
      }
      const priv = tlv(0x30, [...tlv(0x06, oidContent(ts.id)), ...tlv(0x30, choices, form())]);
      cats.push(
        tlv(0x30, [...tlv(0x80, oidContent("2.16.840.1.101.2.1.8.2")), ...tlv(0xa1, tlv(0x31, priv))]),
      );
    }
  }
  if (cats.length || rnd() < 0.1) members.push(tlv(tagged ? 0xa2 : 0x31, cats.flat(), form()));
  return tlv(0x30, members.flat(), form());
}

/** One small change: the kinds an attacker would try at a TLV boundary or in content. */
function change(b: number[], rnd: () => number): number[] {
  const out = [...b];
  const at = Math.floor(rnd() * out.length);
  switch (Math.floor(rnd() * 9)) {
    case 0:
      out[at] = out[at]! ^ (1 << Math.floor(rnd() * 8));
      break;
    case 1:
      out[at] = pick(rnd, [0x00, 0x80, 0xff, 0x1f, 0x7f, 0x81, 0x84, 0x20, 0x3f]);
      break;
    case 2:
      out.splice(at, 0, pick(rnd, [0x00, 0x80, 0xff, 0x1f]));
      break;
    case 3:
      out.splice(at, 1);
      break;
    case 4:
      out.push(...[0, 0, 0x02, 0x01, 0x05].slice(0, 1 + Math.floor(rnd() * 5)));
      break;
    case 5:
      out.splice(at, 0, 0x1f, pick(rnd, [0x02, 0x03, 0x06, 0x11, 0x10, 0x1f, 0x80, 0x81]));
      break;
    case 6:
      out.splice(at, 0, 0x02, 0x02, pick(rnd, [0x00, 0xff]), Math.floor(rnd() * 256));
      break;
    case 7:
      out[at] = out[at]! ^ 0x20; // constructed <-> primitive
      break;
    default:
      out.length = at;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

test("X.690 §8.1.2.2: a tag number below 31 in the high-tag-number form is refused", () => {
  const label = [...corpusFile("harbour-label-crew-cargo.ber")];
  // 31 7a | 02 01 02 | 06 0a <policy> | 31 69 …: the policy OID's identifier as 1f 06.
  assert.deepEqual(label.slice(0, 5), [0x31, 0x7a, 0x02, 0x01, 0x02]);
  const highOid = Uint8Array.from([0x31, 0x7b, 0x02, 0x01, 0x02, 0x1f, 0x06, ...label.slice(6)]);
  assert.throws(() => decodeEssLabel(highOid, registry), MalformedEncodingError);
  const highSet = Uint8Array.from([0x3f, 0x11, ...label.slice(1)]);
  assert.throws(() => decodeEssLabel(highSet, registry), MalformedEncodingError);
  // Tag 31 and above in that form are still read.
  assert.ok(strictBer(Uint8Array.from([0x1f, 0x1f, 0x00])));
});

test("X.690 §8.3.2: an INTEGER with a redundant leading 00 or ff octet is refused", () => {
  const label = [...corpusFile("harbour-label-crew-cargo.ber")];
  const padded = Uint8Array.from([0x31, 0x7b, 0x02, 0x02, 0x00, 0x02, ...label.slice(5)]);
  assert.equal(decodeEssLabel(Uint8Array.from(label), registry).classification.name, "CREW");
  assert.throws(() => decodeEssLabel(padded, registry), MalformedEncodingError);
  const negative = Uint8Array.from([0x31, 0x7b, 0x02, 0x02, 0xff, 0x82, ...label.slice(5)]);
  assert.throws(() => decodeEssLabel(negative, registry), MalformedEncodingError);
  // An enumerated category value (SET OF INTEGER) likewise, before any lookup.
  const harbour = registry.require("1.3.6.1.4.1.99999.2.1");
  const cargo = harbour.tagSets.find((ts) => ts.tags.some((t) => t.tagType === "enumeratedRestrictive"))!;
  const sc = (ints: number[][]): Uint8Array => {
    const v = tlv(0x30, [
      ...tlv(0x06, oidContent(cargo.id)),
      ...tlv(
        0x31,
        ints.flatMap((i) => tlv(0x02, i)),
      ),
    ]);
    const cat = tlv(0x30, [...tlv(0x80, oidContent(ACP145_ENUMERATED_RESTRICTIVE)), ...tlv(0xa1, v)]);
    return Uint8Array.from(
      tlv(0x31, [...tlv(0x02, [2]), ...tlv(0x06, oidContent(harbour.id)), ...tlv(0x31, cat)]),
    );
  };
  const lacv = cargo.byTypeLacv.get("enumeratedRestrictive")!.keys().next().value!;
  assert.equal(decodeEssLabel(sc([intContent(lacv)]), registry).categories.length, 1);
  assert.throws(() => decodeEssLabel(sc([[0x00, ...intContent(lacv)]]), registry), MalformedEncodingError);
  // Minimal forms that look padded are kept: 00 80 is 128 (here a classification with no policy).
  assert.throws(
    () => decodeEssLabel(Uint8Array.from([0x31, 0x04, 0x02, 0x02, 0x00, 0x80]), registry),
    MissingPolicyError,
  );
});

test("SDN.801c MISSI: a SecurityTag level that is no INTEGER (02 00) is refused", () => {
  // Found by the fuzz below: the level was checked for its tag only and never read.
  const harbour = registry.require("1.3.6.1.4.1.99999.2.1");
  const hazard = harbour.tagSets.find((ts) => ts.tags.some((t) => t.tagType === "restrictive"))!;
  const explosive = hazard.byTypeLacv.get("restrictive")!.values().next().value!;
  const missi = (level: number[]): Uint8Array => {
    const st = tlv(0xa1, [...level, ...tlv(0x03, bitsContent([explosive.lacv]))]);
    const nts = tlv(0x30, [...tlv(0x06, oidContent(hazard.id)), ...tlv(0x30, st)]);
    const cat = tlv(0x30, [
      ...tlv(0x80, oidContent(MISSI_SECURITY_CATEGORIES)),
      ...tlv(0xa1, tlv(0x31, nts)),
    ]);
    return Uint8Array.from(
      tlv(0x31, [...tlv(0x02, [2]), ...tlv(0x06, oidContent(harbour.id)), ...tlv(0x31, cat)]),
    );
  };
  assert.deepEqual(decodeEssLabel(missi([]), registry).categories, [explosive]);
  assert.deepEqual(decodeEssLabel(missi([0x02, 0x01, 0x03]), registry).categories, [explosive]);
  assert.throws(() => decodeEssLabel(missi([0x02, 0x00]), registry), MalformedEncodingError);
  assert.throws(() => decodeEssLabel(missi([0x02, 0x02, 0x00, 0x03]), registry), MalformedEncodingError);
});

test("the shared TLV table refuses, never drops a TLV, when the limits are no numbers", () => {
  // A table grown large by a big value is let go by the next small one: 64 entries remain.
  const big = new Uint8Array(40000);
  for (let i = 0; i < big.length; i += 2) big[i] = 0x05; // 19,998 NULLs…
  [big[0], big[1]] = [0x30, 0x80]; // …in one indefinite SEQUENCE, then end-of-contents.
  big[big.length - 2] = 0;
  assert.throws(() => decodeBerClearance(big, registry, { maxBytes: 1e6, maxDepth: 16, maxNodes: 1e6 }));
  assert.throws(() => decodeEssLabel(Uint8Array.of(0x31, 0x00), registry));
  // A label whose restrictive category is past the 64th TLV, decoded with maxNodes NaN (no node
  // limit, and no table sized from it): refused as too big, never a label without that category.
  const harbour = registry.require("1.3.6.1.4.1.99999.2.1");
  const hazard = harbour.tagSets.find((ts) => ts.tags.some((t) => t.tagType === "restrictive"))!;
  const explosive = hazard.byTypeLacv.get("restrictive")!.values().next().value!;
  const notes = harbour.tagSets.find((ts) => ts.tags.some((t) => t.tagType === "informative"))!;
  const noteLacv = notes.byTypeLacv.get("informative")!.keys().next().value!;
  const cat = (type: string, ts: string, bits: number[]): number[] =>
    tlv(0x30, [
      ...tlv(0x80, oidContent(type)),
      ...tlv(0xa1, tlv(0x30, [...tlv(0x06, oidContent(ts)), ...tlv(0x03, bitsContent(bits))])),
    ]);
  const filler = Array.from({ length: 16 }, () => cat(ACP145_INFORMATIVE, notes.id, [noteLacv])).flat();
  const bytes = Uint8Array.from(
    tlv(0x31, [
      ...tlv(0x02, [2]),
      ...tlv(0x06, oidContent(harbour.id)),
      ...tlv(0x31, [...filler, ...cat(ACP145_RESTRICTIVE, hazard.id, [explosive.lacv])]),
    ]),
  );
  assert.ok(decodeEssLabel(bytes, registry).categories.includes(explosive));
  assert.throws(() => decodeBerClearance(big, registry, { maxBytes: 1e6, maxDepth: 16, maxNodes: 1e6 }));
  assert.throws(() => decodeEssLabel(Uint8Array.of(0x31, 0x00), registry));
  const nan = { maxBytes: 65536, maxDepth: 16, maxNodes: Number.NaN };
  assert.throws(() => decodeEssLabel(bytes, registry, nan), LimitExceededError);
});

test("differential fuzz: generated, changed and truncated labels decode alike, strictly, prefix-free", () => {
  const budget = Number(process.env["CORDON_ESS_FUZZ_MS"] ?? 0);
  const seed = budget ? Number(process.env["CORDON_ESS_FUZZ_SEED"] ?? Date.now() >>> 0) : 2634;
  const rnd = prng(seed);
  const seeds: number[][] = [];
  for (const f of readdirSync(CORPUS).filter((f) => f.endsWith(".ber"))) seeds.push([...corpusFile(f)]);
  if (EXTRA_CORPUS)
    for (const f of readdirSync(EXTRA_CORPUS).filter((f) => f.endsWith(".ber")))
      seeds.push([...readFileSync(resolve(EXTRA_CORPUS, f))]);
  const pool: number[][] = [...seeds];
  const seen = new Set<string>();
  let prefixChecks = budget ? Number.MAX_SAFE_INTEGER : 60;
  const keep = (b: number[]): void => {
    const bytes = Uint8Array.from(b);
    const sig = compare(bytes);
    if (!seen.has(sig)) {
      seen.add(sig);
      pool.push(b);
      if ((sig.startsWith("L") || sig.includes("|C")) && prefixChecks-- > 0) prefixesRefused(bytes);
    }
  };
  // Every seed: each byte changed to each interesting value, and each truncation.
  for (const s of seeds) {
    for (let i = 0; i < s.length; i++)
      for (const v of [0x00, 0x1f, 0x80, 0x84, 0xff, s[i]! ^ 0x20]) {
        const b = [...s];
        b[i] = v;
        keep(b);
      }
    prefixesRefused(Uint8Array.from(s));
  }
  const start = Date.now();
  const iterations = budget ? Number.MAX_SAFE_INTEGER : 3000;
  for (let i = 0; i < iterations && (!budget || Date.now() - start < budget); i++) {
    let b: number[];
    if (i % 3 === 0) b = (rnd() < 0.6 ? genLabel : genClearance)(rnd, pick(rnd, policies));
    else b = pick(rnd, pool);
    const changes = i % 3 === 0 ? (rnd() < 0.5 ? 0 : 1) : 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < changes && b.length; k++) b = change(b, rnd);
    keep(b);
  }
  stats.signatures = seen.size;
  if (budget) console.log(JSON.stringify({ seed, ms: Date.now() - start, ...stats }));
  assert.ok(stats.labels > 200, JSON.stringify(stats));
  assert.ok(stats.clearances > 100, JSON.stringify(stats));
});

// ---------------------------------------------------------------------------------------------
// ACDF: permissive groups as runs against the grouping by search, on policies whose categories
// are numbered in other orders than a SPIF gives (tags interleaved, reversed, shuffled).

/** A copy of `policy` whose categories are numbered in the order `order` gives them. */
function renumbered(policy: Policy, order: (cs: Category[]) => Category[]): Policy {
  const cats = order([...policy.categories]).map((c, index) => ({ ...c, index }));
  return { ...policy, categories: cats };
}

function interleave(cs: Category[]): Category[] {
  const byTag = new Map<unknown, Category[]>();
  for (const c of cs) byTag.set(c.tag, [...(byTag.get(c.tag) ?? []), c]);
  const lists = [...byTag.values()];
  const out: Category[] = [];
  for (let i = 0; out.length < cs.length; i++) for (const l of lists) if (l[i]) out.push(l[i]!);
  return out;
}

const TYPES: readonly TagType[] = [
  "restrictive",
  "permissive",
  "enumeratedRestrictive",
  "enumeratedPermissive",
  "informative",
];

test("ACDF: a restrictive category inside a permissive tag's run does not join its group", () => {
  // Harbour's Berth tag (permissive: NORTH, SOUTH, EAST) with SOUTH made restrictive in a
  // hand-made Policy: the run NORTH, SOUTH of one tag was one group, so holding SOUTH (needed as
  // a restrictive category anyway) granted the permissive group NORTH alone asks for.
  const base = registry.require("1.3.6.1.4.1.99999.2.1");
  const categories = base.categories.map((c) =>
    c.tag.name === "Berth" && c.name === "SOUTH" ? { ...c, tagType: "restrictive" as const } : c,
  );
  const policy: Policy = { ...base, categories };
  const north = categories.find((c) => c.tag.name === "Berth" && c.name === "NORTH")!;
  const south = categories.find((c) => c.tag.name === "Berth" && c.name === "SOUTH")!;
  const cls = policy.classifications[0]!;
  const holdsSouth = makeClearance(policy, policy.classifications, [south]);
  assert.equal(acdf(referenceMakeLabel(policy, cls, [north, south]), holdsSouth).granted, false);
  assert.deepEqual(acdf(makeLabel(policy, cls, [north, south]), holdsSouth), {
    granted: false,
    reason: "CORDON_ACDF_PERMISSIVE_CATEGORY",
  });
});

test("ACDF: groups as runs decide as the grouping by search, on any category numbering", () => {
  const rnd = prng(5755);
  let decisions = 0;
  let granted = 0;
  for (const base of policies) {
    const orders = [
      (cs: Category[]): Category[] => cs,
      interleave,
      (cs: Category[]): Category[] => cs.reverse(),
      (cs: Category[]): Category[] => cs.sort(() => rnd() - 0.5),
      (cs: Category[]): Category[] => [...cs.filter((_, i) => i % 2), ...cs.filter((_, i) => !(i % 2))],
      // Policy order kept, but categories of one tag given other tag types (no SPIF does that;
      // the Policy interface allows it).
      (cs: Category[]): Category[] => cs.map((c) => (rnd() < 0.3 ? { ...c, tagType: pick(rnd, TYPES) } : c)),
    ];
    for (const order of orders) {
      const policy = renumbered(base, order);
      // Wide enough that some categories sit in the second word of a bitset.
      for (let i = 0; i < 300; i++) {
        const some = policy.categories.filter(() => rnd() < 0.35);
        const cls = pick(rnd, policy.classifications);
        const a = makeLabel(policy, cls, some);
        const b = referenceMakeLabel(policy, cls, some);
        assert.deepEqual(
          a.acdf.permissive.map((p) => [...p]),
          b.acdf.permissive.map((p) => [...p]),
        );
        assert.deepEqual([...a.acdf.restrictive], [...b.acdf.restrictive]);
        const held: Clearance = makeClearance(
          policy,
          policy.classifications,
          policy.categories.filter(() => rnd() < 0.6),
        );
        const da = acdf(a, held);
        assert.deepEqual(da, acdf(b, held));
        decisions++;
        if (da.granted) granted++;
      }
    }
  }
  assert.ok(decisions > 1000 && granted > 50, `${granted} of ${decisions} granted`);
});

/** A policy of `tags` permissive tags of one category each (one tag set). */
function manyTags(tags: number): Policy {
  let body = "";
  for (let i = 0; i < tags; i++)
    body += `<securityCategoryTag name="T${i}" tagType="permissive"><tagCategory name="C${i}" lacv="${i}"/></securityCategoryTag>`;
  const r = new PolicyRegistry();
  return r.loadString(
    `<SPIF xmlns="http://www.xmlspif.org/spif" rbacId="${ACP145_RESTRICTIVE.slice(0, -2)}" privilegeId="${ACP145_RESTRICTIVE.slice(0, -2)}">` +
      `<securityPolicyId name="Many" id="1.3.6.1.4.1.99999.41.1"/><securityClassifications>` +
      `<securityClassification name="U" lacv="1" hierarchy="1"/></securityClassifications><securityCategoryTagSets>` +
      `<securityCategoryTagSet name="S" id="1.3.6.1.4.1.99999.41.1.1">${body}</securityCategoryTagSet>` +
      `</securityCategoryTagSets></SPIF>`,
  );
}

/**
 * `policy` with categories whose tag, tag type and index are read through getters that count the
 * reads: a deterministic measure of the work per label (no timing on a loaded machine).
 */
function counted(policy: Policy): { policy: Policy; reads: { n: number } } {
  const reads = { n: 0 };
  const categories = policy.categories.map((c) => {
    const copy = { ...c };
    for (const key of ["tag", "tagType", "index"] as const) {
      const value = c[key];
      Object.defineProperty(copy, key, {
        get: () => {
          reads.n++;
          return value;
        },
      });
    }
    return copy;
  });
  return { policy: { ...policy, categories }, reads };
}

/** Reads of a category's fields per category, making a label that names every category. */
function readsPerCategory(tags: number): number {
  const { policy, reads } = counted(manyTags(tags));
  const cls = policy.classifications[0]!;
  reads.n = 0;
  makeLabel(policy, cls, policy.categories);
  return reads.n / policy.categories.length;
}

test("ACDF data are linear in the label: every category of 3000 permissive tags", (t) => {
  // The runs were found by a search from the list's start per tag: quadratic (a label naming
  // every category of 2,000 one-category permissive tags took 20-26 ms, against 1 ms before).
  const small = readsPerCategory(100);
  const large = readsPerCategory(3000);
  t.diagnostic(`${large} reads a category at 3000 tags, ${small} at 100`);
  assert.ok(large < 20 && large < small * 2, `${large} reads a category at 3000 tags, ${small} at 100`);
});
