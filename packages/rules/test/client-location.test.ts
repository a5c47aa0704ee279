import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadPolicy, makeClearance, makeLabel, PolicyRegistry } from "@cordon/policy";
import {
  ANYWHERE,
  ClientLocations,
  parseCidr,
  rebindLocations,
  recipientRefused,
  SessionLocations,
} from "../src/client-location.js";
import type { SessionAddress } from "../src/session-address.js";
import { Translations } from "../src/translation.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const clearance = (...names: string[]) =>
  makeClearance(
    policy,
    names.map((n) => policy.classificationByName.get(n)!),
    [],
  );

test("CIDR blocks: IPv4 and IPv6, bare addresses, and what is not one", () => {
  assert.deepEqual(parseCidr("10.0.0.0/8"), { address: "10.0.0.0", family: "ipv4", bits: 8 });
  assert.deepEqual(parseCidr("fd00::/8"), { address: "fd00::", family: "ipv6", bits: 8 });
  assert.deepEqual(parseCidr("192.0.2.1"), { address: "192.0.2.1", family: "ipv4", bits: 32 });
  for (const bad of [
    "10.0.0.0/33",
    "fd00::/129",
    "10.0.0/8",
    "host/8",
    "10.0.0.0/8/1",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
  ])
    assert.equal(parseCidr(bad), undefined, bad);
  assert.throws(
    () => new ClientLocations({ locations: [{ ranges: ["nope"], clearance: clearance("UNCLASSIFIED") }] }),
  );
});

test("the most specific range decides, across IPv4, IPv4-mapped IPv6 and IPv6; no address or no range: none", () => {
  const wide = clearance("UNCLASSIFIED", "SECRET");
  const narrow = clearance("UNCLASSIFIED");
  const six = clearance("UNCLASSIFIED", "CONFIDENTIAL");
  const at = new ClientLocations({
    locations: [
      { ranges: ["10.0.0.0/8"], clearance: wide },
      { ranges: ["10.9.0.0/16"], clearance: narrow },
      { ranges: ["2001:db8::/32"], clearance: six },
    ],
  });
  assert.equal(at.active, true);
  assert.equal(at.clearanceOf("10.1.1.1"), wide);
  assert.equal(at.clearanceOf("10.9.1.1"), narrow);
  assert.equal(at.clearanceOf("::ffff:10.9.1.1"), narrow);
  assert.equal(at.clearanceOf("2001:db8::5"), six);
  assert.equal(at.clearanceOf("192.0.2.1"), undefined);
  assert.equal(at.clearanceOf(undefined), undefined);
  assert.equal(at.clearanceOf("not-an-ip"), undefined);
  const other = new ClientLocations({
    locations: [{ ranges: ["10.0.0.0/8"], clearance: wide }],
    otherLocations: narrow,
  });
  assert.equal(other.clearanceOf("192.0.2.1"), narrow);
  assert.equal(other.clearanceOf(undefined), undefined, "no address is never 'elsewhere'");
  assert.equal(new ClientLocations({ locations: [] }).active, false);
});

test("locate: the deciding range as a key (same key, same verdicts); grantsAt decides on it", () => {
  const translations = new Translations(registry);
  const label = (name: string) => makeLabel(policy, policy.classificationByName.get(name)!, []);
  const at = new ClientLocations({
    locations: [
      { ranges: ["10.0.0.0/8"], clearance: clearance("UNCLASSIFIED", "SECRET") },
      { ranges: ["10.9.0.0/16"], clearance: clearance("UNCLASSIFIED") },
    ],
  });
  const annex = at.locate("10.9.1.1");
  assert.equal(annex.key, at.locate("::ffff:10.9.200.3").key);
  assert.notEqual(annex.key, at.locate("10.1.1.1").key);
  assert.equal(at.locate("192.0.2.1").key, "unknown");
  assert.equal(at.locate(undefined).key, "unknown");
  assert.equal(at.grantsAt(translations, label("UNCLASSIFIED"), annex), "granted");
  assert.equal(at.grantsAt(translations, label("SECRET"), annex), "denied");
  assert.equal(at.grantsAt(translations, label("SECRET"), at.locate("10.1.1.1")), "granted");
  assert.equal(at.grantsAt(translations, label("UNCLASSIFIED"), at.locate(undefined)), "unknown");
  // grants(ip) is grantsAt(locate(ip)).
  assert.equal(at.grants(translations, label("SECRET"), "10.9.1.1"), "denied");
  const other = new ClientLocations({
    locations: [{ ranges: ["10.0.0.0/8"], clearance: clearance("UNCLASSIFIED") }],
    otherLocations: clearance("UNCLASSIFIED"),
  });
  assert.equal(other.locate("192.0.2.1").key, "other");
  const none = new ClientLocations({ locations: [] });
  assert.equal(none.locate("10.9.1.1").key, "anywhere");
  assert.equal(none.grants(translations, label("SECRET"), undefined), "granted");
});

