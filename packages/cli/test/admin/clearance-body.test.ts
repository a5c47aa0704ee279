import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry, encodeBerClearance, makeClearance } from "@cordon/policy";
import { parseClearanceBody } from "../../src/admin/clearance-body.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../deploy/quickstart/demo-policy.xml"),
);
const secret = makeClearance(
  policy,
  policy.classifications.filter((c) => c.name === "SECRET"),
  policy.categories.filter((c) => c.name === "ALPHA"),
);
const der = encodeBerClearance(secret);

test("BER, base64 BER and JSON names give the same clearance", () => {
  const fromDer = parseClearanceBody(der, registry, policy);
  const fromBase64 = parseClearanceBody(Buffer.from(Buffer.from(der).toString("base64")), registry, policy);
  const fromJson = parseClearanceBody(
    Buffer.from(JSON.stringify({ classifications: ["SECRET"], categories: ["ALPHA"] })),
    registry,
    policy,
  );
  for (const r of [fromDer, fromBase64, fromJson]) {
    assert.equal(r.raw.encoding, "ber");
    assert.equal(r.raw.data, Buffer.from(der).toString("base64"));
    assert.equal(r.marking, fromDer.marking);
  }
});

test("bad bodies are 400 CORDON_ADMIN_BAD_REQUEST naming the problem", () => {
  const bad = (body: string, pattern: RegExp) =>
    assert.throws(
      () => parseClearanceBody(Buffer.from(body), registry, policy),
      (e: Error & { code?: string; status?: number }) =>
        e.code === "CORDON_ADMIN_BAD_REQUEST" && e.status === 400 && pattern.test(e.message),
    );
  bad("", /empty body/);
  bad("{", /does not parse/);
  bad(JSON.stringify({ classifications: ["SECRETT"] }), /no classification "SECRETT"/);
  bad(JSON.stringify({ classifications: [] }), /at least one/);
  bad(JSON.stringify({ classifications: ["SECRET"], categories: ["NOPE"] }), /no category "NOPE"/);
  bad("<clearance/>", /not a clearance under the loaded policies/);
  bad("AAAA", /not a clearance/);
});
