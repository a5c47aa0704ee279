// The client-location rule (issue 17, after Isode's description of label enforcement in an XMPP
// server: a clearance for where a client connects from): each configured IP range has a
// clearance; a session connected from an address in a range may send or receive a label only when
// that range's clearance grants it (on top of the user's own clearance). The most specific range
// holding the address decides; an address in no range takes `otherLocations`; with neither, or
// without a known address, the location is unknown and nothing labelled reaches or leaves the
// session (fail closed). With no ranges configured there is no location rule at all.
// One rule, three users: the guard (@cordon/guard decide.ts: each session of a message, whose
// address its module tells with the question), the label catalog (@cordon/catalog
// catalog-service.ts: the requesting session and the target user's sessions, so that a catalog
// toward a user offers only what the guard lets through from that session to them —
// recipientRefused below is the recipient side, for both) and the MUC (@cordon/muc: each occupant's session, for what
// it may receive and send in a room). The two components do not see a session's connection: they
// ask its server (session-address.ts) and hold the rule as a SessionLocations (below).
import { BlockList, isIP } from "node:net";
import { rebindClearance, type Clearance, type Label, type PolicyRegistry } from "@cordon/policy";
import type { Translations } from "./translation.js";
import type { SessionAddress } from "./session-address.js";

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

/** The location of a session the rule does not apply to (no ranges, or a session of another server). */
export const ANYWHERE: ClientLocation = { key: "anywhere", clearance: undefined };
/** The location of a session whose address is not known (or in no range without `otherLocations`). */
export const UNKNOWN_LOCATION: ClientLocation = { key: "unknown", clearance: undefined };
const UNKNOWN = UNKNOWN_LOCATION;

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

  /**
   * `location` (from `locate`, possibly of another ClientLocations over the same ranges: before a
   * policy reload) with this rule's clearance for its key: a location kept across a reload is
   * judged on the clearance as re-read under the new policies.
   */
  current(location: ClientLocation): ClientLocation {
    if (location.key === "other") return this.#other ? { key: "other", clearance: this.#other } : UNKNOWN;
    const range = /^range:(\d+)$/.exec(location.key);
    if (!range) return location; // unknown; anywhere
    const block = this.#blocks[Number(range[1])];
    return block ? { key: location.key, clearance: block.clearance } : UNKNOWN;
  }

  /** Whether a session at `ip` may send or receive `label` (always "granted" without ranges). */
  grants(translations: Translations, label: Label, ip: string | undefined): LocationVerdict {
    return this.grantsAt(translations, label, this.locate(ip));
  }

  /**
   * Whether a session may receive `label` wherever it connects from: every range's clearance and
   * `otherLocations` grant it (without `otherLocations` an address in no range grants nothing, so
   * never). For what goes to a user without naming a session (a bare JID: the server picks the
   * session), which no one can locate. Always true without ranges.
   */
  grantsEverywhere(translations: Translations, label: Label): boolean {
    if (!this.active) return true;
    if (!this.#other || !translations.decide(label, this.#other).granted) return false;
    return this.#blocks.every((b) => translations.decide(label, b.clearance).granted);
  }

  /** Whether a session at `location` (from `locate`) may send or receive `label`. */
  grantsAt(translations: Translations, label: Label, location: ClientLocation): LocationVerdict {
    if (!this.active) return "granted";
    if (!location.clearance) return "unknown";
    return translations.decide(label, location.clearance).granted ? "granted" : "denied";
  }
}

/**
 * The recipient side of the rule (the guard's "recipient-location", decide.ts; the catalog's offer
 * toward a user, catalog-service.ts — one home for both): a message to `resource` (undefined: the
 * bare JID) of a user whose sessions are `sessions` is refused when the session it names may not
 * have it (`granted` false), or — naming none of them — when the user has sessions and none may.
 * A user without a session is not refused here: the message is stored, and decided again for the
 * session it is replayed to (the guard's offline rule).
 */
export function recipientRefused<S extends { readonly resource: string }>(
  sessions: readonly S[],
  resource: string | undefined,
  granted: (session: S) => boolean,
): boolean {
  const named = resource === undefined ? undefined : namedSession(sessions, resource);
  if (named !== undefined) return !granted(named);
  return sessions.length > 0 && !sessions.some(granted);
}

/**
 * The session a full JID's `resource` names: as written, else as the server compares resources
 * (stringprep resourceprep, RFC 3920 §3.4 / RFC 3454: table B.1 mapped to nothing, then NFKC) —
 * ejabberd lists its sessions' prepared resources but asks about a message's `to` as the client
 * wrote it, and routes it to that session all the same (review adv17e A1: "ａｎｎｅｘ" reached the
 * guard as no session of the user's, was judged on all of them, not refused, then dropped).
 */
