import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { checkIq, iqTexts, IqTracker, DEFAULT_IQ_NAMESPACES } from "../src/iq-control.js";
import { el } from "./fixtures.js";

const rules = { namespaces: DEFAULT_IQ_NAMESPACES };

test("a request is checked on its one payload's namespace; results need a request that crossed", () => {
  const tracker = new IqTracker();
  assert.deepEqual(
    checkIq(
      el("<iq type='get' id='1' from='a@x/r' to='b@y/r'><ping xmlns='urn:xmpp:ping'/></iq>"),
      rules,
      tracker,
    ),
    { ok: true, request: { namespace: "urn:xmpp:ping" } },
  );
  assert.deepEqual(
    checkIq(el("<iq type='get' from='a@x/r' to='b@y/r'><ping xmlns='urn:xmpp:ping'/></iq>"), rules, tracker),
    { ok: false, reason: "iq-malformed", detail: "no id" },
  );
  assert.deepEqual(checkIq(el("<iq type='probe' id='1' from='a@x/r' to='b@y/r'/>"), rules, tracker), {
    ok: false,
    reason: "iq-malformed",
    detail: "invalid type",
  });
  assert.deepEqual(checkIq(el("<iq type='result' id='1' from='b@y/r' to='a@x/r'/>"), rules, tracker), {
    ok: false,
    reason: "iq-unsolicited",
  });
  tracker.expect("a@x/r", "b@y/r", "1", "urn:xmpp:ping");
  assert.deepEqual(checkIq(el("<iq type='result' id='1' from='b@y/r' to='a@x/r'/>"), rules, tracker), {
    ok: true,
    answers: { id: "1" },
  });
  assert.equal(tracker.size, 0);
});

test("an error answers a request too, whatever payload it repeats", () => {
  const tracker = new IqTracker();
  tracker.expect("a@x/r", "b@y", "7", "vcard-temp");
  assert.deepEqual(
    checkIq(
      el(
        "<iq type='error' id='7' from='b@y' to='a@x/r'><vCard xmlns='vcard-temp'/><error type='cancel'/></iq>",
      ),
      rules,
      tracker,
    ),
    { ok: true, answers: { id: "7" } },
  );
});

test("an answer goes back under the requester's id, not the one it crossed with", () => {
  const tracker = new IqTracker();
  tracker.expect("a@x/r", "b@y/r", "cordon-relay", "urn:xmpp:ping", "alice's id");
  assert.equal(tracker.answer("b@y/r", "a@x/r", "alice's id"), undefined);
  assert.deepEqual(tracker.answer("b@y/r", "a@x/r", "cordon-relay"), {
    namespace: "urn:xmpp:ping",
    id: "alice's id",
  });
});

// Fixed: any child named error, in any namespace, was skipped as "the error", so it crossed
// beside an allowed payload unchecked (RFC 6120 §8.3.1: only an error stanza has one).
test("an <error/> beside a request's or a result's payload is a payload: two payloads do not cross", () => {
  const tracker = new IqTracker();
  const exfil = "<error xmlns='urn:example:exfil'><data>the plans</data></error>";
  assert.deepEqual(
    checkIq(
      el(`<iq type='get' id='1' from='a@x/r' to='b@y/r'><ping xmlns='urn:xmpp:ping'/>${exfil}</iq>`),
      rules,
      tracker,
    ),
    { ok: false, reason: "iq-malformed", detail: "2 payloads" },
  );
  // Not even in the stanza's namespace: a request or result has no error.
  assert.deepEqual(
    checkIq(
      el("<iq type='set' id='2' from='a@x/r' to='b@y/r'><ping xmlns='urn:xmpp:ping'/><error/></iq>"),
      rules,
      tracker,
    ),
    { ok: false, reason: "iq-malformed", detail: "2 payloads" },
  );
  tracker.expect("a@x/r", "b@y/r", "3", "urn:xmpp:ping");
  assert.deepEqual(
    checkIq(el(`<iq type='result' id='3' from='b@y/r' to='a@x/r'>${exfil}</iq>`), rules, tracker),
    { ok: false, reason: "iq-answer-namespace", detail: "urn:example:exfil" },
  );
});

test("pending requests expire and are bounded in bytes (oldest forgotten first)", () => {
  let now = 0;
  const tracker = new IqTracker({ answerTimeoutMs: 1000, maxBytes: 3 * 250, now: () => now });
  tracker.expect("a@x/r", "b@y/r", "old", "urn:xmpp:ping");
  now = 1500;
  assert.equal(tracker.answer("b@y/r", "a@x/r", "old"), undefined, "expired");
  for (const id of ["1", "2", "3", "4"]) tracker.expect("a@x/r", "b@y/r", id, "urn:xmpp:ping");
  assert.equal(tracker.size, 3);
  assert.ok(tracker.bytes <= 750);
  assert.equal(tracker.answer("b@y/r", "a@x/r", "1"), undefined, "the oldest was forgotten");
  assert.deepEqual(tracker.answer("b@y/r", "a@x/r", "4"), { namespace: "urn:xmpp:ping", id: "4" });
  now = 5000;
  tracker.sweep();
  assert.equal(tracker.size, 0);
  assert.equal(tracker.bytes, 0);
});

