// Resolves a JID's effective clearance (XEP-0258 §"Use in XMPP" https://xmpp.org/extensions/xep-0258.html#xmpp-use):
// the user's own clearance when the store or directory knows one; for users of another domain,
// that peer domain's inbound clearance; otherwise the nil clearance (always denied).
// Parsed clearances are cached by their encoded bytes and dropped on a policy reload.
import { parseClearance, type PolicyRegistry, type Clearance } from "@cordon/policy";
import type { ClearanceLookup, RawValue, UserClearanceSource } from "@cordon/store";
import { NO_CLEARANCE, unknownClearance, type ClearanceState } from "@cordon/rules";

export interface PeerClearanceSource {
  getPeerClearance(domain: string, direction: "inbound" | "outbound"): Promise<ClearanceLookup>;
}

export interface ClearanceBookOptions {
  registry: PolicyRegistry;
  users: UserClearanceSource;
  peers?: PeerClearanceSource;
  /** Domains whose users are "ours" (no peer fallback). */
  localDomains: readonly string[];
  /** Called once per malformed stored clearance (then treated as none). */
  onMalformed?: (jid: string, error: Error) => void;
}

export class ClearanceBook {
  readonly #options: ClearanceBookOptions;
  readonly #parsed = new Map<string, { generation: number; clearance: Clearance | undefined }>();

  constructor(options: ClearanceBookOptions) {
    this.#options = options;
  }

  /** The effective clearance of a bare JID now. Never throws. */
  async lookup(bareJid: string): Promise<ClearanceState> {
    let lookup: ClearanceLookup;
    try {
      lookup = await this.#options.users.getUserClearance(bareJid);
    } catch (error) {
      return unknownClearance(`lookup failed: ${(error as Error).message}`);
    }
    if (lookup.status === "unknown") return unknownClearance(lookup.reason);
    if (lookup.status === "known") return this.#parse(bareJid, lookup.clearance);
    const domain = bareJid.slice(bareJid.indexOf("@") + 1);
    if (this.#options.peers && !this.#options.localDomains.includes(domain)) {
      let peer: ClearanceLookup;
      try {
        peer = await this.#options.peers.getPeerClearance(domain, "inbound");
      } catch (error) {
        return unknownClearance(`peer lookup failed: ${(error as Error).message}`);
      }
      if (peer.status === "unknown") return unknownClearance(peer.reason);
      if (peer.status === "known") return this.#parse(domain, peer.clearance);
    }
    return NO_CLEARANCE;
  }

  /** Parses a stored clearance (cached by bytes); a malformed one counts as none. */
  parseRaw(raw: RawValue): Clearance | undefined {
    const key = `${raw.encoding}:${raw.data}`;
    const generation = this.#options.registry.generation;
    const hit = this.#parsed.get(key);
    if (hit && hit.generation === generation) return hit.clearance;
    let clearance: Clearance | undefined;
    try {
      clearance = parseClearance(
        raw.encoding === "ber" ? Buffer.from(raw.data, "base64") : raw.data,
        this.#options.registry,
      );
    } catch {
      clearance = undefined;
    }
    if (this.#parsed.size > 10_000) this.#parsed.clear();
    this.#parsed.set(key, { generation, clearance });
    return clearance;
  }

  #parse(subject: string, raw: RawValue): ClearanceState {
    const clearance = this.parseRaw(raw);
    if (!clearance) {
      this.#options.onMalformed?.(
        subject,
        new Error("stored clearance does not parse under the loaded policies"),
      );
      return NO_CLEARANCE;
    }
    return { status: "known", clearance, fingerprint: `${raw.encoding}:${raw.data}` };
  }
}
