// Regression (adversarial review adv55): reader.ts's OID memo kept `buf.slice(from, to)`, a view
// and not a copy when the input is a Buffer. A caller that reused its Buffer for the next label
// changed the remembered octets under the remembered OID: a label of an unknown policy
// (1.3.6.1.4.1.99871.2.1: same length and last octets as harbour's 1.3.6.1.4.1.99999.2.1, so the
// same memo slot) was then read as a harbour label, by that call and every later one.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeEssLabel } from "../../src/formats/ess.js";
import { UnknownPolicyError } from "../../src/errors.js";
import { corpusFile, HARBOUR, registryOf } from "../corpus.js";

const registry = registryOf("harbour-policy.xml");

describe("OID memo and a caller's reused Buffer", () => {
  test("another policy's OID written into the same Buffer is not read as the remembered one", () => {
    const der = corpusFile("harbour-label-crew-cargo.ber");
    const buf = Buffer.alloc(der.length);
    der.copy(buf);
    const oid = Buffer.from([0x2b, 6, 1, 4, 1, 0x86, 0x8d, 0x1f, 2, 1]); // 1.3.6.1.4.1.99999.2.1
    const at = buf.indexOf(oid);
    assert.ok(at > 0);
    assert.equal(decodeEssLabel(buf, registry).policy.id, HARBOUR);
    buf[at + 6] = 0x8c; // 99999 → 99871: the caller's buffer now holds another label
    assert.throws(() => decodeEssLabel(buf, registry), UnknownPolicyError);
    assert.throws(() => decodeEssLabel(new Uint8Array(buf), registry), UnknownPolicyError);
    buf[at + 6] = 0x8d;
    assert.equal(decodeEssLabel(buf, registry).policy.id, HARBOUR);
  });
});
