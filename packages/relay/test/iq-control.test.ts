import { test } from "node:test";
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
    { ok: true },
  );
});

test("pending requests expire and are bounded (oldest forgotten first)", () => {
  let now = 0;
  const tracker = new IqTracker(1000, 3, () => now);
  tracker.expect("a@x/r", "b@y/r", "old", "urn:xmpp:ping");
  now = 1500;
  assert.equal(tracker.answer("b@y/r", "a@x/r", "old"), undefined, "expired");
  for (const id of ["1", "2", "3", "4"]) tracker.expect("a@x/r", "b@y/r", id, "urn:xmpp:ping");
  assert.equal(tracker.size, 3);
  assert.equal(tracker.answer("b@y/r", "a@x/r", "1"), undefined, "the oldest was forgotten");
  assert.deepEqual(tracker.answer("b@y/r", "a@x/r", "4"), { namespace: "urn:xmpp:ping" });
  now = 5000;
  tracker.sweep();
  assert.equal(tracker.size, 0);
});

test("iqTexts collects text and attribute values of the payload, not of the error", () => {
  const texts = iqTexts(
    el(
      "<iq type='result'><query xmlns='q' node='n1'><item name='Alpha'>beta</item></query><error><text>gamma</text></error></iq>",
    ),
  );
  assert.deepEqual(texts, ["n1", "Alpha", "beta"]);
});

test("a request forgotten (it did not cross after all) has no answer to let through", () => {
  const tracker = new IqTracker();
  tracker.expect("a@x/r", "b@y/r", "9", "urn:xmpp:ping");
  tracker.forget("A@X/r", "b@y/r", "9");
  assert.equal(tracker.answer("b@y/r", "a@x/r", "9"), undefined);
});
