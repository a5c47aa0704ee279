// What every MUC handler needs: the component link, the rooms, the security machinery and the
// service configuration. Handlers are plain functions over this context.
import type { CordonComponent, Element, Logger, StanzaCopies, StanzaErrorSpec } from "@cordon/component";
import type { Clearance, Label, PolicyRegistry } from "@cordon/policy";
import type { ClearanceStore } from "@cordon/store";
import type { ClearanceBook } from "../security/clearance-book.js";
import type { Markings, SessionAddress, SessionLocations, StanzaLabels } from "@cordon/rules";
import type { Room } from "../room/room.js";
import type { RoomConfig } from "../room/room-config.js";
import type { LabelAwareness } from "./label-awareness.js";
import type { RoomBudgets } from "../room/room.js";
import type { HistoryLimits } from "../room/history-budget.js";
import type { OccupantLimits } from "../room/occupant-budget.js";
import type { Multicast, MulticastSettings } from "./multicast.js";
import type { PendingBudget, PendingLimits, SenderThrottle, SenderThrottleOptions } from "@cordon/component";

export interface NamedLabel {
  /** Selector shown in forms and catalogs, e.g. "SECRET" or "SECRET|ALPHA". */
  name: string;
  label: Label;
}

export interface MucSettings {
  domain: string;
  /** Who may create rooms: "anyone", "local" (users of localDomains) or a list of bare JIDs. */
  createRooms: "anyone" | "local" | readonly string[];
  localDomains: readonly string[];
  /** The service clearance: every room label and message label must be within it. */
  serviceClearance: Clearance | undefined;
  /** Label of new rooms (who may be in them). Required: a room without a label would fail open. */
  defaultRoomLabel: Label;
  /** Clearance of new rooms (which labels their messages may carry). */
  defaultRoomClearance: Clearance | undefined;
  /** Default label for unlabelled messages in new rooms (undefined: unlabelled messages are refused). */
  defaultMessageLabel: Label | undefined;
  /** Labels offered by name in room configuration and catalogs. */
  namedLabels: readonly NamedLabel[];
  roomDefaults: RoomConfig;
  /** Secret for XEP-0421 occupant ids (stable across restarts). */
  occupantIdSecret: string;
  /** How often occupants' clearances are re-read (a missed notification cannot keep a stale grant longer). */
  clearanceRefreshMs: number;
  /** How long to wait for a joining client's disco#info (label support) before assuming FLOT. */
  capsTimeoutMs: number;
  /** Memory limits and per-user quotas (README "Memory limits"); every default when absent. Read at start. */
  limits?: MucLimits;
  /**
   * Catalog service domains that may ask a room's catalog on behalf of a user (`<catalog from>`,
   * service/catalog-requester.ts): how the catalog answers for rooms the store does not hold.
   */
  catalogServices?: readonly string[];
  /** XEP-0033 multicast of the groupchat fan-out (service/multicast.ts); off when absent. */
  multicast?: MulticastSettings;
}

/** The MUC's memory limits and per-user quotas. */
export interface MucLimits {
  history?: HistoryLimits;
  /** Presence payloads and rooms per user at once. */
  occupants?: OccupantLimits;
  /** Rooms one user may have created that still exist (default 50). */
  roomsCreatedPerUser?: number;
  pending?: PendingLimits;
  throttle?: SenderThrottleOptions;
  queue?: { limit?: number; maxBytes?: number };
}

export const DEFAULT_ROOMS_CREATED_PER_USER = 50;

/**
 * Optional observer of security decisions (operator metrics). Reasons are stable codes; no JIDs
 * or room names are passed.
 */
export interface MucObserver {
  /**
   * A join (room label vs. the user's clearance and the session's location) or a groupchat
   * message (the message gate).
   */
  decision(kind: "join" | "groupchat", granted: boolean, reason: string): void;
  /** Copies of one groupchat message sent, and how many occupants were withheld it. */
  fanout(delivered: number, withheld: number): void;
  /** Stored data of persistent rooms left out at load because it is over the size bounds. */
  skipped?(what: "history" | "subject", count: number): void;
  /** An enforcement decision for the audit log (issue 16 item 9): who, which room, never content. */
  audit?(event: MucAuditEvent): void;
}

export interface MucAuditEvent {
  action: "join" | "groupchat";
  granted: boolean;
  reason: string;
  room: string;
  /** The sender's or joiner's bare JID. */
  actor: string;
  /** A groupchat message: its label's marking, copies sent and occupants withheld it. */
  marking?: string;
  delivered?: number;
  withheld?: number;
}

export interface MucContext {
  readonly component: CordonComponent;
  readonly settings: MucSettings;
  readonly registry: PolicyRegistry;
  readonly store: ClearanceStore;
  readonly clearances: ClearanceBook;
  /** The effective label of a stanza, and translation into equivalent policies (@cordon/rules). */
  readonly labels: StanzaLabels;
  /** OID of the governing policy: the one labels are accepted and stored in. */
  readonly governingPolicy: string;
  /** Markings and outgoing <securitylabel/>s, from the policy (@cordon/rules). */
  readonly rendering: Markings;
  readonly awareness: LabelAwareness;
  /**
   * The guard's client locations (components.guard.locations; inactive without): where an
   * occupant's session is bounds what it may receive and send (security/occupant-location.ts).
   */
  readonly locations: SessionLocations;
  /** How a session's address is learnt: asked of its server (@cordon/rules session-address.ts). */
  readonly sessionAddress: SessionAddress;
  readonly rooms: Map<string, Room>;
  /** History bytes and occupants' presence payloads, counted across every room (room/*-budget.ts). */
  readonly budgets: RoomBudgets;
  /** Refusals per sender (resource-constraint once past the limit, then nothing). */
  readonly throttle: SenderThrottle;
  /** Stanzas waiting for a decision (clearance, disco#info, queue room), per sender and in total. */
  readonly pending: PendingBudget;
  /**
   * Persistent rooms whose stored security settings do not read under the loaded policies: they
   * cannot be entered, nor created anew (which would hand their JID and history to a new owner).
   */
  readonly unreadableRooms: Set<string>;
  readonly logger: Logger;
  /** XEP-0033 multicast of the groupchat fan-out, when configured (service/multicast.ts). */
  readonly multicast?: Multicast;
  /** Persists a persistent room's record (not its history). Failures are logged, never thrown. */
  saveRoom(room: Room): Promise<void>;
  /** Sends pre-serialised stanzas; failures are logged. */
  send(stanzas: Iterable<string>): Promise<void>;
  /** Sends the copies of one stanza (a fan-out: component sendCopies); failures are logged. */
  sendCopies(copies: StanzaCopies): Promise<void>;
  /** Error reply that never copies the offending stanza (and never answers an error). */
  refuse(stanza: Element, spec: StanzaErrorSpec): Promise<void>;
  now(): number;
  readonly observer?: MucObserver;
}
