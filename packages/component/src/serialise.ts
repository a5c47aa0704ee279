// An element written as XML text: the text every component sends, and the key the label readings
// are cached by. ltx's `Element#toString` layout (attributes in for…in order, null and undefined
// ones left out, others written with `toString(10)`; children null or undefined left out; no
// children: `<name/>`), built in fewer steps — one string, one recursive function, a value
// escaped only when it holds a character to escape — and escaped as @cordon/policy's
// `escapeAttr`/`escapeText` write (XML 1.0 §2.4, §3.1): unlike ltx, a tab, line feed or carriage
// return in an attribute value and a carriage return in text are written as character
// references. The servers read the stream with expat, which turns a raw CR LF or CR in text into
// LF (§2.11) and raw whitespace in an attribute into spaces (§3.3.3): the stanza routed would not
// be the one decided (flot13: the guard's FLOT form lost the sender's `\r`). An element or child
// whose class writes itself otherwise (a `write` or `_addChildren` of its own) is written by its
// own code. test/serialise.test.ts compares with ltx on random trees.
import xmlLib from "@xmpp/xml";
import { escapeAttr, escapeText } from "@cordon/policy";
import type { Element } from "./xml.js";

interface Writable {
  /** Compared by identity (and called on its node only): a property, not a method to detach. */
  write: (writer: (chunk: string) => void) => void;
  _addChildren?: unknown;
}

const proto = (xmlLib as unknown as { Element: { prototype: Writable } }).Element.prototype;
const LTX_WRITE = proto.write;
const LTX_ADD_CHILDREN = proto._addChildren;

const ATTR_SPECIAL = /["&'<>\t\n\r]/;
const TEXT_SPECIAL = /[&<>\r]/;

const attrValue = (v: string): string => (ATTR_SPECIAL.test(v) ? escapeAttr(v) : v);
const textValue = (v: string): string => (TEXT_SPECIAL.test(v) ? escapeText(v) : v);

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

/** The element as written to the stream (see above). */
export function serialise(el: Element): string {
  const node = el as unknown as Writable;
  return ltxWritten(node) ? written(el) : el.toString();
}
