// The demo policy and the guard's decision context (decide.ts) as the unit tests build them.
// Used by decide.test.ts, compact-verdict.test.ts and verdict-cache.test.ts.
import {
  encodeBerClearance,
  makeClearance,
  makeLabel,
  PolicyRegistry,
  type Classification,
} from "@cordon/policy";
import { ClearanceReader, Markings, StanzaLabels } from "@cordon/rules";
import { MemoryStore } from "@cordon/store";
import { ClientLocations } from "@cordon/rules";
import type { DecideContext } from "../src/decide.js";

export const registry = new PolicyRegistry();
export const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
export const SERVER = "example.test";
export const cls = (n: string) => policy.classificationByName.get(n)!;
export const label = (n: string) => makeLabel(policy, cls(n), []);

/** A stored clearance (BER, base64) for `classes`. */
export const storedClearance = (classes: Iterable<Classification>) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(makeClearance(policy, classes, []))).toString("base64"),
});

/** The context the guard decides in, reading clearances from `store` (no cache: maxAgeMs 0). */
export function decideContext(
  store: MemoryStore,
  locations = new ClientLocations({ locations: [] }),
): DecideContext {
  return {
    labels: new StanzaLabels(registry),
    markings: new Markings(),
    clearances: new ClearanceReader({ registry, store, maxAgeMs: 0 }),
    accept: [policy.id],
    defaultLabel: label("UNCLASSIFIED"),
    served: [SERVER],
    maxDepth: 60,
    locations,
  };
}

/** A context in which alice and bob (example.test) are cleared for every classification. */
export async function allClearedContext(): Promise<DecideContext> {
  const store = new MemoryStore();
  const all = storedClearance(policy.classifications);
  await store.setUserClearance("alice@example.test", all);
  await store.setUserClearance("bob@example.test", all);
  return decideContext(store);
}
