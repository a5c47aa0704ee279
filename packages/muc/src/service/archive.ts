// The room's archive over XEP-0313 (Message Archive Management, https://xmpp.org/extensions/xep-0313.html):
// the same stored history joiners get (§"MUC Archives": each message once, no private messages),
// queried at the room's bare JID, filtered per requester exactly like history — only what the
// requester's clearance and the service clearance now grant, in the requester's policy, FLOT for
// label-unaware clients.
// Access (§"MUC Archives" lets a room limit it further): occupants of the room only, so the
// checks of entering (room label, bans, members-only, password) have been passed by the requester.
// Filters: start, end, with (an occupant JID of the room); paging by XEP-0059 (max, after, before).
import { randomBytes } from "node:crypto";
import { stanzaError, textFits, xml, type Element, type IqRequest } from "@cordon/component";
import type { Label } from "@cordon/policy";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { HistoryEntry } from "../room/history.js";
import type { MucContext } from "./context.js";
import { readableLabel, storedMessage } from "./history-replay.js";
import { archivedMessage } from "./message-render.js";
import { archiveResult } from "./stanzas.js";
import { NS_DATA, NS_MAM, NS_RSM } from "../namespaces.js";
import { readServiceBound } from "../security/service-clearance.js";

/** Results per page when the client asks for none, and the most it may ask for. */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

interface Query {
  start?: number;
  end?: number;
  withNick?: string;
  max: number;
  after?: string;
  /** "" asks for the last page (XEP-0059 §2.5). */
  before?: string;
}

function badRequest(text: string): never {
  throw stanzaError("bad-request", "modify", text);
}

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value); // XEP-0082 date-time
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(t))
    badRequest(`${field} is not an XEP-0082 date-time`);
  return t;
}

function readQuery(room: Room, payload: Element): Query {
  const form = payload.getChild("x", NS_DATA);
  const value = (name: string): string | undefined =>
    form
      ?.getChildren("field")
      .find((f) => f.attrs.var === name)
      ?.getChildText("value") ?? undefined;
  if (form && value("FORM_TYPE") !== undefined && value("FORM_TYPE") !== NS_MAM)
    badRequest(`FORM_TYPE must be ${NS_MAM}`);
  const start = parseTime(value("start"), "start");
  const end = parseTime(value("end"), "end");
  const withJid = value("with");
  let withNick: string | undefined;
  if (withJid !== undefined) {
    // In a room's archive, `with` names an occupant JID of the room (room/nick).
    if (!withJid.startsWith(`${room.jid}/`) || withJid.length === room.jid.length + 1)
      badRequest("with must be an occupant JID of this room");
    withNick = withJid.slice(room.jid.length + 1);
  }
  const set = payload.getChild("set", NS_RSM);
  let max = DEFAULT_PAGE;
  const maxText = set?.getChildText("max");
  if (maxText !== undefined && maxText !== null) {
    if (!/^\d{1,6}$/.test(maxText.trim())) badRequest("max must be a non-negative integer");
    max = Math.min(Number(maxText.trim()), MAX_PAGE);
  }
  const after = set?.getChildText("after") ?? undefined;
  const beforeEl = set?.getChild("before");
  return {
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(withNick !== undefined ? { withNick } : {}),
    max,
    ...(after !== undefined && after !== null ? { after } : {}),
    ...(beforeEl ? { before: beforeEl.getText() } : {}),
  };
}

/** One page of what `reader` may read, with the XEP-0059 answer. */
function page(
  visible: readonly { entry: HistoryEntry; label: Label }[],
  q: Query,
): { items: typeof visible; firstIndex: number; complete: boolean } {
  const indexOf = (sid: string) => {
    const i = visible.findIndex((v) => v.entry.sid === sid);
    // XEP-0313 §"Limiting results by id" / XEP-0059: an id that is not (visible) in the archive.
    if (i < 0) throw stanzaError("item-not-found", "cancel", "no such message in the archive");
    return i;
  };
  let from = 0;
  let to = visible.length;
  if (q.after !== undefined) from = indexOf(q.after) + 1;
  if (q.before !== undefined && q.before !== "") to = indexOf(q.before);
  if (from > to) from = to;
  if (q.before !== undefined) {
    const first = Math.max(from, to - q.max);
    return { items: visible.slice(first, to), firstIndex: first, complete: first === from };
  }
  const last = Math.min(to, from + q.max);
  return { items: visible.slice(from, last), firstIndex: from, complete: last === to };
}

/** Answers a MAM query to the room: result messages, then the <fin/> (returned as the IQ result). */
export async function queryArchive(ctx: MucContext, room: Room, request: IqRequest): Promise<Element> {
  const service = await readServiceBound(ctx);
  // Decided on the room as it is after the wait: the reader may have left or been lowered meanwhile.
  const reader: Occupant | undefined = room.byJid.get(request.from);
  if (!reader) throw stanzaError("forbidden", "auth", "only occupants may read this room's archive");
  if (reader.clearance.status !== "known")
    throw stanzaError("internal-server-error", "wait", "your clearance cannot be determined right now");
  const q = readQuery(room, request.payload);
  const queryId = request.payload.attrs.queryid;
  // Issue 14: queryid is copied into every result, beside a stored message: bounded like an id.
  if (queryId !== undefined && !textFits(queryId, ctx.component.limits.id))
    throw stanzaError(
      "policy-violation",
      "modify",
      `queryid too large (limit ${ctx.component.limits.id} bytes)`,
    );
  const visible: { entry: HistoryEntry; label: Label }[] = [];
  for (const entry of room.history) {
    if (q.start !== undefined && entry.ts < q.start) continue;
    if (q.end !== undefined && entry.ts > q.end) continue;
    if (q.withNick !== undefined && entry.nick !== q.withNick) continue;
    const label = readableLabel(ctx, reader, entry, service);
    if (label) visible.push({ entry, label });
  }
  const { items, firstIndex, complete } = page(visible, q);
  const out = items.map(({ entry, label }) => {
    return archiveResult({
      room: room.jid,
      to: request.from,
      id: randomBytes(9).toString("base64url"),
      queryId,
      resultId: entry.sid,
      ts: entry.ts,
      message: archivedMessage(ctx, room, reader, storedMessage(entry, label)),
    });
  });
  await ctx.send(out);
  const first = items[0];
  const last = items[items.length - 1];
  const set = xml("set", { xmlns: NS_RSM });
  if (first && last) {
    set.append(xml("first", { index: String(firstIndex) }, first.entry.sid));
    set.append(xml("last", {}, last.entry.sid));
  }
  set.append(xml("count", {}, String(visible.length)));
  return xml("fin", { xmlns: NS_MAM, ...(complete ? { complete: "true" } : {}) }, set);
}

/** XEP-0313 §"Retrieving form fields": the filters this archive understands. */
export function archiveFields(): Element {
  return xml(
    "query",
    { xmlns: NS_MAM },
    xml(
      "x",
      { xmlns: NS_DATA, type: "form" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_MAM)),
      xml("field", { var: "with", type: "jid-single" }),
      xml("field", { var: "start", type: "text-single" }),
      xml("field", { var: "end", type: "text-single" }),
    ),
  );
}
