// Pre-serialised stanzas handed to sendRaw (the fan-out path): each must be one stanza
// (RFC 6120 §8: message, presence or iq) whose start tag names both `from` and `to`, which a
// component must always set (XEP-0114 §3; RFC 6120 §8.1.1, §8.1.2). Checked per copy, so
// without a regular expression.

/** Whether serialised XML is a stanza start tag carrying both `from` and `to`. */
export function addressedStanza(data: string): boolean {
  const name = data.startsWith("<message")
    ? 8
    : data.startsWith("<presence")
      ? 9
      : data.startsWith("<iq")
        ? 3
        : 0;
  if (name === 0 || !isXmlSpace(data.charCodeAt(name))) return false;
  const end = data.indexOf(">");
  return end > 0 && hasAttribute(data, "from", end) && hasAttribute(data, "to", end);
}

/**
 * Whether `head` is the start of a stanza's start tag that copies can be addressed from: a stanza
 * name, a `from`, no `to` (each copy adds its own) and not closed (no `>`), so that
 * `head + ' to="…">'` is a start tag naming both (sendCopies, send.ts).
 */
export function copyHead(head: string): boolean {
  return (
    head.indexOf(">") < 0 && !hasAttribute(head, "to", head.length) && addressedStanza(`${head} to="-">`)
  );
}

/** The element name a serialised stanza starts with, for error messages ("?" when none). */
export function rawStanzaName(data: string): string {
  return data.slice(1, data.search(/[\s/>]/)) || "?";
}

/**
 * `name=` followed by a quoted, non-empty value, preceded by white space, before `end` (the start
 * tag's close). An empty address is no address: ejabberd closes the stream on `to=''` as on none.
 */
function hasAttribute(data: string, name: string, end: number): boolean {
  for (let at = data.indexOf(`${name}=`, 1); at > 0 && at < end; at = data.indexOf(`${name}=`, at + 1)) {
    const before = data.charCodeAt(at - 1);
    const quote = data.charCodeAt(at + name.length + 1);
    const first = data.charCodeAt(at + name.length + 2);
    if (isXmlSpace(before) && (quote === 34 || quote === 39) && first !== quote) return true;
  }
  return false;
}

/** XML 1.0 §2.3 S: space, tab, line feed, carriage return. */
const isXmlSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;
