// The benches' raw XMPP clients read their stream with this, not an XML parser (which, in the
// bench's process, would compete with the server for the machine's 2 cores): it cuts the text
// into top-level elements — the children of <stream:stream> (RFC 6120 §4.1), i.e. stanzas and
// stream features — and hands each one's text on whole. It trusts the server's XML (no CDATA, no
// '>' inside attribute values: what Prosody and ejabberd send) and keeps only what a later chunk
// may still need: the unfinished element, and where scanning stopped (a split stanza is never
// scanned twice, so its nesting is counted once).
export class StanzaSplitter {
  #buf = "";
  #pos = 0;
  #depth = 0;
  #start = -1;

  /** @param {(text: string) => void} onElement */
  constructor(onElement) {
    this.onElement = onElement;
  }

  /** A new stream (after STARTTLS or SASL, RFC 6120 §5.4.3.3 and §6.4.6): nothing carried over. */
  reset() {
    this.#buf = "";
    this.#pos = 0;
    this.#depth = 0;
    this.#start = -1;
  }

  /** @param {string} chunk decoded text (a StringDecoder keeps multibyte characters whole) */
  feed(chunk) {
    const buf = (this.#buf += chunk);
    let i = this.#pos;
    for (;;) {
      const lt = buf.indexOf("<", i);
      if (lt < 0) {
        i = buf.length;
        break;
      }
      const gt = buf.indexOf(">", lt);
      if (gt < 0) {
        i = lt;
        break;
      }
      const c = buf.charCodeAt(lt + 1);
      if (c === 47 /* / */) {
        this.#depth--;
        if (this.#depth === 1 && this.#start >= 0) {
          this.onElement(buf.slice(this.#start, gt + 1));
          this.#start = -1;
        }
      } else if (c !== 63 /* ? */ && c !== 33 /* ! */) {
        if (buf.startsWith("stream:stream", lt + 1)) this.#depth = 1;
        else if (buf.charCodeAt(gt - 1) === 47) {
          if (this.#depth === 1) this.onElement(buf.slice(lt, gt + 1));
        } else if (++this.#depth === 2) this.#start = lt;
      }
      i = gt + 1;
    }
    const keepFrom = this.#start >= 0 ? this.#start : i;
    this.#buf = buf.slice(keepFrom);
    this.#pos = i - keepFrom;
    if (this.#start >= 0) this.#start = 0;
  }
}
