import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@cordon/store";
import { MemoryAuditSink } from "../src/audit.js";
import { createRelay } from "../src/relay.js";
import { peering, registry } from "./fixtures.js";

describe("createRelay", () => {
  test("declares one link per claimed domain on each server, without connecting", async () => {
    const relay = createRelay({
      peerings: [peering()],
      registry: registry(),
      store: new MemoryStore(),
      audit: new MemoryAuditSink(),
    });
    assert.deepEqual(relay.links.map((l) => l.domain).sort(), [
      "rooms.tlp.test",
      "rooms.tlpx.test",
      "tlp.test",
      "tlpx.test",
    ]);
    assert.ok(relay.links.every((l) => l.status === "idle"));
    assert.deepEqual(relay.metrics(), {
      tlp: {
        outbound: { pass: 0, refuse: 0, drop: 0, reasons: {} },
        inbound: { pass: 0, refuse: 0, drop: 0, reasons: {} },
        sendFailures: 0,
      },
    });
    assert.match(relay.metricsText(), /^cordon_relay_send_failures_total\{peering="tlp"\} 0$/m);
    await relay.stop();
  });

  test("refuses an inconsistent peering", () => {
    const p = peering();
    p.remote.domains = ["tlpx.test"];
    p.remote.mucDomains = [];
    assert.throws(
      () =>
        createRelay({
          peerings: [p],
          registry: registry(),
          store: new MemoryStore(),
          audit: new MemoryAuditSink(),
        }),
      { code: "CORDON_RELAY_CONFIG" },
    );
  });
});
