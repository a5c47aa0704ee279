// What a persistent room may bring back from the store: only what a live stanza could have put
// there under the size bounds (@cordon/component stanza-limits.ts, issue 14). A history entry or a
// subject over them (left by an older version, or by whoever can write to the store) would be
// replayed at every join and close the component's stream each time: it is skipped and counted,
// never sent.
import { serialisedBytes, textFits, type StanzaLimits } from "@cordon/component";
import type { HistoryEntry } from "../room/history.js";

/** RFC 7622 §3.1: a JID is at most 3071 bytes (three parts of 1023 and two separators). */
const MAX_JID_BYTES = 3071;

/** Whether a stored history entry is within the bounds a live groupchat message passes. */
export function historyEntryFits(limits: StanzaLimits, entry: HistoryEntry): boolean {
  if (entry.id !== undefined && !textFits(entry.id, limits.id)) return false;
  if (!textFits(entry.nick, limits.resource)) return false;
  if (!textFits(entry.sid, limits.id) || !textFits(entry.occupantId, limits.id)) return false;
  if (Buffer.byteLength(entry.from) > MAX_JID_BYTES) return false;
  if (entry.body !== undefined && !textFits(entry.body, limits.body)) return false;
  // label, extra and rich are stored serialised: their size is their UTF-8 length.
  const markup =
    Buffer.byteLength(entry.label) + Buffer.byteLength(entry.extra) + Buffer.byteLength(entry.rich ?? "");
  return markup + (entry.body === undefined ? 0 : serialisedBytes(entry.body)) <= limits.stanza;
}

/** Whether a stored room subject is within the bound a live subject change passes. */
export function subjectFits(limits: StanzaLimits, subject: { text: string; nick: string }): boolean {
  return textFits(subject.text, limits.subject) && textFits(subject.nick, limits.resource);
}
