import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, ConfigReader } from "@cordon/component";
import {
  acdf,
  encodeEssLabel,
  labelFromSpec,
  parseClearance,
  parseLabelData,
  PolicyRegistry,
} from "@cordon/policy";
import { readRelayConfig, validatePeerings } from "../src/peering.js";
import { peering } from "./fixtures.js";

const side = (domains: string[], extra: Record<string, unknown> = {}) => ({
  server: { port: 5347 },
  secret: "s",
  domains,
  policy: "1.2.3",
  ...extra,
});
const direction = (extra: Record<string, unknown> = {}) => ({
  peers: { deny: [] },
  unlabelled: "refuse",
  ...extra,
});

const read = (section: ConfigReader) => readRelayConfig(section, { registry: new PolicyRegistry() });

function config(peerings: Record<string, unknown>) {
  return ConfigReader.root({
    relay: { policies: ["/p.xml"], audit: { file: "/tmp/a.jsonl" }, peerings },
  }).section("relay");
}

describe("readRelayConfig", () => {
  // Issue 14: the largest stanza the relay writes to each side's server.
  test("server.maxStanzaBytes per side, else the top-level default, else 256 KiB", () => {
    const peerings = {
      ab: {
        local: side(["a.test"]),
        remote: side(["b.test"], { server: { port: 5347, maxStanzaBytes: 100_000 } }),
        outbound: direction(),
        inbound: direction(),
      },
    };
    const c = read(config(peerings));
    assert.equal(c.peerings[0]!.local.maxStanzaBytes, 262_144);
    assert.equal(c.peerings[0]!.remote.maxStanzaBytes, 100_000);
    const withDefault = readRelayConfig(config(peerings), {
      registry: new PolicyRegistry(),
      serverDefaults: { host: "127.0.0.1", port: 5347, maxStanzaBytes: 65_536 },
    });
    assert.equal(withDefault.peerings[0]!.local.maxStanzaBytes, 65_536);
    assert.throws(
      () =>
        read(
          config({
            ab: { ...peerings.ab, local: side(["a.test"], { server: { port: 5347, maxStanzaBytes: 10 } }) },
          }),
        ),
      /maxStanzaBytes: expected at least 16384/,
    );
  });

  test("reads sides, directions and defaults", () => {
    const c = read(
      config({
        ab: {
          local: side(["a.test"], { labelAware: false }),
          remote: side(["b.test", "rooms.b.test"], {
            mucDomains: ["rooms.b.test"],
            server: { host: "10.0.0.2", port: 5348 },
          }),
          outbound: direction({
            mode: "one-to-one-only",
            chatStates: "strip",
            presence: { mode: "none" },
            content: [{ words: ["x"], classifications: ["RED"] }],
          }),
          inbound: direction({
            unlabelled: { message: "refuse", presence: "default", iq: "default" },
            elements: [{ ns: "jabber:x:oob", action: "strip" }],
          }),
        },
      }),
    );
    const p = c.peerings[0]!;
    assert.equal(p.remote.service, "xmpp://10.0.0.2:5348");
    assert.equal(p.local.labelAware, false);
    assert.deepEqual(p.outbound.unlabelled, { message: "refuse", presence: "refuse", iq: "refuse" });
    assert.equal(p.outbound.mode, "one-to-one-only");
    assert.equal(p.outbound.presence.mode, "none");
    assert.deepEqual(
      p.outbound.fileTransfer,
      { ibb: "block", jingle: "block", si: "block", oob: "block" },
      "file transfer blocked unless allowed",
    );
    assert.deepEqual(p.inbound.elements, [{ ns: "jabber:x:oob", action: "strip" }]);
    assert.equal(p.inbound.unlabelled.presence, "default");
    assert.equal(c.auditFile, "/tmp/a.jsonl");
  });

  test("the unlabelled behaviour must be explicit", () => {
    assert.throws(
      () =>
        read(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["b.test"]),
              outbound: { peers: { deny: [] } },
              inbound: direction(),
            },
          }),
        ),
      /outbound\.unlabelled: required/,
    );
  });

  test("typos and bad values name their key", () => {
    assert.throws(
      () =>
        read(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["b.test"]),
              outbound: direction({ mode: "muc" }),
              inbound: direction(),
            },
          }),
        ),
      /outbound\.mode/,
    );
    assert.throws(
      () =>
        read(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["b.test"]),
              outbound: direction({ peers: { grant: [], deny: [] } }),
              inbound: direction(),
            },
          }),
        ),
      /peers/,
    );
    assert.throws(
      () =>
        read(
          config({
            ab: {
              local: side(["a.test"], { colour: 1 }),
              remote: side(["b.test"]),
              outbound: direction(),
              inbound: direction(),
            },
          }),
        ),
      /local\.colour/,
    );
  });

  test("a domain on both sides (a loop) or claimed twice on one server is refused", () => {
    assert.throws(
      () =>
        read(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["a.test"]),
              outbound: direction(),
              inbound: direction(),
            },
          }),
        ),
      /a\.test is also a domain/,
    );
    assert.throws(
      () =>
        validatePeerings([
          { ...peering(), name: "one" },
          { ...peering(), name: "two" },
        ]),
      /tlp\.test is also a domain/,
    );
    const p = peering();
    p.local.mucDomains = ["rooms.elsewhere.test"];
    assert.throws(() => validatePeerings([p]), /not one of this side's domains/);
  });

  test("one local domain may peer with several remote sides", () => {
    const two = {
      ...peering(),
      name: "two",
      remote: { ...peering().remote, domains: ["c.test"], mucDomains: [] },
    };
    assert.doesNotThrow(() => validatePeerings([peering(), two]));
  });
});