test("rebindLocations: each clearance re-read under the new policies; one that no longer reads is kept and told", () => {
  const reg = new PolicyRegistry();
  const demo = reg.loadFileSync(
    new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
  );
  const c = makeClearance(demo, [demo.classificationByName.get("UNCLASSIFIED")!], []);
  const options = { locations: [{ ranges: ["10.0.0.0/8"], clearance: c }], otherLocations: c };
  reg.replaceAll([
    loadPolicy(
      readFileSync(new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url), "utf8"),
    ),
  ]);
  const told = [] as string[];
  const rebound = rebindLocations(options, reg, (what) => told.push(what));
  assert.notEqual(rebound.locations[0]?.clearance.policy, demo, "bound to the new Policy object");
  assert.equal(rebound.locations[0]?.clearance.policy, reg.policies()[0]);
  assert.equal(rebound.otherLocations?.policy, reg.policies()[0]);
  assert.deepEqual(rebound.locations[0]?.ranges, ["10.0.0.0/8"]);
  assert.equal(told.length, 0);
  // Under policies without it: kept as it was (granting nothing), each told by its key.
  reg.replaceAll([
    loadPolicy(readFileSync(new URL("../../../../test/conformance/tlp-policy.xml", import.meta.url), "utf8")),
  ]);
  const kept = rebindLocations(options, reg, (what) => told.push(what));
  assert.equal(kept.locations[0]?.clearance, c);
  assert.deepEqual(told, ["locations[0].clearance", "otherLocations"]);
});

test("SessionLocations: inactive without ranges (nothing asked); located by asking; re-read at a reload", async () => {
  const reg = new PolicyRegistry();
  const file = new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url);
  const demo = reg.loadFileSync(file.pathname);
  const c = (...names: string[]) =>
    makeClearance(
      demo,
      names.map((n) => demo.classificationByName.get(n)!),
      [],
    );
  const l = (name: string) =>
    makeLabel(reg.policies()[0]!, reg.policies()[0]!.classificationByName.get(name)!, []);
  const translations = new Translations(reg);
  let asked = 0;
  const ask: SessionAddress = async (session) => {
    asked++;
    return session.endsWith("/annex") ? "10.9.0.7" : session.endsWith("/hq") ? "10.1.0.7" : undefined;
  };
  const none = new SessionLocations(undefined, reg);
  assert.equal(none.active, false);
  assert.equal((await none.locate("a@d/annex", ask)).key, "anywhere");
  assert.equal(asked, 0, "no ranges: nothing asked");
  assert.equal(none.grants(translations, l("SECRET"), undefined), true);
  none.close();
  const located = new SessionLocations(
    {
      locations: [
        { ranges: ["10.1.0.0/16"], clearance: c("UNCLASSIFIED", "SECRET") },
        { ranges: ["10.9.0.0/16"], clearance: c("UNCLASSIFIED") },
      ],
    },
    reg,
  );
  const annex = await located.locate("a@d/annex", ask);
  const hq = await located.locate("a@d/hq", ask);
  const lost = await located.locate("a@d/gone", ask);
  assert.equal(asked, 3);
  assert.equal(located.grants(translations, l("UNCLASSIFIED"), annex), true);
  assert.equal(located.grants(translations, l("SECRET"), annex), false);
  assert.equal(located.grants(translations, l("SECRET"), hq), true);
  // Fail closed: not known, never located, a look-alike of ANYWHERE; ANYWHERE itself is the caller's
  // "the rule does not apply to this session".
  assert.equal(lost.key, "unknown");
  assert.equal(located.grants(translations, l("UNCLASSIFIED"), lost), false);
  assert.equal(located.grants(translations, l("UNCLASSIFIED"), undefined), false);
  assert.equal(located.grants(translations, l("UNCLASSIFIED"), { ...ANYWHERE }), false);
  assert.equal(located.grants(translations, l("SECRET"), ANYWHERE), true);
  assert.equal((await located.locate(undefined, ask)).key, "unknown", "no session: unknown, nothing asked");
  assert.equal(asked, 3);
  // Reloaded: a location kept from before is judged on the clearance re-read under the new policies.
  reg.replaceAll([loadPolicy(readFileSync(file, "utf8"))]);
  assert.notEqual(reg.policies()[0], demo);
  assert.equal(located.grants(translations, l("SECRET"), hq), true, "kept across the reload");
  assert.equal(located.grants(translations, l("SECRET"), annex), false);
  located.close();
});

