// The element tree produced by the XML reader, and the structural element interface accepted
// from callers (compatible with @xmpp/xml / ltx elements).

/** Minimal structural view of an XML element (ltx-compatible). `attrs` holds raw attributes, including `xmlns` declarations. */
export interface XmlElementLike {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string | undefined>>;
  readonly children: readonly (XmlElementLike | string)[];
}

/** An element with its namespace resolved (Namespaces in XML 1.0 §6). */
export interface XmlNode extends XmlElementLike {
  /** Local part of the element name. */
  readonly local: string;
  /** Namespace URI, "" for none. */
  readonly uri: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly (XmlNode | string)[];
}

export const XML_NS = "http://www.w3.org/XML/1998/namespace";

/** Child elements, optionally filtered by local name and namespace URI. */
export function childElements(node: XmlNode, local?: string, uri?: string): XmlNode[] {
  const out: XmlNode[] = [];
  for (const c of node.children) {
    if (typeof c === "string") continue;
    if (local !== undefined && c.local !== local) continue;
    if (uri !== undefined && c.uri !== uri) continue;
    out.push(c);
  }
  return out;
}

/** First child element with that local name (and namespace when given). */
export function firstChild(node: XmlNode, local: string, uri?: string): XmlNode | undefined {
  for (const c of node.children) {
    if (typeof c !== "string" && c.local === local && (uri === undefined || c.uri === uri)) return c;
  }
  return undefined;
}

/** Concatenated text content of the direct text children. */
export function textOf(node: XmlElementLike): string {
  let s = "";
  for (const c of node.children) if (typeof c === "string") s += c;
  return s;
}

/** An unprefixed attribute's value. */
export function attr(node: XmlElementLike, name: string): string | undefined {
  return node.attrs[name];
}
