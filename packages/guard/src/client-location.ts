// The client-location rule (issue 17, after Isode's description of label enforcement in an XMPP
// server: a clearance for where a client connects from): each configured IP range has a
// clearance; a session connected from an address in a range may send or receive a label only when
// that range's clearance grants it (on top of the user's own clearance). The most specific range
// holding the address decides; an address in no range takes `otherLocations`; with neither, or
// without a known address, the location is unknown and nothing labelled reaches or leaves the
// session (fail closed). With no ranges configured there is no location rule at all.
import { BlockList, isIP } from "node:net";
import type { Clearance, Label } from "@cordon/policy";
import type { Translations } from "@cordon/rules";

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
    const plain = ip === undefined ? undefined : plainAddress(ip);
    if (!plain) return undefined;
    for (const block of this.#blocks)
      if (block.list.check(plain.address, plain.family)) return block.clearance;
    return this.#other;
  }

  /** Whether a session at `ip` may send or receive `label` (always "granted" without ranges). */
  grants(translations: Translations, label: Label, ip: string | undefined): LocationVerdict {
    if (!this.active) return "granted";
    const clearance = this.clearanceOf(ip);
    if (!clearance) return "unknown";
    return translations.decide(label, clearance).granted ? "granted" : "denied";
  }
}
