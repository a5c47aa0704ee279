// Adversarial review adv55: acdfData with a permissive tag met in two runs among eight or more
// tags (the Set path of its run search). Held on ess11 (the loop stops at the first repeated tag);
// kept as a regression test: split groups would demand one held category per run instead of one
// per tag (docs/spif.md §5), refusing a clearance the ACDF grants.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { acdf } from "../src/acdf.js";
import { makeClearance } from "../src/clearance.js";
import { makeLabel } from "../src/label.js";
import type { Category, Classification, Policy, Tag } from "../src/spif/model.js";

/** A hand-made policy whose permissive tags' categories interleave in index order. */
function interleavedPolicy(): { policy: Policy; cls: Classification; tags: Tag[]; cats: Category[] } {
  const cls = { index: 0, name: "U", lacv: 1, hierarchy: 1 } as unknown as Classification;
  const tags: Tag[] = [];
  for (let t = 0; t < 10; t++)
    tags.push({ name: `T${t}`, tagType: "permissive", categories: [] } as unknown as Tag);
  // Index order: T0..T7, then T0 again (a second run of T0), then T8 and T9 (new tags).
  const order = [0, 1, 2, 3, 4, 5, 6, 7, 0, 8, 9];
  const cats = order.map(
    (t, index) =>
      ({
        index,
        name: `c${index}`,
        lacv: index,
        tagType: "permissive",
        tag: tags[t]!,
      }) as unknown as Category,
  );
  const policy = {
    id: "1.2.3.4",
    name: "interleaved",
    classifications: [cls],
    categories: cats,
    categoryWords: 1,
  } as unknown as Policy;
  return { policy, cls, tags, cats };
}

describe("acdf permissive groups when a tag's categories are in two runs", () => {
  test("one group per tag, however many tags follow the repeated one", () => {
    const { policy, cls, cats } = interleavedPolicy();
    const label = makeLabel(policy, cls, cats);
    assert.equal(label.acdf.permissive.length, 10);
    // Hold T0's second category (index 8) and one of every other tag: one per tag is enough.
    const held = cats.filter((c) => c.index !== 0);
    assert.equal(acdf(label, makeClearance(policy, [cls], held)).granted, true);
    // Hold none of T0's: refused.
    const noT0 = cats.filter((c) => c.index !== 0 && c.index !== 8);
    assert.equal(acdf(label, makeClearance(policy, [cls], noT0)).reason, "CORDON_ACDF_PERMISSIVE_CATEGORY");
  });
});
