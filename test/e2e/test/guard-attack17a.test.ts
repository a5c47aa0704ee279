// Adversarial review adv17a of the outbound check (issue 17, branch locx17): can a session of a
// served domain get something to ANOTHER domain without the guard's question on its way out?
// Real Prosody and real ejabberd, the guard module loaded; the other domains are XEP-0114
// components on the same server (as guard-location-outbound.test.ts): `remote.…` (untrusted, with
// an outbound peer clearance for everything) and `nowhere.…` (untrusted, no peer clearance: it is
// granted nothing). Clients connect from 127.0.0.1 (cleared for everything) or 127.0.0.2 (the
// annex, cleared for UNCLASSIFIED only). Every test asserts the SECURE outcome, each with a control
// stanza sent after the attack by the same session (its stanzas leave in order, RFC 6120 §10.1):
// no timing.
// Failed before this review's fixes: A1 on both servers — a presence or an IQ that carries a label
// (or a whole labelled <message/> inside it) reached the other domain unasked (the outbound check
// asked about messages only, the labelled-payload rule, labelled-payload.ts, was applied on delivery
// to a local user only); A3 on ejabberd — the same presence broadcast to a contact there; A4 on
// ejabberd and A5 on both — a message's XEP-0033 addresses (mod_multicast, another domain's
// multicast service) reached a domain with no clearance. A2, A6, A7 are probes that passed.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import { createComponent, type CordonComponent, type Element } from "@cordon/component";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, GUARD_ALL, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "adv17a-pw";

