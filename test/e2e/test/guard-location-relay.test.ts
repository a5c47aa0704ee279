// Issue 17, client locations, inbound across Cordon's relay: what the relay delivers into a served
// domain comes from a trusted component (the relay claims the peer's domain on the guarded
// server), so the modules did not ask about it — the relay judges the peer and the recipient's
// clearance but not where the recipient's sessions are, and a session at the WHITE-only site got
// whatever its user's clearance grants. Now the module asks the guard with <check origin='component'>
// and the guard decides each recipient session's location on the label the relay put
// (packages/guard/src/component-delivery.ts). Real Prosody and real ejabberd, each in turn the
// guarded server, the other kind the peer, Cordon's real relay between them (TLPX ↔ TLP, the
// relay's e2e policies; the inbound clearance up to AMBER). alice's sessions connect from
// 127.0.0.1 (cleared up to RED) or 127.0.0.2 (the annex: WHITE only).
// `rooms.…` is a trusted XEP-0114 component listed in `inbound_unasked`: it stands for Cordon's MUC,
// which locates its occupants itself (packages/muc/src/security/occupant-location.ts).
// On the old modules (relayin17's base): I1, I2, I4, I5 and I6 fail on both servers (the annex got
// AMBER, live and replayed from offline storage; what came while the guard was down was delivered
// unasked; I5: the relay's message was not asked about); I3 passes (a regression check).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connectClient, sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import { createComponent, xml, type CordonComponent, type Element } from "@cordon/component";
import { TLP, tlpLabel } from "../src/relay-fixture.js";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { GuardRelay } from "../src/guard-relay-fixture.js";

const demo = loadDemo();
const NS_SL = "urn:xmpp:sec-label:0";
const label = (policy: string, n: number) =>
  `<securitylabel xmlns='${NS_SL}'><displaymarking>L${n}</displaymarking><label>${tlpLabel(policy, n, [0])}</label></securitylabel>`;
const message = (to: string, id: string, body: string, lbl = "") =>
  `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${lbl}</message>`;

