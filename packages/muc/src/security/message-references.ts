// The reference rule (issue 15): a message that refers to another one — an XEP-0308 correction
// (<replace id/>), an XEP-0461 reply (<reply id/>, with its XEP-0428 fallback quote in the body), an
// XEP-0444 reaction (<reactions id/>), an XEP-0333 marker, an XEP-0424 retraction, an XEP-0422
// fastening, or any other payload element naming a message by its id or XEP-0359 stanza-id — can
// carry what the referenced message said, or at least its stanza-id. So:
//   1. its own label must dominate the label of every message it refers to, else it is refused to
//      the sender (forbidden, our text only, nothing echoed);
//   2. it is delivered (live, in history and the archive, in a private message) only to occupants
//      who may read every message it refers to, as well as the message itself.
// Referenced messages are found in the room's reference index (room/reference-index.ts: every
// groupchat and private message accepted in the room, by stanza-id and id, bounded in bytes). A
// reference that is not found — never in the room, or only to a message the sender may not read
// (answering as if it were absent, so the rule is no oracle for hidden ids) — is judged against the
// labels of the messages the index has forgotten, if any (none: on the message's own label alone);
// when too many distinct labels were forgotten to remember, such a reference is refused.
import type { Category, Label } from "@cordon/policy";
import type { Element, StanzaErrorSpec } from "@cordon/component";
import { referencedIds as sharedReferencedIds } from "@cordon/rules";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "../service/context.js";
import { deliverableLabel } from "../service/delivery.js";
import { governedLabel } from "./governed-label.js";
import { NS_DELAY, NS_OCCUPANT_ID, NS_SEC_LABEL, NS_SID } from "../namespaces.js";

/** Element ids looked at per message; a message naming more is refused. */
export const MAX_REFERENCES = 16;
const MAX_DEPTH = 8;

export type ReferenceOutcome =
  | { ok: true; labels: readonly Label[]; xml: readonly string[] }
  | { ok: false; error: StanzaErrorSpec; reason: string };

const NOT_DOMINATED: StanzaErrorSpec = {
  condition: "forbidden",
  type: "cancel",
  text: "the message refers to a message whose label its own label does not cover",
};

const SKIPPED = new Set([NS_SEC_LABEL, NS_SID, NS_OCCUPANT_ID, NS_DELAY]);

/**
 * The ids a message's payload names: the `id` of every element below the top level, except those
 * the room removes or sets itself (labels, XEP-0359 ids, occupant ids, delays). Undefined when there
 * are more than MAX_REFERENCES.
 */
export function referencedIds(stanza: Element): string[] | undefined {
  return sharedReferencedIds(stanza, SKIPPED, MAX_REFERENCES, MAX_DEPTH);
}

const restrictive = (c: Category) => c.tagType === "restrictive" || c.tagType === "enumeratedRestrictive";
const permissive = (c: Category) => c.tagType === "permissive" || c.tagType === "enumeratedPermissive";

function permissiveGroups(label: Label): Set<Category>[] {
  const groups = new Map<unknown, Set<Category>>();
  for (const c of label.categories) {
    if (!permissive(c)) continue;
    const g = groups.get(c.tag);
    if (g) g.add(c);
    else groups.set(c.tag, new Set([c]));
  }
  return [...groups.values()];
}

/**
 * Whether label `a` dominates label `b` (X.841 §8 lattice): same policy, a classification at least
 * as high in the hierarchy, and every category set that grants `a` under the ACDF also grants `b`
 * (restrictive categories: `b`'s within `a`'s, counting a one-category permissive group of `a` as
 * required; each permissive group of `b`: met by a category `a` requires, or containing a whole
 * permissive group of `a`).
 */
export function labelDominates(a: Label, b: Label): boolean {
  if (a.policy !== b.policy) return false;
  if (a.classification.hierarchy < b.classification.hierarchy) return false;
  const groupsA = permissiveGroups(a);
  const required = new Set(a.categories.filter(restrictive));
  for (const g of groupsA) if (g.size === 1) for (const c of g) required.add(c);
  for (const c of b.categories) if (restrictive(c) && !required.has(c)) return false;
  for (const h of permissiveGroups(b)) {
    if ([...h].some((c) => required.has(c))) continue;
    if (groupsA.some((g) => [...g].every((c) => h.has(c)))) continue;
    return false;
  }
  return true;
}

/**
 * Applies rule 1 to a message accepted with `label` from `sender`, and gives the labels of the
 * messages it refers to (for rule 2: `mayReadReferenced`).
 */
export function checkReferences(
  ctx: Pick<MucContext, "labels" | "locations" | "registry" | "governingPolicy">,
  room: Room,
  sender: Occupant,
  stanza: Element,
  label: Label,
): ReferenceOutcome {
  const ids = referencedIds(stanza);
  if (!ids)
    return {
      ok: false,
      reason: "too-many-references",
      error: { condition: "not-acceptable", type: "modify", text: "the message names too many ids" },
    };
  if (ids.length === 0) return { ok: true, labels: [], xml: [] };
  const found = new Map<string, Label>();
  let unknown = false;
  for (const id of ids) {
    // The index, and the history (rooms loaded from the store have only that).
    const known = new Set(room.references.lookup(id));
    for (const entry of room.history) if (entry.sid === id || entry.id === id) known.add(entry.label);
    const readable: [string, Label][] = [];
    for (const xml of known) {
      const referenced = governedLabel(ctx, xml);
      // A label that no longer reads (policy reload) cannot be decided on: refused.
      if (!referenced) return { ok: false, reason: "reference-unreadable", error: NOT_DOMINATED };
      if (deliverableLabel(ctx, sender, referenced)) readable.push([xml, referenced]);
    }
    if (readable.length === 0) unknown = true;
    for (const [xml, l] of readable) found.set(xml, l);
  }
  if (unknown) {
    const forgotten = room.references.forgotten();
    if (!forgotten)
      return {
        ok: false,
        reason: "reference-forgotten",
        error: {
          condition: "forbidden",
          type: "cancel",
          text: "the message refers to a message no longer known",
        },
      };
    for (const xml of forgotten) {
      const l = governedLabel(ctx, xml);
      if (!l) return { ok: false, reason: "reference-unreadable", error: NOT_DOMINATED };
      found.set(xml, l);
    }
  }
  for (const referenced of found.values())
    if (!labelDominates(label, referenced))
      return { ok: false, reason: "reference-not-dominated", error: NOT_DOMINATED };
  return { ok: true, labels: [...found.values()], xml: [...found.keys()] };
}

/** Rule 2: whether `reader` may read every referenced message (labels from `checkReferences`). */
export function mayReadReferenced(
  ctx: Pick<MucContext, "labels" | "locations">,
  reader: Occupant,
  referenced: readonly Label[],
): boolean {
  for (const l of referenced) if (!deliverableLabel(ctx, reader, l)) return false;
  return true;
}

/** Rule 2 for a stored message: its referenced labels as stored (XML); one that no longer reads denies. */
export function mayReadStoredReferences(
  ctx: Pick<MucContext, "labels" | "locations" | "registry" | "governingPolicy">,
  reader: Occupant,
  refs: readonly string[] | undefined,
): boolean {
  if (!refs) return true;
  for (const xml of refs) {
    const l = governedLabel(ctx, xml);
    if (!l || !deliverableLabel(ctx, reader, l)) return false;
  }
  return true;
}
