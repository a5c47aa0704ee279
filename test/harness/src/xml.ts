// The harness speaks the same typed XML as the components: @cordon/component's facade over
// @xmpp/xml (ltx), so stanzas flow between clients and components without casts.
export { xml, createParser } from "@cordon/component";
export type {
  Element,
  XmlNode,
  XmlFactory,
  XmlParser,
  Attrs as XmlAttrs,
  Child as XmlChild,
} from "@cordon/component";
