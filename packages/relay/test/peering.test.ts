import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigReader } from "@cordon/component";
import { readRelayConfig, validatePeerings } from "../src/peering.js";
import { peering } from "./fixtures.js";

const side = (domains: string[], extra: Record<string, unknown> = {}) => ({
  server: { port: 5347 },
  secret: "s",
  domains,
  policy: "1.2.3",
  ...extra,
});
const direction = (extra: Record<string, unknown> = {}) => ({
  peers: { deny: [] },
  unlabelled: "refuse",
  ...extra,
});

function config(peerings: Record<string, unknown>) {
  return ConfigReader.root({
    relay: { policies: ["/p.xml"], audit: { file: "/tmp/a.jsonl" }, peerings },
  }).section("relay");
}

describe("readRelayConfig", () => {
  test("reads sides, directions and defaults", () => {
    const c = readRelayConfig(
      config({
        ab: {
          local: side(["a.test"], { labelAware: false }),
          remote: side(["b.test", "rooms.b.test"], {
            mucDomains: ["rooms.b.test"],
            server: { host: "10.0.0.2", port: 5348 },
          }),
          outbound: direction({
            mode: "one-to-one-only",
            chatStates: "strip",
            presence: { mode: "none" },
            content: [{ words: ["x"], classifications: ["RED"] }],
          }),
          inbound: direction({
            unlabelled: { message: "refuse", presence: "default", iq: "default" },
            elements: [{ ns: "jabber:x:oob", action: "strip" }],
          }),
        },
      }),
    );
    const p = c.peerings[0]!;
    assert.equal(p.remote.service, "xmpp://10.0.0.2:5348");
    assert.equal(p.local.labelAware, false);
    assert.deepEqual(p.outbound.unlabelled, { message: "refuse", presence: "refuse", iq: "refuse" });
    assert.equal(p.outbound.mode, "one-to-one-only");
    assert.equal(p.outbound.presence.mode, "none");
    assert.deepEqual(
      p.outbound.fileTransfer,
      { ibb: "block", jingle: "block", si: "block", oob: "block" },
      "file transfer blocked unless allowed",
    );
    assert.deepEqual(p.inbound.elements, [{ ns: "jabber:x:oob", action: "strip" }]);
    assert.equal(p.inbound.unlabelled.presence, "default");
    assert.equal(c.auditFile, "/tmp/a.jsonl");
  });

  test("the unlabelled behaviour must be explicit", () => {
    assert.throws(
      () =>
        readRelayConfig(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["b.test"]),
              outbound: { peers: { deny: [] } },
              inbound: direction(),
            },
          }),
        ),
      /outbound\.unlabelled: required/,
    );
  });

  test("typos and bad values name their key", () => {
    assert.throws(
      () =>
        readRelayConfig(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["b.test"]),
              outbound: direction({ mode: "muc" }),
              inbound: direction(),
            },
          }),
        ),
      /outbound\.mode/,
    );
    assert.throws(
      () =>
        readRelayConfig(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["b.test"]),
              outbound: direction({ peers: { grant: [], deny: [] } }),
              inbound: direction(),
            },
          }),
        ),
      /peers/,
    );
    assert.throws(
      () =>
        readRelayConfig(
          config({
            ab: {
              local: side(["a.test"], { colour: 1 }),
              remote: side(["b.test"]),
              outbound: direction(),
              inbound: direction(),
            },
          }),
        ),
      /local\.colour/,
    );
  });

  test("a domain on both sides (a loop) or claimed twice on one server is refused", () => {
    assert.throws(
      () =>
        readRelayConfig(
          config({
            ab: {
              local: side(["a.test"]),
              remote: side(["a.test"]),
              outbound: direction(),
              inbound: direction(),
            },
          }),
        ),
      /a\.test is also a domain/,
    );
    assert.throws(
      () =>
        validatePeerings([
          { ...peering(), name: "one" },
          { ...peering(), name: "two" },
        ]),
      /tlp\.test is also a domain/,
    );
    const p = peering();
    p.local.mucDomains = ["rooms.elsewhere.test"];
    assert.throws(() => validatePeerings([p]), /not one of this side's domains/);
  });

  test("one local domain may peer with several remote sides", () => {
    const two = {
      ...peering(),
      name: "two",
      remote: { ...peering().remote, domains: ["c.test"], mucDomains: [] },
    };
    assert.doesNotThrow(() => validatePeerings([peering(), two]));
  });
});