test("sender-chosen ids cost what they weigh: 1,000 requests with 100 KB ids stay within the byte bound", () => {
  const tracker = new IqTracker({ maxBytes: 4 * 1024 * 1024, perSender: 10_000 });
  const id = "x".repeat(100_000);
  for (let i = 0; i < 1000; i++) tracker.expect("m@x/r", "b@y/r", `${i}${id}`, "urn:xmpp:ping");
  assert.ok(tracker.bytes <= 4 * 1024 * 1024, `${tracker.bytes} bytes`);
  assert.ok(tracker.size < 30);
});

test("one sender may have only perSender requests waiting; answers, expiry and eviction give room back", () => {
  let now = 0;
  const tracker = new IqTracker({ perSender: 2, answerTimeoutMs: 1000, maxBytes: 2000, now: () => now });
  tracker.expect("m@x/one", "b@y/r", "1", "urn:xmpp:ping");
  assert.equal(tracker.mayExpect("m@x/two"), true);
  tracker.expect("m@x/two", "b@y/r", "2", "urn:xmpp:ping");
  assert.equal(tracker.mayExpect("M@x/three"), false, "every resource of the account counts");
  assert.equal(tracker.mayExpect("a@x/r"), true, "another sender is not affected");
  assert.ok(tracker.answer("b@y/r", "m@x/one", "1"));
  assert.equal(tracker.mayExpect("m@x/r"), true);
  tracker.expect("m@x/r", "b@y/r", "3", "urn:xmpp:ping");
  now = 5000;
  tracker.sweep();
  assert.equal(tracker.mayExpect("m@x/r"), true);
  // Evicted to make room for others: no longer counted against the sender.
  for (let i = 0; i < 20; i++) tracker.expect(`u${i}@x/r`, "b@y/r", "1", "urn:xmpp:ping");
  tracker.expect("m@x/r", "b@y/r", "4", "urn:xmpp:ping");
  tracker.expect("m@x/r", "b@y/r", "5", "urn:xmpp:ping");
  for (let i = 0; i < 20; i++) tracker.expect(`v${i}@x/r`, "b@y/r", "1", "urn:xmpp:ping");
  assert.equal(tracker.mayExpect("m@x/r"), true);
});

test("iqTexts collects the names, attribute values and text of the payload, not of an error stanza's error", () => {
  const words = (texts: string[]) => texts.join(" ").split(/\s+/u).filter(Boolean);
  const texts = iqTexts(
    el(
      "<iq type='error'><query xmlns='q' node='n1'><item name='Alpha'>beta</item></query><error><text>gamma</text></error></iq>",
    ),
  );
  assert.deepEqual(words(texts), [
    "query",
    "xmlns",
    "q",
    "node",
    "n1",
    "item",
    "name",
    "Alpha",
    "beta",
    "beta",
  ]);
  // Elsewhere an <error/> is a payload, read like any other (it was skipped).
  assert.ok(
    words(
      iqTexts(el("<iq type='result'><query xmlns='q'/><error xmlns='urn:x'><data>gamma</data></error></iq>")),
    ).includes("gamma"),
  );
});

test("a request forgotten (it did not cross after all) has no answer to let through", () => {
  const tracker = new IqTracker();
  tracker.expect("a@x/r", "b@y/r", "9", "urn:xmpp:ping");
  tracker.forget("A@X/r", "b@y/r", "9");
  assert.equal(tracker.answer("b@y/r", "a@x/r", "9"), undefined);
});

// Review own15: what a pending request keeps (its key and the requester's id, namespace and bare
// JID) is cut from the stanza's text; kept as views, each request kept its whole socket read alive.
test("a pending request keeps copies of its own, not views of the stanza's text", () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const tracker = new IqTracker({ perSender: 1000 });
  const cut = (i: number, text: string) => {
    const parent = `${"x".repeat(1 << 20)}${i}:${text}`;
    return parent.slice(parent.indexOf(":") + 1);
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 100; i++)
    tracker.expect(
      cut(i, `requester-${i}@example.test/desk`),
      cut(i, "partner@example.org"),
      `relay-${i}`,
      cut(i, "http://jabber.org/protocol/disco#info"),
      cut(i, `the requester's own id ${i}`),
    );
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(tracker.size, 100);
  assert.deepEqual(tracker.answer("partner@example.org", "requester-7@example.test/desk", "relay-7"), {
    namespace: "http://jabber.org/protocol/disco#info",
    id: "the requester's own id 7",
  });
  assert.ok(grown < 20_000_000, `${(grown / 1e6).toFixed(1)} MB kept for ${tracker.bytes} bytes counted`);
});

// adv16b: under namespaces "any" a <session xmlns='urn:cordon:guard:0'/> question crossed; on the
// far side it came from the relay's claimed domain, a trusted component of the guard module there,
// which tells such a component any session's IP address.
test("Cordon's own module protocol never crosses, even when every namespace may", () => {
  const tracker = new IqTracker();
  for (const namespaces of ["any", [...DEFAULT_IQ_NAMESPACES, "urn:cordon:guard:0"]] as const)
    assert.deepEqual(
      checkIq(
        el(
          "<iq type='get' id='s1' from='b.mil' to='a.mil'><session xmlns='urn:cordon:guard:0' jid='alice@a.mil/desk'/></iq>",
        ),
        { namespaces },
        tracker,
      ),
      { ok: false, reason: "iq-namespace", detail: "urn:cordon:guard:0" },
    );
  assert.deepEqual(
    checkIq(
      el("<iq type='get' id='s2' from='b.mil' to='a.mil'><ping xmlns='urn:xmpp:ping'/></iq>"),
      { namespaces: "any" },
      tracker,
    ),
    { ok: true, request: { namespace: "urn:xmpp:ping" } },
  );
});
