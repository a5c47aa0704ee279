// The guard's client-location rule applied to the session asking for a catalog (issue 17): the
// guard refuses `forbidden` a message whose sending session's location does not grant its label
// (@cordon/guard decide.ts, "sender-location"), so a catalog toward a user offers only labels
// that location grants — by the guard's own rule (@cordon/rules client-location.ts), on the
// locations read from the guard's configuration (components.guard.locations / otherLocations).
//
// Fail closed: with locations configured, a session whose address cannot be learnt (no session
// named — a server asking on a user's behalf —, no answer, an error, no such session) is at the
// "unknown" location, where the guard lets nothing labelled through: no labelled item, and no
// "no label" item when the guard's default label is a label (the catalog-service's gate). No
// locations configured: no question asked and nothing changes.
import type { Label, PolicyRegistry } from "@cordon/policy";
import {
  ClientLocations,
  rebindLocations,
  type ClientLocation,
  type ClientLocationOptions,
  type Translations,
} from "@cordon/rules";
import type { SessionAddress } from "./session-address.js";

/** The location of a requester the rule does not apply to (no ranges, or a remote requester). */
export const ANYWHERE: ClientLocation = { key: "anywhere", clearance: undefined };

/**
 * The guard's client locations as the catalog holds them: re-read under the policies loaded now
 * at each policy reload exactly as the guard re-reads its own (rebindLocations); a clearance
 * that no longer reads keeps its old binding (it grants nothing) and `unreadable` is told.
 */
export class RequesterLocations {
  #options: ClientLocationOptions;
  #rule: ClientLocations;
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
      this.#options = rebindLocations(this.#options, registry, unreadable);
      this.#rule = new ClientLocations(this.#options);
    });
  }

  /** Whether a location rule applies (ranges configured): only then is a session's address asked. */
  get active(): boolean {
    return this.#rule.active;
  }

  /**
   * Where `session` (the requesting session's full JID; undefined: none, e.g. its server asking on
   * a user's behalf) is: asked of its server with `ask` only when the rule applies.
   */
  async locate(session: string | undefined, ask: SessionAddress): Promise<ClientLocation> {
    if (!this.#rule.active) return ANYWHERE;
    const ip = session === undefined ? undefined : await ask(session);
    return this.#rule.locate(ip);
  }

  /** Whether a session at `location` may send `label` (the guard's "sender-location" rule). */
  grants(translations: Translations, label: Label, location: ClientLocation): boolean {
    return this.#rule.grantsAt(translations, label, location) === "granted";
  }

  close(): void {
    this.#stop();
  }
}
