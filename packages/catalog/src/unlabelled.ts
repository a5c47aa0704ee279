// The "no label" item of a catalog for a user target (issue 17): offered only when the central
// check (the guard, @cordon/guard decide.ts) would let an unlabelled message through from the
// requester to that user. The guard gives an unlabelled message its configured default label
// (components.guard.defaultLabel; @cordon/rules stanza-label.ts): without one it is refused
// ("unlabelled"), with one its policy excludes too ("default-label-invalid"), and otherwise the
// one-to-one rule (@cordon/rules one-to-one.ts) decides on that label — the same function the
// labelled items pass. XEP-0258 §"Label Catalog Discovery"
// (https://xmpp.org/extensions/xep-0258.html#label-catalog): a catalog offers only what the client
// may use in that context. Fail closed: no default label known here, no "no label" item.
import { isValidLabel, rebindLabel, type Label, type PolicyRegistry } from "@cordon/policy";
import { oneToOne, type OneToOneClearances, type Translations } from "@cordon/rules";

/**
 * The guard's default label as the catalog holds it, re-read under the policies loaded now at each
 * policy reload exactly as the guard re-reads its own (@cordon/guard policy-rebind.ts): a label
 * still bound to an old Policy object is granted by no clearance of the new ones. One that no
 * longer reads keeps its old binding (it grants nothing) and `unreadable` is told.
 */
export class GuardDefaultLabel {
  #label: Label | undefined;
  readonly #stop: () => void;

  constructor(
    label: Label | undefined,
    registry: PolicyRegistry,
    unreadable: (reason: string) => void = () => undefined,
  ) {
    this.#label = label;
    this.#stop = registry.onChange(() => {
      const old = this.#label;
      if (!old) return;
      try {
        this.#label = rebindLabel(old, registry);
      } catch (error) {
        unreadable((error as Error).message);
      }
    });
  }

  /** The label an unlabelled message takes at the guard; undefined: such messages are refused. */
  get label(): Label | undefined {
    return this.#label;
  }

  close(): void {
    this.#stop();
  }
}

/**
 * Whether the guard would deliver an unlabelled message between these parties: `label` is its
 * default label (GuardDefaultLabel.label, read once per decision), `parties` the clearances for
 * that label's policy.
 */
export function unlabelledGetsThrough(
  translations: Translations,
  label: Label | undefined,
  parties: OneToOneClearances,
): boolean {
  if (!label || !isValidLabel(label)) return false;
  return oneToOne(translations, label, parties).ok;
}
