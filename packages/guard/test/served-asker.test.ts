import { test } from "node:test";
import assert from "node:assert/strict";
import { StanzaErrorException } from "@cordon/component";
import { servedAsker } from "../src/served-asker.js";

const served = ["example.test", "other.test"];

/** The stanza error condition `fn` throws, or undefined when it returns. */
function condition(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof StanzaErrorException ? e.spec.condition : "not a stanza error";
  }
}

test("a served server's own domain is the asker", () => {
  assert.equal(servedAsker("example.test", served), "example.test");
  assert.equal(servedAsker("other.test", served), "other.test");
});

test("a user, a resource, another domain, a component or nothing at all is refused forbidden", () => {
  for (const from of [
    "alice@example.test",
    "alice@example.test/desk",
    "example.test/resource",
    "elsewhere.test",
    "guard.example.test",
    "rooms.example.test",
    "",
    undefined,
  ])
    assert.equal(
      condition(() => servedAsker(from, served)),
      "forbidden",
      String(from),
    );
});
