// The incoming hold (incoming-hold.ts): stanzas wait, in order, while the gate answers a promise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createIncomingHold } from "../src/incoming-hold.js";
import { xml, type Element } from "../src/xml.js";
import { elementBytes } from "../src/element-bytes.js";

const msg = (id: string, body = "x") =>
  xml("message", { from: "a@x/r", to: "room@muc.x", id }, xml("body", {}, body));

function harness(maxBytes?: number) {
  const out: string[] = [];
  const refused: string[] = [];
  const hold = createIncomingHold({
    dispatch: (s: Element) => out.push(String(s.attrs.id)),
    refuse: (s: Element) => refused.push(String(s.attrs.id)),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  });
  return { hold, out, refused };
}

/** Lets the event loop poll twice (the hold's two check-phase hops), and promises settle. */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

test("no gate: each stanza goes on at once; with a gate, after the loop polled once more, in order", async () => {
  const { hold, out } = harness();
  hold.receive(msg("1"));
  assert.deepEqual(out, ["1"]);
  hold.gate(() => undefined);
  hold.receive(msg("2"));
  hold.receive(msg("3"));
  assert.deepEqual(out, ["1"], "not in the turn that read it: a change read in the next poll comes first");
  await turns();
  assert.deepEqual(out, ["1", "2", "3"]);
  assert.equal(hold.heldBytes, 0);
});

test("a stanza waits for a poll after it was read: the check phase right after its own is too early", async () => {
  const { hold, out } = harness();
  hold.gate(() => undefined);
  hold.receive(msg("1"));
  await new Promise((r) => setImmediate(r)); // the check phase after the poll that read it
  assert.deepEqual(out, []);
  hold.receive(msg("2")); // read after that check phase: waits for its own next poll
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(out, ["1"]);
  await turns();
  assert.deepEqual(out, ["1", "2"]);
});

test("a pending gate holds that stanza and every later one, in order, until it settles", async () => {
  const { hold, out } = harness();
  let open!: () => void;
  const heard = new Promise<void>((r) => (open = r));
  let current = false;
  hold.gate(() => (current ? undefined : heard));
  hold.receive(msg("1"));
  hold.receive(msg("2"));
  await turns();
  assert.deepEqual(out, [], "held while not heard");
  assert.ok(hold.heldBytes > 0);
  current = true;
  hold.receive(msg("3")); // the gate is current now, but earlier stanzas wait: no overtaking
  await turns();
  assert.deepEqual(out, []);
  open();
  await heard;
  await turns(4);
  assert.deepEqual(out, ["1", "2", "3"]);
  assert.equal(hold.heldBytes, 0);
  hold.receive(msg("4"));
  await turns();
  assert.deepEqual(out, ["1", "2", "3", "4"]);
});

test("a gate that rejects or gives up releases what it held (never stuck)", async () => {
  const { hold, out } = harness();
  const failed = Promise.reject(new Error("no answer"));
  failed.catch(() => undefined);
  let once = true;
  hold.gate(() => (once ? ((once = false), failed) : undefined));
  hold.receive(msg("1"));
  await turns(4);
  assert.deepEqual(out, ["1"]);
});

test("a gate that gives up every time still releases (nothing held twice)", async () => {
  const { hold, out } = harness();
  hold.gate(() => Promise.resolve());
  for (let i = 1; i <= 3; i++) hold.receive(msg(String(i)));
  await turns(8);
  assert.deepEqual(out, ["1", "2", "3"]);
});

test("held bytes are bounded: past the bound a stanza is refused, an error stanza dropped", async () => {
  const first = msg("1", "a".repeat(300));
  const { hold, out, refused } = harness(elementBytes(first) + 10);
  let open!: () => void;
  const heard = new Promise<void>((r) => (open = r));
  hold.gate(() => heard);
  hold.receive(first);
  hold.receive(msg("2", "b".repeat(300)));
  hold.receive(xml("message", { from: "a@x/r", type: "error", id: "3" }, xml("error", { type: "cancel" })));
  assert.deepEqual(refused, ["2"], "over the bound: refused (the error stanza is only dropped)");
  hold.gate(() => undefined);
  open();
  await heard;
  await turns(4);
  assert.deepEqual(out, ["1"]);
});
