// Found in review (advrelay): the relay's audit log deleted while the relay runs went on taking
// records into its unlinked file — lost once closed — while the stanzas they recorded crossed (and
// a restart began a fresh chain that verifies). Now the write that finds its file deleted fails the
// log: nothing crosses after it. Prosody serving pd.test and ejabberd serving ed.test, the relay
// between them with its file audit log; each test name carries the sending server.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient, xml, type XmppServer, type TestClient } from "@cordon/harness";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { auditKey, createRelay, FileAuditSink, type Relay } from "@cordon/relay";
import {
  TLP,
  TLPX,
  NS_STANZAS,
  isMessage,
  loadTlpPolicies,
  startPeerServers,
  tlpClearance as clearance,
  tlpPeering,
  xmlValue as raw,
} from "../src/relay-fixture.js";

const SECRET = "relay-secret";

for (const sending of ["prosody", "ejabberd"] as const) {
  describe(`relay audit log deleted while running (${sending} sends)`, () => {
    let pd: XmppServer, ed: XmppServer;
    let alice: TestClient, bob: TestClient;
    let relay: Relay;
    const dir = mkdtempSync(join(tmpdir(), "cordon-relay-audit-removed-"));
    const file = join(dir, "audit.jsonl");
    const store = new MemoryStore();
    const registry = new PolicyRegistry();

    before(async () => {
      [pd, ed] = await startPeerServers(
        { domain: "pd.test", users: ["alice"] },
        { domain: "ed.test", users: ["bob"] },
        SECRET,
      );
      loadTlpPolicies(registry);
      await store.setUserClearance("alice@pd.test", raw(clearance(TLPX, [10, 11, 12, 13])));
      await store.setUserClearance("bob@ed.test", raw(clearance(TLP, [10, 11, 12, 13])));
      const peering = tlpPeering("pd-ed", pd, "pd.test", ed, "ed.test", SECRET);
      relay = createRelay({
        peerings: [peering],
        registry,
        store,
        audit: await FileAuditSink.open(file, { key: auditKey("k".repeat(64)) }),
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await relay.start();
      [alice, bob] = await Promise.all([connectClient(pd, "alice", "pw"), connectClient(ed, "bob", "pw")]);
    });

    after(async () => {
      await Promise.allSettled([alice, bob].map((c) => c?.stop()));
      await relay?.stop();
      await Promise.allSettled([pd, ed].map((s) => s?.stop()));
      rmSync(dir, { recursive: true, force: true });
    });

    test(`[${sending}] once its audit log is deleted, nothing crosses: the sender is told to wait`, async () => {
      const [from, to, toJid] =
        sending === "prosody" ? [alice, bob, "bob@ed.test"] : [bob, alice, "alice@pd.test"];
      await from.send(xml("message", { type: "chat", to: toJid, id: "before" }, xml("body", {}, "recorded")));
      await to.waitFor(isMessage("before"), 8000);
      unlinkSync(file);
      // The first stanza whose record finds the file deleted is answered wait; every one after it
      // is dropped (the relay drops everything once its log has failed).
      await from.send(
        xml("message", { type: "chat", to: toJid, id: "after-1" }, xml("body", {}, "unrecorded")),
      );
      const error = await from.waitFor(
        (el) => isMessage("after-1")(el) && el.attrs["type"] === "error",
        8000,
      );
      assert.ok(error.getChild("error")?.getChild("internal-server-error", NS_STANZAS), error.toString());
      await from.send(
        xml("message", { type: "chat", to: toJid, id: "after-2" }, xml("body", {}, "unrecorded")),
      );
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(!to.received.some((el) => ["after-1", "after-2"].includes(el.attrs["id"] ?? "")));
    });
  });
}
