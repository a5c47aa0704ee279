import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { directionsOf, peerAllowed, routeOf } from "../src/direction.js";
import { el, peering } from "./fixtures.js";
import type { PeerRule } from "../src/peering.js";

describe("routeOf", () => {
  const { outbound, inbound } = directionsOf(peering());

  test("a stanza from a local user to a remote user routes outbound with domains and default type", () => {
    const r = routeOf(el("<message from='alice@tlpx.test/r' to='bob@tlp.test'/>"), outbound);
    assert.ok(r.ok);
    assert.deepEqual(
      [r.route.kind, r.route.type, r.route.fromBare, r.route.fromDomain, r.route.toDomain],
      ["message", "normal", "alice@tlpx.test", "tlpx.test", "tlp.test"],
    );
  });

  test("presence without a type is 'available'", () => {
    const r = routeOf(el("<presence from='bob@tlp.test/r' to='alice@tlpx.test'/>"), inbound);
    assert.ok(r.ok);
    assert.equal(r.route.type, "available");
  });

  test("a recipient on the sending side is a loop and is refused", () => {
    assert.deepEqual(routeOf(el("<message from='alice@tlpx.test' to='carol@tlpx.test'/>"), outbound), {
      ok: false,
      reason: "loop",
    });
    // A stanza the relay emitted on the far side (from a local domain) coming back the other way.
    assert.deepEqual(routeOf(el("<message from='alice@tlpx.test' to='bob@tlp.test'/>"), inbound), {
      ok: false,
      reason: "loop",
    });
  });

  test("a sender outside the sending side's domains cannot be re-emitted", () => {
    assert.deepEqual(routeOf(el("<message from='mallory@elsewhere.test' to='bob@tlp.test'/>"), outbound), {
      ok: false,
      reason: "foreign-source",
    });
  });

  test("missing or malformed addresses are refused", () => {
    assert.deepEqual(routeOf(el("<message to='bob@tlp.test'/>"), outbound), {
      ok: false,
      reason: "missing-address",
    });
    assert.deepEqual(routeOf(el("<message from='@tlpx.test' to='bob@tlp.test'/>"), outbound), {
      ok: false,
      reason: "missing-address",
    });
    assert.deepEqual(routeOf(el("<handshake/>"), outbound), { ok: false, reason: "not-a-stanza" });
  });
});

describe("peerAllowed", () => {
  test("a grant list admits only the listed domains", () => {
    const rule: PeerRule = { kind: "grant", domains: ["tlp.test"] };
    assert.equal(peerAllowed(rule, "tlp.test"), true);
    assert.equal(peerAllowed(rule, "rooms.tlp.test"), false);
  });
  test("a deny list admits every other domain; *.d matches subdomains only", () => {
    const rule: PeerRule = { kind: "deny", domains: ["*.tlp.test"] };
    assert.equal(peerAllowed(rule, "tlp.test"), true);
    assert.equal(peerAllowed(rule, "rooms.tlp.test"), false);
  });
});
