// Room history (XEP-0045 §7.2.15 https://xmpp.org/extensions/xep-0045.html#enter-managehistory):
// each entry keeps its label so a joiner is replayed only what their clearance grants
// (XEP-0258 §"Room History"); maxstanzas/maxchars/seconds/since apply to what they may see.
import type { Label } from "@cordon/policy";

export interface HistoryEntry {
  /** XEP-0359 stanza id given by the room. */
  sid: string;
  /** Original message id. */
  id: string | undefined;
  /** Milliseconds since the epoch. */
  ts: number;
  nick: string;
  occupantId: string;
  /** Sender's real full JID (shown to those allowed to see it). */
  from: string;
  /** The policy-rendered <securitylabel/> (XML) the message was accepted with. */
  label: string;
  /** Body text, kept apart so FLOT can be applied per recipient. */
  body: string | undefined;
  /** Other payload children, serialised. */
  extra: string;
  /** The XEP-0071 XHTML-IM body, serialised: only for recipients that see the label (never with FLOT). */
  rich?: string;
  /** Labels (XML) of the messages this one refers to: a reader must be cleared for each (security/message-references.ts). */
  refs?: string[];
}

export interface HistoryRequest {
  maxStanzas?: number;
  maxChars?: number;
  seconds?: number;
  since?: number;
}

/** Parses the <history/> attributes of a join (bad values are ignored, as the XEP allows). */
export function readHistoryRequest(attrs: Record<string, string | undefined>): HistoryRequest {
  const int = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
  const request: HistoryRequest = {};
  const maxStanzas = int(attrs.maxstanzas);
  const maxChars = int(attrs.maxchars);
  const seconds = int(attrs.seconds);
  const since = attrs.since ? Date.parse(attrs.since) : Number.NaN;
  if (maxStanzas !== undefined) request.maxStanzas = maxStanzas;
  if (maxChars !== undefined) request.maxChars = maxChars;
  if (seconds !== undefined) request.seconds = seconds;
  if (!Number.isNaN(since)) request.since = since;
  return request;
}

/**
 * The entries to replay, oldest first: only those `mayRead` grants, then the newest within the
 * limits (XEP-0045 §7.2.15: the limits combine; maxchars counts the characters of the stanzas).
 */
export function selectHistory(
  entries: readonly HistoryEntry[],
  request: HistoryRequest,
  mayRead: (entry: HistoryEntry) => Label | undefined,
  now: number,
  stanzaChars: (entry: HistoryEntry) => number,
): { entry: HistoryEntry; label: Label }[] {
  const picked: { entry: HistoryEntry; label: Label }[] = [];
  let chars = 0;
  const oldest = request.seconds !== undefined ? now - request.seconds * 1000 : -Infinity;
  const since = request.since ?? -Infinity;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i] as HistoryEntry;
    if (entry.ts < oldest || entry.ts <= since) break;
    if (request.maxStanzas !== undefined && picked.length >= request.maxStanzas) break;
    const label = mayRead(entry);
    if (!label) continue;
    if (request.maxChars !== undefined) {
      chars += stanzaChars(entry);
      if (chars > request.maxChars) break;
    }
    picked.push({ entry, label });
  }
  return picked.reverse();
}
