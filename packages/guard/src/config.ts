// The `components.guard` section of the Cordon config file (read with the runtime's ConfigReader):
//   domain, secret, server       the XEP-0114 connection (see @cordon/component)
//   served: [DOMAIN]             the servers whose module asks (their own users are decided here)
//   defaultLabel: LABEL          the label of an unlabelled message (default: none -> refused)
//   serverClearance: CLEARANCE   the servers' clearance, written at start as each served domain's
//                                service clearance in the store — the one source the guard and the
//                                catalog read (without it, what the store holds; none: no bound)
// Policies, store and directory come from the top level of the file (shared by all components).
import type { ConfigReader } from "@cordon/component";
import {
  clearanceFromSpec,
  labelFromSpec,
  type Clearance,
  type Label,
  type SpecOptions,
} from "@cordon/policy";

export const GUARD_CONFIG_KEYS: readonly string[] = [
  "domain",
  "secret",
  "server",
  "served",
  "defaultLabel",
  "serverClearance",
];

export interface GuardSectionSettings {
  served: string[];
  defaultLabel?: Label;
  serverClearance?: Clearance;
}

/** Reads and validates the guard-specific keys; failures are ConfigErrors naming the key. */
export function readGuardSection(section: ConfigReader, spec: SpecOptions): GuardSectionSettings {
  section.only(GUARD_CONFIG_KEYS);
  const served = section.stringList("served").map((d, i) => {
    if (!/^[a-z0-9.-]+$/i.test(d) || d.startsWith(".") || d.endsWith("."))
      section.fail(`served[${i}]`, `expected a domain name, got "${d}"`);
    return d.toLowerCase();
  });
  if (served.length === 0)
    section.fail("served", "required: the domains of the servers whose module asks the guard");
  return {
    served,
    ...(section.has("defaultLabel")
      ? { defaultLabel: section.parse("defaultLabel", (value, key) => labelFromSpec(value, key, spec)) }
      : {}),
    ...(section.has("serverClearance")
      ? {
          serverClearance: section.parse("serverClearance", (value, key) =>
            clearanceFromSpec(value, key, spec),
          ),
        }
      : {}),
  };
}
