// Known shapes: an element rebuilt from what its specification defines — the attributes it names,
// the children it names (in the same namespace, each with its own shape), and text where the
// element holds text — so that nothing nested inside a kept part crosses with it. Text elements
// hold their text as a client shows it: every text node below them, joined (text-as-displayed).
import { xml, type Element } from "@cordon/component";

export interface Shape {
  /** Attributes kept (`xmlns` is always kept). */
  attrs?: readonly string[];
  /**
   * The values some kept attributes may take (a number, a date, an enumeration, a hash): any other
   * and the attribute is left out — prose in a field defined as a number does not cross.
   */
  values?: Readonly<Record<string, RegExp>>;
  /** Whether the element holds text (then it holds nothing else). */
  text?: boolean;
  /** The values its text may take: any other and the element is left out. */
  pattern?: RegExp;
  /** Children kept, by name, in the element's own namespace. */
  children?: Readonly<Record<string, Shape>>;
}

/** The text a client shows of an element: every text node below it, in document order, joined. */
export function displayedText(el: Element): string {
  let s = "";
  const walk = (e: Element) => {
    for (const c of e.children) {
      if (typeof c === "string") s += c;
      else walk(c);
    }
  };
  walk(el);
  return s;
}

/** `el` rebuilt to `shape`: a new element, nothing of `el` shared; undefined when its text is not one the shape allows. */
export function reshape(el: Element, shape: Shape): Element | undefined {
  const attrs: Record<string, string> = {};
  const ns = el.attrs.xmlns;
  if (ns !== undefined) attrs.xmlns = ns;
  for (const a of shape.attrs ?? []) {
    const v = el.attrs[a];
    const pattern = shape.values?.[a];
    if (v !== undefined && (!pattern || pattern.test(v))) attrs[a] = v;
  }
  if (shape.text) {
    const text = displayedText(el);
    return shape.pattern && !shape.pattern.test(text) ? undefined : xml(el.name, attrs, text);
  }
  const out = xml(el.name, attrs);
  const children = shape.children ?? {};
  for (const c of el.getChildElements()) {
    const childShape = children[c.name];
    // A child in another namespace is not the one the specification names.
    if (!childShape || (c.attrs.xmlns !== undefined && c.attrs.xmlns !== ns)) continue;
    const kept = reshape(c, childShape);
    if (!kept) continue;
    kept.parent = out;
    out.children.push(kept);
  }
  return out;
}
