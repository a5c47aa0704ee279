// The runtime's example component: answers disco#info/#items and XEP-0199 pings, and echoes chat
// messages back to their sender. It exists to prove an attachment works end to end.
import { xml, type Element } from "./xml.js";
import { createComponent, type ComponentOptions, type CordonComponent } from "./component.js";
import { NS_DISCO_ITEMS, NS_PING } from "./namespaces.js";

export function createExampleComponent(options: ComponentOptions & { name?: string }): CordonComponent {
  const component = createComponent(options);
  component.disco({
    info: ({ to, node }) =>
      node || to !== options.domain
        ? undefined
        : {
            identities: [
              { category: "component", type: "generic", name: options.name ?? "Cordon example component" },
            ],
            features: [NS_DISCO_ITEMS, NS_PING],
          },
    items: () => [],
  });
  // XEP-0199 §4 https://xmpp.org/extensions/xep-0199.html#s2c: an empty result answers a ping.
  component.handleIq(NS_PING, { get: () => undefined });
  component.onMessage((message: Element) => {
    const type = message.attrs.type ?? "normal";
    if (type === "error" || type === "groupchat" || type === "headline") return;
    const body = message.getChildText("body");
    if (body === null || !message.attrs.from) return;
    return component.send(
      xml(
        "message",
        { type, to: message.attrs.from, from: message.attrs.to, id: message.attrs.id },
        xml("body", {}, body),
      ),
    );
  });
  return component;
}
