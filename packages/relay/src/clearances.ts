// Where the clearances guarding a crossing come from: the direction's clearance (configured, or the
// store's peer clearance for the far-side domain), and the sender's clearance (local senders: their
// user clearance — store override, then the LDAP directory — or their domain's service clearance
// for domain and room JIDs; remote senders: the remote side's configured sender clearance, the
// store's service clearance of their domain, or else the direction's clearance). Reading, parsing
// and caching are the one ClearanceReader's (@cordon/rules).
import type { PeerDirection } from "@cordon/store";
import type { ClearanceReader, ClearanceSources, ClearanceState } from "@cordon/rules";
import type { LabelEngine } from "./label-check.js";

/** The part of @cordon/store's ClearanceStore the relay reads. */
export type RelayClearanceStore = ClearanceSources;

export class ClearanceSource {
  readonly #reader: ClearanceReader;

  constructor(
    reader: ClearanceReader,
    private readonly engine: LabelEngine,
  ) {
    this.#reader = reader;
  }

  close(): void {
    this.#reader.close();
  }

  /** A configured clearance (data) as an answer; one that does not read is unknown (fail closed). */
  configured(data: string): ClearanceState {
    const c = this.engine.clearanceFromData(data);
    return c
      ? { status: "known", clearance: c, fingerprint: `configured:${data}` }
      : { status: "unknown", reason: "the configured clearance does not parse" };
  }

  user(bareJid: string, policy: string): Promise<ClearanceState> {
    return this.#reader.user(bareJid, policy);
  }

  service(domain: string): Promise<ClearanceState> {
    return this.#reader.service(domain);
  }

  peer(domain: string, direction: PeerDirection): Promise<ClearanceState> {
    return this.#reader.peer(domain, direction);
  }
}
