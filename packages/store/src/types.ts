// Values the store holds. The store never parses labels or clearances: it keeps them as raw
// encoded values and callers parse them with @cordon/policy.

/** An encoded clearance (X.501 Clearance, RFC 5755 §4.4.6) or label: BER as base64, or XML text. */
export interface RawValue {
  encoding: "ber" | "xml";
  /** base64 of the BER bytes when encoding is "ber"; the XML document text when "xml". */
  data: string;
}
export type RawClearance = RawValue;
export type RawLabel = RawValue;

/** Where a known clearance came from. */
export type ClearanceSource = "store" | "directory" | "cache";

/**
 * The one tri-state of every clearance answer, so callers can fail closed:
 * - known: a clearance exists (`clearance`, plus what the level adds in `Known`);
 * - none: we are sure there is no clearance (the nil clearance: denied);
 * - unknown: we cannot tell now (backend down, cached answer past its TTL, unreadable value). Callers deny.
 *
 * `C` is the clearance a known answer holds: the store, the directory and the resolver answer raw
 * values (`ClearanceLookup`); the components answer parsed clearances (`ClearanceState` of
 * @cordon/rules, from its ClearanceReader). Defined here, the lowest layer that answers it.
 */
export type ClearanceAnswer<C, Known extends object = { readonly source: ClearanceSource }> =
  | ({ readonly status: "known"; readonly clearance: C } & Known)
  | { readonly status: "none" }
  | { readonly status: "unknown"; readonly reason: string };

/** A store, directory or resolver answer: the raw value and where it came from. */
export type ClearanceLookup = ClearanceAnswer<RawClearance>;

export type PeerDirection = "inbound" | "outbound";
export const PEER_DIRECTIONS: readonly PeerDirection[] = ["inbound", "outbound"];

export type Affiliation = "owner" | "admin" | "member" | "outcast";
export const AFFILIATIONS: readonly Affiliation[] = ["owner", "admin", "member", "outcast"];

/** A MUC room record. History is kept separately (appendRoomHistory / getRoomHistory). */
export interface RoomRecord {
  /** Bare JID of the room. */
  jid: string;
  config: Record<string, unknown>;
  label?: RawLabel;
  clearance?: RawClearance;
  defaultLabel?: RawLabel;
  /** Keyed by bare JID. */
  affiliations: Record<string, Affiliation>;
  persistent: boolean;
}

/** Whose catalog: a server/component domain, a room, or one user's personal catalog. */
export type CatalogScope =
  { kind: "domain"; domain: string } | { kind: "room"; jid: string } | { kind: "personal"; jid: string };

export interface UserClearanceEntry {
  jid: string;
  /** Policy OID, or undefined for the user's policy-independent clearance. */
  policy?: string;
  clearance: RawClearance;
}

/**
 * One page of a bounded listing (`listUserClearancesPage`): `query` keeps the bare JIDs that
 * contain it (case-insensitive), `cursor` is the `next` of the previous page (opaque), `limit`
 * how many JIDs a page holds at most (1..MAX_PAGE_LIMIT, default DEFAULT_PAGE_LIMIT).
 */
export interface ListPageQuery {
  query?: string;
  cursor?: string;
  limit?: number;
}

/** A page of user clearances, sorted by JID then policy; `next` is absent on the last page. */
export interface UserClearancePage {
  entries: UserClearanceEntry[];
  next?: string;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;
/** The longest search text a listing accepts. */
export const MAX_QUERY_LENGTH = 256;

export interface PeerClearanceEntry {
  domain: string;
  direction: PeerDirection;
  clearance: RawClearance;
}

export interface ServiceClearanceEntry {
  domain: string;
  clearance: RawClearance;
}

/** Change notifications. Subscribers re-read what they need. */
export type StoreEvent =
  | { kind: "user-clearance"; jid: string; policy?: string }
  | { kind: "service-clearance"; domain: string }
  | { kind: "peer-clearance"; domain: string; direction: PeerDirection }
  | { kind: "room"; jid: string }
  | { kind: "catalog"; scope: CatalogScope }
  /**
   * The backend's connection went down or came back (local to this client: not published). While
   * it is down, answers turn "unknown" once cached ones pass their TTL; subscribers that hold
   * snapshots (the MUC's occupants) re-read them. A Redis store also says "down" when its
   * subscriber's PING gave up with both connections up (notifications late: lookups still read
   * Redis, but nothing kept above may be trusted) and "up" once a PING answers again
   * (notification-barrier.ts "behind").
   */
  | { kind: "connection"; state: "down" | "up" };

export type StoreListener = (event: StoreEvent) => void;
export type Unsubscribe = () => void;
