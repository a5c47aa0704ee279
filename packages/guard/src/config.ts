// The `components.guard` section of the Cordon config file (read with the runtime's ConfigReader):
//   domain, secret, server       the XEP-0114 connection (see @cordon/component)
//   served: [DOMAIN]             the servers whose module asks (their own users are decided here)
//   defaultLabel: LABEL          the label of an unlabelled message (default: none -> refused)
//   accessLabel: LABEL           the server access label: a label every user's clearance must
//                                grant to bind a resource, i.e. log in (access.ts; default none:
//                                everyone may; the modules ask only when told to, see the README)
//   serverClearance: CLEARANCE   the servers' clearance, written at start as each served domain's
//                                service clearance in the store — the one source the guard and the
//                                catalog read (without it, what the store holds; none: no bound)
//   locations: [{ ranges: [CIDR], clearance: CLEARANCE }]
//                                client locations (@cordon/rules client-location.ts): a clearance per IP range
//   otherLocations: CLEARANCE    the clearance of an address in no range (default: refused)
// Policies, store and directory come from the top level of the file (shared by all components).
import { ConfigReader, isObject } from "@cordon/component";
import { parseCidr, type LocationRange } from "@cordon/rules";
import {
  clearanceFromSpec,
  defaultLabelFromSpec,
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
  "locations",
  "otherLocations",
  "accessLabel",
];

export interface GuardSectionSettings {
  served: string[];
  defaultLabel?: Label;
  serverClearance?: Clearance;
  locations: LocationRange[];
  otherLocations?: Clearance;
  accessLabel?: Label;
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
      ? {
          defaultLabel: section.parse("defaultLabel", (value, key) => defaultLabelFromSpec(value, key, spec)),
        }
      : {}),
    locations: readLocations(section, spec),
    ...(section.has("otherLocations")
      ? {
          otherLocations: section.parse("otherLocations", (value, key) =>
            clearanceFromSpec(value, key, spec),
          ),
        }
      : {}),
    ...(section.has("serverClearance")
      ? {
          serverClearance: section.parse("serverClearance", (value, key) =>
            clearanceFromSpec(value, key, spec),
          ),
        }
      : {}),
    ...(section.has("accessLabel")
      ? {
          // Valid under its policy, as a default label must be (access.ts denies every bind on one
          // that is not: refused here rather than at every login).
          accessLabel: section.parse("accessLabel", (value, key) => defaultLabelFromSpec(value, key, spec)),
        }
      : {}),
  };
}

/** `locations`: a list of { ranges: [CIDR], clearance }, each range a valid IPv4 or IPv6 block. */
function readLocations(section: ConfigReader, spec: SpecOptions): LocationRange[] {
  if (!section.has("locations")) return [];
  const value = section.value.locations;
  if (!Array.isArray(value)) section.fail("locations", "expected a list of { ranges, clearance }");
  return value.map((entry: unknown, i) => {
    if (!isObject(entry)) section.fail(`locations[${i}]`, "expected a mapping { ranges, clearance }");
    const at = new ConfigReader(entry, section.key(`locations[${i}]`), section.file).only([
      "ranges",
      "clearance",
    ]);
    const ranges = at.stringList("ranges");
    if (ranges.length === 0) at.fail("ranges", "required: a list of IP ranges (CIDR, e.g. 10.1.0.0/16)");
    ranges.forEach((r, j) => {
      if (!parseCidr(r)) at.fail(`ranges[${j}]`, `expected an IP range in CIDR form, got "${r}"`);
    });
    if (!at.has("clearance")) at.fail("clearance", "required: the clearance of clients in these ranges");
    return { ranges, clearance: at.parse("clearance", (v, key) => clearanceFromSpec(v, key, spec)) };
  });
}
