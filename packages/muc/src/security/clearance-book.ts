// Resolves a JID's effective clearance (XEP-0258 §"Use in XMPP" https://xmpp.org/extensions/xep-0258.html#xmpp-use):
// the user's own clearance when the store or directory knows one; for users of another domain,
// that peer domain's inbound clearance; otherwise the nil clearance (always denied). Reading,
// parsing and caching are the one ClearanceReader's (@cordon/rules).
import type { Clearance } from "@cordon/policy";
import type { RawValue } from "@cordon/store";
import { NO_CLEARANCE, type ClearanceReader, type ClearanceState } from "@cordon/rules";

export interface ClearanceBookOptions {
  reader: ClearanceReader;
  /** Domains whose users are "ours" (no peer fallback). */
  localDomains: readonly string[];
}

export class ClearanceBook {
  readonly #options: ClearanceBookOptions;

  constructor(options: ClearanceBookOptions) {
    this.#options = options;
  }

  /** The effective clearance of a bare JID now. Never throws. */
  async lookup(bareJid: string): Promise<ClearanceState> {
    const own = await this.#options.reader.user(bareJid);
    if (own.status !== "none") return own;
    const domain = bareJid.slice(bareJid.indexOf("@") + 1);
    if (this.#options.localDomains.includes(domain)) return NO_CLEARANCE;
    const peer = await this.#options.reader.peer(domain, "inbound");
    return peer.status === "none" ? NO_CLEARANCE : peer;
  }

  /** The store's service clearance of a component domain (the catalog's reader path). Never throws. */
  service(domain: string): Promise<ClearanceState> {
    return this.#options.reader.service(domain);
  }

  /**
   * The reader's notification generation now: a lookup started at this generation is stale when
   * `overtaken(generation, jid)` later says so (a notification that may concern `jid` came since).
   */
  get generation(): number {
    return this.#options.reader.generation;
  }

  /** Whether a notification about `bareJid` (or a service, peer or connection one) came after `generation`. */
  overtaken(generation: number, bareJid: string): boolean {
    return this.#options.reader.overtaken(generation, bareJid);
  }

  /** Parses a stored clearance (a room's); undefined when it does not parse under the loaded policies. */
  parseRaw(raw: RawValue): Clearance | undefined {
    return this.#options.reader.parse(raw);
  }

  /** Stops the reader's store subscription (the service is stopping). */
  close(): void {
    this.#options.reader.close();
  }
}
