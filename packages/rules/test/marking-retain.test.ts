// Review keep15: a label's renderings are kept per language, and the language is the stanza's
// xml:lang — the sender's choice, and an attribute value: a V8 view of the text the parser read (a
// substring of 13 characters or more keeps its parent). Kept as it came, each new language kept
// its stanza's whole socket read alive, and the map grew with every new one. Renderings are kept
// for at most MAX_LANGUAGES languages per label, each keyed by a copy of its own.
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, type Element } from "@cordon/component";
import { Markings, MAX_LANGUAGES } from "../src/marking.js";
import { StanzaLabels } from "../src/stanza-label.js";
import { label, registry, securityLabel, TLPX } from "./fixtures.js";

test("renderings kept per language: bounded, keyed by copies of their own", () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const read = new StanzaLabels(registry()).read(securityLabel(label(TLPX, 12, [0])), [TLPX]);
  assert.ok(read.ok && read.label);
  const decided = read.label;
  const markings = new Markings();
  const expected = markings.securityLabelXml(decided);
  const render = (i: number, body: number): void => {
    const parser = createParser();
    let message: Element | undefined;
    parser.on("start", () => undefined);
    parser.on("element", (el) => {
      message = el;
    });
    parser.write(
      `<stream><message xml:lang='x-language-number-${i}'><body>${"x".repeat(body)}</body></message>`,
    );
    const lang = message!.attrs["xml:lang"]!;
    assert.equal(markings.marking(decided, lang), "TLPX:AMBER SHARE:PARTNERS");
    assert.equal(markings.securityLabelXml(decided, lang), expected);
  };
  render(-1, 10);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) render(i, 200_000);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.ok(grown < 10_000_000, `${(grown / 1e6).toFixed(1)} MB kept for 200 languages`);
  // Past the bound, a language is rendered each time, the same.
  for (let i = 0; i < MAX_LANGUAGES * 4; i++) render(1000 + i, 10);
});
