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

  /** Parses a stored clearance (a room's); undefined when it does not parse under the loaded policies. */
  parseRaw(raw: RawValue): Clearance | undefined {
    return this.#options.reader.parse(raw);
  }

  /** Stops the reader's store subscription (the service is stopping). */
  close(): void {
    this.#options.reader.close();
  }
}
