// The labelled MUC against real Prosody and real ejabberd, with real clients. Every case runs on
// both servers. Demo policy: UNCLASSIFIED < RESTRICTED < CONFIDENTIAL < SECRET < TOP SECRET,
// restrictive compartments ALPHA/BRAVO, permissive releasability GBR/USA/FRA.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createComponent, createLogger, parseElement } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import {
  createMucService,
  type MucAuditEvent,
  DEFAULT_ROOM_CONFIG,
  NS_MUC,
  NS_MUC_USER,
  type MucService,
  type MucSettings,
} from "@cordon/muc";
import { buildSecurityLabelXml, type Label } from "@cordon/policy";
import { loadDemo } from "../src/demo.js";
import {
  joinRoom as join,
  configureRoom as configure,
  statusCodes,
  errorCondition,
} from "../src/muc-client.js";
import { advertiseLabels } from "../src/caps.js";

const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_SL = "urn:xmpp:sec-label:0";
const demo = loadDemo();
const U = demo.label("UNCLASSIFIED");
const S = demo.label("SECRET");
const SA = demo.label("SECRET", "ALPHA");
const TS = demo.label("TOP SECRET");
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const clearances = {
  alice: demo.clearance(ALL, ["ALPHA", "BRAVO"]),
  bob: demo.clearance(ALL.slice(0, 4)),
  carol: demo.clearance(["UNCLASSIFIED"]),
  erin: demo.clearance(ALL.slice(0, 4)),
  frank: demo.clearance(ALL, ["ALPHA"]),
};
const USERS = ["alice", "bob", "carol", "dave", "erin", "frank"];

function settings(domain: string, local: string): MucSettings {
  return {
    domain,
    createRooms: "local",
    localDomains: [local],
    serviceClearance: demo.clearance(ALL, ["ALPHA", "BRAVO", "GBR", "USA", "FRA"]),
    defaultRoomLabel: U,
    defaultRoomClearance: demo.clearance(ALL, ["ALPHA", "BRAVO", "GBR", "USA", "FRA"]),
    defaultMessageLabel: U,
    namedLabels: [
      { name: "UNCLASSIFIED", label: U },
      { name: "SECRET", label: S },
      { name: "SECRET ALPHA", label: SA },
      { name: "TOP SECRET", label: TS },
    ],
    roomDefaults: { ...DEFAULT_ROOM_CONFIG, whois: "anyone" },
    occupantIdSecret: "test-occupant-secret",
    clearanceRefreshMs: 60_000,
    capsTimeoutMs: 1000,
  };
}

const labelEl = (label: Label): Element => parseElement(demo.labelXml(label));
const bodies = (client: TestClient, from: string) =>
  client.received
    .filter(
      (m) => m.is("message") && m.attrs.type === "groupchat" && m.attrs.from === from && m.getChild("body"),
    )
    .map((m) => m.getChildText("body") ?? "");
const stripFlot = (body: string) => body.slice(body.indexOf("\n") + 1);

async function say(
  client: TestClient,
  room: string,
  body: string,
  label?: Label,
  id?: string,
): Promise<void> {
  await client.send(
    xml(
      "message",
      { to: room, type: "groupchat", ...(id ? { id } : {}) },
      xml("body", {}, body),
      label ? labelEl(label) : null,
    ),
  );
}

