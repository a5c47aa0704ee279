// The policy routes (src/admin/routes/policies.ts) through the pure admin handler, on a real
// environment and reloader: the view, the upload (validated before anything is replaced), the
// label tester (the ACDF and the rules' refusal reasons).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadPolicy } from "@cordon/policy";
import { policyView } from "../../../src/admin/routes/policies.js";
import { DEMO_POLICY, errorCode, fixture, type Fixture } from "./people-fixture.js";

const who = { user: "officer", role: "admin" as const };
const demo = readFileSync(DEMO_POLICY, "utf8");

describe("policy routes", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => f.close());

  test("GET /policies: classifications with their marking and colours, tag sets and category names", async () => {
    const r = await f.send("GET", "/policies");
    assert.equal(r.status, 200);
    assert.equal(r.json.governing, "1.3.6.1.4.1.99999.1.1");
    const [p] = r.json.policies as {
      name: string;
      governing: boolean;
      classifications: { name: string; marking: { text: string; fg?: string; bg?: string } }[];
      tagSets: { name: string; tags: { tagType: string; categories: { name: string; ref: string }[] }[] }[];
    }[];
    assert.equal(p?.name, "Cordon Demo");
    assert.equal(p?.governing, true);
    assert.deepEqual(
      p?.classifications.map((c) => [c.name, c.marking.text, c.marking.bg, c.marking.fg]),
      [
        ["UNCLASSIFIED", "UNCLASSIFIED", "green", "white"],
        ["RESTRICTED", "RESTRICTED", "blue", "white"],
        ["CONFIDENTIAL", "CONFIDENTIAL", "navy", "white"],
        ["SECRET", "SECRET", "red", "white"],
        ["TOP SECRET", "TOP SECRET", "orange", "black"],
      ],
    );
    assert.deepEqual(
      p?.tagSets.map((t) => [t.name, t.tags[0]?.tagType, t.tags[0]?.categories.map((c) => c.ref)]),
      [
        ["Compartments", "restrictive", ["ALPHA", "BRAVO"]],
        ["Releasability", "permissive", ["GBR", "USA", "FRA"]],
      ],
    );
  });

  test("a bad SPIF is refused with the reason; the file and the loaded policy stay as they were; the refusal is audited", async () => {
    const file = join(f.dir, "policy.xml");
    const generation = f.env.registry.generation;
    const governing = f.env.governing;
    for (const bad of [demo.slice(0, 300), "<SPIF xmlns='http://www.xmlspif.org/spif'/>", "<not-a-spif/>"]) {
      const r = await f.send("POST", "/policies", bad, "application/xml", who);
      assert.equal(r.status, 422, bad.slice(0, 60));
      assert.equal(errorCode(r), "CORDON_POLICY_UPLOAD_REJECTED");
      assert.match((r.json.error as { message: string }).message, /^the uploaded policy does not load: /u);
      assert.ok(r.body.length < 1000);
    }
    assert.equal(readFileSync(file, "utf8"), demo);
    assert.equal(f.env.registry.generation, generation);
    assert.equal(f.env.governing, governing);
    const record = f.audit.records.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual(
      [record.action, record.decision, record.actor, record.detail],
      ["policy-upload", "deny", "officer", "CORDON_POLICY_UPLOAD_REJECTED"],
    );
    assert.equal(
      record.target,
      `sha256:${createHash("sha256").update("<not-a-spif/>", "utf8").digest("hex")}`,
    );
    // A policy no configured file holds: refused, nothing written.
    const other = demo.replace('id="1.3.6.1.4.1.99999.1.1"', 'id="1.3.6.1.4.1.99999.7.7"');
    const r = await f.send("POST", "/policies", other, "application/xml", who);
    assert.equal(r.status, 422);
    assert.match(
      (r.json.error as { message: string }).message,
      /no configured policy file holds policy 1\.3\.6\.1\.4\.1\.99999\.7\.7/u,
    );
    assert.equal(readFileSync(file, "utf8"), demo);
    assert.equal((await f.send("POST", "/policies", demo, "text/plain")).status, 415);
  });

  test("a good SPIF replaces its file and is in force at once (new colour); audited with who", async () => {
    const recoloured = demo.replace(
      'name="SECRET" lacv="4" hierarchy="4" color="red"',
      'name="SECRET" lacv="4" hierarchy="4" color="#800080"',
    );
    const r = await f.send("POST", "/policies", recoloured, "application/xml", who);
    assert.equal(r.status, 200, r.body);
    assert.equal(readFileSync(join(f.dir, "policy.xml"), "utf8"), recoloured);
    const view = await f.send("GET", "/policies");
    const secret = (
      view.json.policies as { classifications: { name: string; marking: { bg?: string } }[] }[]
    )[0]?.classifications.find((c) => c.name === "SECRET");
    assert.equal(secret?.marking.bg, "#800080");
    const record = f.audit.records.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual([record.action, record.decision, record.actor], ["policy-upload", "change", "officer"]);
    // Which policy, and which document exactly (adv16: the record said only "generation N" — not
    // which policy was replaced nor by what, so no record tied a policy in force to its upload).
    const digest = createHash("sha256").update(recoloured, "utf8").digest("hex");
    assert.deepEqual([record.policy, record.target], ["1.3.6.1.4.1.99999.1.1", `sha256:${digest}`]);
    // Reload through the API, audited too.
    const reload = await f.send("POST", "/policies/reload", "", "application/json", who);
    assert.equal(reload.status, 200);
    assert.equal((f.audit.records.at(-1) as unknown as { action: string }).action, "policy-reload");
  });

  test("label tester: grant and deny with the ACDF's reason and why; refusal reasons of the rules for bad labels", async () => {
    const test = (label: unknown, clearance: unknown) =>
      f.send("POST", "/policies/test", JSON.stringify({ label, clearance }));
    const bob = {
      classifications: ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"],
      categories: ["GBR"],
    };
    const grant = await test({ classification: "SECRET", categories: ["GBR"] }, bob);
    assert.equal(grant.status, 200);
    assert.equal(grant.json.decision, "grant");
    assert.equal(grant.json.reason, "CORDON_ACDF_GRANTED");
    assert.equal((grant.json.label as { marking: { text: string } }).marking.text, "SECRET REL TO GBR");
    const cls = await test({ classification: "TOP SECRET" }, bob);
    assert.deepEqual([cls.json.decision, cls.json.reason], ["deny", "CORDON_ACDF_CLASSIFICATION"]);
    assert.match(String(cls.json.why), /does not hold the label's classification/u);
    const restrictive = await test({ classification: "SECRET", categories: ["ALPHA"] }, bob);
    assert.equal(restrictive.json.reason, "CORDON_ACDF_RESTRICTIVE_CATEGORY");
    const permissive = await test({ classification: "SECRET", categories: ["USA"] }, bob);
    assert.equal(permissive.json.reason, "CORDON_ACDF_PERMISSIVE_CATEGORY");
    // An invalid label (ALPHA excludes UNCLASSIFIED): the rules' label-invalid, before any ACDF.
    const invalid = await test({ classification: "UNCLASSIFIED", categories: ["ALPHA"] }, bob);
    assert.deepEqual([invalid.json.decision, invalid.json.reason], ["deny", "label-invalid"]);
    assert.equal(invalid.json.why, "the security label is not valid under its policy");
    // A pasted <securitylabel/> that does not decode.
    const malformed = await test(
      "<securitylabel xmlns='urn:xmpp:sec-label:0'><label>garbage</label></securitylabel>",
      bob,
    );
    assert.deepEqual([malformed.json.decision, malformed.json.reason], ["deny", "label-malformed"]);
    // A user's clearance, by JID.
    await f.send("PUT", "/clearances/bob%40example.test", JSON.stringify(bob));
    const byJid = await test({ classification: "SECRET", categories: ["GBR"] }, { jid: "bob@example.test" });
    assert.equal(byJid.json.decision, "grant");
    assert.equal((await test({ classification: "NOPE" }, bob)).status, 400);
    // A viewer may test (it changes nothing), but not upload.
    const viewer = { user: "vera", role: "viewer" as const };
    const asViewer = await f.send(
      "POST",
      "/policies/test",
      JSON.stringify({ label: { classification: "SECRET" }, clearance: bob }),
      "application/json",
      viewer,
    );
    assert.equal(asViewer.status, 200);
    assert.equal((await f.send("POST", "/policies", demo, "application/xml", viewer)).status, 403);
    assert.equal((await test({ classification: "SECRET" }, { jid: "nobody@example.test" })).status, 404);
  });

  test("the view of a policy with many categories is made in linear time", async () => {
    // GET /policies (sent by the Clearances page whenever it opens) asked, for each category,
    // every category of the policy whether another tag set shares its name (adv16): 40,000
    // categories (a 1.6 MB SPIF, within the upload limit) held the process for 47 s a request.
    const n = 30_000;
    const cats = Array.from({ length: n }, (_, i) => `<tagCategory name="C${i}" lacv="${i + 10}"/>`).join("");
    const big = loadPolicy(
      demo
        .replace('<tagCategory name="GBR" lacv="1"/>', `<tagCategory name="GBR" lacv="1"/>${cats}`)
        .replace(
          '<tagCategory name="BRAVO" lacv="2">',
          '<tagCategory name="C7" lacv="3"/><tagCategory name="BRAVO" lacv="2">',
        ),
    );
    const started = performance.now();
    const view = policyView(big, big);
    const ms = performance.now() - started;
    const refs = view.tagSets.flatMap((t) => t.tags.flatMap((g) => g.categories.map((c) => c.ref)));
    assert.equal(refs.length, n + 6);
    assert.ok(refs.includes("C19999") && refs.includes("ALPHA"));
    // A name two tag sets share is written TagSet/NAME, in both.
    assert.ok(refs.includes("Compartments/C7") && refs.includes("Releasability/C7") && !refs.includes("C7"));
    assert.ok(ms < 5000, `${Math.round(ms)} ms for ${n} categories`);
  });
});
