// Adversarial review adv15: a policy reload that removes the policy of the guard's default label.
// The guard re-reads its configured labels under the new policies (policy-rebind.ts); one that no
// longer reads is kept bound to the old Policy object, said to grant nothing. It granted: the
// default label of the removed TLPX was translated into TLP (still loaded, its equivalent) through
// the removed policy's own equivalence table, so every unlabelled one-to-one message went on being
// delivered under a policy no longer in force — on both servers. Now refused (forbidden,
// default-label-invalid), the error carrying nothing of the message.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { loadPolicy, makeLabel, PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { loadDemo, repoRoot } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";
import { assertBareError, loadTlpPolicies, TLP, TLPX, tlpClearance, xmlValue } from "../src/relay-fixture.js";

const demo = loadDemo();
const PASSWORD = "removed-pw";
const SECRET_WORD = "adv15-sender-chose-this";
const tlpText = readFileSync(join(repoRoot, "test/conformance/tlp-policy.xml"), "utf8");

for (const kind of serverKinds()) {
  describe(`the guard's default label when a reload removes its policy on ${kind}`, () => {
    const domain = `${kind}-guard-removed.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    const registry = new PolicyRegistry();
    let guard: GuardService | undefined;
    const c: Record<string, TestClient> = {};
    const jid = (u: string) => `${u}@${domain}`;
    const chat = (to: string, id: string) =>
      `<message to='${to}' id='${id}' type='chat'><body>${SECRET_WORD} ${id}</body></message>`;
    const outcome = async (id: string) => {
      await sendRaw(c.alice!, chat(jid("bob"), id));
      await guarded.settled(c.alice!, c.bob!, [id]);
      if (c.bob!.received.some((m) => m.attrs.id === id)) return "delivered";
      const error = c.alice!.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
      if (error) {
        assertBareError(error, error.getChild("error")?.getChildElements()[0]?.name ?? "?");
        assert.ok(!error.toString().includes(SECRET_WORD), error.toString());
      }
      return `refused ${error?.getChild("error")?.getChildElements()[0]?.name ?? "?"}`;
    };

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        users: ["alice", "bob"],
        password: PASSWORD,
        guard: { timeoutSeconds: 4, cacheSeconds: 1 },
      });
      loadTlpPolicies(registry);
      // Both cleared for every TLP colour (their only clearance, for every policy).
      for (const u of ["alice", "bob"])
        await store.setUserClearance(jid(u), xmlValue(tlpClearance(TLP, [10, 11, 12, 13])));
      const tlpx = registry.require(TLPX);
      guard = await guarded.startGuard(demo, server, domain, {
        registry,
        store,
        // TLPX GREEN: judged against the TLP clearances as TLP GREEN (equivalent policies).
        defaultLabel: makeLabel(tlpx, tlpx.classificationByLacv.get(11)!, []),
      });
      for (const u of ["alice", "bob"]) c[u] = await connectClient(server, u, PASSWORD);
    });

    after(() => guarded.stopGuarded(server, guard, Object.values(c), 80));

    test(`[${kind}] after TLPX is removed, an unlabelled message is refused, the error echoing nothing`, async () => {
      assert.equal(await outcome("p1"), "delivered");
      // The reload: TLP alone (TLPX's file removed from the configuration).
      registry.replaceAll([loadPolicy(tlpText)]);
      await guard!.cacheEpochTold();
      // Was: delivered (the removed policy's default, translated into TLP by TLPX's table).
      assert.equal(await outcome("p2"), "refused forbidden");
    });
  });
}
