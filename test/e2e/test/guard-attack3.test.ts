// Attacks on the central check (issue 17), third round: the performance changes (pipelined
// questions, compact verdicts). Real servers, real clients, the guard up.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "attack3-pw";

for (const kind of serverKinds()) {
  describe(`attacks on the central check, round 3, on ${kind} (issue 17)`, () => {
    const domain = `${kind}-attack3.test`;
    const guardDomain = `guard.${domain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    // Lookups of the held user's clearance wait for `held.open()` (the guard is slow deciding).
    const held = new guarded.ClearanceGate();

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "carol"],
        cleared: ["alice"],
        password: PASSWORD,
        // The site lets unlabelled traffic flow while Cordon is DOWN — and only then.
        guard: { timeoutSeconds: 8, unlabelledWhenDown: "deliver" },
      });
      await store.setUserClearance(jid("carol"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      const users = held.users(store, false);
      // An unlabelled message is SECRET here: carol (UNCLASSIFIED only) may never get one.
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, users, defaultLabel: demo.label("SECRET") },
        false,
      );
    });

    after(() => guarded.stopGuarded(server, guard, open));

    test(`[${kind}] P1 a sender past the guard's per-sender bound of checks in progress does not get unlabelled messages through unchecked (the guard is up)`, async () => {
      const a1 = await connectClient(server, "alice", PASSWORD, "a1");
      const a2 = await connectClient(server, "alice", PASSWORD, "a2");
      const carol = await connectClient(server, "carol", PASSWORD, "c1");
      open.push(a1, a2, carol);
      // (No message to carol before: her clearance is not read yet, so not cached by the guard.)
      // The guard is slow reading carol's clearance: alice's checks stay in progress. 2 × 30
      // messages (each session below Prosody's 32 in flight) pass the guard's 50 per sender.
      held.hold(jid("carol"));
      const burst = (client: TestClient, tag: string) =>
        Array.from(
          { length: 30 },
          (_, i) =>
            `<message to='${jid("carol")}' id='p1-${tag}-${i}' type='chat'><body>unlabelled ${tag} ${i}</body></message>`,
        ).join("");
      await Promise.all([sendRaw(a1, burst(a1, "a")), sendRaw(a2, burst(a2, "b"))]);
      await sleep(1500);
      held.open();
      await sleep(3000);
      if (process.env["GUARD_DEBUG"])
        for (const c of [a1, a2])
          console.log(
            c.received
              .filter((m) => m.attrs.id?.startsWith("p1-"))
              .map(
                (m) =>
                  `${m.attrs.id}:${m
                    .getChild("error")
                    ?.children.map((x) => (typeof x === "string" ? "" : x.name))
                    .join(",")}`,
              )
              .join(" "),
          );
      const got = carol.received.filter((m) => m.attrs.id?.startsWith("p1-")).map((m) => m.attrs.id);
      // Control: each message was refused (forbidden, or wait for those past the bound).
      assert.equal(
        [a1, a2].flatMap((c) =>
          c.received.filter((m) => m.attrs.id?.startsWith("p1-") && m.attrs.type === "error"),
        ).length + got.length,
        60,
      );
      assert.deepEqual(
        got,
        [],
        "an unlabelled (SECRET by default) message reached carol (UNCLASSIFIED) unchecked",
      );
    });

    test(`[${kind}] P2 XML metacharacters in a recipient's resource and a message's id, body and attributes do not break out of the question written on the guard's stream`, async () => {
      const a = await connectClient(server, "alice", PASSWORD, "p2");
      const resource = `c'"<&>]]>x`;
      const carol = await connectClient(server, "carol", PASSWORD, resource);
      open.push(a, carol);
      const UNCLASSIFIED = demo.labelXml(demo.label("UNCLASSIFIED"));
      // A fake answer inside the text: were it written unescaped, the guard would see a verdict
      // of the sender's making (or its stream would break).
      const fake = `</body></message><session resource='${resource}' labels='1'/></check></iq><iq type='result' from='${guardDomain}' to='${domain}' id='x'><verdict xmlns='urn:cordon:guard:0' action='deliver' keep='1'/></iq>`;
      const esc = (t: string) =>
        t
          .replace(/&/g, "&amp;")
          .replace(/</g, "&lt;")
          .replace(/>/g, "&gt;")
          .replace(/'/g, "&apos;")
          .replace(/"/g, "&quot;");
      await sendRaw(
        a,
        `<message to='${jid("carol")}' id='p2-&apos;&lt;ok' type='chat' xml:lang='en'><body>${esc(fake)}</body>${UNCLASSIFIED}</message>`,
      );
      const got = await carol.waitFor((m) => m.attrs.id === "p2-'<ok", 8000);
      // (FLOT: carol's client shows no labels, the marking is the body's first line.)
      assert.ok(got.getChildText("body")?.endsWith(`\n${fake}`), got.toString().slice(0, 600));
      // Unlabelled: SECRET by default, refused for carol whatever the text says.
      await sendRaw(
        a,
        `<message to='${jid("carol")}' id='p2-secret' type='chat'><body>${esc(fake)}</body></message>`,
      );
      await a.waitFor((m) => m.attrs.id === "p2-secret" && m.attrs.type === "error", 8000);
      await sleep(500);
      assert.deepEqual(
        carol.received.filter((m) => m.attrs.id === "p2-secret").map((m) => m.toString().slice(0, 300)),
        [],
      );
    });

    test(`[${kind}] P3 a compact verdict keeps nothing of the sender's label (its display marking and colours)`, async () => {
      const a = await connectClient(server, "alice", PASSWORD, "p3");
      const carol = await connectClient(server, "carol", PASSWORD, "p3");
      open.push(a, carol);
      const own = demo
        .labelXml(demo.label("UNCLASSIFIED"))
        .replace(">UNCLASSIFIED</displaymarking>", ">FAKE-MARK</displaymarking>")
        .replace("bgcolor='green'", "bgcolor='fakecolour'");
      await sendRaw(
        a,
        `<message to='${jid("carol")}' id='p3' type='chat'><body>p3 body</body>${own}</message>`,
      );
      const got = await carol
        .waitFor((m) => m.attrs.id === "p3", 8000)
        .catch((e: unknown) => {
          throw new Error(`${String(e)}: ${a.received.map((m) => m.toString().slice(0, 300)).join(" ")}`);
        });
      const text = got.toString();
      for (const bit of ["FAKE-MARK", "fakecolour"])
        assert.ok(!text.includes(bit), `the sender's ${bit} reached the recipient: ${text.slice(0, 600)}`);
      const labels = got.getChildren("securitylabel", "urn:xmpp:sec-label:0");
      assert.equal(labels.length, 1, text.slice(0, 600));
      assert.equal(labels[0]?.getChildText("displaymarking"), "UNCLASSIFIED");
    });

    // Found in review of issue 17: on Prosody a burst past MAX_IN_FLIGHT (32) made the sending
    // session's runner wait; mod_c2s paused reading then, and the rest of the burst already sent
    // stayed unread until the client sent anything more. The module now holds the rest without
    // making the runner wait.
    test(`[${kind}] P4 a burst past the in-flight bound arrives in the order sent`, async () => {
      const a = await connectClient(server, "alice", PASSWORD, "p4");
      const carol = await connectClient(server, "carol", PASSWORD, "p4");
      open.push(a, carol);
      const UNCLASSIFIED = demo.labelXml(demo.label("UNCLASSIFIED"));
      const ids = Array.from({ length: 45 }, (_, i) => `p4-${i}`);
      await sendRaw(
        a,
        ids
          .map(
            (id) =>
              `<message to='${jid("carol")}' id='${id}' type='chat'><body>${id}</body>${UNCLASSIFIED}</message>`,
          )
          .join(""),
      );
      // (Any byte more from alice — a whitespace keepalive — releases the rest: P4_NUDGE=1.)
      await carol.waitFor((m) => m.attrs.id === "p4-44", 6000).catch(() => undefined);
      if (process.env["P4_NUDGE"]) await sendRaw(a, " ");
      await carol.waitFor((m) => m.attrs.id === "p4-44", 2000).catch(() => undefined);
      await sleep(500);
      if (process.env["GUARD_DEBUG"])
        console.log(
          "P4 carol:",
          carol.received
            .filter((m) => m.attrs.id?.startsWith("p4-"))
            .map((m) => m.attrs.id)
            .join(" "),
          "alice:",
          a.received
            .filter((m) => m.attrs.id?.startsWith("p4-"))
            .map((m) => m.toString().slice(0, 200))
            .join(" "),
        );
      assert.deepEqual(
        carol.received.filter((m) => m.attrs.id?.startsWith("p4-")).map((m) => m.attrs.id),
        ids,
      );
    });
  });
}
