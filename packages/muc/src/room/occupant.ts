// An occupant of a room (XEP-0045 §4.1): one real full JID under one nick, with its role,
// affiliation, XEP-0421 occupant id, its clearance as last resolved, and whether its client
// shows XEP-0258 labels (else it gets FLOT bodies), and where its session is (the guard's
// client-location rule: security/occupant-location.ts).
import type { ClearanceState, ClientLocation } from "@cordon/rules";

export type Role = "moderator" | "participant" | "visitor" | "none";
export type Affiliation = "owner" | "admin" | "member" | "outcast" | "none";

export interface Occupant {
  nick: string;
  /** Real full JID. */
  jid: string;
  /** The JID escaped for an XML attribute (cached on first use by the fan-out). */
  jidAttr?: string;
  bare: string;
  role: Role;
  affiliation: Affiliation;
  /** XEP-0421: stable per (room, real bare JID), opaque to others. */
  occupantId: string;
  clearance: ClearanceState;
  /**
   * Where the session is, learnt once at the join and kept while it stays: bounds what it receives
   * and sends with the guard's locations configured (undefined then: unknown, nothing labelled).
   */
  location?: ClientLocation;
  /** undefined until we learn it from the client's disco#info; treated as unaware (FLOT) meanwhile. */
  labelAware: boolean | undefined;
  /** Serialised presence payload to broadcast (show, status, caps...), without MUC elements. */
  presenceXml: string;
  joinedAt: number;
}

/** XEP-0045 §5.1.1 / §5.2.1: the default role an affiliation gets on entering. */
export function defaultRole(affiliation: Affiliation, moderated: boolean): Role {
  if (affiliation === "owner" || affiliation === "admin") return "moderator";
  if (affiliation === "outcast") return "none";
  if (moderated && affiliation !== "member") return "visitor";
  return "participant";
}

const AFFILIATION_RANK: Record<Affiliation, number> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 };

/** XEP-0045 §5.2: an admin cannot change the affiliation of an owner or another admin. */
export function mayChangeAffiliation(
  actor: Affiliation,
  targetCurrent: Affiliation,
  targetNew: Affiliation,
): boolean {
  if (actor === "owner") return true;
  if (actor !== "admin") return false;
  return (
    AFFILIATION_RANK[targetCurrent] < AFFILIATION_RANK.admin &&
    AFFILIATION_RANK[targetNew] < AFFILIATION_RANK.admin
  );
}

/**
 * XEP-0045 §5.1.3 (roles) and §8.2 (kick): moderators may change the roles of participants and
 * visitors; nobody may kick or devoice someone with a higher affiliation, and an admin or owner
 * cannot be kicked (their role never goes below moderator by a moderator's hand).
 */
export function mayChangeRole(actor: Occupant, target: Occupant, newRole: Role): boolean {
  if (actor.role !== "moderator") return false;
  if (AFFILIATION_RANK[target.affiliation] > AFFILIATION_RANK[actor.affiliation]) return false;
  if ((target.affiliation === "owner" || target.affiliation === "admin") && newRole !== "moderator")
    return false;
  if (newRole === "moderator" && actor.affiliation !== "owner" && actor.affiliation !== "admin") return false;
  return true;
}
