// A typed facade over @xmpp/xml (ltx): the element type every Cordon component handles.
import xmlLib from "@xmpp/xml";

export type XmlNode = Element | string;

/** An XML element as parsed from or written to the XMPP stream (an ltx Element). */
export interface Element {
  name: string;
  attrs: Record<string, string | undefined>;
  children: XmlNode[];
  parent: Element | null;
  is(name: string, xmlns?: string): boolean;
  getName(): string;
  getNS(): string | undefined;
  getChild(name: string, xmlns?: string): Element | undefined;
  getChildren(name: string, xmlns?: string): Element[];
  getChildElements(): Element[];
  getChildText(name: string, xmlns?: string): string | null;
  getText(): string;
  append(...nodes: XmlNode[]): Element;
  remove(el: Element | string, xmlns?: string): Element;
  c(name: string, attrs?: Record<string, string | undefined>): Element;
  t(text: string): Element;
  up(): Element;
  toString(): string;
}

export type Attrs = Record<string, string | number | boolean | undefined | null>;
export type Child = Element | string | null | undefined | false | Child[];

interface XmlLibrary {
  (name: string, attrs?: Attrs | null, ...children: Child[]): Element;
  Element: new (name: string, attrs?: Attrs) => Element;
  Parser: new () => XmlParser;
}

/** The streaming parser of @xmpp/xml: emits "start", "element", "end" and "error". */
export interface XmlParser {
  on(event: "element" | "start" | "end", listener: (el: Element) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  write(data: string): void;
}

const lib = xmlLib as XmlLibrary;

export type XmlFactory = (name: string, attrs?: Attrs | null, ...children: Child[]) => Element;

/** Builds an element: `xml("message", { to }, xml("body", {}, text))`. */
export const xml: XmlFactory = lib;

/** Creates a streaming parser (used by the connection to decode the component stream). */
export function createParser(): XmlParser {
  return new lib.Parser();
}

/**
 * The escaping helpers for stanzas built as strings (the fan-out path): @cordon/policy's, the one
 * escaping rule in Cordon. `escapeXml` is for attribute values in either quote style (XML 1.0
 * §3.1; tab, line feed and carriage return as character references so that attribute-value
 * normalisation, §3.3.3, keeps them); `escapeXmlText` for character data (§2.4).
 */
export { escapeAttr as escapeXml, escapeText as escapeXmlText } from "@cordon/policy";

/** True for an ltx element (as opposed to a text node). */
export function isElement(node: XmlNode | undefined): node is Element {
  return typeof node === "object" && node !== null;
}

/**
 * Parses one complete XML element from a string (tests, config). Resolves nothing partial:
 * incomplete or malformed input throws the parser's error.
 */
export function parseElement(text: string): Element {
  const parser = createParser();
  let root: Element | undefined;
  let failure: Error | undefined;
  parser.on("start", (el) => {
    root = el;
  });
  parser.on("element", (el) => {
    root?.append(el);
  });
  parser.on("error", (error) => {
    failure = error;
  });
  parser.on("end", () => undefined);
  // Wrap so the parser emits the element as a stanza-level child of a synthetic root.
  parser.write(`<root>${text}</root>`);
  if (failure) throw failure;
  const first = root?.children.find(isElement);
  if (!first) throw new SyntaxError("no element in input");
  first.parent = null;
  return first;
}