for (const kind of serverKinds()) {
  describe(`labelled MUC on ${kind}`, () => {
    const domain = `${kind}-muc.test`;
    const mucDomain = `rooms.${domain}`;
    const secret = "muc-secret";
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const clients: Record<string, TestClient> = {};
    // The audit hook (issue 16 item 9): every join and groupchat decision, never content.
    const audited: MucAuditEvent[] = [];

    const startMuc = async () => {
      muc = createMucService({
        component: createComponent({
          service: `xmpp://127.0.0.1:${server.componentPort}`,
          domain: mucDomain,
          secret,
        }),
        registry: demo.registry,
        governingPolicy: demo.policy.id,
        store,
        settings: settings(mucDomain, domain),
        observer: { decision: () => undefined, fanout: () => undefined, audit: (e) => audited.push(e) },
        ...(process.env.CORDON_TEST_LOG
          ? { logger: createLogger({ level: process.env.CORDON_TEST_LOG }) }
          : {}),
      });
      await muc.start();
    };

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret }],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
      });
      store = new MemoryStore();
      for (const [user, clearance] of Object.entries(clearances))
        await store.setUserClearance(`${user}@${domain}`, demo.raw(clearance));
      await startMuc();
      for (const u of USERS) clients[u] = await connectClient(server, u, `${u}-pw`);
      advertiseLabels(clients.alice!);
    });

    after(async () => {
      for (const c of Object.values(clients)) await c.stop().catch(() => undefined);
      await muc?.stop();
      await store?.close();
      await server?.stop();
    });

    test(`[${kind}] join sequence: occupants, self-presence 110/201, subject last; disco#info shows labels`, async () => {
      const room = `ops@${mucDomain}`;
      const self = await join(clients.alice!, room, "Alice");
      const codes = self
        .getChild("x", NS_MUC_USER)!
        .getChildren("status")
        .map((s) => s.attrs.code);
      assert.deepEqual(codes.sort(), ["100", "110", "201"]);
      assert.equal(self.getChild("x", NS_MUC_USER)!.getChild("item")!.attrs.affiliation, "owner");
      const subject = clients.alice!.received.find(
        (m) => m.is("message") && m.attrs.from === room && m.getChild("subject") !== undefined,
      )!;
      assert.equal(subject.getChildText("subject"), "");
      // Locked until configured: others get item-not-found.
      const locked = await join(clients.bob!, room, "Bob");
      assert.equal(locked.attrs.type, "error");
      assert.ok(locked.getChild("error")!.getChild("item-not-found"));
      await configure(clients.alice!, room);
      const bobSelf = await join(clients.bob!, room, "Bob");
      assert.notEqual(bobSelf.attrs.type, "error");
      // Bob got Alice's presence before his own, and the subject after it.
      const seq = clients.bob!.received.filter((s) => s.attrs.from?.startsWith(room));
      const aliceAt = seq.findIndex((s) => s.is("presence") && s.attrs.from === `${room}/Alice`);
      const selfAt = seq.findIndex((s) => s === bobSelf);
      const subjectAt = seq.findIndex((s) => s.is("message") && s.getChild("subject") !== undefined);
      assert.ok(
        aliceAt >= 0 && aliceAt < selfAt && selfAt < subjectAt,
        `order: ${aliceAt} ${selfAt} ${subjectAt}`,
      );
      assert.ok(bobSelf.getChild("occupant-id", "urn:xmpp:occupant-id:0"));
      assert.ok(subjectAt > selfAt);
      await join(clients.carol!, room, "Carol");
      const info = await clients.carol!.iq(
        xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO })),
      );
      const query = info.getChild("query", NS_INFO)!;
      const features = query.getChildren("feature").map((f) => f.attrs.var);
      for (const f of [
        NS_MUC,
        NS_SL,
        "urn:xmpp:sec-label:catalog:2",
        "muc_open",
        "muc_nonanonymous",
        "muc_temporary",
        "muc_public",
        "muc_unsecured",
        "muc_unmoderated",
      ])
        assert.ok(features.includes(f), f);
      const fields = new Map(
        query
          .getChild("x", "jabber:x:data")!
          .getChildren("field")
          .map((f) => [f.attrs.var, f.getChildText("value")]),
      );
      assert.equal(fields.get("x-isode#roominfo_marking"), "UNCLASSIFIED");
      assert.equal(fields.get("muc#roominfo_occupants"), "3");
    });

    test(`[${kind}] each occupant receives exactly the labels its clearance grants, with the policy's marking`, async () => {
      const room = `ops@${mucDomain}`;
      const before = {
        alice: bodies(clients.alice!, `${room}/Alice`).length,
        bob: bodies(clients.bob!, `${room}/Alice`).length,
        carol: bodies(clients.carol!, `${room}/Alice`).length,
      };
      await say(clients.alice!, room, "u-msg", U, "m-u");
      await say(clients.alice!, room, "s-msg", S, "m-s");
      await say(clients.alice!, room, "sa-msg", SA, "m-sa");
      await say(clients.alice!, room, "ts-msg", TS, "m-ts");
      await say(clients.alice!, room, "unlabelled-msg", undefined, "m-none");
      await say(clients.alice!, room, "end-marker", U, "m-end");
      for (const c of ["alice", "bob", "carol"] as const)
        await clients[c]!.waitFor((m) => m.attrs.id === "m-end" && m.attrs.from === `${room}/Alice`);
      const got = (c: "alice" | "bob" | "carol") =>
        bodies(clients[c]!, `${room}/Alice`).slice(before[c]).map(stripFlot);
      assert.deepEqual(got("alice"), ["u-msg", "s-msg", "sa-msg", "ts-msg", "unlabelled-msg", "end-marker"]);
      assert.deepEqual(got("bob"), ["u-msg", "s-msg", "unlabelled-msg", "end-marker"]);
      assert.deepEqual(got("carol"), ["u-msg", "unlabelled-msg", "end-marker"]);
      // Alice's client advertises labels: plain body, the policy's marking, stanza-id and occupant-id.
      const secret = clients.alice!.received.find((m) => m.attrs.id === "m-s")!;
      assert.equal(secret.getChildText("body"), "s-msg");
      assert.equal(secret.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "SECRET");
      assert.equal(secret.getChild("stanza-id", "urn:xmpp:sid:0")!.attrs.by, room);
      assert.ok(secret.getChild("occupant-id", "urn:xmpp:occupant-id:0")!.attrs.id);
      // Bob's client does not: FLOT, the marking as the body's first line.
      const bobSecret = clients.bob!.received.find((m) => m.attrs.id === "m-s")!;
      assert.equal(bobSecret.getChildText("body"), "SECRET\ns-msg");
      assert.equal(
        clients.bob!.received.find((m) => m.attrs.id === "m-none")!.getChildText("body"),
        "UNCLASSIFIED\nunlabelled-msg",
      );
    });

    test(`[${kind}] a sender's display marking is replaced by the policy's`, async () => {
      const room = `ops@${mucDomain}`;
      const forged = labelEl(S);
      forged.getChild("displaymarking")!.children = ["UNCLASSIFIED (trust me)"];
      await clients.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "m-forged" }, xml("body", {}, "forged"), forged),
      );
      const got = await clients.alice!.waitFor(
        (m) => m.attrs.id === "m-forged" && m.attrs.type === "groupchat",
      );
      assert.equal(got.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "SECRET");
      await clients.bob!.waitFor((m) => m.attrs.id === "m-forged");
      assert.ok(!clients.carol!.received.some((m) => m.attrs.id === "m-forged"));
    });

    test(`[${kind}] a sender over-claiming its clearance is refused without echo, and nobody receives it`, async () => {
      const room = `ops@${mucDomain}`;
      await say(clients.carol!, room, "carol-secret-text", S, "m-over");
      const error = await clients.carol!.waitFor((m) => m.attrs.id === "m-over");
      assert.equal(error.attrs.type, "error");
      const text = error.toString();
      assert.ok(error.getChild("error")!.getChild("forbidden"), text);
      assert.ok(!text.includes("carol-secret-text"), text);
      assert.ok(!text.includes("securitylabel"), text);
      // A malformed label is refused too, with bad-request.
      const bad = xml(
        "message",
        { to: room, type: "groupchat", id: "m-bad" },
        xml("body", {}, "bad"),
        xml(
          "securitylabel",
          { xmlns: NS_SL },
          xml("label", {}, xml("esssecuritylabel", { xmlns: "urn:xmpp:sec-label:ess:0" }, "bm90IGJlcg==")),
        ),
      );
      await clients.carol!.send(bad);
      const badError = await clients.carol!.waitFor((m) => m.attrs.id === "m-bad");
      assert.equal(badError.attrs.type, "error");
      await say(clients.alice!, room, "after-over", U, "m-after-over");
      await clients.bob!.waitFor((m) => m.attrs.id === "m-after-over");
      assert.ok(!clients.bob!.received.some((m) => m.attrs.id === "m-over" || m.attrs.id === "m-bad"));
      assert.ok(
        !clients.alice!.received.some((m) => m.attrs.id === "m-over" && m.attrs.type === "groupchat"),
      );
      // Audited: carol's refusal and alice's delivery, who and where, never the text.
      const refused = audited.filter(
        (e) => e.action === "groupchat" && !e.granted && e.actor === `carol@${domain}`,
      );
      assert.ok(refused.length >= 2 && refused.every((e) => e.room === room), JSON.stringify(refused));
      const delivered = audited.findLast(
        (e) => e.action === "groupchat" && e.granted && e.actor === `alice@${domain}`,
      );
      assert.equal(delivered?.marking, "UNCLASSIFIED");
      assert.equal(
        (delivered?.delivered ?? 0) + (delivered?.withheld ?? 0) >= 3,
        true,
        JSON.stringify(delivered),
      );
      assert.ok(!JSON.stringify(audited).includes("carol-secret-text"));
    });

    // Forms of one label in the same policy that disagree (UNCLASSIFIED beside TOP SECRET) are
    // refused with bad-request, as the relay refuses them; before, the room judged UNCLASSIFIED.
    test(`[${kind}] a label whose forms in the same policy disagree is refused with bad-request, and nobody receives it`, async () => {
      const room = `ops@${mucDomain}`;
      await clients.alice!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "m-mixed" },
          xml("body", {}, "mixed-forms"),
          parseElement(buildSecurityLabelXml(U, { equivalents: [TS] })),
        ),
      );
      const error = await clients.alice!.waitFor((m) => m.attrs.id === "m-mixed");
      assert.equal(error.attrs.type, "error");
      assert.ok(error.getChild("error")!.getChild("bad-request"), error.toString());
      assert.ok(!error.toString().includes("mixed-forms"));
      await say(clients.alice!, room, "after-mixed", U, "m-after-mixed");
      await clients.carol!.waitFor((m) => m.attrs.id === "m-after-mixed");
      assert.ok(!clients.carol!.received.some((m) => m.attrs.id === "m-mixed"));
      assert.ok(!clients.bob!.received.some((m) => m.attrs.id === "m-mixed"));
    });

    test(`[${kind}] a room answers the catalog of labels the requester may use there, the default first`, async () => {
      const room = `ops@${mucDomain}`;
      const ask = async (client: TestClient) => {
        const result = await client.iq(
          xml(
            "iq",
            { type: "get", to: room },
            xml("catalog", { xmlns: "urn:xmpp:sec-label:catalog:2", to: room }),
          ),
        );
        const catalog = result.getChild("catalog", "urn:xmpp:sec-label:catalog:2")!;
        return { items: catalog.getChildren("item"), restrict: catalog.attrs.restrict };
      };
      const bob = await ask(clients.bob!);
      assert.deepEqual(
        bob.items.map((i) => i.attrs.selector),
        ["UNCLASSIFIED", "SECRET"],
      );
      assert.equal(bob.items[0]!.attrs.default, "true");
      assert.equal(bob.items[1]!.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "SECRET");
      assert.equal(bob.restrict, "true");
      const alice = await ask(clients.alice!);
      assert.deepEqual(
        alice.items.map((i) => i.attrs.selector),
        ["UNCLASSIFIED", "SECRET", "SECRET ALPHA", "TOP SECRET"],
      );
      const carol = await ask(clients.carol!);
      assert.deepEqual(
        carol.items.map((i) => i.attrs.selector),
        ["UNCLASSIFIED"],
      );
    });

    test(`[${kind}] presence carrying a label is refused with bad-request`, async () => {
      const room = `ops@${mucDomain}`;
      await clients.bob!.send(xml("presence", { to: `${room}/Bob`, id: "p-label" }, labelEl(U)));
      const error = await clients.bob!.waitFor((p) => p.attrs.id === "p-label");
      assert.equal(error.attrs.type, "error");
      assert.ok(error.getChild("error")!.getChild("bad-request"));
      assert.ok(!error.toString().includes("securitylabel"));
    });

    test(`[${kind}] private messages follow the recipient's clearance`, async () => {
      const room = `ops@${mucDomain}`;
      await clients.alice!.send(
        xml(
          "message",
          { to: `${room}/Carol`, type: "chat", id: "pm-1" },
          xml("body", {}, "pm-secret-for-carol"),
          labelEl(S),
        ),
      );
      const refused = await clients.alice!.waitFor((m) => m.attrs.id === "pm-1");
      assert.equal(refused.attrs.type, "error");
      assert.ok(!refused.toString().includes("pm-secret-for-carol"));
      await clients.alice!.send(
        xml(
          "message",
          { to: `${room}/Bob`, type: "chat", id: "pm-2" },
          xml("body", {}, "pm-secret-for-bob"),
          labelEl(S),
        ),
      );
      const pm = await clients.bob!.waitFor((m) => m.attrs.id === "pm-2");
      assert.equal(pm.attrs.from, `${room}/Alice`);
      assert.equal(stripFlot(pm.getChildText("body") ?? ""), "pm-secret-for-bob");
      assert.ok(pm.getChild("x", NS_MUC_USER));
      assert.ok(!clients.carol!.received.some((m) => m.attrs.id === "pm-1"));
    });

    test(`[${kind}] history replays to a joiner only what its clearance grants, and maxstanzas counts those`, async () => {
      const room = `ops@${mucDomain}`;
      await join(clients.erin!, room, "Erin");
      const replay = clients.erin!.received.filter(
        (m) => m.is("message") && m.getChild("delay", "urn:xmpp:delay") && m.attrs.from?.startsWith(room),
      );
      const got = replay.map((m) => stripFlot(m.getChildText("body") ?? ""));
      assert.ok(got.includes("s-msg") && got.includes("u-msg"), got.join(","));
      assert.ok(!got.includes("sa-msg") && !got.includes("ts-msg"), got.join(","));
      // Dave has no clearance at all and cannot join; Carol asks for 2 stanzas of what she may see.
      const dave = await join(clients.dave!, room, "Dave");
      assert.equal(dave.attrs.type, "error");
      assert.ok(dave.getChild("error")!.getChild("forbidden"));
      await clients.carol!.send(xml("presence", { to: `${room}/Carol`, type: "unavailable" }));
      await clients.carol!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Carol` && p.attrs.type === "unavailable",
      );
      const mark = clients.carol!.received.length;
      await join(clients.carol!, room, "Carol", [xml("history", { maxstanzas: "2" })]);
      const carolReplay = clients
        .carol!.received.slice(mark)
        .filter((m) => m.is("message") && m.getChild("delay", "urn:xmpp:delay"));
      assert.equal(carolReplay.length, 2);
      for (const m of carolReplay)
        assert.ok(m.getChildText("body")!.startsWith("UNCLASSIFIED\n"), m.toString());
    });

    test(`[${kind}] a room label blocks joins from those not cleared for it`, async () => {
      const room = `vault@${mucDomain}`;
      await join(clients.alice!, room, "Alice");
      await configure(clients.alice!, room, {
        "sec-label#label": "SECRET",
        "muc#roomconfig_persistentroom": "0",
      });
      const carol = await join(clients.carol!, room, "Carol");
      assert.equal(carol.attrs.type, "error");
      assert.ok(carol.getChild("error")!.getChild("forbidden"));
      assert.ok(
        audited.some(
          (e) => e.action === "join" && !e.granted && e.room === room && e.actor === `carol@${domain}`,
        ),
        "the refused join is audited",
      );
      const bob = await join(clients.bob!, room, "Bob");
      assert.notEqual(bob.attrs.type, "error");
      const info = await clients.bob!.iq(
        xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO })),
      );
      const marking = info
        .getChild("query", NS_INFO)!
        .getChild("x", "jabber:x:data")!
        .getChildren("field")
        .find((f) => f.attrs.var === "x-isode#roominfo_marking");
      assert.equal(marking?.getChildText("value"), "SECRET");
    });

    test(`[${kind}] a clearance lowered in the store removes the occupant at once (307)`, async () => {
      const room = `vault@${mucDomain}`;
      const started = Date.now();
      await store.setUserClearance(`bob@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      const gone = await clients.bob!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Bob` && p.attrs.type === "unavailable",
        3000,
      );
      const codes = gone
        .getChild("x", NS_MUC_USER)!
        .getChildren("status")
        .map((s) => s.attrs.code);
      assert.ok(codes.includes("307") && codes.includes("110"), codes.join(","));
      assert.ok(Date.now() - started < 3000);
      await clients.alice!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Bob` && p.attrs.type === "unavailable",
      );
      await say(clients.alice!, room, "after-removal", S, "m-after-removal");
      await clients.alice!.waitFor((m) => m.attrs.id === "m-after-removal");
      assert.ok(!clients.bob!.received.some((m) => m.attrs.id === "m-after-removal"));
      await store.setUserClearance(`bob@${domain}`, demo.raw(clearances.bob));
    });

    test(`[${kind}] a persistent room survives a restart of the component, with its label and history`, async () => {
      const room = `archive@${mucDomain}`;
      await join(clients.frank!, room, "Frank");
      await configure(clients.frank!, room, {
        "muc#roomconfig_persistentroom": "1",
        "sec-label#label": "SECRET",
        "muc#roomconfig_roomname": "Archive",
      });
      await say(clients.frank!, room, "kept-alpha", SA, "m-kept");
      await clients.frank!.waitFor((m) => m.attrs.id === "m-kept");
      await muc.stop();
      await startMuc();
      assert.ok(muc.rooms.has(room));
      const info = await clients.erin!.iq(
        xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO })),
        8000,
      );
      assert.ok(
        info
          .getChild("query", NS_INFO)!
          .getChildren("feature")
          .some((f) => f.attrs.var === "muc_persistent"),
      );
      const mark = clients.frank!.received.length;
      await join(clients.frank!, room, "Frank2");
      const replay = clients
        .frank!.received.slice(mark)
        .filter((m) => m.is("message") && m.getChild("delay", "urn:xmpp:delay"));
      assert.deepEqual(
        replay.map((m) => stripFlot(m.getChildText("body") ?? "")),
        ["kept-alpha"],
      );
      // Erin (SECRET, no ALPHA) may enter but must not see the ALPHA message in history.
      const erinMark = clients.erin!.received.length;
      await join(clients.erin!, room, "Erin");
      assert.ok(
        !clients.erin!.received.slice(erinMark).some((m) => m.getChildText("body")?.includes("kept-alpha")),
      );
    });

    test(`[${kind}] the room's archive (XEP-0313) gives each occupant only what its clearance grants, paged`, async () => {
      const NS_MAM = "urn:xmpp:mam:2";
      const NS_RSM = "http://jabber.org/protocol/rsm";
      const room = `annals@${mucDomain}`;
      await join(clients.alice!, room, "Alice");
      await configure(clients.alice!, room);
      await join(clients.carol!, room, "Carol");
      const info = await clients.carol!.iq(
        xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO })),
      );
      assert.ok(
        info
          .getChild("query", NS_INFO)!
          .getChildren("feature")
          .some((f) => f.attrs.var === NS_MAM),
      );
      for (const [i, l] of [U, S, U, TS].entries()) await say(clients.alice!, room, `annal-${i}`, l, `a${i}`);
      await clients.alice!.waitFor((m) => m.attrs.id === "a3");
      const query = async (who: "alice" | "carol", queryid: string, set?: Element) => {
        const fin = await clients[who]!.iq(
          xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MAM, queryid }, set)),
        );
        const got = clients[who]!.received.filter(
          (m) => m.is("message") && m.getChild("result", NS_MAM)?.attrs.queryid === queryid,
        );
        return {
          fin: fin.getChild("fin", NS_MAM)!,
          inner: got.map((m) =>
            m.getChild("result", NS_MAM)!.getChild("forwarded", "urn:xmpp:forward:0")!.getChild("message")!,
          ),
        };
      };
      const a = await query("alice", "qa");
      assert.deepEqual(
        a.inner.map((m) => m.attrs.id),
        ["a0", "a1", "a2", "a3"],
      );
      assert.ok(
        a.inner.every((m) => m.getChild("securitylabel", NS_SL)),
        "Alice's client shows labels",
      );
      const c = await query("carol", "qc");
      assert.deepEqual(
        c.inner.map((m) => m.attrs.id),
        ["a0", "a2"],
        "Carol reads only UNCLASSIFIED",
      );
      assert.ok(
        c.inner.every((m) => m.getChildText("body")!.startsWith("UNCLASSIFIED\n")),
        "FLOT for Carol's client",
      );
      assert.ok(
        !clients.carol!.received.some(
          (m) => m.toString().includes("annal-1") || m.toString().includes("annal-3"),
        ),
      );
      assert.equal(c.fin.getChild("set", NS_RSM)?.getChildText("count"), "2");
      // Paging: one per page, then the rest after it.
      const p1 = await query("alice", "qp1", xml("set", { xmlns: NS_RSM }, xml("max", {}, "1")));
      assert.deepEqual(
        p1.inner.map((m) => m.attrs.id),
        ["a0"],
      );
      const after = p1.fin.getChild("set", NS_RSM)!.getChildText("last")!;
      const p2 = await query("alice", "qp2", xml("set", { xmlns: NS_RSM }, xml("after", {}, after)));
      assert.deepEqual(
        p2.inner.map((m) => m.attrs.id),
        ["a1", "a2", "a3"],
      );
      assert.equal(p2.fin.attrs.complete, "true");
      // Someone who is not in the room may not read it.
      await assert.rejects(
        clients.dave!.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MAM }))),
        /forbidden/,
      );
    });

    test(`[${kind}] a client announcing another client's caps ver cannot decide that client's FLOT (XEP-0115 §5.4)`, async () => {
      const room = `capsroom@${mucDomain}`;
      // Both announce the same node#ver; neither answer hashes to it, so neither is cached for the other.
      const caps = () =>
        xml("c", {
          xmlns: "http://jabber.org/protocol/caps",
          hash: "sha-1",
          node: "urn:cordon:test",
          ver: "c29tZSB2ZXJzaW9uIGhhc2g=",
        });
      const enter = async (who: "alice" | "carol", nick: string) => {
        await clients[who]!.send(
          xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: NS_MUC }), caps()),
        );
        await clients[who]!.waitFor(
          (m) => m.is("message") && m.attrs.from === room && m.getChild("subject") !== undefined,
          8000,
        );
      };
      await enter("alice", "Alice"); // label-aware (advertises urn:xmpp:sec-label:0)
      await configure(clients.alice!, room);
      await enter("carol", "Carol"); // does not show labels
      await say(clients.alice!, room, "caps-check", U, "m-caps");
      const got = await clients.carol!.waitFor(
        (m) => m.attrs.id === "m-caps" && m.attrs.from === `${room}/Alice`,
      );
      assert.equal(
        got.getChild("securitylabel", NS_SL),
        undefined,
        "treated as label-aware on another client's answer",
      );
      assert.equal(got.getChildText("body"), "UNCLASSIFIED\ncaps-check", "FLOT");
      const own = await clients.alice!.waitFor((m) => m.attrs.id === "m-caps");
      assert.ok(own.getChild("securitylabel", NS_SL), "Alice's own answer still counts for her");
    });

    test(`[${kind}] a persistent room whose stored label no longer reads is closed: occupants removed, joins and re-creation refused (wait)`, async () => {
      const room = `ledger@${mucDomain}`;
      await join(clients.frank!, room, "Frank");
      await configure(clients.frank!, room, {
        "muc#roomconfig_persistentroom": "1",
        "sec-label#label": "SECRET",
      });
      const record = await store.getRoom(room);
      assert.ok(record?.label);
      // Another instance (or an edit of the store) leaves a label under a policy not loaded here.
      const unknownPolicy =
        "<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='1.2.3.4.5.6.7'/><classification lacv='1'/></label>";
      await store.putRoom({ ...record, label: { encoding: "xml", data: unknownPolicy } });
      const removed = await clients.frank!.waitFor(
        (p) => p.is("presence") && p.attrs.type === "unavailable" && p.attrs.from === `${room}/Frank`,
        8000,
      );
      assert.ok(
        ["307", "333", "110"].every((code) => statusCodes(removed).includes(code)),
        removed.toString(),
      );
      // Neither the owner nor anyone allowed to create rooms gets in (nor takes the JID over).
      for (const who of ["frank", "carol"] as const) {
        const refused = await join(clients[who]!, room, `${who}-again`);
        assert.equal(refused.attrs.type, "error");
        assert.equal(errorCondition(refused), "internal-server-error");
        assert.equal(refused.getChild("error")?.attrs.type, "wait");
      }
      assert.equal(muc.rooms.has(room), false);
      // Readable again: the room is back with its settings.
      await store.putRoom(record);
      const deadline = Date.now() + 5000;
      while (!muc.rooms.has(room) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const back = await join(clients.frank!, room, "Frank3");
      assert.notEqual(back.attrs.type, "error");
    });
  });
}
