// Cost of the stanza size bounds (issue 14), side by side in one run: each incoming stanza is
// parsed (what the link does anyway) with and without the input check (`oversizePart`); each
// outgoing stanza is serialised (what send() does anyway) with and without the outgoing check
// (`serialisedFits`); a fan-out copy (sendRaw) with and without it. Prints JSON as its last line.
//   node bench/stanza-limits.mjs [iterations]
import { performance } from "node:perf_hooks";
import { oversizePart, parseElement, serialisedFits, stanzaLimits } from "@cordon/component";

const N = Number(process.argv[2] ?? 20_000);
const limits = stanzaLimits();
const label =
  "<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking fgcolor='black' bgcolor='red'>SECRET</displaymarking>" +
  "<label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>" +
  "MQYCAQQGASk=".repeat(20) +
  "</esssecuritylabel></label></securitylabel>";
const STANZAS = {
  groupchat_small: `<message xmlns='jabber:client' from='alice@example.mil/phone' to='ops@rooms.example.mil' type='groupchat' id='9f0c6d3e-2a7b-4c1e-9d5f-0b8e7a6c5d4f'><body>On my way, ETA ten minutes.</body>${label}<active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
  presence_caps: `<presence xmlns='jabber:client' from='alice@example.mil/phone' to='ops@rooms.example.mil/Alice' id='p1'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='20'/></x><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/><status>In a meeting</status></presence>`,
  iq_disco: `<iq xmlns='jabber:client' from='alice@example.mil/phone' to='rooms.example.mil' type='get' id='disco-1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  groupchat_60k_body: `<message xmlns='jabber:client' from='alice@example.mil/phone' to='ops@rooms.example.mil' type='groupchat' id='big'><body>${"lorem ipsum ".repeat(5000)}</body>${label}</message>`,
  groupchat_escaped_body: `<message xmlns='jabber:client' from='alice@example.mil/phone' to='ops@rooms.example.mil' type='groupchat' id='esc'><body>${"a &lt; b &amp;&amp; c &gt; d ".repeat(1200)}</body>${label}</message>`,
};

/** ns per call of `fn` over N iterations (after a warm-up). */
function time(fn) {
  for (let i = 0; i < Math.min(N, 2000); i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  return ((performance.now() - t0) * 1e6) / N;
}

let sink = 0;
const result = {
  iterations: N,
  maxStanzaBytes: limits.maxStanzaBytes,
  incoming: {},
  outgoing: {},
  fanout_copy: {},
};
for (const [name, text] of Object.entries(STANZAS)) {
  const bytes = Buffer.byteLength(text);
  const without = time(() => (sink += parseElement(text).children.length));
  const withCheck = time(() => {
    const el = parseElement(text);
    if (oversizePart(limits, el)) sink++;
  });
  const parsed = parseElement(text);
  const checkOnly = time(() => {
    if (oversizePart(limits, parsed)) sink++;
  });
  result.incoming[name] = {
    bytes,
    parse_ns: Math.round(without),
    parse_and_check_ns: Math.round(withCheck),
    check_only_ns: Math.round(checkOnly),
    overhead_pct: +((100 * checkOnly) / without).toFixed(2),
  };
  const out = time(() => (sink += parsed.toString().length));
  const outChecked = time(() => {
    const data = parsed.toString();
    if (serialisedFits(limits, data)) sink += data.length;
  });
  const serialised = parsed.toString();
  const fitsOnly = time(() => {
    if (serialisedFits(limits, serialised)) sink++;
  });
  result.outgoing[name] = {
    serialise_ns: Math.round(out),
    serialise_and_check_ns: Math.round(outChecked),
    check_only_ns: Math.round(fitsOnly),
    overhead_pct: +((100 * fitsOnly) / out).toFixed(2),
  };
}
// A fan-out copy over 87,381 UTF-16 units is measured in bytes (Buffer.byteLength); below, by length.
for (const [name, text] of [
  ["copy_1k", "x".repeat(1000)],
  ["copy_100k", "x".repeat(100_000)],
  ["copy_200k_multibyte", "é".repeat(100_000)],
]) {
  result.fanout_copy[name] = {
    without_ns: Math.round(time(() => (sink += text.length))),
    with_ns: Math.round(time(() => (sink += serialisedFits(limits, text) ? text.length : 0))),
  };
}
if (sink === 0.5) console.log("");
console.log(JSON.stringify(result));
