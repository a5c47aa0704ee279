// XEP-0258 §"Label Catalog Discovery" (https://xmpp.org/extensions/xep-0258.html#label-catalog):
// <catalog xmlns='urn:xmpp:sec-label:catalog:2' to name desc id size restrict>
//   <item selector default?><securitylabel xmlns='urn:xmpp:sec-label:0'>…</securitylabel>?</item>*
// </catalog>
// The older forms deployed clients still send are answered too: catalog:1 uses the same <item>s
// (its schema is the catalog:2 one); catalog:0 lists the <securitylabel>s directly in <catalog>,
// each with the selector (and default) as attributes.
import {
  parseElement,
  xml,
  NS_SEC_LABEL_CATALOG,
  NS_SEC_LABEL_CATALOG_0,
  NS_SEC_LABEL_CATALOG_1,
  type Element,
} from "@cordon/component";
import { buildSecurityLabelXml, type Label } from "@cordon/policy";
import type { Catalog } from "./catalog.js";

export const CATALOG_NAMESPACES: readonly string[] = [
  NS_SEC_LABEL_CATALOG,
  NS_SEC_LABEL_CATALOG_1,
  NS_SEC_LABEL_CATALOG_0,
];

/** The `<securitylabel/>` of a label: the policy's marking and colours, the label as ESS DER. */
export function securityLabelElement(label: Label): Element {
  return parseElement(buildSecurityLabelXml(label));
}

/** Serialises a catalog in `namespace` (catalog:2 by default). */
export function catalogElement(catalog: Catalog, namespace: string = NS_SEC_LABEL_CATALOG): Element {
  const root = xml("catalog", {
    xmlns: namespace,
    to: catalog.to,
    name: catalog.name,
    desc: catalog.desc,
    id: catalog.id,
    size: String(catalog.items.length),
    restrict: catalog.restrict ? "true" : "false",
  });
  for (const item of catalog.items) {
    if (namespace === NS_SEC_LABEL_CATALOG_0) {
      if (!item.label) continue; // catalog:0 has no way to offer "no label"
      const label = securityLabelElement(item.label);
      label.attrs.selector = item.selector;
      if (item.default) label.attrs.default = "true";
      root.append(label);
      continue;
    }
    root.append(
      xml(
        "item",
        { selector: item.selector, default: item.default ? "true" : undefined },
        item.label ? securityLabelElement(item.label) : null,
      ),
    );
  }
  return root;
}
