// XML as it goes over the wire in the raw-byte tests (guard-cache-attack5, guard-flot-whitespace):
// text escaped for a stanza written as it is (harness sendRaw; XML 1.0 §2.4, §3.3.3), and what a
// raw-socket recipient read, taken apart by pattern (values unescaped; undefined when not
// well-formed).
import type { RawClient } from "./raw-client.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** XML-escapes text for an attribute or a text node (every character XML 1.0 §2.4 may need). */
export const esc = (s: string): string =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/'/g, "&apos;")
    .replace(/"/g, "&quot;");

/**
 * esc, and tab, line feed and carriage return as character references: a parser keeps them (an
 * attribute value's whitespace is otherwise normalised, XML 1.0 §3.3.3; a text's CR, §2.11).
 */
export const attrEsc = (s: string): string => esc(s).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The value of XML text read from the wire: undefined when it is not well-formed (a raw `<`, a bare `&`). */
export function unescaped(raw: string): string | undefined {
  if (/</.test(raw) || /&(?!(?:amp|lt|gt|apos|quot|#\d+|#x[0-9a-fA-F]+);)/.test(raw)) return undefined;
  return raw.replace(/&(amp|lt|gt|apos|quot|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", apos: "'", quot: '"' };
    if (named[e]) return named[e];
    return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Inside a start tag, quote-aware: an attribute value may hold a raw `>` (ejabberd writes one). */
export const IN_TAG = `(?:[^>'"]|'[^']*'|"[^"]*")*?`;

/** The text of `name`'s first element in `xml` as read (one text, no element inside), unescaped. */
export function textOf(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}\\b${IN_TAG}>([^<]*)</${name}>`).exec(xml);
  return m ? unescaped(m[1]!) : undefined;
}

/** The value of attribute `name` of the first element named `el` in `xml`, unescaped. */
export function attrOf(xml: string, el: string, name: string): string | undefined {
  const m = new RegExp(`<${el}\\b${IN_TAG}\\s${name}=(?:'([^']*)'|"([^"]*)")`).exec(xml);
  return m ? unescaped(m[1] ?? m[2]!) : undefined;
}

/** The message with this id in `text` as read (quote-aware start tags), or undefined. */
export function messageIn(text: string, id: string): string | undefined {
  return new RegExp(`<message\\b${IN_TAG}\\sid=["']${id}["']${IN_TAG}>[\\s\\S]*?</message>`).exec(text)?.[0];
}

/** The message with this id once `client` read it (messageIn); fails after 8 s. */
export async function waitMessage(client: RawClient, id: string): Promise<string> {
  for (const end = Date.now() + 8000; Date.now() < end; await sleep(20)) {
    const m = messageIn(client.text, id);
    if (m) return m;
  }
  throw new Error(`never read message ${id}`);
}
