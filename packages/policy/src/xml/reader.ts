// A strict, namespace-aware XML reader over saxes producing an XmlNode tree, with limits.
// XML 1.0 (Fifth Edition) well-formedness and Namespaces in XML 1.0 are enforced by saxes;
// DOCTYPE declarations are refused outright (no entity expansion, no external subsets).
import { SaxesParser } from "saxes";
import type { SaxesTagNS } from "saxes";
import { LimitExceededError, MalformedEncodingError } from "../errors.js";
import { LABEL_XML_LIMITS } from "./limits.js";
import type { XmlLimits } from "./limits.js";
import type { XmlNode } from "./node.js";

interface MutableNode {
  name: string;
  local: string;
  uri: string;
  attrs: Record<string, string>;
  children: (MutableNode | string)[];
}

/**
 * Parse a complete XML document into a tree. Comments and processing instructions are dropped;
 * whitespace-only text is kept (callers ignore it where it is insignificant).
 * Throws MalformedEncodingError or LimitExceededError only.
 */
export function parseXml(text: string, limits: XmlLimits = LABEL_XML_LIMITS): XmlNode {
  if (text.length > limits.maxChars)
    throw new LimitExceededError(`XML document larger than ${limits.maxChars} characters`);
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: MutableNode[] = [];
  let root: MutableNode | undefined;
  let nodes = 0;
  let failure: Error | undefined;
  const fail = (e: Error): never => {
    failure ??= e;
    throw e;
  };
  parser.on("error", (e: Error) => fail(new MalformedEncodingError(`Malformed XML: ${e.message}`)));
  parser.on("doctype", () => fail(new MalformedEncodingError("Malformed XML: DOCTYPE is not allowed")));
  parser.on("opentag", (tag: SaxesTagNS) => {
    if (++nodes > limits.maxNodes)
      fail(new LimitExceededError(`XML document has more than ${limits.maxNodes} nodes`));
    if (stack.length >= limits.maxDepth)
      fail(new LimitExceededError(`XML nesting deeper than ${limits.maxDepth}`));
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    let count = 0;
    for (const a of Object.values(tag.attributes)) {
      if (++count > limits.maxAttributes)
        fail(new LimitExceededError(`XML element has more than ${limits.maxAttributes} attributes`));
      attrs[a.name] = a.value;
    }
    const node: MutableNode = { name: tag.name, local: tag.local, uri: tag.uri, attrs, children: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const onText = (t: string): void => {
    const parent = stack[stack.length - 1];
    if (!parent) return; // whitespace around the root; saxes rejects anything else
    if (++nodes > limits.maxNodes)
      fail(new LimitExceededError(`XML document has more than ${limits.maxNodes} nodes`));
    const last = parent.children[parent.children.length - 1];
    if (typeof last === "string") parent.children[parent.children.length - 1] = last + t;
    else parent.children.push(t);
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  try {
    parser.write(text).close();
  } catch (e) {
    if (failure) throw failure;
    throw new MalformedEncodingError(`Malformed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (failure) throw failure;
  if (!root) throw new MalformedEncodingError("Malformed XML: no root element");
  return root;
}