for (const kind of serverKinds()) {
  const other = kind === "prosody" ? "ejabberd" : "prosody";
  describe(`messages from across Cordon's relay, each session located, ${other} → ${kind} (issue 17)`, () => {
    const here = `${kind}-relayin-g.test`;
    const there = `${other}-relayin-r.test`;
    const rooms = `rooms.${here}`;
    /** The guard's decisions on messages, in order ("action:reason"). */
    const decisions: string[] = [];
    const relayed = new GuardRelay(kind, {
      demo,
      here,
      there,
      secret: "relayin-relay",
      peering: "relayin",
      components: [{ domain: rooms, secret: "rooms" }],
      inboundUnasked: [rooms],
      extraModules:
        kind === "prosody" ? ["carbons", "mam"] : ["mod_carboncopy", "mod_mam: {default: always}"],
      onDecision: (action, reason) => decisions.push(`${action}:${reason}`),
    });
    const { open } = relayed;
    let guardedServer: XmppServer;
    let roomsLink: CordonComponent | undefined;
    let bob: TestClient;

    before(async () => {
      await relayed.start();
      guardedServer = relayed.guardedServer;
      roomsLink = createComponent({
        service: `xmpp://127.0.0.1:${guardedServer.componentPort}`,
        domain: rooms,
        secret: "rooms",
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await roomsLink.start();
      bob = await connectClient(relayed.otherServer, "bob", "pw", "desk");
      open.push(bob);
    });

    after(async () => {
      await roomsLink?.stop();
      await relayed.stop();
    });

    const session = (resource: string, site: string) =>
      guarded.openSession(guardedServer, open, "pw", "alice", resource, site);
    /** bob's error for `id` ("type:condition"), after checking it carries nothing but the error. */
    const bobsError = async (id: string): Promise<string> => {
      const e = await bob.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 10_000);
      assert.deepEqual(
        e.getChildElements().map((c: Element) => c.name),
        ["error"],
        `nothing echoed: ${e.toString()}`,
      );
      return `${e.getChild("error")?.attrs.type}:${e.getChild("error")?.getChildElements()[0]?.name}`;
    };
    const got = (c: TestClient, id: string) => c.received.some((m) => m.attrs.id === id);
    /** Waits until `c` got `id` (fails after 10 s). */
    const arrives = (c: TestClient, id: string) => c.waitFor((m) => m.attrs.id === id, 10_000);

    test(`[${kind}] I1: AMBER from the peer domain reaches alice's cleared session and not her annex session`, async () => {
      const desk = await session("desk", CLEARED_SITE);
      const annex = await session("annex", UNCLASSIFIED_SITE);
      try {
        const before = decisions.length;
        await sendRaw(bob, message(`alice@${here}`, "i1-a", "amber from the peer", label(TLP, 12)));
        const m = await arrives(desk, "i1-a");
        assert.equal(m.getChildText("body"), "amber from the peer");
        assert.ok(m.getChild("securitylabel", NS_SL), "the relay's label stays");
        // Then something the annex gets (unlabelled: WHITE, granted there): the AMBER one, sent
        // before it on the same path, has had every chance to arrive.
        await sendRaw(bob, message(`alice@${here}`, "i1-w", "white after it"));
        await arrives(annex, "i1-w");
        await arrives(desk, "i1-w");
        assert.equal(got(annex, "i1-a"), false, "the annex session got AMBER from across the relay");
        // One question per relayed message (the first of its kind: nothing cached yet).
        assert.deepEqual(decisions.slice(before), ["deliver:deliver", "deliver:deliver"]);
        // To the annex session itself: refused back across the relay, nothing of it echoed.
        await sendRaw(bob, message(`alice@${here}/annex`, "i1-f", "amber to the annex", label(TLP, 12)));
        assert.equal(await bobsError("i1-f"), "auth:forbidden");
        assert.equal(got(annex, "i1-f"), false);
        // The relay still judges the direction: RED is beyond its inbound clearance.
        await sendRaw(bob, message(`alice@${here}`, "i1-r", "red", label(TLP, 13)));
        assert.match(await bobsError("i1-r"), /:forbidden$/);
        assert.equal(got(desk, "i1-r"), false);
      } finally {
        await desk.stop();
        await annex.stop();
      }
    });

    test(`[${kind}] I2: alice with only an annex session gets nothing of AMBER; bob is told forbidden, nothing echoed`, async () => {
      const annex = await session("annex2", UNCLASSIFIED_SITE);
      try {
        await sendRaw(bob, message(`alice@${here}`, "i2-a", "amber to the annex only", label(TLP, 12)));
        assert.equal(await bobsError("i2-a"), "auth:forbidden");
        await sendRaw(bob, message(`alice@${here}`, "i2-w", "white"));
        await arrives(annex, "i2-w");
        assert.equal(got(annex, "i2-a"), false, "the annex session got AMBER from across the relay");
      } finally {
        await annex.stop();
      }
    });

    test(`[${kind}] I3: unlabelled from the peer domain reaches both sites`, async () => {
      const desk = await session("desk3", CLEARED_SITE);
      const annex = await session("annex3", UNCLASSIFIED_SITE);
      try {
        await sendRaw(bob, message(`alice@${here}`, "i3", "plain"));
        await arrives(desk, "i3");
        await arrives(annex, "i3");
      } finally {
        await desk.stop();
        await annex.stop();
      }
    });

    test(`[${kind}] I5: a trusted component that locates its recipients itself (inbound_unasked) is not asked about`, async () => {
      const desk = await session("desk5", CLEARED_SITE);
      try {
        const before = decisions.length;
        await roomsLink!.send(
          xml(
            "message",
            { from: `ops@${rooms}/carol`, to: `alice@${here}/desk5`, id: "i5", type: "groupchat" },
            xml("body", {}, "from the room"),
          ),
        );
        await arrives(desk, "i5");
        // And the relay's next message is asked about once: the room's was not asked at all.
        await sendRaw(bob, message(`alice@${here}/desk5`, "i5-r", "after the room", label(TLP, 11)));
        await arrives(desk, "i5-r");
        assert.deepEqual(decisions.slice(before), ["deliver:deliver"]);
      } finally {
        await desk.stop();
      }
    });

    test(`[${kind}] I6: stored while alice is offline, AMBER is replayed to her cleared session only (the annex leaves it stored)`, async () => {
      await sendRaw(bob, message(`alice@${here}`, "i6-a", "amber while away", label(TLP, 12)));
      await guarded.sleep(1000); // (stored offline: nothing tells bob)
      const annex = await session("annex6", UNCLASSIFIED_SITE);
      try {
        await sendRaw(bob, message(`alice@${here}`, "i6-w", "white, live"));
        await arrives(annex, "i6-w");
        assert.equal(got(annex, "i6-a"), false, "the annex session got the stored AMBER at login");
      } finally {
        await annex.stop();
      }
      const desk = await session("desk6", CLEARED_SITE);
      try {
        await arrives(desk, "i6-a");
      } finally {
        await desk.stop();
      }
      assert.equal(
        bob.received.some((m) => m.attrs.id === "i6-a" && m.attrs.type === "error"),
        false,
      );
    });

    test(`[${kind}] I7: an AMBER-labelled IQ result from across the relay does not reach alice's annex session (adv17d)`, async () => {
      const annex = await session("annex7", UNCLASSIFIED_SITE);
      const desk = await session("desk7", CLEARED_SITE);
      try {
        // alice asks bob's client for its vCard; bob answers with AMBER content under an AMBER label.
        // The relay lets the labelled answer cross (its label re-encoded): the module did not ask
        // about an IQ from a trusted component, so the annex session got AMBER content.
        const ask = async (c: TestClient, id: string) => {
          await sendRaw(
            c,
            `<iq type='get' to='bob@${there}/desk' id='${id}'><vCard xmlns='vcard-temp'/></iq>`,
          );
          const q = await bob.waitFor(
            (s) =>
              s.name === "iq" && s.attrs.type === "get" && s.getChild("vCard", "vcard-temp") !== undefined,
            10_000,
          );
          await sendRaw(
            bob,
            `<iq type='result' to='${q.attrs.from}' id='${q.attrs.id}'><vCard xmlns='vcard-temp'><FN>amber card</FN></vCard>${label(TLP, 12)}</iq>`,
          );
        };
        await ask(annex, "i7-a");
        await sendRaw(bob, message(`alice@${here}/annex7`, "i7-w", "white after it"));
        await arrives(annex, "i7-w");
        const leaked = annex.received.find((s) => s.name === "iq" && s.getChild("vCard", "vcard-temp"));
        assert.equal(leaked, undefined, `the annex session got an AMBER IQ: ${leaked?.toString()}`);
        // The cleared session still gets it (the relay decided its clearances).
        await ask(desk, "i7-d");
        const answer = await arrives(desk, "i7-d");
        assert.equal(answer.getChild("vCard", "vcard-temp")?.getChildText("FN"), "amber card");
      } finally {
        await desk.stop();
        await annex.stop();
      }
    });

    test(`[${kind}] I8: AMBER from across the relay to the cleared session: no carbon and no archive result of it at the annex (adv17d)`, async () => {
      const desk = await session("desk8", CLEARED_SITE);
      const annex = await session("annex8", UNCLASSIFIED_SITE);
      try {
        await sendRaw(annex, "<iq type='set' id='i8-c'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        await arrives(annex, "i8-c");
        // To the desk's full address: the server copies it to the annex (XEP-0280 §7).
        await sendRaw(bob, message(`alice@${here}/desk8`, "i8-a", "amber i8 to the desk", label(TLP, 12)));
        await arrives(desk, "i8-a");
        await sendRaw(bob, message(`alice@${here}/desk8`, "i8-w", "white i8 to the desk"));
        await arrives(desk, "i8-w");
        await annex.waitFor((m) => m.toString().includes("white i8"), 10_000); // its carbon
        // The archive, queried from the annex.
        await sendRaw(annex, `<iq type='set' id='i8-q'><query xmlns='urn:xmpp:mam:2' queryid='i8-q'/></iq>`);
        await annex.waitFor((m) => m.name === "iq" && m.attrs.id === "i8-q", 10_000);
        assert.equal(
          annex.received.some((m) => m.toString().includes("amber i8")),
          false,
          "the annex session got AMBER from across the relay (a carbon or an archive result)",
        );
      } finally {
        await desk.stop();
        await annex.stop();
      }
    });

    test(`[${kind}] I4: the guard down — nothing labelled from across the relay is delivered; bob is told wait`, async () => {
      const desk = await session("desk4", CLEARED_SITE);
      try {
        await relayed.guard!.stop();
        relayed.guard = undefined;
        await guarded.sleep(500);
        await sendRaw(bob, message(`alice@${here}`, "i4-a", "amber while down", label(TLP, 12)));
        assert.match(await bobsError("i4-a"), /^wait:/);
        await sendRaw(bob, message(`alice@${here}`, "i4-w", "white while down"));
        assert.match(await bobsError("i4-w"), /^wait:/);
        await relayed.startGuard();
        await sendRaw(bob, message(`alice@${here}`, "i4-b", "amber, back", label(TLP, 12)));
        await arrives(desk, "i4-b");
        assert.equal(got(desk, "i4-a") || got(desk, "i4-w"), false);
      } finally {
        await desk.stop();
      }
    });
  });
}
