// What the stream parser is handed, and when. ltx 3.1.2 (the parser under @xmpp/xml) skips a text
// run with indexOf("<") and an attribute value with indexOf(quote); when that end is not in the
// piece it was handed, it steps one character at a time and searches to the end of the piece
// again from each one: quadratic in the length of the run the piece ends in. A user's stanza with
// a long id or body (140,000 `>`, which the server hands on as 560 KB of `&gt;`) arrives in socket
// reads of up to 64 KiB and took 0.5–0.9 s of the component's only thread (13 ms in one piece);
// a few a second from one account held every room and link behind them for minutes.
//
// The gate hands the parser data only up to a point where no run is open: just after a `<`, or
// just after the `>` that ends a tag, and keeps the rest until the next such point arrives. It
// follows the stream with a small lexer (text, tag, quoted attribute value, markup) because `>`
// is legal raw in attribute values and ejabberd sends it so (`id='a>b'`; Prosody writes `&gt;`).
// Every stanza ends with the `>` of a tag, so none waits for the next one; what is held is the
// unfinished part of one, joined once when its end comes (linear, whatever its size). Markup
// (`<!…>`, `<?…?>`) is skipped to its next `>`: servers send no comments or CDATA (RFC 6120
// §11.1), and a cut inside one would only cost time, never change what is parsed.

/** Feeds a stream parser through the gate; `reset` forgets what is held (a new stream). */
export interface ParseGate {
  write(data: string): void;
  reset(): void;
  /** Characters held back, waiting for a point where no run is open. */
  readonly held: number;
}

/** Where the lexer is in the stream. */
const Lex = {
  /** Character data: a run that ends at `<`. */
  Text: 0,
  /** Just after `<`: the next character tells a tag from markup. */
  TagStart: 1,
  /** Inside a tag, outside quotes: ends at `>`, or opens a quoted value. */
  Tag: 2,
  /** Inside a quoted attribute value: ends at the same quote. */
  Quote: 3,
  /** Inside `<!…>` or `<?…?>`: ends at `>`. */
  Markup: 4,
} as const;
type LexState = (typeof Lex)[keyof typeof Lex];

const TAG_STOP = /['">]/g;

export function createParseGate(parse: (data: string) => void): ParseGate {
  let held: string[] = [];
  let heldLength = 0;
  let state: LexState = Lex.Text;
  let quote = "";

  /** Follows `data` from the state left by the previous piece; the end of its last cut point. */
  function lastCut(data: string): number {
    let cut = 0;
    let pos = 0;
    while (pos < data.length) {
      switch (state) {
        case Lex.Text: {
          const lt = data.indexOf("<", pos);
          if (lt === -1) return cut;
          pos = lt + 1;
          cut = pos;
          state = Lex.TagStart;
          break;
        }
        case Lex.TagStart: {
          const c = data[pos];
          state = c === "!" || c === "?" ? Lex.Markup : Lex.Tag;
          break;
        }
        case Lex.Tag: {
          TAG_STOP.lastIndex = pos;
          const stop = TAG_STOP.exec(data);
          if (!stop) return cut;
          pos = stop.index + 1;
          if (stop[0] === ">") {
            cut = pos;
            state = Lex.Text;
          } else {
            quote = stop[0];
            state = Lex.Quote;
          }
          break;
        }
        case Lex.Quote: {
          const end = data.indexOf(quote, pos);
          if (end === -1) return cut;
          pos = end + 1;
          state = Lex.Tag;
          break;
        }
        case Lex.Markup: {
          const gt = data.indexOf(">", pos);
          if (gt === -1) return cut;
          pos = gt + 1;
          cut = pos;
          state = Lex.Text;
          break;
        }
      }
    }
    return cut;
  }

  return {
    write(data) {
      const cut = lastCut(data);
      if (cut === 0) {
        if (data.length > 0) {
          held.push(data);
          heldLength += data.length;
        }
        return;
      }
      const ready = heldLength > 0 ? held.join("") + data.slice(0, cut) : data.slice(0, cut);
      const rest = data.slice(cut);
      held = rest.length > 0 ? [rest] : [];
      heldLength = rest.length;
      parse(ready);
    },
    reset() {
      held = [];
      heldLength = 0;
      state = Lex.Text;
      quote = "";
    },
    get held() {
      return heldLength;
    },
  };
}
