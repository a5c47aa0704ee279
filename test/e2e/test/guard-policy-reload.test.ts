// Adversarial review adv14a (f0d8218: a default label not valid under its policy is refused, never
// applied; a reload is one way one reaches a decision). The guard held its configured labels (the
// default label, the access label, the location clearances) bound to the Policy objects it was
// started with: after a policy hot reload (SIGHUP or POST /policies/reload, which switches the
// shared registry — PolicyRegistry.replaceAll — and re-binds what each component holds: the guard
// had nothing to re-bind) every unlabelled message was judged on a label of the old policy, which
// no clearance of the new one grants (acdf: policy mismatch): refused until a restart, on both
// servers; with an access label, nobody could log in — and a default the new policy makes invalid was still taken for valid (its validity
// remembered per Label object). Now the guard re-reads them under the new policies.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { loadPolicy, makeLabel, PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { demoPolicyFile, loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "reload-pw";
const text = readFileSync(demoPolicyFile, "utf8");
// The demo policy with BRAVO allowed at UNCLASSIFIED: UNCLASSIFIED BRAVO is a valid label under it.
const loose = text.replace(
  /<tagCategory name="BRAVO" lacv="2">\s*<excludedClass>UNCLASSIFIED<\/excludedClass>\s*<\/tagCategory>/,
  '<tagCategory name="BRAVO" lacv="2"/>',
);

for (const kind of serverKinds()) {
  describe(`the guard's default label across a policy reload on ${kind}`, () => {
    const domain = `${kind}-guard-reload.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    const registry = new PolicyRegistry();
    let guard: GuardService | undefined;
    const c: Record<string, TestClient> = {};
    const jid = (u: string) => `${u}@${domain}`;
    const chat = (to: string, id: string) =>
      `<message to='${to}' id='${id}' type='chat'><body>unlabelled ${id}</body></message>`;
    /** Delivered to Bob, or the error Alice got (its condition). */
    const outcome = async (id: string) => {
      await sendRaw(c.alice!, chat(jid("bob"), id));
      await guarded.settled(c.alice!, c.bob!, [id]);
      if (c.bob!.received.some((m) => m.attrs.id === id)) return "delivered";
      const error = c.alice!.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
      return `refused ${error?.getChild("error")?.getChildElements()[0]?.name ?? "?"}`;
    };

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob", "carol"],
        password: PASSWORD,
        guard: { timeoutSeconds: 4, cacheSeconds: 1, access: true },
      });
      registry.register(loadPolicy(text));
      const policy = registry.policies()[0]!;
      const unclassified = policy.classifications.find((x) => x.name === "UNCLASSIFIED")!;
      guard = await guarded.startGuard(demo, server, domain, {
        registry,
        store,
        defaultLabel: makeLabel(policy, unclassified, []),
        // The server access label (access.ts): every user here is cleared for it.
        accessLabel: makeLabel(policy, unclassified, []),
      });
      for (const u of ["alice", "bob"]) c[u] = await connectClient(server, u, PASSWORD);
    });

    after(() => guarded.stopGuarded(server, guard, Object.values(c), 80));

    test(`[${kind}] an unlabelled message still takes the default label after a reload of the same policy`, async () => {
      assert.equal(await outcome("r1"), "delivered");
      // What the reloader does once every component re-bound what it holds: the switch.
      registry.replaceAll([loadPolicy(text)]);
      await guard!.cacheEpochTold();
      // Was: refused (forbidden) — the default label of the old Policy object, granted by no clearance.
      assert.equal(await outcome("r2"), "delivered");
      // The access label likewise: was, nobody logged in after a reload (not-allowed).
      c["carol"] = await connectClient(server, "carol", PASSWORD);
    });

    test(`[${kind}] a reload that makes the default label invalid refuses unlabelled messages; a valid one again delivers`, async () => {
      // The guard's default UNCLASSIFIED BRAVO, valid under the loose policy only.
      registry.replaceAll([loadPolicy(loose)]);
      await guard!.cacheEpochTold();
      await guard!.stop();
      const policy = registry.policies()[0]!;
      const label = makeLabel(
        policy,
        policy.classifications.find((x) => x.name === "UNCLASSIFIED")!,
        [policy.categories.find((x) => x.name === "BRAVO")!],
      );
      guard = await guarded.startGuard(demo, server, domain, { registry, store, defaultLabel: label });
      await store.setUserClearance(jid("alice"), demo.raw(demo.clearance(["UNCLASSIFIED"], ["BRAVO"])));
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"], ["BRAVO"])));
      await guard.cacheEpochTold();
      assert.equal(await outcome("v1"), "delivered");
      // The demo policy again: BRAVO excludes UNCLASSIFIED, the default is no longer valid.
      registry.replaceAll([loadPolicy(text)]);
      await guard.cacheEpochTold();
      assert.equal(await outcome("v2"), "refused forbidden");
    });
  });
}
