// Compact XML serialisation (no insignificant whitespace) of XmlElementLike trees.
import type { XmlElementLike } from "./node.js";

/**
 * Escape character data (XML 1.0 §2.4); a carriage return as a character reference, as a parser
 * turns a raw one (or CR LF) into a line feed (§2.11 end-of-line handling).
 */
export function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#13;",
  );
}

/** Escape an attribute value for single-quoted output (XML 1.0 §3.1); whitespace controls are kept as char refs. */
export function escapeAttr(s: string): string {
  return s.replace(/[&<>'"\t\n\r]/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case "'":
        return "&apos;";
      case '"':
        return "&quot;";
      case "\t":
        return "&#9;";
      case "\n":
        return "&#10;";
      default:
        return "&#13;";
    }
  });
}

/** Serialise an element and its subtree exactly as given (attributes in insertion order). */
export function serializeXml(el: XmlElementLike): string {
  let s = "<" + el.name;
  for (const [k, v] of Object.entries(el.attrs)) {
    if (v === undefined) continue;
    s += " " + k + "='" + escapeAttr(v) + "'";
  }
  if (el.children.length === 0) return s + "/>";
  s += ">";
  for (const c of el.children) s += typeof c === "string" ? escapeText(c) : serializeXml(c);
  return s + "</" + el.name + ">";
}
