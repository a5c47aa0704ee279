import { test } from "node:test";
import assert from "node:assert/strict";
import { fatalStreamError, recordStreamError } from "../src/stream-errors.js";
import { AuthenticationFailedError, DomainConflictError, UnknownDomainError } from "../src/errors.js";
import type { LinkState } from "../src/link-state.js";
import { silentLogger } from "../src/logger.js";

test("not-authorized, conflict and host-unknown are fatal and name the domain", () => {
  assert.ok(fatalStreamError("not-authorized", "c.test") instanceof AuthenticationFailedError);
  assert.ok(fatalStreamError("conflict", "c.test") instanceof DomainConflictError);
  const unknown = fatalStreamError("host-unknown", "c.test");
  assert.ok(unknown instanceof UnknownDomainError);
  assert.match(unknown.message, /c\.test/);
});

test("every other condition is retried, even one named like an Object property", () => {
  for (const condition of [undefined, "", "internal-server-error", "constructor", "toString", "__proto__"])
    assert.equal(fatalStreamError(condition, "c.test"), undefined, String(condition));
});

test("the link keeps the first fatal error", () => {
  const link: LinkState = { status: "connecting" };
  const logger = silentLogger();
  recordStreamError(link, new Error("ECONNRESET"), "c.test", logger);
  assert.equal(link.fatalError, undefined);
  recordStreamError(link, Object.assign(new Error("x"), { condition: "conflict" }), "c.test", logger);
  recordStreamError(link, Object.assign(new Error("y"), { condition: "not-authorized" }), "c.test", logger);
  const kept = (l: LinkState) => l.fatalError; // read afresh: the assertion above narrowed it
  assert.ok(kept(link) instanceof DomainConflictError);
});
