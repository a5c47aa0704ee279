// One source for peer clearances (issue 16 item 11): the relay's configured ones over the store's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@cordon/store";
import type { PeeringConfig } from "@cordon/relay";
import { configuredPeers, withConfiguredPeers } from "../src/peer-clearances.js";

const peering = (domains: string[], outbound?: string, inbound?: string) =>
  ({
    name: "p",
    remote: { domains },
    outbound: outbound !== undefined ? { clearance: outbound } : {},
    inbound: inbound !== undefined ? { clearance: inbound } : {},
  }) as unknown as PeeringConfig;

test("configured peer clearances answer first; the store answers the rest", async () => {
  const store = new MemoryStore();
  await store.setPeerClearance("b.test", "outbound", { encoding: "ber", data: "c3RvcmU=" });
  await store.setPeerClearance("c.test", "inbound", { encoding: "ber", data: "c3RvcmUy" });
  const peers = configuredPeers([peering(["B.test", "conference.b.test"], "Y29uZmln"), peering(["c.test"])]);
  assert.deepEqual(
    [...peers.keys()],
    ["b.test", "conference.b.test"],
    "a peering without clearances adds nothing",
  );
  const seen = withConfiguredPeers(store, peers);
  const out = await seen.getPeerClearance("b.test", "outbound");
  assert.equal(
    out.status === "known" && out.clearance.data,
    "Y29uZmln",
    "the relay's configured clearance wins",
  );
  assert.equal((await seen.getPeerClearance("conference.b.test", "outbound")).status, "known");
  assert.equal(
    (await seen.getPeerClearance("b.test", "inbound")).status,
    "none",
    "not configured, not stored",
  );
  const stored = await seen.getPeerClearance("c.test", "inbound");
  assert.equal(stored.status === "known" && stored.clearance.data, "c3RvcmUy");
  assert.equal((await seen.getPeerClearance("d.test", "outbound")).status, "none");
  // Everything else is the store itself (methods bound to it).
  await seen.setUserClearance("a@a.test", { encoding: "ber", data: "eA==" });
  assert.equal((await store.getUserClearance("a@a.test")).status, "known");
  assert.equal(withConfiguredPeers(store, new Map()), store);
  await store.close();
});
