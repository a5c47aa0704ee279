// Input checks shared by every backend: normalised keys and well-shaped raw values.
import { InvalidValueError } from "./errors.js";
import { normaliseBareJid, normaliseDomain } from "./jid.js";
import {
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  MAX_QUERY_LENGTH,
  type ListPageQuery,
  AFFILIATIONS,
  PEER_DIRECTIONS,
  type Affiliation,
  type CatalogScope,
  type PeerDirection,
  type RawValue,
  type RoomRecord,
} from "./types.js";

// An OID in dotted-decimal form (ITU-T X.660), as used for security policy identifiers.
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/u;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/u;

export function checkPolicy(policy: string | undefined): string | undefined {
  if (policy === undefined) return undefined;
  if (!OID.test(policy))
    throw new InvalidValueError(`policy must be a dotted OID, got ${JSON.stringify(policy)}`);
  return policy;
}

export function checkRaw(value: RawValue, what: string): RawValue {
  if (typeof value !== "object" || value === null) throw new InvalidValueError(`${what} must be an object`);
  if (value.encoding !== "ber" && value.encoding !== "xml") {
    throw new InvalidValueError(`${what}.encoding must be "ber" or "xml"`);
  }
  if (typeof value.data !== "string" || value.data.length === 0)
    throw new InvalidValueError(`${what}.data must be a non-empty string`);
  if (value.encoding === "ber" && (value.data.length % 4 !== 0 || !BASE64.test(value.data))) {
    throw new InvalidValueError(`${what}.data must be base64 for BER`);
  }
  return { encoding: value.encoding, data: value.data };
}

export function checkDirection(direction: PeerDirection): PeerDirection {
  if (!PEER_DIRECTIONS.includes(direction))
    throw new InvalidValueError(`direction must be inbound or outbound, got ${JSON.stringify(direction)}`);
  return direction;
}

export function checkAffiliation(a: Affiliation | "none"): Affiliation | "none" {
  if (a !== "none" && !AFFILIATIONS.includes(a))
    throw new InvalidValueError(`bad affiliation ${JSON.stringify(a)}`);
  return a;
}

export function checkCap(n: number | undefined, fallback: number, what: string): number {
  const v = n ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidValueError(`${what} must be a positive integer`);
  return v;
}

export function normaliseScope(scope: CatalogScope): CatalogScope {
  switch (scope.kind) {
    case "domain":
      return { kind: "domain", domain: normaliseDomain(scope.domain) };
    case "room":
      return { kind: "room", jid: normaliseBareJid(scope.jid) };
    case "personal":
      return { kind: "personal", jid: normaliseBareJid(scope.jid) };
    default:
      throw new InvalidValueError("catalog scope kind must be domain, room or personal");
  }
}

/** Normalises and copies a room record (deep copy of config through JSON, so callers cannot alias it). */
export function normaliseRoom(room: RoomRecord): RoomRecord {
  const jid = normaliseBareJid(room.jid);
  const affiliations: Record<string, Affiliation> = {};
  for (const [who, a] of Object.entries(room.affiliations ?? {})) {
    const aff = checkAffiliation(a);
    if (aff !== "none") affiliations[normaliseBareJid(who)] = aff;
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(JSON.stringify(room.config ?? {})) as Record<string, unknown>;
  } catch {
    throw new InvalidValueError("room config must be JSON-serialisable");
  }
  const out: RoomRecord = { jid, config, affiliations, persistent: room.persistent === true };
  if (room.label !== undefined) out.label = checkRaw(room.label, "room.label");
  if (room.clearance !== undefined) out.clearance = checkRaw(room.clearance, "room.clearance");
  if (room.defaultLabel !== undefined) out.defaultLabel = checkRaw(room.defaultLabel, "room.defaultLabel");
  return out;
}

export function cloneRoom(room: RoomRecord): RoomRecord {
  return JSON.parse(JSON.stringify(room)) as RoomRecord;
}

/** A listing's query checked: limit within 1..MAX_PAGE_LIMIT, search text lower-cased and bounded. */
export function checkPageQuery(q: ListPageQuery | undefined): {
  query: string;
  limit: number;
  cursor: string | undefined;
} {
  const limit = q?.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw new InvalidValueError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  const query = (q?.query ?? "").trim().toLowerCase();
  if (query.length > MAX_QUERY_LENGTH)
    throw new InvalidValueError(`the search text is longer than ${MAX_QUERY_LENGTH} characters`);
  const cursor = q?.cursor === undefined || q.cursor === "" ? undefined : q.cursor;
  if (cursor !== undefined && (cursor.length > 2048 || !/^[a-z]:[A-Za-z0-9_-]*$/u.test(cursor)))
    throw new InvalidValueError("not a listing cursor (use the `next` of the previous page)");
  return { query, limit, cursor };
}
