// Where the clearances guarding a crossing come from: the direction's clearance (configured, or the
// store's peer clearance for the far-side domain), and the sender's clearance (local senders: their
// user clearance — store override, then the LDAP directory — or their domain's service clearance
// for domain and room JIDs; remote senders: the remote side's configured sender clearance, the
// store's service clearance of their domain, or else the direction's clearance). Reading, parsing
// and caching are the one ClearanceReader's (@cordon/rules).
import type { Clearance } from "@cordon/policy";
import type { PeerDirection, RoomRecord } from "@cordon/store";
import type { ClearanceReader, ClearanceSources, ClearanceState } from "@cordon/rules";
import type { LabelEngine } from "./label-check.js";

/** The part of @cordon/store's ClearanceStore the relay reads (rooms: for local room recipients). */
export type RelayClearanceStore = ClearanceSources & {
  getRoom?(jid: string): Promise<RoomRecord | undefined>;
};

/** What the store says bounds a room's readers: its room clearance, if it has one. */
export type RoomClearance =
  { status: "known"; clearances: Clearance[] } | { status: "unknown"; reason: string };

export class ClearanceSource {
  readonly #reader: ClearanceReader;

  readonly #store: RelayClearanceStore | undefined;

  constructor(
    reader: ClearanceReader,
    private readonly engine: LabelEngine,
    store?: RelayClearanceStore,
  ) {
    this.#reader = reader;
    this.#store = store;
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

  /** The synchronous path (ClearanceReader `cached*`): the answer if cached now, else undefined. */
  cachedUser(bareJid: string, policy: string): ClearanceState | undefined {
    return this.#reader.cachedUser(bareJid, policy);
  }

  cachedService(domain: string): ClearanceState | undefined {
    return this.#reader.cachedService(domain);
  }

  cachedPeer(domain: string, direction: PeerDirection): ClearanceState | undefined {
    return this.#reader.cachedPeer(domain, direction);
  }

  service(domain: string): Promise<ClearanceState> {
    return this.#reader.service(domain);
  }

  /**
   * A local room's clearance, as its MUC service stored it (persistent rooms). A room the store
   * does not hold, a store that cannot say, or a stored clearance that does not parse: unknown.
   */
  async room(jid: string): Promise<RoomClearance> {
    const get = this.#store?.getRoom?.bind(this.#store);
    if (!get) return { status: "unknown", reason: "no room store" };
    let record: RoomRecord | undefined;
    try {
      record = await get(jid);
    } catch (error) {
      return { status: "unknown", reason: `room lookup failed: ${(error as Error).message}` };
    }
    if (!record) return { status: "unknown", reason: "room not known" };
    if (!record.clearance) return { status: "known", clearances: [] };
    const c = this.#reader.parse(record.clearance, `room ${jid}`);
    return c
      ? { status: "known", clearances: [c] }
      : { status: "unknown", reason: "room clearance unreadable" };
  }

  peer(domain: string, direction: PeerDirection): Promise<ClearanceState> {
    return this.#reader.peer(domain, direction);
  }
}