export function namedSession<S extends { readonly resource: string }>(
  sessions: readonly S[],
  resource: string,
): S | undefined {
  const exact = sessions.find((s) => s.resource === resource);
  if (exact !== undefined) return exact;
  const prepared = resourceprep(resource);
  return sessions.find((s) => resourceprep(s.resource) === prepared);
}

/** RFC 3454 table B.1 (commonly mapped to nothing), then NFKC: resourceprep's mapping. */
const B1 = new Set([0xad, 0x34f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]);
const isB1 = (c: number) => B1.has(c) || (c >= 0xfe00 && c <= 0xfe0f);
const resourceprep = (resource: string) =>
  [...resource]
    .filter((c) => !isB1(c.codePointAt(0) ?? 0))
    .join("")
    .normalize("NFKC");

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

/**
 * The rule as a component that does not see sessions' connections holds it (the catalog, the
 * MUC): the guard's locations (components.guard.locations / otherLocations), re-read under the
 * policies loaded now at each policy reload exactly as the guard re-reads its own
 * (rebindLocations; a clearance that no longer reads keeps its old binding — it grants nothing —
 * and `unreadable` is told), and a session located by asking its server (session-address.ts).
 * Fail closed: with ranges configured, a session whose address cannot be learnt is at the unknown
 * location, where nothing labelled is granted. No ranges: nothing is asked and everything granted.
 */
export class SessionLocations {
  #options: ClientLocationOptions;
  #rule: ClientLocations;
  /**
   * Each label's verdict per location key, computed once (a room's fan-out asks it for every
   * occupant of every message): weakly held by the label, emptied when the policies change.
   */
  #verdicts = new WeakMap<Label, Map<string, boolean>>();
  readonly #stop: () => void;

  constructor(
    options: ClientLocationOptions | undefined,
    registry: PolicyRegistry,
    unreadable: (what: string, reason: string) => void = () => undefined,
  ) {
    this.#options = options ?? { locations: [] };
    this.#rule = new ClientLocations(this.#options);
    this.#stop = registry.onChange(() => {
      if (!this.#rule.active) return;
      this.#verdicts = new WeakMap();
      this.#options = rebindLocations(this.#options, registry, unreadable);
      this.#rule = new ClientLocations(this.#options);
    });
  }

  /** Whether a location rule applies (ranges configured): only then is a session's address asked. */
  get active(): boolean {
    return this.#rule.active;
  }

  /**
   * Where `session` (a full JID; undefined: none, e.g. a server asking on a user's behalf) is:
   * asked of its server with `ask` only when the rule applies.
   */
  async locate(session: string | undefined, ask: SessionAddress): Promise<ClientLocation> {
    if (!this.#rule.active) return ANYWHERE;
    const ip = session === undefined ? undefined : await ask(session);
    return this.#rule.locate(ip);
  }

  /** Where a session its server told the address of (`ip`; undefined: not told) is. */
  at(ip: string | undefined): ClientLocation {
    return this.#rule.locate(ip);
  }

  /**
   * Whether a session at `location` may send or receive `label` (the guard's "sender-location" and
   * recipient rule), judged on the location's clearance as it reads now (after a policy reload:
   * re-read). ANYWHERE (this very object) — a session the rule does not apply to, as the caller
   * decided (the MUC's occupants of other servers) — is granted; no location (undefined: never
   * located) while the rule applies is not.
   */
  grants(translations: Translations, label: Label, location: ClientLocation | undefined): boolean {
    if (!this.#rule.active || location === ANYWHERE) return true;
    if (!location) return false;
    let byKey = this.#verdicts.get(label);
    if (!byKey) this.#verdicts.set(label, (byKey = new Map<string, boolean>()));
    let granted = byKey.get(location.key);
    if (granted === undefined) {
      granted = this.#rule.grantsAt(translations, label, this.#rule.current(location)) === "granted";
      byKey.set(location.key, granted);
    }
    return granted;
  }

  /**
   * Whether `label` may go to a user of a served domain without naming its session (a bare JID,
   * delivered by the server to whichever session it picks): only when every location grants it
   * (ClientLocations.grantsEverywhere), judged on the clearances as they read now.
   */
  grantsEverywhere(translations: Translations, label: Label): boolean {
    return this.#rule.grantsEverywhere(translations, label);
  }

  close(): void {
    this.#stop();
  }
}
