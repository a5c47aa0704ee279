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

test("no gate, or a gate with nothing to wait for: each stanza goes on at once", () => {
  const { hold, out } = harness();
  hold.receive(msg("1"));
  hold.gate(() => undefined);
  hold.receive(msg("2"));
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
  assert.deepEqual(out, [], "held while not heard");
  assert.ok(hold.heldBytes > 0);
  current = true;
  hold.receive(msg("3")); // the gate is current now, but earlier stanzas wait: no overtaking
  assert.deepEqual(out, []);
  open();
  await heard;
  await Promise.resolve();
  assert.deepEqual(out, ["1", "2", "3"]);
  assert.equal(hold.heldBytes, 0);
  hold.receive(msg("4"));
  assert.deepEqual(out, ["1", "2", "3", "4"]);
});

test("a gate that rejects or gives up releases what it held (never stuck)", async () => {
  const { hold, out } = harness();
  const failed = Promise.reject(new Error("no answer"));
  failed.catch(() => undefined);
  let once = true;
  hold.gate(() => (once ? ((once = false), failed) : undefined));
  hold.receive(msg("1"));
  await failed.catch(() => undefined);
  await Promise.resolve();
  assert.deepEqual(out, ["1"]);
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
  await Promise.resolve();
  assert.deepEqual(out, ["1"]);
});

test("a stanza held while the gate asks for more (a stall meanwhile: a newer PING) makes all wait for the newer", async () => {
  const { hold, out } = harness();
  let openFirst!: () => void;
  let openSecond!: () => void;
  const first = new Promise<void>((r) => (openFirst = r));
  const second = new Promise<void>((r) => (openSecond = r));
  let answer: Promise<void> | undefined = first;
  hold.gate(() => answer);
  hold.receive(msg("1"));
  hold.receive(msg("2")); // the same promise: nothing more to wait for
  answer = second; // the loop stalled: the store wants a PING sent after it
  hold.receive(msg("3"));
  answer = undefined;
  hold.receive(msg("4")); // current again, but earlier stanzas wait: no overtaking
  openFirst();
  await first;
  await Promise.resolve();
  assert.deepEqual(out, [], "the older PING's answer releases nothing (was: 1, 2, 3, 4)");
  openSecond();
  await second;
  await Promise.resolve();
  assert.deepEqual(out, ["1", "2", "3", "4"]);
  assert.equal(hold.heldBytes, 0);
});
