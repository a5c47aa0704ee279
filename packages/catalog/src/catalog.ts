// The catalog model and the pure logic that turns configured catalogs into the catalog one
// requester may use toward one target (XEP-0258 §"Label Catalog Discovery"
// https://xmpp.org/extensions/xep-0258.html#label-catalog: "Each catalog provided should only
// contain labels for which the client is allowed to use ... in a particular context").
import { createHash } from "node:crypto";
import {
  acdf,
  encodeEssLabel,
  isValidLabel,
  labelMarking,
  markingColours,
  sameLabel,
  type Clearance,
  type Label,
} from "@cordon/policy";
import type { CatalogEntry, CatalogSpec } from "./catalog-spec.js";

/** One offered item, in the order sent. */
export interface CatalogItem {
  readonly selector: string;
  /** Undefined: the "no label" item (only in non-restrictive catalogs, never the default). */
  readonly label?: Label;
  /** The policy's display marking of the label (never one a client sent). */
  readonly marking?: string;
  readonly fgcolor?: string;
  readonly bgcolor?: string;
  readonly default: boolean;
}

/** The catalog for one (requester, target): what is serialised as `<catalog/>`. */
export interface Catalog {
  /** The target JID as the client named it. */
  readonly to: string;
  readonly name?: string;
  readonly desc?: string;
  readonly restrict: boolean;
  /** The default item (if any) is first (docs/clients.md §1: nbxmpp preselects it). */
  readonly items: readonly CatalogItem[];
  /** A hash of everything above: changes exactly when the content changes. */
  readonly id: string;
}

/** Whether a label may appear: one gate per constraint (requester, target, room...). */
export type LabelGate = (label: Label) => boolean;

/** A gate from a clearance: the ACDF must grant (X.841 §8.2; nil clearance denies). */
export function clearanceGate(clearance: Clearance | undefined): LabelGate {
  return (label) => acdf(label, clearance).granted;
}

/** A gate from per-policy clearances (a user may hold one clearance per policy). */
export function clearancesGate(byPolicy: (policyId: string) => Clearance | undefined): LabelGate {
  return (label) => acdf(label, byPolicy(label.policy.id)).granted;
}

export interface BuildCatalogInput {
  to: string;
  /** The base catalog (domain or room); personal entries are appended after it. */
  spec: CatalogSpec | undefined;
  personal?: readonly CatalogEntry[];
  /** Every gate must pass for a label to be offered. */
  gates: readonly LabelGate[];
  /** The label to offer as default when it passes the gates (a room's default label). */
  preferredDefault?: Label;
  /** Overrides the spec's restrict (a room's setting). */
  restrict?: boolean;
  /**
   * Whether a "no label" entry may be offered at all (default true); false where an unlabelled
   * message would not get through (a user target: unlabelled.ts).
   */
  noLabel?: boolean;
  /** Display marking language ("" = untagged). */
  lang?: string;
}

/**
 * Builds the catalog: labelled entries that are valid under their policy and pass every gate,
 * duplicates removed; the default is `preferredDefault` if allowed, else the spec's default item if
 * allowed, else the lowest allowed label (lowest hierarchy, then fewest categories); it always
 * carries a real label and comes first (Gajim drops unlabelled items). A "no label" entry is kept
 * only in a non-restrictive catalog where `noLabel` allows it, never as the default.
 */
