// An element written as XML text, byte for byte what ltx's `Element#toString` writes (the text
// every component sends, and the key the label readings are cached by), in fewer steps: one
// string built by one recursive function, and a value escaped only when it holds a character to
// escape (ltx runs a replacement over every value). The rules are ltx 3's, kept exactly: attributes
// in for…in order, null and undefined ones left out, others written with `toString(10)`, escaped
// `"&'<>` (XML 1.0 §2.4, §3.1); children null or undefined left out, elements written, text
// escaped `&<>`, anything else through its `toString(10)`; no children: `<name/>`. An element or
// child whose class writes itself otherwise (a `write` or `_addChildren` of its own) is written by
// its own code. test/serialise.test.ts compares both on random trees.
import xmlLib from "@xmpp/xml";
import type { Element } from "./xml.js";

interface Writable {
  /** Compared by identity (and called on its node only): a property, not a method to detach. */
  write: (writer: (chunk: string) => void) => void;
  _addChildren?: unknown;
}

const proto = (xmlLib as unknown as { Element: { prototype: Writable } }).Element.prototype;
const LTX_WRITE = proto.write;
const LTX_ADD_CHILDREN = proto._addChildren;

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};
const escapeOne = (c: string): string => ESCAPES[c]!;
const ATTR_SPECIAL = /["&'<>]/;
const ATTR_SPECIALS = /["&'<>]/g;
const TEXT_SPECIAL = /[&<>]/;
const TEXT_SPECIALS = /[&<>]/g;

function attrValue(v: string): string {
  return ATTR_SPECIAL.test(v) ? v.replace(ATTR_SPECIALS, escapeOne) : v;
}

function textValue(v: string): string {
  return TEXT_SPECIAL.test(v) ? v.replace(TEXT_SPECIALS, escapeOne) : v;
}

/** Whether `node` writes itself as ltx's Element does (then `written` writes it). */
function ltxWritten(node: Writable): boolean {
  return node.write === LTX_WRITE && node._addChildren === LTX_ADD_CHILDREN;
}

/** What its own `write` writes. */
function ownWrite(node: Writable): string {
  let s = "";
  node.write((chunk) => {
    s += chunk;
  });
  return s;
}

function written(el: Element): string {
  let s = `<${el.name}`;
  const attrs = el.attrs as Record<string, unknown>;
  for (const k in attrs) {
    const v = attrs[k];
    if (v != null)
      s += ` ${k}="${attrValue(typeof v === "string" ? v : (v as { toString(radix: number): string }).toString(10))}"`;
  }
  const children = el.children as unknown[];
  if (children.length === 0) return `${s}/>`;
  s += ">";
  for (const child of children) {
    if (child == null) continue;
    const c = child as Partial<Writable> & { toString?: (radix: number) => string };
    if (c.write) s += ltxWritten(c as Writable) ? written(c as unknown as Element) : ownWrite(c as Writable);
    else if (typeof child === "string") s += textValue(child);
    else if (c.toString) s += textValue(c.toString(10));
  }
  return `${s}</${el.name}>`;
}

/** `el.toString()`, byte for byte, faster (see above). */
export function serialise(el: Element): string {
  const node = el as unknown as Writable;
  return ltxWritten(node) ? written(el) : el.toString();
}
