// Reading markingData / markingQualifier of one SPIF element into a per-language MarkingSet.
// XML-SPIF 2.x markingData (phrase, code, xml:lang) and markingQualifier/qualifier (prefix, suffix, separator).
import { InvalidPolicyError } from "../errors.js";
import { childElements } from "../xml/node.js";
import type { XmlNode } from "../xml/node.js";
import { Flag, LOCATION_FLAGS } from "./model.js";
import type { Marking, MarkingEntry, MarkingSet } from "./model.js";

const CODES: Readonly<Record<string, number>> = {
  pageTop: Flag.PageTop,
  pageBottom: Flag.PageBottom,
  pageTopBottom: Flag.PageTop | Flag.PageBottom,
  documentStart: Flag.DocumentStart,
  documentEnd: Flag.DocumentEnd,
  noMarkingDisplay: Flag.NoMarkingDisplay,
  noNameDisplay: Flag.NoNameDisplay,
  suppressClassName: Flag.SuppressClassName,
  replacePolicy: Flag.ReplacePolicy,
};

function langOf(n: XmlNode): string {
  // xml:lang is bound to the XML namespace (Namespaces in XML 1.0 §3); saxes reports its raw name.
  return n.attrs["xml:lang"] ?? "";
}

interface Qualifier {
  readonly lang: string;
  readonly code: string;
  readonly text: string;
}

/** Build the MarkingSet of an element from its markingQualifier and markingData children (in `uri`). */
export function readMarkings(el: XmlNode, uri: string): MarkingSet {
  const qualifiers: Qualifier[] = [];
  for (const mq of childElements(el, "markingQualifier", uri)) {
    for (const q of childElements(mq, "qualifier", uri)) {
      qualifiers.push({
        lang: langOf(q),
        code: q.attrs["qualifierCode"] ?? "",
        text: q.attrs["markingQualifier"] ?? "",
      });
    }
  }
  const data: { lang: string; entry: MarkingEntry }[] = [];
  for (const md of childElements(el, "markingData", uri)) {
    let flags = 0;
    for (const c of childElements(md, "code", uri)) {
      const text = c.children
        .filter((x): x is string => typeof x === "string")
        .join("")
        .trim();
      const f = CODES[text];
      if (f === undefined) throw new InvalidPolicyError("Unknown marking code");
      flags |= f;
    }
    if ((flags & LOCATION_FLAGS) === 0) flags |= Flag.PageBottom;
    data.push({ lang: langOf(md), entry: { flags, phrase: md.attrs["phrase"] } });
  }
  const langs = new Set<string>();
  for (const q of qualifiers) langs.add(q.lang);
  for (const d of data) langs.add(d.lang);
  const out = new Map<string, Marking>();
  for (const lang of langs) {
    let prefix = "";
    let suffix = "";
    let sep = "";
    let tagged = false;
    for (const q of qualifiers) {
      if (q.lang !== lang) continue;
      tagged = true;
      if (q.code === "prefix") prefix = q.text;
      else if (q.code === "suffix") suffix = q.text;
      else if (q.code === "separator") sep = q.text;
    }
    // A language with its own qualifiers inherits the untagged ones it does not override.
    if (lang !== "" && tagged) {
      for (const q of qualifiers) {
        if (q.lang !== "") continue;
        if (q.code === "prefix" && prefix === "") prefix = q.text;
        else if (q.code === "suffix" && suffix === "") suffix = q.text;
        else if (q.code === "separator" && sep === "") sep = q.text;
      }
    }
    const entries = data.filter((d) => d.lang === lang).map((d) => d.entry);
    out.set(lang, { prefix, suffix, sep, entries });
  }
  return out;
}