export function buildCatalog(input: BuildCatalogInput): Catalog {
  const restrict = input.restrict ?? input.spec?.restrict ?? true;
  const lang = input.lang ?? "";
  const allowed = (label: Label) => isValidLabel(label) && input.gates.every((gate) => gate(label));
  const kept: { entry: CatalogEntry; label: Label; index: number }[] = [];
  let noLabel: CatalogEntry | undefined;
  const entries = [...(input.spec?.items ?? []), ...(input.personal ?? [])];
  entries.forEach((entry, index) => {
    const label = entry.label;
    if (!label) {
      if (!restrict && input.noLabel !== false) noLabel ??= entry;
      return;
    }
    if (kept.some((k) => sameLabel(k.label, label))) return;
    if (allowed(label)) kept.push({ entry, label, index });
  });
  let defaultIndex = -1;
  const preferred = input.preferredDefault;
  if (preferred && allowed(preferred)) {
    defaultIndex = kept.findIndex((k) => sameLabel(k.label, preferred));
    if (defaultIndex < 0) {
      kept.push({ entry: { label: preferred }, label: preferred, index: entries.length });
      defaultIndex = kept.length - 1;
    }
  }
  if (defaultIndex < 0) defaultIndex = kept.findIndex((k) => k.entry.default === true);
  if (defaultIndex < 0 && kept.length > 0) {
    defaultIndex = 0;
    kept.forEach((k, i) => {
      const best = kept[defaultIndex] as (typeof kept)[number];
      if (lower(k.label, best.label)) defaultIndex = i;
    });
  }
  const ordered =
    defaultIndex >= 0
      ? [kept[defaultIndex] as (typeof kept)[number], ...kept.filter((_, i) => i !== defaultIndex)]
      : kept;
  const items: CatalogItem[] = ordered.map((k, i) =>
    labelledItem(k.entry, k.label, i === 0 && defaultIndex >= 0, lang),
  );
  if (noLabel) items.push({ selector: noLabel.selector ?? "(no label)", default: false });
  const content = {
    to: input.to,
    ...(input.spec?.name ? { name: input.spec.name } : {}),
    ...(input.spec?.desc ? { desc: input.spec.desc } : {}),
    restrict,
    items,
  };
  return { ...content, id: catalogId(content) };
}

/**
 * A room's catalog (for the catalog service and the MUC component): the requester's gate and the
 * room's clearance (or, without one, only the room's own label), the room's default label first,
 * the room's restrict setting.
 */
export function roomCatalog(input: {
  to: string;
  spec: CatalogSpec | undefined;
  personal?: readonly CatalogEntry[];
  requester: LabelGate;
  room: RoomLabels;
  lang?: string;
}): Catalog {
  const gates: LabelGate[] = [input.requester, roomGate(input.room)];
  return buildCatalog({
    to: input.to,
    spec: input.spec,
    ...(input.personal ? { personal: input.personal } : {}),
    gates,
    ...(input.room.defaultLabel
      ? { preferredDefault: input.room.defaultLabel }
      : input.room.label
        ? { preferredDefault: input.room.label }
        : {}),
    restrict: input.room.restrict,
    ...(input.lang !== undefined ? { lang: input.lang } : {}),
  });
}

/** A room's security settings, parsed. */
export interface RoomLabels {
  /** Labels allowed in the room are those its clearance grants. */
  clearance?: Clearance;
  /** The room's label: without a clearance, the only label allowed. */
  label?: Label;
  defaultLabel?: Label;
  restrict: boolean;
}

/** The room's limit on labels: within its clearance; without one, its label only; without both, nothing. */
export function roomGate(room: RoomLabels): LabelGate {
  if (room.clearance) return clearanceGate(room.clearance);
  const only = room.label;
  if (only) return (label) => sameLabel(label, only);
  // Neither clearance nor label: nothing is known to be allowed there (fail closed).
  return () => false;
}

/** An empty, restrictive catalog: what a requester whose clearance is unknown receives (fail closed). */
export function emptyCatalog(to: string, name?: string, desc?: string): Catalog {
  const content = {
    to,
    ...(name ? { name } : {}),
    ...(desc ? { desc } : {}),
    restrict: true,
    items: [] as CatalogItem[],
  };
  return { ...content, id: catalogId(content) };
}

function lower(a: Label, b: Label): boolean {
  if (a.classification.hierarchy !== b.classification.hierarchy)
    return a.classification.hierarchy < b.classification.hierarchy;
  return a.categories.length < b.categories.length;
}

function labelledItem(entry: CatalogEntry, label: Label, isDefault: boolean, lang: string): CatalogItem {
  const marking = labelMarking(label, lang);
  const { fgcolor, bgcolor } = markingColours(label.classification);
  return {
    selector: entry.selector ?? marking,
    label,
    marking,
    ...(fgcolor ? { fgcolor } : {}),
    ...(bgcolor ? { bgcolor } : {}),
    default: isDefault,
  };
}

/** SHA-256 over a canonical form of the content (labels as their DER encoding). */
export function catalogId(content: Omit<Catalog, "id">): string {
  const canonical = JSON.stringify([
    content.to,
    content.name ?? null,
    content.desc ?? null,
    content.restrict,
    content.items.map((i) => [
      i.selector,
      i.default,
      i.marking ?? null,
      i.fgcolor ?? null,
      i.bgcolor ?? null,
      i.label ? [i.label.policy.id, Buffer.from(encodeEssLabel(i.label)).toString("base64")] : null,
    ]),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}
