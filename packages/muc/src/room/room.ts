// A room's live state: configuration, affiliations, occupants, subject, history and its
// security parameters (XEP-0258 §"Use in Group Chat": a room label that every occupant's clearance
// must grant, a room clearance bounding the labels its messages may carry, a default label).
import type { Clearance, Label } from "@cordon/policy";
import type { RawValue } from "@cordon/store";
import type { Affiliation, Occupant } from "./occupant.js";
import type { RoomConfig } from "./room-config.js";
import type { HistoryEntry } from "./history.js";
import { HistoryBudget } from "./history-budget.js";
import { OccupantBudget } from "./occupant-budget.js";
import { ReferenceIndex } from "./reference-index.js";
import { ownString } from "./own-string.js";

/** The service-wide memory budgets a room counts against (one of each per MUC service). */
export interface RoomBudgets {
  history: HistoryBudget;
  occupants: OccupantBudget;
}

export interface RoomSecurity {
  /** Who may be in the room: an occupant's clearance must grant it. */
  label: Label | undefined;
  /** Which labels messages may carry. */
  clearance: Clearance | undefined;
  /**
   * The label of unlabelled messages: undefined takes the service's (`defaultLabel` of the
   * config); null is the owner's "none": unlabelled messages are refused, whatever the service's.
   */
  defaultLabel: Label | null | undefined;
  /** The encoded forms, as stored. */
  raw: { label?: RawValue; clearance?: RawValue; defaultLabel?: RawValue };
}

export interface Subject {
  text: string;
  nick: string;
}

/** Pending invitations kept per room (bounded: anyone in the room may invite). */
export const MAX_INVITATIONS = 500;

export class Room {
  readonly jid: string;
  config: RoomConfig;
  security: RoomSecurity;
  readonly affiliations = new Map<string, Affiliation>();
  /** By nick. */
  readonly occupants = new Map<string, Occupant>();
  /** By real full JID. */
  readonly byJid = new Map<string, Occupant>();
  subject: Subject = { text: "", nick: "" };
  history: HistoryEntry[] = [];
  /** Labels of the room's recent messages by id and stanza-id (security/message-references.ts). */
  readonly references = new ReferenceIndex();
  /** Bytes `history` holds (kept by the history budget). */
  historyBytes = 0;
  /** The bare JID that created the room here (per-user room quota); undefined for rooms loaded from the store. */
  creator: string | undefined;
  readonly budgets: RoomBudgets;
  /**
   * XEP-0045 §7.8.2-3: pending mediated invitations, invitee bare JID → inviter's full JID, so a
   * decline goes back to the occupant who invited and the room relays nothing to anyone else.
   * Made at the first invitation (issue 19: an idle room holds no map it does not use).
   */
  #invitations: Map<string, string> | undefined;
  /** XEP-0045 §10.1.1: a new room stays locked until its owner configures it (or asks for an instant room). */
  locked = false;
  destroyed = false;
  readonly createdAt = Date.now();

  constructor(jid: string, config: RoomConfig, security: RoomSecurity, budgets?: RoomBudgets) {
    this.jid = ownString(jid);
    this.config = config;
    this.security = security;
    this.budgets = budgets ?? { history: new HistoryBudget(), occupants: new OccupantBudget() };
  }

  affiliationOf(bare: string): Affiliation {
    return this.affiliations.get(bare) ?? "none";
  }

  setAffiliation(bare: string, affiliation: Affiliation): void {
    if (affiliation === "none") this.affiliations.delete(bare);
    else if (this.affiliations.has(bare)) this.affiliations.set(bare, affiliation);
    else this.affiliations.set(ownString(bare), affiliation);
    for (const occupant of this.occupants.values())
      if (occupant.bare === bare) occupant.affiliation = affiliation;
  }

  add(occupant: Occupant): void {
    this.occupants.set(occupant.nick, occupant);
    this.byJid.set(occupant.jid, occupant);
    occupant.presenceXml = this.budgets.occupants.added(occupant.bare, occupant.presenceXml);
  }

  remove(occupant: Occupant): void {
    if (this.occupants.get(occupant.nick) === occupant) this.occupants.delete(occupant.nick);
    if (this.byJid.get(occupant.jid) === occupant) {
      this.byJid.delete(occupant.jid);
      this.budgets.occupants.removed(occupant.bare, occupant.presenceXml);
    }
  }

  /** Replaces an occupant's presence payload (checked against the budget by the caller). */
  setPresence(occupant: Occupant, presenceXml: string): void {
    occupant.presenceXml =
      this.byJid.get(occupant.jid) === occupant
        ? this.budgets.occupants.changed(occupant.presenceXml, presenceXml)
        : presenceXml;
  }

  rename(occupant: Occupant, nick: string): void {
    this.occupants.delete(occupant.nick);
    occupant.nick = ownString(nick);
    this.occupants.set(occupant.nick, occupant);
  }

  get size(): number {
    return this.occupants.size;
  }

  /** Owners' bare JIDs. */
  owners(): string[] {
    return [...this.affiliations].filter(([, a]) => a === "owner").map(([j]) => j);
  }

  /** Remembers an invitation (the newest per invitee; the oldest forgotten beyond MAX_INVITATIONS). */
  recordInvitation(invitee: string, inviter: string): void {
    const invitations = (this.#invitations ??= new Map<string, string>());
    invitations.delete(invitee);
    invitations.set(invitee, inviter);
    if (invitations.size > MAX_INVITATIONS) {
      const oldest = invitations.keys().next().value;
      if (oldest !== undefined) invitations.delete(oldest);
    }
  }

  /** The occupant who invited `invitee` (bare JID) last, if the invitation is still pending. */
  inviterOf(invitee: string): string | undefined {
    return this.#invitations?.get(invitee);
  }

  /** Forgets the invitation of `invitee` (it declined, or it entered). */
  forgetInvitation(invitee: string): void {
    this.#invitations?.delete(invitee);
  }

  /** Keeps a message in history within the room's count and the byte budgets (history-budget.ts). */
  pushHistory(entry: HistoryEntry): void {
    this.budgets.history.push(this, entry);
  }

  /** Forgets the room's history (the room is closed or destroyed). */
  releaseHistory(): void {
    this.budgets.history.release(this);
  }
}
