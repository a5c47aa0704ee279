// A label expressed in an equivalent policy (XML-SPIF equivalentPolicy, X.841 translation), computed
// once per (label, target policy) and cached, bounded in bytes. Every component that shows a label
// to someone under another policy, judges it against a clearance of another policy (`decide`), or
// checks that a label's forms agree (stanza-label.ts) translates through here.
import {
  acdf,
  GenerationalLru,
  isLoaded,
  labelBytes,
  PolicyError,
  translateLabel,
  type AcdfDecision,
  type Clearance,
  type Label,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";

/** A label's identity as a cache key: policy, classification and categories (in policy order). */
const keys = new WeakMap<Label, string>();
export function labelKey(label: Label): string {
  let key = keys.get(label);
  if (key === undefined) {
    const cats = label.categories.map((c) => c.index).sort((a, b) => a - b);
    key = `${label.policy.id}:${label.classification.lacv}:${cats.join(",")}`;
    keys.set(label, key);
  }
  return key;
}

/** A label or clearance of a policy not loaded now (a reload removed or replaced it): denied. */
const STALE: AcdfDecision = Object.freeze({ granted: false, reason: "CORDON_ACDF_POLICY_MISMATCH" });

export class Translations {
  readonly #lru: GenerationalLru<Label | null>;

  constructor(registry: PolicyRegistry, maxBytes = 4 * 1024 * 1024) {
    this.#lru = new GenerationalLru(registry, maxBytes, (v) => (v ? labelBytes(v) : 8));
  }

  /** Bytes the cache holds (keys, estimates, overheads). */
  get bytes(): number {
    return this.#lru.bytes;
  }

  /** `label` in `target` (itself when already there), or undefined when it has no equivalent there. */
  translate(label: Label, target: Policy): Label | undefined {
    if (label.policy === target) return label;
    // The same label object into the same policy object: its answer, without building the key.
    // Policies are immutable and a reload makes new ones, so an answer kept with the label for
    // this target object is what translating again would give (and is never a stale one).
    const kept = this.#byObject.get(label);
    if (kept !== undefined && kept.target === target) return kept.result ?? undefined;
    const result = this.#translate(label, target);
    if (this.#lru.registry.get(target.id) === target)
      this.#byObject.set(label, { target, result: result ?? null });
    return result;
  }

  /**
   * The last answer for each label object (one target: the relay and the MUC translate a label
   * into one other policy), held only as long as the label is (a WeakMap: the label caches bound
   * how many labels live).
   */
  readonly #byObject = new WeakMap<Label, { readonly target: Policy; readonly result: Label | null }>();

  #translate(label: Label, target: Policy): Label | undefined {
    const key = `${target.id} ${labelKey(label)}`;
    let hit = this.#lru.fresh().get(key);
    // A stale policy object (the label or the target read before a reload) is not cached: the key
    // names categories by their index, which a reloaded policy may give to other categories.
    const registry = this.#lru.registry;
    const current = registry.get(target.id) === target && registry.get(label.policy.id) === label.policy;
    if (hit === undefined || !current) {
      try {
        hit = translateLabel(label, target);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        hit = null;
      }
      if (current) this.#lru.set(key, hit);
    }
    return hit ?? undefined;
  }

  /**
   * The X.841 ACDF for a clearance of any loaded policy: the label is first expressed in the
   * clearance's policy (XML-SPIF equivalentPolicy); a label with no equivalent there is denied
   * (CORDON_ACDF_POLICY_MISMATCH), as is a nil clearance. A user governed by an equivalent policy
   * is judged on the label as their policy says it, never refused for the policy alone.
   * A label or clearance bound to a Policy object the registry no longer holds (one a reload could
   * not re-bind: its policy removed, or no longer defining what it holds) is denied, whatever the
   * other is bound to (@cordon/policy rebind.ts isLoaded; adv15: a removed policy's label was
   * translated through its own equivalence table into a policy still loaded, and granted).
   */
  decide(label: Label | undefined, clearance: Clearance | undefined): AcdfDecision {
    if (!label || !clearance) return acdf(label, clearance);
    const registry = this.#lru.registry;
    if (!isLoaded(label.policy, registry)) return STALE;
    if (label.policy === clearance.policy) return acdf(label, clearance);
    if (!isLoaded(clearance.policy, registry)) return STALE;
    return acdf(this.translate(label, clearance.policy) ?? label, clearance);
  }
}
