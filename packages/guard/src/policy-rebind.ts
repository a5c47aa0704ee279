// The guard's configured labels and clearances (the default label, the access label, the client
// locations' clearances) re-read under the policies loaded now. A policy hot reload (SIGHUP or
// POST /policies/reload) switches the shared registry to new Policy objects
// (PolicyRegistry.replaceAll); a label still bound to an old one is granted by no clearance of the
// new ones (X.841 ACDF, @cordon/policy acdf.ts: policy mismatch), and its validity would be judged
// under the old policy (@cordon/rules stanza-label.ts remembers it per Label object). Adversarial
// review adv14a: after any reload every unlabelled one-to-one message was refused until a restart.
// Fail closed: a value that no longer reads under the new policies is kept as it was (bound to a
// policy no longer loaded, it grants nothing: @cordon/rules Translations.decide denies it and
// StanzaLabels refuses it as a default, by @cordon/policy isLoaded — adv15: through an equivalent
// policy still loaded it was granted) and the caller is told; under `cordon start` such a reload
// is refused before the switch (cli runners/guard.ts guardRebinder).
import { rebindLabel, type Clearance, type Label, type PolicyRegistry } from "@cordon/policy";
import { rebindLocations, type LocationRange } from "@cordon/rules";

/** What the guard was configured with that is bound to Policy objects. */
export interface GuardBound {
  readonly defaultLabel: Label | undefined;
  readonly accessLabel: Label | undefined;
  readonly locations: readonly LocationRange[];
  readonly otherLocations: Clearance | undefined;
}

/** `bound` re-read under `registry`; `unreadable` is told what kept its old binding. */
export function rebindGuard(
  bound: GuardBound,
  registry: PolicyRegistry,
  unreadable: (what: string, reason: string) => void,
): GuardBound {
  const reread = <T>(what: string, value: T, read: (v: T) => T): T => {
    try {
      return read(value);
    } catch (error) {
      unreadable(what, (error as Error).message);
      return value;
    }
  };
  const label = (what: string, l: Label | undefined) => l && reread(what, l, (v) => rebindLabel(v, registry));
  const defaultLabel = label("defaultLabel", bound.defaultLabel);
  const accessLabel = label("accessLabel", bound.accessLabel);
  // The locations as the catalog re-reads them too (one function, @cordon/rules client-location.ts).
  const located = rebindLocations(
    {
      locations: bound.locations,
      ...(bound.otherLocations ? { otherLocations: bound.otherLocations } : {}),
    },
    registry,
    unreadable,
  );
  return {
    defaultLabel,
    accessLabel,
    locations: located.locations,
    otherLocations: located.otherLocations,
  };
}