test("grantsEverywhere: a label for a user's bare JID only when every range and otherLocations grant it (adv17b)", () => {
  const translations = new Translations(registry);
  const label = (name: string) => makeLabel(policy, policy.classificationByName.get(name)!, []);
  const ranges = [
    { ranges: ["10.0.0.0/8"], clearance: clearance("UNCLASSIFIED", "SECRET") },
    { ranges: ["10.9.0.0/16"], clearance: clearance("UNCLASSIFIED") },
  ];
  // Without otherLocations an address in no range grants nothing: no label reaches everywhere.
  const closed = new ClientLocations({ locations: ranges });
  assert.equal(closed.grantsEverywhere(translations, label("UNCLASSIFIED")), false);
  const other = new ClientLocations({ locations: ranges, otherLocations: clearance("UNCLASSIFIED") });
  assert.equal(other.grantsEverywhere(translations, label("UNCLASSIFIED")), true);
  // The annex range does not grant SECRET, nor does otherLocations.
  assert.equal(other.grantsEverywhere(translations, label("SECRET")), false);
  const cleared = new ClientLocations({
    locations: [ranges[0]!],
    otherLocations: clearance("UNCLASSIFIED", "SECRET"),
  });
  assert.equal(cleared.grantsEverywhere(translations, label("SECRET")), true);
  assert.equal(new ClientLocations({ locations: [] }).grantsEverywhere(translations, label("SECRET")), true);
  const held = new SessionLocations(
    { locations: ranges, otherLocations: clearance("UNCLASSIFIED") },
    registry,
  );
  assert.equal(held.grantsEverywhere(translations, label("UNCLASSIFIED")), true);
  assert.equal(held.grantsEverywhere(translations, label("SECRET")), false);
  held.close();
});

test("recipientRefused: a full JID's resource written as the server does not keep it names that session (review adv17e A1)", () => {
  const sessions = [
    { resource: "desk", ok: true },
    { resource: "annex", ok: false },
  ];
  const granted = (s: { ok: boolean }) => s.ok;
  // Fullwidth letters and a soft hyphen: resourceprep (B.1, NFKC) makes them "annex".
  assert.equal(recipientRefused(sessions, "\uff41\uff4e\uff4e\uff45\uff58", granted), true);
  assert.equal(recipientRefused(sessions, "an\u00adnex", granted), true);
  assert.equal(recipientRefused(sessions, "annex", granted), true);
  assert.equal(recipientRefused(sessions, "\uff44esk", granted), false);
  // No session of that name: judged on all of them, as before.
  assert.equal(recipientRefused(sessions, "gone", granted), false);
  assert.equal(recipientRefused([{ resource: "annex", ok: false }], "gone", granted), true);
});
