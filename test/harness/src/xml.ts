// A typed view of @xmpp/xml (ltx) elements, structurally the same as @cordon/component's Element,
// so stanzas flow between the harness and the components without casts.
import xmlLib from "@xmpp/xml";

export type XmlNode = Element | string;

/** An XML element (an ltx Element) as received or sent by a test client. */
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
  clone(): Element;
  toString(): string;
}

export type XmlAttrs = Record<string, string | number | boolean | undefined | null>;
export type XmlChild = Element | string | null | undefined | false | XmlChild[];
export type XmlFactory = (name: string, attrs?: XmlAttrs | null, ...children: XmlChild[]) => Element;

/** The streaming parser of @xmpp/xml: emits "start", "element", "end" and "error". */
export interface XmlParser {
  on(event: "element" | "start" | "end", listener: (el: Element) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  write(data: string): void;
}

interface XmlLibrary extends XmlFactory {
  Parser: new () => XmlParser;
}
const lib = xmlLib as XmlLibrary;

/** Builds an element: `xml("message", { to, type: "chat" }, xml("body", {}, "hi"))`. */
export const xml: XmlFactory = lib;

/** A streaming XML parser (for raw-socket tests of the component port). */
export function createParser(): XmlParser {
  return new lib.Parser();
}
