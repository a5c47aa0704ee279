// What a parsed element holds in memory, estimated the way the byte-bounded caches count
// (@cordon/policy ByteLru): two bytes a character (UTF-16) for names, attribute names and values
// and text, plus a fixed overhead per element, attribute and text node. Walked without recursion,
// so a deeply nested stanza cannot exhaust the stack.
import type { Element } from "./xml.js";

const ELEMENT_OVERHEAD = 96;
const NODE_OVERHEAD = 32;

export function elementBytes(root: Element): number {
  let bytes = 0;
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const el = stack.pop() as Element;
    bytes += ELEMENT_OVERHEAD + 2 * el.name.length;
    for (const [name, value] of Object.entries(el.attrs))
      bytes += NODE_OVERHEAD + 2 * (name.length + (value?.length ?? 0));
    for (const child of el.children) {
      if (typeof child === "string") bytes += NODE_OVERHEAD + 2 * child.length;
      else stack.push(child);
    }
  }
  return bytes;
}
