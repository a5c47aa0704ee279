// Encoding and checking of change notifications as they travel over Redis pub/sub.
import { PEER_DIRECTIONS, type CatalogScope, type StoreEvent } from "./types.js";

function isString(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

function parseScope(v: unknown): CatalogScope | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (s.kind === "domain" && isString(s.domain)) return { kind: "domain", domain: s.domain };
  if ((s.kind === "room" || s.kind === "personal") && isString(s.jid)) return { kind: s.kind, jid: s.jid };
  return undefined;
}

export function encodeEvent(e: StoreEvent): string {
  return JSON.stringify(e);
}

/** Parses a notification; undefined when it is not a well-formed StoreEvent. */
export function decodeEvent(text: string): StoreEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  switch (o.kind) {
    case "user-clearance":
      if (!isString(o.jid)) return undefined;
      if (o.policy === undefined) return { kind: "user-clearance", jid: o.jid };
      return isString(o.policy) ? { kind: "user-clearance", jid: o.jid, policy: o.policy } : undefined;
    case "service-clearance":
      return isString(o.domain) ? { kind: "service-clearance", domain: o.domain } : undefined;
    case "peer-clearance":
      return isString(o.domain) && PEER_DIRECTIONS.includes(o.direction as never)
        ? { kind: "peer-clearance", domain: o.domain, direction: o.direction as "inbound" | "outbound" }
        : undefined;
    case "room":
      return isString(o.jid) ? { kind: "room", jid: o.jid } : undefined;
    case "catalog": {
      const scope = parseScope(o.scope);
      return scope ? { kind: "catalog", scope } : undefined;
    }
    default:
      return undefined;
  }
}
