// The client-location rule (issue 17, after Isode's description of label enforcement in an XMPP
// server: a clearance for where a client connects from): each configured IP range has a
// clearance; a session connected from an address in a range may send or receive a label only when
// that range's clearance grants it (on top of the user's own clearance). The most specific range
// holding the address decides; an address in no range takes `otherLocations`; with neither, or
// without a known address, the location is unknown and nothing labelled reaches or leaves the
// session (fail closed). With no ranges configured there is no location rule at all.
// One rule, two users: the guard (@cordon/guard decide.ts: each session of a message) and the
// label catalog (@cordon/catalog requester-location.ts: the requesting session, so that a catalog
// toward a user offers only what the guard lets through from that session).
import { BlockList, isIP } from "node:net";
import { rebindClearance, type Clearance, type Label, type PolicyRegistry } from "@cordon/policy";
import type { Translations } from "./translation.js";

export interface LocationRange {
  /** CIDR blocks ("10.1.0.0/16", "fd00::/8"); a bare address is one host. */
  readonly ranges: readonly string[];
  readonly clearance: Clearance;
}

export interface ClientLocationOptions {
  readonly locations: readonly LocationRange[];
  /** The clearance of an address in no range; undefined: such an address is refused everything labelled. */
  readonly otherLocations?: Clearance;
}

/** Whether a session's location grants a label: "granted", "denied", or "unknown" (no usable address). */
export type LocationVerdict = "granted" | "denied" | "unknown";

/**
 * Where a session is, as the rule sees it: `key` names what decides — the range (its place among
 * the ranges, most specific first), "other" (`otherLocations`), "unknown" (no clearance: no
 * address, or in no range without `otherLocations`) or "anywhere" (no ranges configured) — so two
 * addresses with the same key get the same verdict on every label (a cache key, the catalog's).
 */
export interface ClientLocation {
  readonly key: string;
  readonly clearance: Clearance | undefined;
}

const ANYWHERE: ClientLocation = { key: "anywhere", clearance: undefined };
const UNKNOWN: ClientLocation = { key: "unknown", clearance: undefined };

interface Block {
  readonly bits: number;
  readonly list: BlockList;
  readonly clearance: Clearance;
}

/** A CIDR block as address, family and prefix length, or undefined when it is not one. */
export function parseCidr(
  cidr: string,
): { address: string; family: "ipv4" | "ipv6"; bits: number } | undefined {
  const [address = "", prefix, ...rest] = cidr.trim().split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  return { address, family: version === 4 ? "ipv4" : "ipv6", bits };
}

/** An IPv4 address written as IPv4-mapped IPv6 (how a dual-stack listener reports it) is the IPv4 one. */
function plainAddress(ip: string): { address: string; family: "ipv4" | "ipv6" } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped?.[1] ?? ip;
  const version = isIP(address);
  return version === 0 ? undefined : { address, family: version === 4 ? "ipv4" : "ipv6" };
}

export class ClientLocations {
  readonly #blocks: Block[];
  readonly #other: Clearance | undefined;

  constructor(options: ClientLocationOptions) {
    const blocks: Block[] = [];
    for (const location of options.locations)
      for (const cidr of location.ranges) {
        const parsed = parseCidr(cidr);
        if (!parsed) throw new RangeError(`not an IP range: ${JSON.stringify(cidr)}`);
        const list = new BlockList();
        list.addSubnet(parsed.address, parsed.bits, parsed.family);
        // IPv4 and IPv6 prefix lengths compare on one scale (an IPv4 /24 is an IPv6 /120).
        blocks.push({
          bits: parsed.family === "ipv4" ? parsed.bits + 96 : parsed.bits,
          list,
          clearance: location.clearance,
        });
      }
    // Most specific first; among equal prefixes the first configured.
    this.#blocks = blocks
      .map((b, i) => ({ b, i }))
      .sort((x, y) => y.b.bits - x.b.bits || x.i - y.i)
      .map((x) => x.b);
    this.#other = options.otherLocations;
  }

  /** Whether any location rule applies (ranges configured). */
  get active(): boolean {
    return this.#blocks.length > 0;
  }

  /** The clearance of a session connected from `ip`, or undefined when it has none (unknown location). */
  clearanceOf(ip: string | undefined): Clearance | undefined {
    return this.locate(ip).clearance;
  }

  /** Where a session connected from `ip` is (the range deciding, and its clearance). */
  locate(ip: string | undefined): ClientLocation {
    if (!this.active) return ANYWHERE;
    const plain = ip === undefined ? undefined : plainAddress(ip);
    if (!plain) return UNKNOWN;
    for (const [i, block] of this.#blocks.entries())
      if (block.list.check(plain.address, plain.family))
        return { key: `range:${i}`, clearance: block.clearance };
    return this.#other ? { key: "other", clearance: this.#other } : UNKNOWN;
  }

  /** Whether a session at `ip` may send or receive `label` (always "granted" without ranges). */
  grants(translations: Translations, label: Label, ip: string | undefined): LocationVerdict {
    return this.grantsAt(translations, label, this.locate(ip));
  }

  /** Whether a session at `location` (from `locate`) may send or receive `label`. */
  grantsAt(translations: Translations, label: Label, location: ClientLocation): LocationVerdict {
    if (!this.active) return "granted";
    if (!location.clearance) return "unknown";
    return translations.decide(label, location.clearance).granted ? "granted" : "denied";
  }
}

/**
 * The locations' clearances re-read under the policies `registry` holds now (a policy hot reload:
 * a clearance bound to an old Policy object grants nothing under the new ones). One that no longer
 * reads keeps its old binding — it then grants nothing: fail closed — and `unreadable` is told
 * (`what`: the configuration key). The guard (policy-rebind.ts) and the catalog re-read them so.
 */
export function rebindLocations(
  options: ClientLocationOptions,
  registry: PolicyRegistry,
  unreadable: (what: string, reason: string) => void,
): ClientLocationOptions {
  const reread = (what: string, c: Clearance): Clearance => {
    try {
      return rebindClearance(c, registry);
    } catch (error) {
      unreadable(what, (error as Error).message);
      return c;
    }
  };
  const locations = options.locations.map((l, i) => ({
    ...l,
    clearance: reread(`locations[${i}].clearance`, l.clearance),
  }));
  const other = options.otherLocations && reread("otherLocations", options.otherLocations);
  return { locations, ...(other ? { otherLocations: other } : {}) };
}
