import { test } from "node:test";
import assert from "node:assert/strict";
import { newStanzaId } from "../src/service/stanza-id.js";

test("stanza-ids (XEP-0359): 16 base64url characters, never repeated across refilled blocks", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    const id = newStanzaId();
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    assert.ok(!seen.has(id), `repeated stanza-id ${id}`);
    seen.add(id);
  }
});