describe("readRelayConfig: labels and clearances", () => {
  const nato = new PolicyRegistry();
  const policy = nato.loadFileSync(
    resolve(
      dirname(fileURLToPath(import.meta.url)),
      "../../../policy/test/fixtures/shared-category-policy.xml",
    ),
  );
  const withLabels = (outbound: Record<string, unknown>, local: Record<string, unknown> = {}) =>
    config({
      ab: {
        local: side(["a.test"], { policy: policy.id, ...local }),
        remote: side(["b.test"], { policy: policy.id }),
        outbound: direction(outbound),
        inbound: direction(),
      },
    });

  test("by name in the side's policy (TagSet/NAME for a shared category), inline data or { file }", () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-relay-"));
    try {
      const eu = labelFromSpec({ classification: "SECRET", categories: ["EU"] }, "l", {
        registry: nato,
        policy: policy.id,
      });
      writeFileSync(join(dir, "eu.der"), encodeEssLabel(eu));
      const section = withLabels(
        {
          defaultLabel: { classification: "RESTRICTED", categories: ["Releasable To/NATO"] },
          clearance: { classifications: ["RESTRICTED", "SECRET"], categories: ["Releasable To/NATO", "EU"] },
        },
        { defaultLabel: { file: "eu.der" } },
      );
      const p = readRelayConfig(section, { registry: nato, path: (f) => join(dir, f) }).peerings[0]!;
      const outbound = parseLabelData(p.outbound.defaultLabel!, nato);
      assert.deepEqual(
        outbound.categories.map((x) => `${x.tagSet.name}/${x.name}`),
        ["Releasable To/NATO"],
      );
      const clearance = parseClearance(p.outbound.clearance!, nato);
      assert.equal(acdf(outbound, clearance).granted, true);
      const local = parseLabelData(p.local.defaultLabel!, nato);
      assert.deepEqual(
        local.categories.map((x) => `${x.tagSet.name}/${x.name}`),
        ["Membership/EU"],
      );
      assert.equal(acdf(local, clearance).granted, true);
      assert.throws(
        () => readRelayConfig(section, { registry: nato, path: (f) => join(dir, `missing-${f}`) }),
        /relay\.peerings\.ab\.local\.defaultLabel\.file: cannot read eu\.der \(ENOENT\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an ambiguous category names the key and the tag sets to choose from", () => {
    assert.throws(
      () =>
        readRelayConfig(withLabels({ clearance: { classifications: ["SECRET"], categories: ["NATO"] } }), {
          registry: nato,
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message ===
          'relay.peerings.ab.outbound.clearance.categories[0]: category "NATO" is in 2 tag sets of policy "Shared Category Test": write "Releasable To/NATO" or "Membership/NATO"',
    );
  });
});

// Adversarial review adv14a (f0d8218, "one rule for MUC, guard and relay"): the MUC and the guard
// refused a default label its policy excludes at configuration time, the relay did not — it started,
// then refused (or, with `malformed: drop`, silently dropped) every unlabelled stanza on that side.
describe("readRelayConfig: a default label its policy excludes", () => {
  const demo = new PolicyRegistry();
  const policy = demo.loadFileSync(
    resolve(dirname(fileURLToPath(import.meta.url)), "../../../../deploy/quickstart/demo-policy.xml"),
  );
  const excluded = { classification: "UNCLASSIFIED", categories: ["BRAVO"] };
  const peeringWith = (local: Record<string, unknown>, outbound: Record<string, unknown>) =>
    config({
      ab: {
        local: side(["a.test"], { policy: policy.id, ...local }),
        remote: side(["b.test"], { policy: policy.id }),
        outbound: direction(outbound),
        inbound: direction(),
      },
    });
  const refused = (key: string) => (e: unknown) =>
    e instanceof ConfigError &&
    e.message.startsWith(`${key}: the default label is not valid under its policy`);

  test("is refused on a side and on a direction, naming the key", () => {
    assert.throws(
      () => readRelayConfig(peeringWith({ defaultLabel: excluded }, {}), { registry: demo }),
      refused("relay.peerings.ab.local.defaultLabel"),
    );
    assert.throws(
      () => readRelayConfig(peeringWith({}, { defaultLabel: excluded }), { registry: demo }),
      refused("relay.peerings.ab.outbound.defaultLabel"),
    );
    const ok = readRelayConfig(peeringWith({ defaultLabel: { classification: "UNCLASSIFIED" } }, {}), {
      registry: demo,
    });
    assert.equal(
      parseLabelData(ok.peerings[0]!.local.defaultLabel!, demo).classification.name,
      "UNCLASSIFIED",
    );
  });
});
