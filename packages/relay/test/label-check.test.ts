import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { securityLabels } from "@cordon/rules";
import { LabelEngine, removeSecurityLabels } from "../src/label-check.js";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { clearance, CORPUS, el, label, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

describe("LabelEngine", () => {
  const engine = new LabelEngine(registry());
  const tlp = engine.policy(TLP);

  test("grants translate into the clearance's policy; above the clearance is refused", () => {
    const tlpClearance = engine.clearanceFromData(clearance(TLP, [10, 11, 12]));
    assert.ok(tlpClearance);
    assert.equal(engine.refusal(engine.labelFromData(label(TLPX, 12, [0])), tlpClearance), undefined);
    assert.equal(engine.refusal(engine.labelFromData(label(TLPX, 13)), tlpClearance), "classification");
    const noRegions = engine.clearanceFromData(clearance(TLP, [12], []));
    assert.ok(noRegions);
    assert.equal(engine.refusal(engine.labelFromData(label(TLPX, 12, [0])), noRegions), "category");
    assert.equal(engine.clearanceFromData("<clearance/>"), undefined);
  });

  test("a label read before a reload, decided after against a clearance read under the new policies: refused (adv15)", () => {
    const r = registry();
    const own = new LabelEngine(r);
    const before = own.labelFromData(label(TLPX, 12, [0]));
    // The same two policies reloaded (new Policy objects).
    const reloaded = registry();
    r.replaceAll(reloaded.policies());
    const after = own.clearanceFromData(clearance(TLP, [10, 11, 12]));
    assert.ok(after);
    // Was: undefined (granted: the old TLPX label translated by the old table into the new TLP).
    assert.equal(own.refusal(before, after), "policy-mismatch");
    assert.equal(
      own.refusal(own.labelFromData(label(TLPX, 12, [0])), after),
      undefined,
      "read again: granted",
    );
  });

  test("the outgoing element carries the receiving policy's marking, never the sender's", () => {
    const translated = engine.translate(engine.labelFromData(label(TLPX, 12, [0])), tlp);
    assert.ok(translated);
    const out = engine.outgoing(translated, "");
    assert.equal(out.marking, "TLP:AMBER [TO:PARTNERS] (handle with care) (relayed)");
    assert.equal(out.element.getChildText("displaymarking"), out.marking);
    assert.ok(out.element.getChild("label")?.getChild("esssecuritylabel"));
  });

  test("removeSecurityLabels removes only XEP-0258 elements", () => {
    const m = el(
      `<message><body>x</body>${securityLabel(label(TLPX, 11))}<securitylabel xmlns='other'/></message>`,
    );
    assert.equal(securityLabels(m).length, 1);
    removeSecurityLabels(m);
    assert.equal(m.children.length, 2);
  });
});

// Issue 19 (relay decision cost): the configured-clearance cache was bounded by count (10,000
// entries of any size, then emptied at once); it is now bounded in bytes and keyed by the exact text.
describe("LabelEngine clearance cache", () => {
  test("is bounded in bytes: many or large entries never take it past its budget", () => {
    const budget = 16 * 1024;
    const engine = new LabelEngine(registry(), { maxClearanceBytes: budget });
    assert.equal(engine.clearanceCacheMaxBytes, budget);
    const data = clearance(TLP, [10, 11, 12]);
    // Each text differs (trailing spaces): each is its own entry, and the oldest go to make room.
    for (let i = 0; i < 200; i++) {
      assert.ok(engine.clearanceFromData(`${data}${" ".repeat(i)}`));
      assert.ok(engine.clearanceCacheBytes <= budget, `${engine.clearanceCacheBytes} > ${budget}`);
    }
    assert.ok(
      engine.clearanceCacheSize > 1 && engine.clearanceCacheSize < 200,
      `${engine.clearanceCacheSize}`,
    );
    // 20,000 characters that do not parse: kept at what they weigh (about 40 KB of key), which is
    // more than the whole budget: not kept at all.
    const junk = `<clearance xmlns='urn:example'>${"x".repeat(20_000)}</clearance>`;
    assert.equal(engine.clearanceFromData(junk), undefined);
    assert.ok(engine.clearanceCacheBytes <= budget);
    // Still read correctly afterwards.
    assert.ok(engine.clearanceFromData(data));
  });

  test("keys are the exact text: two clearances one byte apart never share an entry", () => {
    const engine = new LabelEngine(registry());
    const a = clearance(TLP, [10, 11, 12]);
    const b = a.replace("lacv='12'", "lacv='13'");
    assert.equal(a.length, b.length);
    assert.equal([...a].filter((c, i) => c !== b[i]).length, 1);
    const ca = engine.clearanceFromData(a);
    const cb = engine.clearanceFromData(b);
    assert.ok(ca && cb);
    assert.notEqual(ca, cb);
    assert.equal(engine.clearanceCacheSize, 2);
    assert.deepEqual(
      ca.classifications.map((c) => c.lacv),
      [10, 11, 12],
    );
    assert.deepEqual(
      cb.classifications.map((c) => c.lacv),
      [10, 11, 13],
    );
    // The same text again is the same entry.
    assert.equal(engine.clearanceFromData(a), ca);
    assert.equal(engine.clearanceCacheSize, 2);
    // One byte of whitespace more is another text: its own entry (parsed alike, not shared).
    const spaced = engine.clearanceFromData(` ${a}`);
    assert.ok(spaced);
    assert.notEqual(spaced, ca);
    assert.equal(engine.clearanceCacheSize, 3);
  });

  test("a policy reload empties it", () => {
    const reg = registry();
    const engine = new LabelEngine(reg);
    const data = clearance(TLP, [10]);
    const before = engine.clearanceFromData(data);
    reg.loadString(readFileSync(resolve(CORPUS, "tlp-policy.xml"), "utf8"));
    assert.notEqual(engine.clearanceFromData(data), before);
  });
});
