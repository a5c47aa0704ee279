import { test } from "node:test";
import assert from "node:assert/strict";
import { createParseGate } from "../src/parse-gate.js";
import { createParser, type Element } from "../src/xml.js";

/** The stanzas a stream parser emits for `chunks`, fed through the gate. */
function parseGated(chunks: string[]) {
  const parser = createParser();
  const stanzas: string[] = [];
  parser.on("element", (el: Element) => stanzas.push(el.toString()));
  const handed: string[] = [];
  const gate = createParseGate((data) => {
    handed.push(data);
    parser.write(data);
  });
  for (const c of chunks) gate.write(c);
  return { stanzas, handed, gate };
}

const header =
  "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='c.test'>";
const stream =
  header +
  "<handshake/>" +
  "<message from='a@x.test/r' to='room@c.test' id='m&gt;1' type='groupchat'><body>one &amp; &lt;two&gt; é 𝄞</body></message> " +
  "<presence from='b@x.test/r' to='room@c.test/b'><status>é</status></presence>" +
  "<iq type='get' id='q1' from='a@x.test/r' to='c.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>";

test("split anywhere, the stream gives the same stanzas as in one piece, each as soon as its end arrives", () => {
  const whole = parseGated([stream]).stanzas;
  assert.equal(whole.length, 4);
  for (let at = 1; at < stream.length; at++) {
    const { stanzas, handed } = parseGated([stream.slice(0, at), stream.slice(at)]);
    assert.deepEqual(stanzas, whole, `split at ${at}`);
    for (const h of handed)
      assert.match(h, /[<>]$/, "the parser is never handed a chunk ending inside a run");
  }
  // Byte by byte: a stanza is emitted with its last `>`, not when the next one begins.
  const parser = createParser();
  const seen: string[] = [];
  parser.on("element", (el: Element) => seen.push(el.attrs.id ?? el.name));
  const gate = createParseGate((d) => parser.write(d));
  const firstEnd = stream.indexOf("</message>") + "</message>".length;
  for (const ch of stream.slice(0, firstEnd)) gate.write(ch);
  assert.deepEqual(seen, ["handshake", "m>1"]);
});

test("a long attribute value or text run is handed to the parser in one piece, not chunk by chunk", () => {
  const id = "&gt;".repeat(140_000); // 140,000 `>` as the server hands them on: 560 KB
  const stanza = `<message id='${id}' to='room@c.test'><body>${"&gt;".repeat(100_000)}</body></message>`;
  const chunks: string[] = [];
  for (let i = 0; i < stanza.length; i += 65_536) chunks.push(stanza.slice(i, i + 65_536));
  const { stanzas, handed, gate } = parseGated([header, ...chunks]);
  assert.equal(stanzas.length, 1);
  assert.equal(gate.held, 0);
  assert.ok(handed.length <= 6, `${handed.length} pieces`);
  const longest = Math.max(...handed.map((h) => h.length));
  assert.ok(longest >= id.length, "the id reached the parser whole");
});

test("what is held is only the unfinished end; reset forgets it", () => {
  const handed: string[] = [];
  const gate = createParseGate((d) => handed.push(d));
  gate.write("<a x='12");
  assert.deepEqual(handed, ["<"]);
  assert.equal(gate.held, "a x='12".length);
  gate.write("34");
  assert.equal(gate.held, "a x='1234".length);
  gate.reset();
  assert.equal(gate.held, 0);
  gate.write("<b/>");
  assert.deepEqual(handed, ["<", "<b/>"]);
  gate.write("  ");
  assert.equal(gate.held, 2, "whitespace after a stanza waits, harmlessly");
});

test("a raw `>` in an attribute value (as ejabberd sends it) is no cut point", () => {
  const id = `a>${">".repeat(200_000)}`;
  const stanza = `<message xml:lang='en' to='room@c.test' from='e@x.test/r' type='chat' id='${id}'><body>x</body></message>`;
  const chunks: string[] = [];
  for (let i = 0; i < stanza.length; i += 65_536) chunks.push(stanza.slice(i, i + 65_536));
  const { stanzas, handed, gate } = parseGated([header, ...chunks]);
  assert.equal(stanzas.length, 1);
  assert.equal(gate.held, 0);
  assert.ok(
    handed.some((h) => h.includes(id)),
    "the id reached the parser whole",
  );
  // Double quotes, and the other quote inside: `"it's"`.
  const other = `<presence to="r@c.test/n" id="it's > ok"><status>it's</status></presence>`;
  const split = parseGated([header, other.slice(0, 30), other.slice(30)]);
  assert.deepEqual(split.handed.slice(1), ["<", other.slice(1)]);
  assert.equal(split.stanzas.length, 1);
});

test("markup is skipped to its `>` whatever quotes it holds", () => {
  const handed: string[] = [];
  const gate = createParseGate((d) => handed.push(d));
  gate.write("<?xml version='1.0'?><");
  gate.write("!-- it's --><a b='1'/>");
  assert.deepEqual(handed, ["<?xml version='1.0'?><", "!-- it's --><a b='1'/>"]);
  assert.equal(gate.held, 0);
});
