// Does an occupant's client show XEP-0258 labels? Asked once per client by disco#info
// (XEP-0030) to its full JID — or to its XEP-0115 caps node, cached by the caps hash so each
// client version is asked once; an answer is cached only when it hashes to the announced `ver`
// (XEP-0115 §5.4). Clients without `urn:xmpp:sec-label:0` get FLOT bodies.
import { xml, type CordonComponent, type Element } from "@cordon/component";
import { NS_CAPS, NS_DISCO_INFO, NS_SEC_LABEL } from "../namespaces.js";
import { capsVerified } from "./caps-verification.js";
import { ownString } from "../room/own-string.js";

export class LabelAwareness {
  readonly #component: CordonComponent;
  readonly #byVer = new Map<string, boolean>();
  readonly #timeoutMs: number;

  constructor(component: CordonComponent, timeoutMs: number) {
    this.#component = component;
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves true when the client advertises label support; false on error, timeout or absence. */
  async discover(fullJid: string, from: string, presence: Element): Promise<boolean> {
    const caps = presence.getChild("c", NS_CAPS);
    const ver = caps?.attrs.ver && caps.attrs.node ? `${caps.attrs.node}#${caps.attrs.ver}` : undefined;
    if (ver !== undefined) {
      const known = this.#byVer.get(ver);
      if (known !== undefined) return known;
    }
    let aware: boolean;
    let verified = false;
    try {
      const result = await this.#component.request(
        xml("iq", { type: "get", to: fullJid, from }, xml("query", { xmlns: NS_DISCO_INFO, node: ver })),
        this.#timeoutMs,
      );
      const query = result.getChild("query", NS_DISCO_INFO);
      aware = query?.getChildren("feature").some((f) => f.attrs.var === NS_SEC_LABEL) ?? false;
      verified =
        query !== undefined &&
        caps !== undefined &&
        capsVerified(query, caps.attrs.hash, caps.attrs.ver ?? "");
    } catch {
      // No answer says nothing about the client version: FLOT for this one, ask again next time.
      return false;
    }
    // An answer that does not hash to the announced ver holds for this client only.
    if (ver !== undefined && verified) {
      if (this.#byVer.size > 1000) this.#byVer.clear();
      // A copy of its own: `node#ver` is made of the presence's attribute values, views of the
      // whole socket read it came in (room/own-string.ts; review keep15: 200 versions kept 40 MB).
      this.#byVer.set(ownString(ver), aware);
    }
    return aware;
  }
}
