// The relay's own IQ ids (stanza-id.ts): 96 random bits each, drawn from a pool of CSPRNG bytes
// (issue 19), every byte used once: distinct, of one shape, nothing of the requester's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { relayIqId } from "../src/stanza-id.js";
import { auditId } from "../src/audit.js";

test("relay IQ ids are 96 random bits each, never repeated, across pool refills", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = relayIqId();
    assert.match(id, /^cordon-[A-Za-z0-9_-]{16}$/);
    assert.ok(!seen.has(id), id);
    seen.add(id);
  }
  const bytes = [...seen].map((id) => Buffer.from(id.slice(7), "base64url"));
  assert.ok(bytes.every((b) => b.length === 12));
});

test("an audit id is the first 16 hex digits of the id's SHA-256", () => {
  for (const id of ["m1", "", "é\u0000x", "x".repeat(10_000)])
    assert.equal(auditId(id), createHash("sha256").update(id).digest("hex").slice(0, 16));
});
