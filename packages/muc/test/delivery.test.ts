import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deliverableLabel } from "../src/service/delivery.js";
import { NO_CLEARANCE, SessionLocations, StanzaLabels, unknownClearance } from "@cordon/rules";
import { loadPolicy, makeClearance, makeLabel, PolicyRegistry } from "@cordon/policy";
import type { Occupant } from "../src/room/occupant.js";
import { label, clearance, ALL, registry as demoRegistry } from "./fixtures.js";

const ctx = {
  labels: new StanzaLabels(demoRegistry),
  locations: new SessionLocations(undefined, demoRegistry),
};
const occupant = (state: Occupant["clearance"]): Occupant => ({
  nick: "n",
  jid: "a@x/r",
  bare: "a@x",
  role: "participant",
  affiliation: "none",
  occupantId: "o",
  clearance: state,
  labelAware: true,
  presenceXml: "",
  joinedAt: 0,
});
const known = (c: ReturnType<typeof clearance>) => ({
  status: "known" as const,
  clearance: c,
  fingerprint: "f",
});

test("an occupant receives a label only when its clearance grants it", () => {
  const SA = label("SECRET", "ALPHA");
  assert.equal(deliverableLabel(ctx, occupant(known(clearance(ALL, ["ALPHA"]))), SA), SA);
  assert.equal(
    deliverableLabel(ctx, occupant(known(clearance(ALL))), SA),
    undefined,
    "restrictive ALPHA not held",
  );
  assert.equal(
    deliverableLabel(ctx, occupant(known(clearance(["UNCLASSIFIED"]))), label("SECRET")),
    undefined,
  );
});

test("permissive categories need one of the label's releasabilities", () => {
  const rel = label("SECRET", "GBR", "USA");
  assert.ok(deliverableLabel(ctx, occupant(known(clearance(ALL, ["USA"]))), rel));
  assert.equal(deliverableLabel(ctx, occupant(known(clearance(ALL, ["FRA"]))), rel), undefined);
});

test("nil and unknown clearances receive nothing labelled", () => {
  assert.equal(deliverableLabel(ctx, occupant(NO_CLEARANCE), label("UNCLASSIFIED")), undefined);
  assert.equal(
    deliverableLabel(ctx, occupant(unknownClearance("store down")), label("UNCLASSIFIED")),
    undefined,
  );
});

test("an occupant under an equivalent policy receives the label translated into its policy", async () => {
  const { PolicyRegistry, parseLabelData, parseClearance } = await import("@cordon/policy");
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
  const corpus = resolve(repoRoot, "test/conformance");
  const registry = new PolicyRegistry();
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    registry.loadString(readFileSync(resolve(corpus, f), "utf8"));
  const TLPX = "1.3.6.1.4.1.99999.2.2";
  const TLP = "1.3.6.1.4.1.99999.2.3";
  const spiffy = "http://surevine.com/xmlns/spiffy";
  const tlpxLabel = parseLabelData(
    `<label xmlns='${spiffy}'><policy id='${TLPX}'/><classification lacv='11'/></label>`,
    registry,
  );
  const tlpClearance = (lacvs: number[]) =>
    parseClearance(
      `<clearance xmlns='${spiffy}'><policy id='${TLP}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}<tag type='permissive' id='${TLP}.1' lacv='0'/><tag type='permissive' id='${TLP}.1' lacv='1'/></clearance>`,
      registry,
    );
  const local = new StanzaLabels(registry);
  const shown = deliverableLabel(
    { labels: local, locations: new SessionLocations(undefined, registry) },
    occupant(known(tlpClearance([10, 11, 12]))),
    tlpxLabel,
  );
  assert.ok(shown, "granted after translation");
  assert.equal(shown.policy.id, TLP);
  assert.notEqual(shown, tlpxLabel);
  assert.equal(
    deliverableLabel(
      { labels: local, locations: new SessionLocations(undefined, registry) },
      occupant(known(tlpClearance([10]))),
      tlpxLabel,
    ),
    undefined,
    "the translated label is still judged",
  );
});

test("an occupant whose clearance is bound to a policy no longer loaded receives nothing (adv15)", () => {
  // TLP traffic, an occupant cleared under TLPX (its equivalent); a reload dropped TLPX and the
  // clearance, which no longer reads, stayed bound to the old object.
  const corpus = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../test/conformance");
  const registry = new PolicyRegistry();
  const tlpx = registry.loadString(readFileSync(resolve(corpus, "tlp-extended-policy.xml"), "utf8"));
  const tlpText = readFileSync(resolve(corpus, "tlp-policy.xml"), "utf8");
  registry.loadString(tlpText);
  const stale = makeClearance(tlpx, tlpx.classifications, tlpx.categories);
  registry.replaceAll([loadPolicy(tlpText)]);
  const tlp = registry.policies()[0]!;
  const green = makeLabel(tlp, tlp.classificationByLacv.get(11)!, []);
  // Was: TLPX GREEN (the label translated into the removed TLPX object, same OID, and granted).
  assert.equal(
    deliverableLabel(
      { labels: new StanzaLabels(registry), locations: new SessionLocations(undefined, registry) },
      occupant(known(stale)),
      green,
    ),
    undefined,
  );
});

test("issue 17: an occupant whose session's location does not grant the label receives nothing; the same user's other session does", async () => {
  const locations = new SessionLocations(
    {
      locations: [
        { ranges: ["10.1.0.0/16"], clearance: clearance(ALL) },
        { ranges: ["10.9.0.0/16"], clearance: clearance(["UNCLASSIFIED"]) },
      ],
    },
    demoRegistry,
  );
  const located = { labels: ctx.labels, locations };
  const where: Record<string, string> = { "a@x/hq": "10.1.0.7", "a@x/annex": "10.9.0.7" };
  const at = (jid: string) => locations.locate(jid, async (s) => where[s]);
  const hq = { ...occupant(known(clearance(ALL))), jid: "a@x/hq", location: await at("a@x/hq") };
  const annex = { ...occupant(known(clearance(ALL))), jid: "a@x/annex", location: await at("a@x/annex") };
  const lost = { ...occupant(known(clearance(ALL))), jid: "a@x/lost", location: await at("a@x/lost") };
  const never = occupant(known(clearance(ALL))); // never located
  const S = label("SECRET");
  const U = label("UNCLASSIFIED");
  assert.equal(deliverableLabel(located, hq, S), S);
  assert.equal(deliverableLabel(located, annex, S), undefined);
  assert.equal(deliverableLabel(located, annex, U), U);
  // Fail closed: an address not learnt, or an occupant never located, gets nothing labelled.
  for (const o of [lost, never]) {
    assert.equal(deliverableLabel(located, o, U), undefined);
    assert.equal(deliverableLabel(located, o, S), undefined);
  }
  // The user's own clearance still bounds it: the location adds a bound, never a grant.
  const low = { ...occupant(known(clearance(["UNCLASSIFIED"]))), location: await at("a@x/hq") };
  assert.equal(deliverableLabel(located, low, S), undefined);
  locations.close();
});
