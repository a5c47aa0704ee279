// A test client announcing its features the way a real one does (XEP-0115 entity capabilities):
// a verification string over its identity and features (§5.1), sent in its presence, and the
// matching XEP-0030 disco#info answer to whoever asks (the server, a component).
import { createHash } from "node:crypto";
import { xml, type Element } from "@cordon/component";
import type { TestClient } from "@cordon/harness";

export const NS_CAPS = "http://jabber.org/protocol/caps";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_SEC_LABEL = "urn:xmpp:sec-label:0";
const NODE = "urn:cordon:test-client";
const IDENTITY = { category: "client", type: "pc", name: "Cordon test" };

/** The XEP-0115 §5.1 verification string (SHA-1, base64) of one identity and these features. */
export function capsVer(features: readonly string[]): string {
  const s = `${IDENTITY.category}/${IDENTITY.type}//${IDENTITY.name}<${[...features]
    .sort()
    .map((f) => `${f}<`)
    .join("")}`;
  return createHash("sha1").update(s, "utf8").digest("base64");
}

/**
 * Makes `client` answer disco#info with its identity and features (XEP-0258 labels when `labels`)
 * and returns the `<c/>` its presence carries. `asked` resolves once someone has asked.
 */
export function announceCaps(
  client: TestClient,
  labels: boolean,
): { c: Element; ver: string; asked: Promise<void> } {
  const features = [NS_DISCO_INFO, NS_CAPS, ...(labels ? [NS_SEC_LABEL] : [])];
  const ver = capsVer(features);
  let told!: () => void;
  const asked = new Promise<void>((resolve) => (told = resolve));
  const callee = (
    client.xmpp as unknown as {
      iqCallee: { get(ns: string, name: string, h: (ctx: { element: Element }) => Element): void };
    }
  ).iqCallee;
  callee.get(NS_DISCO_INFO, "query", (ctx) => {
    told();
    return xml(
      "query",
      { xmlns: NS_DISCO_INFO, ...(ctx.element.attrs.node ? { node: ctx.element.attrs.node } : {}) },
      xml("identity", IDENTITY),
      ...features.map((f) => xml("feature", { var: f })),
    );
  });
  return { c: xml("c", { xmlns: NS_CAPS, hash: "sha-1", node: NODE, ver }), ver, asked };
}

/**
 * Makes `client` advertise XEP-0258 support in its disco#info, without caps in its presence (as
 * Gajim with labels on answers a component's disco#info).
 */
export function advertiseLabels(client: TestClient): void {
  const callee = (
    client.xmpp as unknown as { iqCallee: { get(ns: string, name: string, h: () => Element): void } }
  ).iqCallee;
  callee.get(NS_DISCO_INFO, "query", () =>
    xml(
      "query",
      { xmlns: NS_DISCO_INFO },
      xml("feature", { var: NS_DISCO_INFO }),
      xml("feature", { var: NS_SEC_LABEL }),
    ),
  );
}
