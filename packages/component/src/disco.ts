// Service discovery responders (XEP-0030 https://xmpp.org/extensions/xep-0030.html):
// disco#info (§3) and disco#items (§4), answered from resolvers per target JID and node.
import { xml, type Element } from "./xml.js";
import type { IqRouter } from "./iq-router.js";
import { stanzaError } from "./stanza-error-exception.js";
import { NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS } from "./namespaces.js";
import { serialisedBytes } from "./stanza-limits.js";

export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
}

export interface DiscoInfo {
  identities: DiscoIdentity[];
  features: string[];
  /** XEP-0128 extended info forms (`<x xmlns='jabber:x:data' type='result'>`). */
  forms?: Element[];
}

export interface DiscoItem {
  jid: string;
  name?: string;
  node?: string;
}

export interface DiscoQuery {
  /** The JID the query was addressed to (the component domain, a room, an occupant...). */
  to: string;
  from: string;
  node?: string;
}

/** Resolves what to answer; `undefined` means the JID/node does not exist (item-not-found). */
export type DiscoInfoResolver = (query: DiscoQuery) => Promise<DiscoInfo | undefined> | DiscoInfo | undefined;
export type DiscoItemsResolver = (
  query: DiscoQuery,
) => Promise<DiscoItem[] | undefined> | DiscoItem[] | undefined;

export function discoInfoElement(info: DiscoInfo, node?: string): Element {
  const features = [...new Set([NS_DISCO_INFO, ...info.features])];
  return xml(
    "query",
    { xmlns: NS_DISCO_INFO, node },
    ...info.identities.map((i) => xml("identity", { category: i.category, type: i.type, name: i.name })),
    ...features.map((f) => xml("feature", { var: f })),
    ...(info.forms ?? []),
  );
}

export function discoItemsElement(items: DiscoItem[], node?: string): Element {
  return xml(
    "query",
    { xmlns: NS_DISCO_ITEMS, node },
    ...items.map((i) => xml("item", { jid: i.jid, name: i.name, node: i.node })),
  );
}

/**
 * The first items whose serialisation fits `budget` bytes. Item names are user-chosen (room names)
 * and their number grows with use: a list over the stanza size bound would never be sent
 * (issue 14), so the answer is the subset that fits (XEP-0030 §4 leaves the set to the responder).
 */
export function itemsWithin(items: DiscoItem[], budget: number): DiscoItem[] {
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as DiscoItem;
    // <item jid="" name="" node=""/>
    bytes +=
      30 + serialisedBytes(item.jid) + serialisedBytes(item.name ?? "") + serialisedBytes(item.node ?? "");
    if (bytes > budget) return items.slice(0, i);
  }
  return items;
}

/**
 * Registers disco#info and disco#items handlers on an IQ router; a disco#items answer holds the
 * items that fit `itemsBudget` bytes (default: all).
 */
export function registerDisco(
  router: IqRouter,
  resolvers: { info: DiscoInfoResolver; items?: DiscoItemsResolver },
  itemsBudget = Infinity,
): void {
  router.handle(NS_DISCO_INFO, {
    async get({ payload, from, to }) {
      const node = payload.attrs.node;
      const info = await resolvers.info({ to, from, ...(node ? { node } : {}) });
      if (!info) throw stanzaError("item-not-found");
      return discoInfoElement(info, node);
    },
  });
  router.handle(NS_DISCO_ITEMS, {
    async get({ payload, from, to }) {
      const node = payload.attrs.node;
      const items = resolvers.items ? await resolvers.items({ to, from, ...(node ? { node } : {}) }) : [];
      if (!items) throw stanzaError("item-not-found");
      return discoItemsElement(itemsWithin(items, itemsBudget), node);
    },
  });
}

/** An XEP-0004 result form with a FORM_TYPE (XEP-0068), as used for XEP-0128 extended info. */
export function resultForm(
  formType: string,
  fields: { var: string; label?: string; type?: string; values: string[] }[],
): Element {
  return xml(
    "x",
    { xmlns: NS_DATA, type: "result" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, formType)),
    ...fields.map((f) =>
      xml("field", { var: f.var, label: f.label, type: f.type }, ...f.values.map((v) => xml("value", {}, v))),
    ),
  );
}
