// components.muc as the MUC reads it: labels and clearances in the one config syntax of Cordon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, parseConfig } from "@cordon/component";
import { acdf, encodeEssLabel, labelFromSpec, PolicyRegistry } from "@cordon/policy";
import { readMucConfig, type MucConfigOptions } from "../src/config.js";
import { demoPolicyPath } from "./muc-test-context.js";

const registry = new PolicyRegistry();
const nato = registry.loadFileSync(
  resolve(
    dirname(fileURLToPath(import.meta.url)),
    "../../../policy/test/fixtures/shared-category-policy.xml",
  ),
);
const demo = registry.loadFileSync(demoPolicyPath());
const section = (yaml: string) =>
  parseConfig(`components:\n  muc:\n${yaml.replace(/^/gm, "    ")}`).components.get("muc")!;
const options = (dir = "/nonexistent"): MucConfigOptions => ({
  registry,
  governing: nato,
  domain: "rooms.example.test",
  secret: "s",
  readFile: (p) => readFileSync(join(dir, p)),
});
const names = (categories: readonly { tagSet: { name: string }; name: string }[]) =>
  categories.map((c) => `${c.tagSet.name}/${c.name}`);

test("a category two tag sets share is TagSet/NAME in labels and the service clearance; files are read", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-muc-config-"));
  try {
    const eu = labelFromSpec({ classification: "RESTRICTED", categories: ["EU"] }, "l", {
      registry,
      policy: nato.id,
    });
    writeFileSync(join(dir, "eu.der"), encodeEssLabel(eu));
    const { settings, presetRooms } = readMucConfig(
      section(`domain: rooms.example.test
secret: s
labels:
  UNCLASSIFIED: { classification: UNCLASSIFIED }
  SECRET NATO: { classification: SECRET, categories: [Releasable To/NATO, Membership/NATO] }
  RESTRICTED EU: { file: eu.der }
serviceClearance: { classifications: [UNCLASSIFIED, RESTRICTED, SECRET], categories: [Releasable To/NATO, Membership/NATO, EU] }
roomLabel: UNCLASSIFIED
presetRooms:
  nato: { label: SECRET NATO, clearance: [SECRET NATO, RESTRICTED EU] }`),
      options(dir),
    );
    const secretNato = settings.namedLabels.find((n) => n.name === "SECRET NATO")!.label;
    assert.deepEqual(names(secretNato.categories), ["Releasable To/NATO", "Membership/NATO"]);
    assert.deepEqual(names(settings.namedLabels.find((n) => n.name === "RESTRICTED EU")!.label.categories), [
      "Membership/EU",
    ]);
    for (const n of settings.namedLabels)
      assert.equal(acdf(n.label, settings.serviceClearance).granted, true);
    assert.equal(presetRooms[0]?.jid, "nato@rooms.example.test");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("errors name the key; an ambiguous category lists the tag sets to choose from", () => {
  const fails = (yaml: string, message: string) =>
    assert.throws(
      () => readMucConfig(section(`domain: rooms.example.test\nsecret: s\nroomLabel: U\n${yaml}`), options()),
      (e: unknown) => e instanceof ConfigError && e.message === message,
    );
  fails(
    "labels: { U: { classification: UNCLASSIFIED }, S: { classification: SECRET, categories: [NATO] } }",
    'components.muc.labels.S.categories[0]: category "NATO" is in 2 tag sets of policy "Shared Category Test": write "Releasable To/NATO" or "Membership/NATO"',
  );
  fails(
    "labels: { U: { classification: UNCLASSIFIED } }\nserviceClearance: { classifications: [SECRET], categories: [NATO] }",
    'components.muc.serviceClearance.categories[0]: category "NATO" is in 2 tag sets of policy "Shared Category Test": write "Releasable To/NATO" or "Membership/NATO"',
  );
  fails("labels: { U: { file: u.xml } }", "components.muc.labels.U.file: cannot read u.xml (ENOENT)");
  fails(
    "labels: { U: { classification: UNCLASSIFIED } }\ndefaultLabel: S",
    'components.muc.defaultLabel: "S" is not one of the labels (U)',
  );
  fails(
    "labels: { U: { classification: UNCLASSIFIED }, D: { policy: Cordon Demo, classification: SECRET } }",
    `components.muc.roomClearance: "D" is a label of policy "${demo.name}", not of the governing policy "Shared Category Test"`,
  );
});

// Fixed (never-leak property, seed 1745325766): a default label its policy excludes was accepted,
// and applied to every unlabelled message.
test("a default label (the service's or a preset room's) not valid under its policy is refused", () => {
  const demoOptions = { ...options(), governing: demo };
  const base = `domain: rooms.example.test\nsecret: s\nroomLabel: U\nlabels: { U: { classification: UNCLASSIFIED }, UB: { classification: UNCLASSIFIED, categories: [BRAVO] } }\n`;
  const reason =
    "the default label is not valid under its policy (its classification or categories exclude each other)";
  assert.throws(
    () => readMucConfig(section(`${base}defaultLabel: UB`), demoOptions),
    (e: unknown) => e instanceof ConfigError && e.message === `components.muc.defaultLabel: ${reason}`,
  );
  assert.throws(
    () =>
      readMucConfig(
        section(`${base}presetRooms: { ops: { label: U, clearance: [U], defaultLabel: UB } }`),
        demoOptions,
      ),
    (e: unknown) =>
      e instanceof ConfigError && e.message === `components.muc.presetRooms.ops.defaultLabel: ${reason}`,
  );
  assert.equal(
    readMucConfig(section(`${base}defaultLabel: U`), demoOptions).settings.defaultMessageLabel?.classification
      .name,
    "UNCLASSIFIED",
  );
});

// Fixed: local domains and preset owners were taken as written (owners lower-cased only), while
// every JID they are compared with is folded by @cordon/jid: `localDomains: [Example.TEST]` made
// the local users remote ones (judged on their domain's peer clearance), `owners: ["ﬁnn@…"]`
// never matched finn.
test("local domains, preset room names and owners are folded as the JIDs they are compared with", () => {
  const { settings, presetRooms } = readMucConfig(
    section(`domain: rooms.example.test
secret: s
localDomains: [Example.TEST]
labels:
  UNCLASSIFIED: { classification: UNCLASSIFIED }
serviceClearance: { classifications: [UNCLASSIFIED] }
roomLabel: UNCLASSIFIED
presetRooms:
  Lobby: { label: UNCLASSIFIED, owners: ["\\uFB01nn@Example.TEST"] }`),
    options(),
  );
  assert.deepEqual(settings.localDomains, ["example.test"]);
  assert.equal(presetRooms[0]?.jid, "lobby@rooms.example.test");
  assert.deepEqual(presetRooms[0]?.affiliations, { "finn@example.test": "owner" });
});

test("multicast (XEP-0033): off when absent; service a domain other than the MUC's, chunk 1..100, unknown keys refused", () => {
  const base =
    "domain: rooms.example.test\nsecret: s\nlabels: { U: { classification: UNCLASSIFIED } }\nroomLabel: U\n";
  const read = (yaml: string) => readMucConfig(section(base + yaml), options()).settings;
  assert.equal(read("").multicast, undefined);
  assert.deepEqual(read("multicast: { service: Multicast.Example.TEST }").multicast, {
    service: "multicast.example.test",
    chunk: 20,
    timeoutMs: 5000,
    maxBytes: 16 * 1024 * 1024,
  });
  assert.deepEqual(
    read('multicast: { service: m.example.test, chunk: 100, timeoutMs: 200, maxBytes: "1 MiB" }').multicast,
    { service: "m.example.test", chunk: 100, timeoutMs: 200, maxBytes: 1024 * 1024 },
  );
  const fails = (yaml: string, message: RegExp) =>
    assert.throws(
      () => read(yaml),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
    );
  fails("multicast: { chunk: 20 }", /^components\.muc\.multicast\.service: required/);
  fails("multicast: { service: m.example.test, chunk: 0 }", /^components\.muc\.multicast\.chunk: /);
  fails("multicast: { service: m.example.test, chunk: 101 }", /^components\.muc\.multicast\.chunk: /);
  fails("multicast: { service: m.example.test, chunk: 2.5 }", /^components\.muc\.multicast\.chunk: /);
  fails(
    "multicast: { service: user@m.example.test }",
    /^components\.muc\.multicast\.service: expected a domain/,
  );
  fails(
    "multicast: { service: m.example.test/r }",
    /^components\.muc\.multicast\.service: expected a domain/,
  );
  fails("multicast: { service: rooms.example.test }", /^components\.muc\.multicast\.service: must be/);
  fails("multicast: { service: m.example.test, limit: 3 }", /^components\.muc\.multicast/);
  fails("multicast: { service: m.example.test, maxBytes: lots }", /^components\.muc\.multicast\.maxBytes: /);
  fails("multicast: yes", /^components\.muc\.multicast/);
});