for (const kind of serverKinds()) {
  describe(`outbound check attacks (adv17a) on ${kind} (issue 17)`, () => {
    const domain = `${kind}-adv17a.test`;
    const remote = `remote.${domain}`;
    const nowhere = `nowhere.${domain}`;
    const store = new MemoryStore();
    let server: XmppServer;
    let guard: GuardService | undefined;
    const components: CordonComponent[] = [];
    /** Every stanza each other domain received, by domain. */
    const got = new Map<string, Element[]>();
    const open: TestClient[] = [];
    const SECRET = demo.labelXml(demo.label("SECRET"));

    const arrived = async (at: string, id: string, ms = 15_000): Promise<Element> => {
      for (const end = Date.now() + ms; Date.now() < end; await guarded.sleep(50)) {
        const m = got.get(at)?.find((e) => e.attrs.id === id);
        if (m) return m;
      }
      throw new Error(`${id} never reached ${at}`);
    };
    /** After `control` (sent last, by the same session) reached `at`, nothing there holds `needle`. */
    const nothingOf = async (from: TestClient, at: string, needle: string, control: string) => {
      await sendRaw(from, `<presence to='bob@${at}' id='${control}'/>`);
      await arrived(at, control);
      const leaked = (got.get(at) ?? []).map((e) => e.toString()).filter((x) => x.includes(needle));
      assert.deepEqual(leaked, [], `${needle} reached ${at}`);
      guarded.noEcho(from, needle);
    };

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice"],
          cleared: ["alice"],
          password: PASSWORD,
          guard: { timeoutSeconds: 2 },
        },
        {
          components: [remote, nowhere].map((d) => ({ domain: d, secret: "other" })),
          ...(kind === "ejabberd"
            ? {
                extraModules: [
                  "mod_multicast: {access: all, limits: {local: {message: 20}, remote: {message: 20}}}",
                ],
              }
            : {}),
        },
      );
      await store.setPeerClearance(remote, "outbound", demo.raw(demo.clearance(GUARD_ALL)));
      for (const d of [remote, nowhere]) {
        const c = createComponent({
          service: `xmpp://127.0.0.1:${server.componentPort}`,
          domain: d,
          secret: "other",
          reconnect: { initialMs: 100, maxMs: 1000 },
        });
        got.set(d, []);
        c.on("stanza", (m) => {
          got.get(d)?.push(m);
        });
        await c.start();
        components.push(c);
      }
      guard = await guarded.startGuard(demo, server, domain, { store, locations: guarded.twoSites(demo) });
    });

    after(async () => {
      for (const c of components) await c.stop().catch(() => undefined);
      await guarded.stopGuarded(server, guard, open);
    });

    test(`[${kind}] A1: a labelled presence, and an IQ carrying a labelled message, from the annex do not reach another domain`, async () => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex", UNCLASSIFIED_SITE);
      for (const at of [remote, nowhere]) {
        await sendRaw(
          annex,
          `<iq type='set' to='bob@${at}/x' id='a1-iq'><query xmlns='urn:example:adv17a'>` +
            `<message xmlns='jabber:client' to='bob@${at}'><body>A1-IQ-SECRET</body>${SECRET}</message></query></iq>`,
        );
        await sendRaw(
          annex,
          `<presence to='bob@${at}' id='a1-pr'><status>A1-PR-SECRET</status>${SECRET}</presence>`,
        );
        await sendRaw(
          annex,
          `<presence to='bob@${at}' id='a1-pr2'><x xmlns='urn:example:adv17a'><message xmlns='jabber:client'><body>A1-PR2-SECRET</body>${SECRET}</message></x></presence>`,
        );
        await nothingOf(annex, at, "SECRET", "a1-c");
      }
      // An ordinary presence and IQ go on unasked.
      await sendRaw(
        annex,
        `<iq type='get' to='bob@${remote}/x' id='a1-ok'><query xmlns='jabber:iq:version'/></iq>`,
      );
      await arrived(remote, "a1-ok");
    });

    test(`[${kind}] A3: a labelled presence broadcast to a contact at another domain does not reach it`, async () => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "a3", UNCLASSIFIED_SITE);
      const bob = components[0]!;
      // bob@remote subscribes to alice's presence; she approves (RFC 6121 §3.1).
      await bob.sendRaw([`<presence type='subscribe' from='bob@${remote}' to='alice@${domain}'/>`]);
      await annex.waitFor((p) => p.name === "presence" && p.attrs.type === "subscribe", 10_000);
      await sendRaw(annex, `<presence type='subscribed' to='bob@${remote}'/>`);
      // An unlabelled broadcast reaches bob (the subscription is in place: the test is not vacuous).
      await sendRaw(annex, `<presence id='a3-ok'><status>A3-FINE</status></presence>`);
      await arrived(remote, "a3-ok");
      await sendRaw(annex, `<presence id='a3-s'><status>A3-SECRET</status>${SECRET}</presence>`);
      await nothingOf(annex, remote, "A3-SECRET", "a3-c");
    });

    // XEP-0033 (ejabberd's mod_multicast; Prosody 0.12 has none): the multicast service is another
    // domain to the outbound check, so a site that gives it an outbound peer clearance (to let its
    // users multicast) must not thereby let them reach a domain Cordon has no clearance for.
    if (kind === "ejabberd")
      test(`[${kind}] A4: a message to the multicast service does not reach another domain with no clearance through it`, async () => {
        await store.setPeerClearance(`multicast.${domain}`, "outbound", demo.raw(demo.clearance(GUARD_ALL)));
        const desk = await guarded.openSession(server, open, PASSWORD, "alice", "a4", CLEARED_SITE);
        const addresses =
          `<addresses xmlns='http://jabber.org/protocol/address'>` +
          `<address type='to' jid='bob@${nowhere}'/><address type='to' jid='carl@${remote}'/></addresses>`;
        await sendRaw(
          desk,
          `<message to='multicast.${domain}' id='a4' type='chat'><body>A4-SECRET</body>${SECRET}${addresses}</message>`,
        );
        await sendRaw(
          desk,
          `<message to='multicast.${domain}' id='a4-u' type='chat'><body>A4-PLAIN</body>${addresses}</message>`,
        );
        await nothingOf(desk, nowhere, "A4-", "a4-c");
        // Addresses at domains with a clearance only: multicast works (the test is not vacuous).
        await sendRaw(
          desk,
          `<message to='multicast.${domain}' id='a4-ok' type='chat'><body>A4-OK</body>` +
            `<addresses xmlns='http://jabber.org/protocol/address'><address type='to' jid='carl@${remote}'/></addresses></message>`,
        );
        await arrived(remote, "a4-ok");
      });

    // The same through another domain's multicast service (XEP-0033 §4: a server that supports it
    // sends the message on to each address): the message to `remote` names `nowhere` in its
    // addresses — asked about for `nowhere` too, on both servers.
    test(`[${kind}] A5: a message to another domain whose XEP-0033 addresses name a domain with no clearance is refused`, async () => {
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "a5", CLEARED_SITE);
      await sendRaw(
        desk,
        `<message to='${remote}' id='a5' type='chat'><body>A5-SECRET</body>` +
          `<addresses xmlns='http://jabber.org/protocol/address'><address type='to' jid='carl@${remote}'/>` +
          `<address type='bcc' jid='bob@${nowhere}'/></addresses></message>`,
      );
      assert.equal(
        (await desk.waitFor((m) => m.attrs.id === "a5" && m.attrs.type === "error", 10_000))
          .getChild("error")
          ?.getChildElements()[0]?.name,
        "forbidden",
      );
      await nothingOf(desk, remote, "A5-", "a5-c");
      await sendRaw(
        desk,
        `<message to='${remote}' id='a5-ok' type='chat'><body>A5-OK</body>` +
          `<addresses xmlns='http://jabber.org/protocol/address'><address type='to' jid='carl@${remote}'/></addresses></message>`,
      );
      await arrived(remote, "a5-ok");
    });

    test(`[${kind}] A6: SECRET embedded in an outbound message (forwarded, a carbon, an error, a second label) does not leave the annex`, async () => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "a6", UNCLASSIFIED_SITE);
      const UNCLASSIFIED = demo.labelXml(demo.label("UNCLASSIFIED"));
      const inner = `<message xmlns='jabber:client' to='bob@${remote}'><body>A6-SECRET</body>${SECRET}</message>`;
      for (const stanza of [
        `<message to='bob@${remote}' id='a6-fwd' type='chat'><body>x</body><forwarded xmlns='urn:xmpp:forward:0'>${inner}</forwarded></message>`,
        `<message to='bob@${remote}' id='a6-cc' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>${inner}</forwarded></sent></message>`,
        `<message to='bob@${remote}' id='a6-err' type='error'><body>A6-SECRET</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>${SECRET}</error></message>`,
        `<message to='bob@${remote}' id='a6-two' type='chat'><body>A6-SECRET</body>${UNCLASSIFIED}${SECRET}</message>`,
        `<message to='bob@${remote}' id='a6-deep' type='chat'><body>x</body><x xmlns='urn:example:adv17a'><y>${SECRET}<z>A6-SECRET</z></y></x></message>`,
      ])
        await sendRaw(annex, stanza);
      await nothingOf(annex, remote, "A6-SECRET", "a6-c");
    });

    test(`[${kind}] A7: a destination's outbound peer clearance lowered, then removed, applies to the next message at once`, async () => {
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "a7", CLEARED_SITE);
      const send = (id: string, label = SECRET) =>
        sendRaw(
          desk,
          `<message to='bob@${remote}' id='${id}' type='chat'><body>A7-${id}</body>${label}</message>`,
        );
      await send("a7-1");
      await arrived(remote, "a7-1");
      await store.setPeerClearance(remote, "outbound", demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await send("a7-2");
      await send("a7-3", "");
      await arrived(remote, "a7-3");
      await store.deletePeerClearance(remote, "outbound");
      await send("a7-4", "");
      const refused = await desk.waitFor((m) => m.attrs.id === "a7-4" && m.attrs.type === "error", 10_000);
      assert.equal(refused.getChild("error")?.getChildElements()[0]?.name, "forbidden");
      await store.setPeerClearance(remote, "outbound", demo.raw(demo.clearance(GUARD_ALL)));
      await nothingOf(desk, remote, "A7-a7-2", "a7-c");
      assert.equal(
        got.get(remote)?.some((e) => e.attrs.id === "a7-4"),
        false,
        "a7-4 reached remote",
      );
    });

    test(`[${kind}] A2: other message types and spellings of another domain are asked about (nothing reaches one with no clearance)`, async () => {
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "desk", CLEARED_SITE);
      const upper = nowhere.toUpperCase();
      for (const [id, stanza] of [
        [
          "a2-err",
          `<message to='bob@${nowhere}' id='a2-err' type='error'><body>A2-ERR</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
        ],
        ["a2-gc", `<message to='room@${nowhere}' id='a2-gc' type='groupchat'><body>A2-GC</body></message>`],
        ["a2-hl", `<message to='bob@${nowhere}' id='a2-hl' type='headline'><body>A2-HL</body></message>`],
        ["a2-host", `<message to='${nowhere}' id='a2-host'><body>A2-HOST</body></message>`],
        ["a2-upper", `<message to='bob@${upper}/R' id='a2-upper'><body>A2-UPPER</body></message>`],
        ["a2-dot", `<message to='bob@${nowhere}.' id='a2-dot'><body>A2-DOT</body></message>`],
      ] as const) {
        await sendRaw(desk, stanza);
        assert.ok(id);
      }
      await nothingOf(desk, nowhere, "A2-", "a2-c");
    });
  });
}
