// Issue 14: one stanza must not disconnect a component. A user sends a legal stanza whose `id`
// holds ~140,000 raw `>`; the server hands it on escaped (`&gt;`, 4 bytes each), and a reply that
// copied it would be over the 512 KiB the server accepts from a component: the server would close
// the component's stream, and every room with it. On real Prosody and real ejabberd, against the
// MUC (an error reply to a room that does not exist, a disco#info result, a groupchat reflection,
// a persistent room's poisoned history), the catalog and the relay: the component stays connected
// (no reconnect), the attacker gets a short error, and a legitimate occupant keeps receiving.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  sendRaw,
  startServer,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { createComponent, type CordonComponent, type Element } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { createCatalogService, type CatalogService } from "@cordon/catalog";
import { PolicyRegistry } from "@cordon/policy";
import { createRelay, defaultRules, MemoryAuditSink, type Relay } from "@cordon/relay";
import { ALL_CATEGORIES, ALL_CLASSES, loadDemo, repoRoot, startDemoMuc } from "../src/demo.js";
import { configureRoom, joinRoom } from "../src/muc-client.js";

const demo = loadDemo();
const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_CATALOG = "urn:xmpp:sec-label:catalog:2";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** ~140 k raw `>`: 140 KB from the client (under the servers' 256 KiB c2s limit), 560 KB escaped. */
const POISON = ">".repeat(140_000);

/** Writes XML as given (raw `>` in an attribute is legal XML; the client library would escape it). */

/**
 * An IQ whose id is too long goes unanswered (its error would need the id, RFC 6120 §8.1.3):
 * nothing carrying the id comes back, and what `check` (a later request) answers shows the attack
 * has been handled.
 */
async function unanswered(client: TestClient, from: string, check: () => Promise<void>) {
  await check();
  for (const s of client.received.filter((r) => r.attrs.from === from)) {
    assert.ok(s.toString().length < 2000, "nothing sender-chosen was copied back");
    assert.notEqual(s.attrs.id, undefined, "no IQ answer without its id");
  }
}

/** The attacker's error from `from`: short, without the id, naming policy-violation. */
async function refusal(client: TestClient, from: string): Promise<Element> {
  const error = await client.waitFor((s) => s.attrs.type === "error" && s.attrs.from === from, 8000);
  assert.ok(error.getChild("error")?.getChild("policy-violation", NS_STANZAS), error.toString());
  assert.equal(error.attrs.id, undefined);
  assert.ok(error.toString().length < 2000);
  return error;
}

function linkIntact(component: CordonComponent, reconnects: number) {
  assert.equal(component.status, "online");
  assert.equal(component.reconnects, reconnects, "the component's stream was not closed");
}

for (const kind of serverKinds()) {
  describe(`one oversize stanza cannot disconnect a component on ${kind} (issue 14)`, () => {
    const domain = `${kind}-size.test`;
    const mucDomain = `rooms.${domain}`;
    const catalogDomain = `catalog.${domain}`;
    const room = `lounge@${mucDomain}`;
    const persistentRoom = `archive@${mucDomain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    let component: CordonComponent;
    let muc: MucService;
    let catalog: CatalogService;
    const c: Record<string, TestClient> = {};

    const startMuc = async () => {
      component = createComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: mucDomain,
        secret: "size",
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "size",
        store,
        component,
      });
    };

    /** A legitimate occupant still receives: alice's groupchat reaches bob. */
    async function stillDelivers(tag: string) {
      await c.alice!.send(xml("message", { to: room, type: "groupchat", id: tag }, xml("body", {}, tag)));
      const got = await c.bob!.waitFor((m) => m.attrs.id === tag && m.attrs.type === "groupchat", 8000);
      // FLOT: label-unaware clients see the marking as the first line (XEP-0258).
      assert.match(got.getChildText("body") ?? "", new RegExp(`${tag}$`));
    }

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [
          { domain: mucDomain, secret: "size" },
          { domain: catalogDomain, secret: "size" },
        ],
        users: ["alice", "bob", "mallory"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      const everything = demo.raw(demo.clearance(ALL_CLASSES, ALL_CATEGORIES));
      for (const u of ["alice", "bob", "mallory"]) await store.setUserClearance(`${u}@${domain}`, everything);
      await startMuc();
      catalog = createCatalogService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: catalogDomain,
        secret: "size",
        served: [domain],
        muc: [mucDomain],
        registry: demo.registry,
        store,
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await catalog.start();
      for (const u of ["alice", "bob", "mallory"]) c[u] = await connectClient(server, u, `${u}-pw`);
      await joinRoom(c.alice!, room, "Alice");
      await configureRoom(c.alice!, room);
      await joinRoom(c.bob!, room, "Bob");
      await joinRoom(c.mallory!, room, "Mallory");
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      await muc?.stop();
      await catalog?.stop();
      await server?.stop();
    });

    test(`[${kind}] an error reply to a room that does not exist`, async () => {
      const before = component.reconnects;
      await sendRaw(
        c.mallory!,
        `<message to='nowhere@${mucDomain}' id='${POISON}' type='chat'><body>hi</body></message>`,
      );
      await refusal(c.mallory!, `nowhere@${mucDomain}`);
      linkIntact(component, before);
      await stillDelivers("after-no-room");
      linkIntact(component, before);
    });

    test(`[${kind}] a disco#info request`, async () => {
      const before = component.reconnects;
      await sendRaw(
        c.mallory!,
        `<iq type='get' to='${mucDomain}' id='${POISON}'><query xmlns='${NS_INFO}'/></iq>`,
      );
      await unanswered(c.mallory!, mucDomain, async () => {
        const info = await c.mallory!.iq(
          xml("iq", { type: "get", to: mucDomain }, xml("query", { xmlns: NS_INFO })),
        );
        assert.equal(info.attrs.type, "result");
      });
      await stillDelivers("after-disco");
      linkIntact(component, before);
    });

    test(`[${kind}] a groupchat message reflected to every occupant (and not stored)`, async () => {
      const before = component.reconnects;
      const history = muc.rooms.get(room)!.history.length;
      await sendRaw(
        c.mallory!,
        `<message to='${room}' id='${POISON}' type='groupchat'><body>poison</body></message>`,
      );
      await refusal(c.mallory!, room);
      await stillDelivers("after-groupchat");
      linkIntact(component, before);
      assert.equal(
        muc.rooms.get(room)!.history.length,
        history + 1,
        "only the legitimate message was stored",
      );
      assert.ok(!c.bob!.received.some((s) => (s.getChildText("body") ?? "").includes("poison")));
    });

    // Issue 14: every walk over a stanza recurses; one nested thousands deep threw in the size
    // check and vanished unanswered. Prosody hands on a client stanza 20,000 deep; ejabberd's own
    // node stops on 5,000 (docs/servers.md), so 1,000 there — both far over the 64-level bound.
    test(`[${kind}] a stanza nested thousands of elements deep`, async () => {
      const before = component.reconnects;
      const depth = kind === "prosody" ? 20_000 : 1000;
      await sendRaw(
        c.mallory!,
        `<message to='${room}' id='deep' type='groupchat'><body>deep</body>${"<a>".repeat(depth)}${"</a>".repeat(depth)}</message>`,
      );
      const error = await c.mallory!.waitFor((s) => s.attrs.id === "deep" && s.attrs.type === "error", 8000);
      assert.ok(error.getChild("error")?.getChild("policy-violation", NS_STANZAS), error.toString());
      assert.equal(
        error.getChild("error")?.getChildText("text", NS_STANZAS),
        "elements nested too deep (limit 64 levels)",
      );
      assert.ok(error.toString().length < 2000);
      await stillDelivers("after-deep");
      assert.ok(!c.bob!.received.some((s) => s.attrs.id === "deep"));
      linkIntact(component, before);
    });

    test(`[${kind}] a body that grows fourfold when escaped`, async () => {
      const before = component.reconnects;
      await sendRaw(
        c.mallory!,
        `<message to='${room}' id='big-body' type='groupchat'><body>${">".repeat(140_000)}</body></message>`,
      );
      const error = await c.mallory!.waitFor(
        (s) => s.attrs.id === "big-body" && s.attrs.type === "error",
        8000,
      );
      assert.ok(error.getChild("error")?.getChild("policy-violation", NS_STANZAS));
      assert.equal(error.getChild("body"), undefined);
      await stillDelivers("after-body");
      linkIntact(component, before);
    });

    test(`[${kind}] the catalog: a catalog request and a disco#info request`, async () => {
      const before = catalog.component.reconnects;
      await sendRaw(
        c.mallory!,
        `<iq type='get' to='${catalogDomain}' id='${POISON}'><catalog xmlns='${NS_CATALOG}' to='${domain}'/></iq>`,
      );
      await sendRaw(
        c.mallory!,
        `<iq type='get' to='${catalogDomain}' id='${POISON}'><query xmlns='${NS_INFO}'/></iq>`,
      );
      await unanswered(c.mallory!, catalogDomain, async () => {
        const info = await c.mallory!.iq(
          xml("iq", { type: "get", to: catalogDomain }, xml("query", { xmlns: NS_INFO })),
        );
        assert.equal(info.attrs.type, "result");
      });
      linkIntact(catalog.component, before);
    });

    test(`[${kind}] a persistent room whose stored history holds an oversize entry loads, skips it, and joins work`, async () => {
      await joinRoom(c.alice!, persistentRoom, "Alice");
      await configureRoom(c.alice!, persistentRoom, { "muc#roomconfig_persistentroom": "1" });
      await c.alice!.send(
        xml("message", { to: persistentRoom, type: "groupchat", id: "kept" }, xml("body", {}, "kept")),
      );
      await c.alice!.waitFor((m) => m.attrs.id === "kept" && m.attrs.type === "groupchat");
      await c.alice!.send(xml("presence", { to: `${persistentRoom}/Alice`, type: "unavailable" }));
      await c.alice!.waitFor(
        (p) => p.attrs.from === `${persistentRoom}/Alice` && p.attrs.type === "unavailable",
      );
      let stored: string[] = [];
      for (let i = 0; i < 50 && stored.length === 0; i++) {
        stored = await store.getRoomHistory(persistentRoom);
        if (stored.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(stored.length, 1);
      await muc.stop();
      // What an older version (or a tampered store) left behind: an entry far over the bounds.
      const good = JSON.parse(stored[0]!) as Record<string, unknown>;
      const poisoned = { ...good, sid: "poisoned-entry00", id: "poisoned", body: ">".repeat(300_000) };
      await store.appendRoomHistory(persistentRoom, JSON.stringify(poisoned), 20);
      await store.appendRoomHistory(
        persistentRoom,
        JSON.stringify({ ...good, sid: "after-poison0000", id: "later", body: "later" }),
        20,
      );
      await startMuc();
      const before = component.reconnects;
      for (const client of [c.bob!, c.alice!]) {
        const self = await joinRoom(client, persistentRoom, client === c.bob ? "Bob" : "Alice");
        assert.notEqual(self.attrs.type, "error");
      }
      const replayed = c.bob!.received.filter(
        (m) => m.attrs.from === `${persistentRoom}/Alice` && m.getChild("delay"),
      );
      assert.deepEqual(
        replayed.map((m) => m.attrs.id),
        ["kept", "later"],
      );
      linkIntact(component, before);
      // Loaded without the poisoned entry (skipped and counted).
      assert.deepEqual(
        muc.rooms.get(persistentRoom)?.history.map((e) => e.id),
        ["kept", "later"],
      );
      // The live (not persistent) room is made anew on the restarted service.
      await joinRoom(c.alice!, room, "Alice");
      await configureRoom(c.alice!, room);
      await joinRoom(c.bob!, room, "Bob");
      await stillDelivers("after-restart");
      linkIntact(component, before);
    });
  });
}

// The relay between two servers of the same kind: amy on A writes to carl on B. The relay copies
// a message across; one whose copy would be over B's limit would close the relay's link to B.
const CORPUS = join(repoRoot, "test/conformance");
const TLP = "1.3.6.1.4.1.99999.2.3";
const SPIFFY = "http://surevine.com/xmlns/spiffy";
const tlpLabel = (lacv: number) =>
  `<label xmlns='${SPIFFY}'><policy id='${TLP}'/><classification lacv='${lacv}'/></label>`;
const tlpClearance = (lacvs: number[]) =>
  `<clearance xmlns='${SPIFFY}'><policy id='${TLP}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}${[0, 1].map((c) => `<tag type='permissive' id='${TLP}.1' lacv='${c}'/>`).join("")}</clearance>`;

for (const kind of serverKinds()) {
  describe(`one oversize stanza cannot disconnect the relay on ${kind} (issue 14)`, () => {
    const a = `${kind}-ra.test`;
    const b = `${kind}-rb.test`;
    let serverA: XmppServer;
    let serverB: XmppServer;
    let relay: Relay;
    let amy: TestClient;
    let carl: TestClient;

    before(async () => {
      [serverA, serverB] = await Promise.all([
        startServer(kind, {
          domain: a,
          components: [{ domain: b, secret: "relay" }],
          users: [{ username: "amy", password: "pw" }],
        }),
        startServer(kind, {
          domain: b,
          components: [{ domain: a, secret: "relay" }],
          users: [{ username: "carl", password: "pw" }],
        }),
      ]);
      const registry = new PolicyRegistry();
      registry.loadString(readFileSync(join(CORPUS, "tlp-policy.xml"), "utf8"));
      const store = new MemoryStore();
      const raw = (data: string) => ({ encoding: "xml" as const, data });
      await store.setUserClearance(`amy@${a}`, raw(tlpClearance([10, 11, 12, 13])));
      const side = (server: XmppServer, domain: string) => ({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        secret: "relay",
        domains: [domain],
        mucDomains: [],
        policy: TLP,
        labelAware: true,
        markingLang: "",
      });
      const unlabelled = { message: "default", presence: "default", iq: "default" } as const;
      relay = createRelay({
        peerings: [
          {
            name: "a-b",
            local: side(serverA, a),
            remote: side(serverB, b),
            outbound: defaultRules({
              unlabelled,
              defaultLabel: tlpLabel(11),
              clearance: tlpClearance([10, 11, 12]),
            }),
            inbound: defaultRules({
              unlabelled,
              defaultLabel: tlpLabel(10),
              clearance: tlpClearance([10, 11]),
            }),
          },
        ],
        registry,
        store,
        audit: new MemoryAuditSink(true),
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await relay.start();
      [amy, carl] = await Promise.all([
        connectClient(serverA, "amy", "pw"),
        connectClient(serverB, "carl", "pw"),
      ]);
    });

    after(async () => {
      await Promise.allSettled([amy, carl].map((client) => client?.stop()));
      await relay?.stop();
      await Promise.allSettled([serverA, serverB].map((s) => s?.stop()));
    });

    test(`[${kind}] a chat message whose id would be over the peer's limit once copied`, async () => {
      const before = relay.links.map((l) => l.reconnects);
      await sendRaw(amy, `<message to='carl@${b}' id='${POISON}' type='chat'><body>poison</body></message>`);
      await refusal(amy, `carl@${b}`);
      await amy.send(
        xml("message", { to: `carl@${b}`, id: "legit", type: "chat" }, xml("body", {}, "legit")),
      );
      const got = await carl.waitFor((m) => m.attrs.id === "legit", 8000);
      assert.match(got.getChildText("body") ?? "", /legit$/);
      assert.ok(!carl.received.some((m) => (m.getChildText("body") ?? "").includes("poison")));
      relay.links.forEach((link, i) => linkIntact(link, before[i]!));
    });
  });
}
