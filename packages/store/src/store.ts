// The one interface every backend implements (in-memory, Redis), and the source of user clearances
// the resolver composes with a directory.
import type {
  Affiliation,
  CatalogScope,
  ClearanceLookup,
  ListPageQuery,
  PeerClearanceEntry,
  PeerDirection,
  RawClearance,
  RoomRecord,
  ServiceClearanceEntry,
  StoreListener,
  Unsubscribe,
  UserClearanceEntry,
  UserClearancePage,
} from "./types.js";

/** Anything that answers user-clearance lookups and notifies changes (stores, directories, the resolver). */
export interface UserClearanceSource {
  /**
   * The clearance of a bare JID, optionally for one policy (OID). Never throws for backend
   * failures: answers `unknown`. Throws InvalidJidError for a malformed JID.
   */
  getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup>;
  subscribe(listener: StoreListener): Unsubscribe;
  /**
   * Undefined when every change notification published until a moment ago has been heard; else a
   * promise (never rejecting) that settles once it has or cannot be (notification-barrier.ts).
   * Stores whose notifications are delivered synchronously (in memory) leave it out.
   */
  notificationsHeard?(): Promise<void> | undefined;
}

/** Default cap of a room's history list. */
export const DEFAULT_HISTORY_CAP = 200;

/**
 * The shared state of the Cordon components.
 *
 * Reads of clearances answer a tri-state (`ClearanceLookup`) and never throw for backend failures.
 * Every other operation throws StoreUnavailableError when the backend is unreachable, so callers
 * can fail closed. JIDs and domains are normalised (lowercase); a malformed one throws InvalidJidError.
 *
 * Notifications: every successful change emits one StoreEvent to every subscriber of every store
 * client sharing the backend (including the writer), after the change is visible to reads.
 */
export interface ClearanceStore extends UserClearanceSource {
  /** Sets a user's clearance; `policy` (an OID) keeps one clearance per policy. */
  setUserClearance(jid: string, clearance: RawClearance, policy?: string): Promise<void>;
  /** Removes it; resolves true when something was removed. */
  deleteUserClearance(jid: string, policy?: string): Promise<boolean>;
  /** Every user clearance, sorted by JID then policy. Admin use (not a hot path). */
  listUserClearances(): Promise<UserClearanceEntry[]>;
  /**
   * A bounded page of user clearances (the console's list and search): at most `limit` JIDs (every
   * policy of each), those containing `query`; pass `next` back as `cursor` for the following page.
   * Throws InvalidValueError for a bad limit, query or cursor.
   */
  listUserClearancesPage(query?: ListPageQuery): Promise<UserClearancePage>;

  getServiceClearance(domain: string): Promise<ClearanceLookup>;
  setServiceClearance(domain: string, clearance: RawClearance): Promise<void>;
  deleteServiceClearance(domain: string): Promise<boolean>;
  listServiceClearances(): Promise<ServiceClearanceEntry[]>;

  getPeerClearance(domain: string, direction: PeerDirection): Promise<ClearanceLookup>;
  setPeerClearance(domain: string, direction: PeerDirection, clearance: RawClearance): Promise<void>;
  deletePeerClearance(domain: string, direction: PeerDirection): Promise<boolean>;
  /** Every peer clearance, sorted by domain then direction. */
  listPeerClearances(): Promise<PeerClearanceEntry[]>;

  /** A room record, or undefined when there is no such room. */
  getRoom(jid: string): Promise<RoomRecord | undefined>;
  /** Creates or replaces a room record (history is kept). */
  putRoom(room: RoomRecord): Promise<void>;
  /** Deletes a room record and its history; resolves true when it existed. */
  deleteRoom(jid: string): Promise<boolean>;
  /** Room JIDs, sorted, optionally only those of one MUC domain. */
  listRooms(domain?: string): Promise<string[]>;
  /**
   * Atomically sets (or with "none" removes) one affiliation of an existing room, without a
   * read-modify-write race between processes. Resolves false when the room does not exist.
   */
  setAffiliation(room: string, jid: string, affiliation: Affiliation | "none"): Promise<boolean>;
  /** Appends an opaque entry to a room's history, keeping only the newest `cap` entries. */
  appendRoomHistory(room: string, entry: string, cap?: number): Promise<void>;
  /** The newest `limit` entries (all by default), oldest first. */
  getRoomHistory(room: string, limit?: number): Promise<string[]>;

  /** A catalog as the opaque string its owner stored (JSON), or undefined. */
  getCatalog(scope: CatalogScope): Promise<string | undefined>;
  setCatalog(scope: CatalogScope, value: string): Promise<void>;
  deleteCatalog(scope: CatalogScope): Promise<boolean>;

  /** Releases connections and timers. Further calls throw StoreClosedError. */
  close(): Promise<void>;
}
