// The relay's boundary between real servers with real clients, for the holes of an adversarial
// review: Prosody serving px.test (TLPX policy) and ejabberd serving ex.test (TLP, its equivalent),
// the relay claiming ex.test on Prosody and px.test on ejabberd. Each test name carries the server
// on the sending side.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connectClient, xml, type XmppServer, type TestClient, type Element } from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { decodeEssLabel, encodeEssLabel, makeLabel, PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { createRelay, MemoryAuditSink, type Relay } from "@cordon/relay";
import {
  TLP,
  TLPX,
  NS_SL,
  NS_STANZAS,
  assertBareError,
  isMessage,
  loadTlpPolicies,
  startPeerServers,
  tlpClearance as clearance,
  tlpLabel as label,
  tlpPeering,
  xmlValue as raw,
} from "../src/relay-fixture.js";

const SECRET = "relay-secret";

function securityLabel(labelXml: string): Element {
  return parseElement(
    `<securitylabel xmlns='${NS_SL}'><displaymarking>X</displaymarking><label>${labelXml}</label></securitylabel>`,
  );
}

describe("relay boundary (Prosody ↔ ejabberd)", () => {
  let px: XmppServer, ex: XmppServer;
  const clients: Record<string, TestClient> = {};
  let relay: Relay;
  const store = new MemoryStore();
  const registry = new PolicyRegistry();

  before(async () => {
    [px, ex] = await startPeerServers(
      { domain: "px.test", users: ["alice", "eve", "mallory"], extraModules: ["vcard"] },
      { domain: "ex.test", users: ["bob", "eric", "mo", "wren"], extraModules: ["mod_vcard"] },
      SECRET,
    );
    loadTlpPolicies(registry);
    // Local users: alice cleared to RED, eve to WHITE only, mallory to nothing.
    await store.setUserClearance("alice@px.test", raw(clearance(TLPX, [10, 11, 12, 13])));
    await store.setUserClearance("eve@px.test", raw(clearance(TLPX, [10])));
    // Remote users the (shared) store knows: bob to RED, eric to WHITE only; mo it does not know.
    await store.setUserClearance("bob@ex.test", raw(clearance(TLP, [10, 11, 12, 13])));
    await store.setUserClearance("eric@ex.test", raw(clearance(TLP, [10])));
    // wren too, WHITE only, held under the local side's policy (an equivalent one).
    await store.setUserClearance("wren@ex.test", raw(clearance(TLPX, [10])), TLPX);
    const peering = tlpPeering("px-ex", px, "px.test", ex, "ex.test", SECRET, {
      outbound: {
        content: [{ words: ["excalibur"] }],
        receipts: "block",
        fileTransfer: { ibb: "block", jingle: "block", si: "block", oob: "strip" },
      },
      inbound: { content: [{ words: ["excalibur"] }] },
    });
    relay = createRelay({
      peerings: [peering],
      registry,
      store,
      audit: new MemoryAuditSink(),
      reconnect: { initialMs: 100, maxMs: 1000 },
    });
    await relay.start();
    const names: [XmppServer, string][] = [
      [px, "alice"],
      [px, "eve"],
      [px, "mallory"],
      [ex, "bob"],
      [ex, "eric"],
      [ex, "mo"],
      [ex, "wren"],
    ];
    const connected = await Promise.all(names.map(([s, n]) => connectClient(s, n, "pw")));
    names.forEach(([, n], i) => (clients[n] = connected[i]!));
  });

  after(async () => {
    await Promise.allSettled(Object.values(clients).map((c) => c.stop()));
    await relay?.stop();
    await Promise.allSettled([px, ex].map((s) => s?.stop()));
  });

  /**
   * Sends WHITE and AMBER from `sender` to each recipient; returns which ids each received (after
   * a marker that every recipient is cleared for, sent last on the same link) and which came back
   * to the sender as bare forbidden errors.
   */
  async function sendEach(
    sender: string,
    recipients: string[],
    domain: string,
    labels: { white: string; amber: string },
  ): Promise<{ received: Record<string, string[]>; refused: string[] }> {
    const from = clients[sender]!;
    const ids: string[] = [];
    for (const r of recipients) {
      for (const [name, l] of Object.entries(labels)) {
        const id = `${sender}-${r}-${name}`;
        ids.push(id);
        await from.send(
          xml("message", { type: "chat", to: `${r}@${domain}`, id }, xml("body", {}, name), securityLabel(l)),
        );
      }
    }
    // Every refusal is answered; every pass reaches a connected client: wait for one of each per id.
    const refused: string[] = [];
    for (const id of ids) {
      const [, r] = id.split("-");
      const to = clients[r!]!;
      const outcome = await Promise.race([
        to.waitFor(isMessage(id), 8000).then(() => "received"),
        from
          .waitFor((el) => isMessage(id)(el) && el.attrs["type"] === "error", 8000)
          .then((el) => {
            assertBareError(el, "forbidden");
            return "refused";
          }),
      ]);
      if (outcome === "refused") refused.push(id);
    }
    const received: Record<string, string[]> = {};
    for (const r of recipients)
      received[r] = clients[r]!.received.filter((el) => el.name === "message" && el.attrs["type"] !== "error")
        .map((el) => el.attrs["id"] ?? "")
        .filter((id) => id.startsWith(`${sender}-`));
    return { received, refused };
  }

  test("[ejabberd] inbound: each local recipient's clearance is checked — cleared, WHITE-only and uncleared get exactly what they may read", async () => {
    const { received, refused } = await sendEach("bob", ["alice", "eve", "mallory"], "px.test", {
      white: label(TLP, 10),
      amber: label(TLP, 12),
    });
    assert.deepEqual(received, {
      alice: ["bob-alice-white", "bob-alice-amber"],
      eve: ["bob-eve-white"],
      mallory: [],
    });
    assert.deepEqual(refused, ["bob-eve-amber", "bob-mallory-white", "bob-mallory-amber"]);
  });

  test("[prosody] outbound: a remote recipient the store knows is checked too; one it does not know is bounded by the direction clearance", async () => {
    const { received, refused } = await sendEach("alice", ["bob", "eric", "mo"], "ex.test", {
      white: label(TLPX, 10),
      amber: label(TLPX, 12, [0]),
    });
    assert.deepEqual(received, {
      bob: ["alice-bob-white", "alice-bob-amber"],
      eric: ["alice-eric-white"],
      mo: ["alice-mo-white", "alice-mo-amber"],
    });
    assert.deepEqual(refused, ["alice-eric-amber"]);
  });

  // Found in review (advrelay): a remote user's clearance held under the sending side's policy was
  // not asked for (only the receiving side's was): wren, WHITE only, got AMBER.
  test("[prosody] outbound: a remote recipient whose clearance the store holds under the sending side's policy is checked on it", async () => {
    const { received, refused } = await sendEach("alice", ["wren"], "ex.test", {
      white: label(TLPX, 10),
      amber: label(TLPX, 12, [0]),
    });
    assert.deepEqual(received, { wren: ["alice-wren-white"] });
    assert.deepEqual(refused, ["alice-wren-amber"]);
  });

  const iqWith = (id: string) => (el: Element) => el.name === "iq" && el.attrs["id"] === id;

  for (const [server, sender, recipient] of [
    ["prosody", "alice", "bob"],
    ["ejabberd", "bob", "alice"],
  ] as const) {
    test(`[${server}] an IQ request crosses under an id of the relay's, and its answer comes back under the requester's`, async () => {
      const from = clients[sender]!;
      const to = clients[recipient]!;
      const id = `excalibur: operation dawn at 0400 (${server})`;
      await from.send(xml("iq", { type: "get", to: to.jid, id }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      // The recipient's client answers (a pong or service-unavailable): the answer is what matters.
      const answer = await from.waitFor(iqWith(id), 8000);
      assert.ok(["result", "error"].includes(answer.attrs["type"] ?? ""), answer.toString());
      const seen = to.received.filter(
        (el) => el.name === "iq" && el.getChild("ping", "urn:xmpp:ping") && el.attrs["from"] === from.jid,
      );
      assert.ok(seen.length > 0);
      for (const el of seen) {
        assert.match(el.attrs["id"] ?? "", /^cordon-[A-Za-z0-9_-]{16}$/);
        assert.ok(!el.toString().includes("excalibur"), el.toString());
      }
    });
  }

  test("[ejabberd] an <error/> in another namespace beside an allowed IQ payload does not cross", async () => {
    const bob = clients.bob!;
    const alice = clients.alice!;
    await bob.send(
      xml(
        "iq",
        { type: "get", to: alice.jid, id: "exfil-error" },
        xml("ping", { xmlns: "urn:xmpp:ping" }),
        xml("error", { xmlns: "urn:example:exfil" }, xml("data", {}, "the plans")),
      ),
    );
    const refused = await bob.waitFor(iqWith("exfil-error"), 8000);
    assert.equal(refused.attrs["type"], "error");
    assert.ok(refused.getChild("error")?.getChild("forbidden", NS_STANZAS), refused.toString());
    assert.ok(!refused.toString().includes("the plans"));
    assert.ok(!alice.received.some((el) => el.toString().includes("urn:example:exfil")));
  });

  test("[prosody] a message whose id carries text does not cross; one with an id-shaped id keeps it", async () => {
    const alice = clients.alice!;
    const bob = clients.bob!;
    const id = "excalibur: operation dawn at 0400";
    await alice.send(xml("message", { type: "chat", to: "bob@ex.test", id }, xml("body", {}, "hi")));
    assertBareError(await alice.waitFor(isMessage(id), 8000), "forbidden");
    await alice.send(
      xml("message", { type: "chat", to: "bob@ex.test", id: "0f1e2d3c-id" }, xml("body", {}, "hi")),
    );
    await bob.waitFor(isMessage("0f1e2d3c-id"), 8000);
    assert.ok(!bob.received.some(isMessage(id)));
  });

  test("[prosody] a label in the receiving policy crosses re-encoded, its ESS privacy mark dropped", async () => {
    const tlp = registry.require(TLP);
    const green = tlp.classifications.find((c) => c.lacv === 11)!;
    const bytes = encodeEssLabel(makeLabel(tlp, green, [], { privacyMark: "excalibur at 0400" }));
    await clients.alice!.send(
      xml(
        "message",
        { type: "chat", to: "bob@ex.test", id: "ess-1" },
        xml("body", {}, "hi"),
        parseElement(
          `<securitylabel xmlns='${NS_SL}'><displaymarking>X</displaymarking><label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${Buffer.from(bytes).toString("base64")}</esssecuritylabel></label></securitylabel>`,
        ),
      ),
    );
    const got = await clients.bob!.waitFor(isMessage("ess-1"), 8000);
    const ess = got
      .getChild("securitylabel", NS_SL)
      ?.getChild("label")
      ?.getChildText("esssecuritylabel", "urn:xmpp:sec-label:ess:0");
    const crossed = Buffer.from(ess ?? "", "base64");
    assert.ok(!crossed.toString("latin1").includes("excalibur"));
    const decoded = decodeEssLabel(crossed, registry);
    assert.deepEqual(
      [decoded.policy.id, decoded.classification.lacv, decoded.privacyMark],
      [TLP, 11, undefined],
    );
  });

  test("[prosody] a word split by an element, in look-alike letters or in the plural is caught; file sharing is stripped or refused; markers follow receipts", async () => {
    const alice = clients.alice!;
    const bob = clients.bob!;
    const send = (id: string, ...children: Element[]) =>
      alice.send(xml("message", { type: "chat", to: "bob@ex.test", id }, ...children));
    await send("split-1", parseElement("<body>exc<b/>alibur</body>"));
    assertBareError(await alice.waitFor(isMessage("split-1"), 8000), "forbidden");
    // Cyrillic look-alikes (UTS #39) and a plural are the listed word too.
    await send("cyrillic-1", xml("body", {}, "\u0435\u0445\u0441\u0430libur"));
    assertBareError(await alice.waitFor(isMessage("cyrillic-1"), 8000), "forbidden");
    await send("plural-1", xml("body", {}, "two excaliburs"));
    assertBareError(await alice.waitFor(isMessage("plural-1"), 8000), "forbidden");
    // Under oob: strip, stateless file sharing goes and the message crosses; an aesgcm:// link in
    // the body cannot go without changing the text: refused.
    await send(
      "sfs-1",
      xml("body", {}, "file"),
      parseElement("<file-sharing xmlns='urn:xmpp:sfs:0'><sources/></file-sharing>"),
    );
    await send("aesgcm-1", xml("body", {}, "aesgcm://upload.ex.test/f#key"));
    assertBareError(await alice.waitFor(isMessage("aesgcm-1"), 8000), "forbidden");
    const shared = await bob.waitFor(isMessage("sfs-1"), 8000);
    assert.equal(shared.getChild("file-sharing", "urn:xmpp:sfs:0"), undefined);
    await send("marker-1", parseElement("<displayed xmlns='urn:xmpp:chat-markers:0' id='x'/>"));
    assertBareError(await alice.waitFor(isMessage("marker-1"), 8000), "forbidden");
    await send(
      "oob-1",
      xml("body", {}, "see"),
      parseElement("<query xmlns='jabber:iq:oob'><url>http://x/plans</url></query>"),
    );
    const got = await bob.waitFor(isMessage("oob-1"), 8000);
    assert.equal(got.getChildText("body"), "see");
    assert.ok(!got.toString().includes("jabber:iq:oob") && !got.toString().includes("plans"));
    for (const id of ["split-1", "cyrillic-1", "plural-1", "aesgcm-1", "marker-1"])
      assert.ok(!bob.received.some(isMessage(id)), id);
  });

  // Found in review (advrelay): element, attribute and namespace names crossed unread by the word
  // lists, and a letter with a stroke (UTS #39: ł → l + a combining overlay) split a listed word.
  for (const [server, sender, recipient, domain] of [
    ["ejabberd", "bob", "alice", "px.test"],
    ["prosody", "alice", "bob", "ex.test"],
  ] as const) {
    test(`[${server}] element, attribute and namespace names and letters with a stroke go through the word lists`, async () => {
      const from = clients[sender]!;
      const to = clients[recipient]!;
      const cases: [string, Element[]][] = [
        [`name-el-${server}`, [xml("body", {}, "hi"), parseElement("<excalibur xmlns='urn:example:x'/>")]],
        [
          `name-ns-${server}`,
          [xml("body", {}, "hi"), parseElement("<x xmlns='urn:example:operation:excalibur'/>")],
        ],
        [
          `name-attr-${server}`,
          [xml("body", {}, "hi"), parseElement("<x xmlns='urn:example:x' excalibur='1'/>")],
        ],
        [`stroke-${server}`, [xml("body", {}, "exca\u0142ibur")]],
      ];
      for (const [id, children] of cases)
        await from.send(xml("message", { type: "chat", to: `${recipient}@${domain}`, id }, ...children));
      for (const [id] of cases) assertBareError(await from.waitFor(isMessage(id), 8000), "forbidden");
      // A message after them on the same link arrives: nothing refused was merely slow.
      const after = `names-after-${server}`;
      await from.send(
        xml("message", { type: "chat", to: `${recipient}@${domain}`, id: after }, xml("body", {}, "hi")),
      );
      await to.waitFor(isMessage(after), 8000);
      for (const [id] of cases) assert.ok(!to.received.some(isMessage(id)), id);
      assert.ok(
        !to.received.some(
          (el) =>
            el.name === "message" && el.attrs["from"] === from.jid && el.toString().includes("excalibur"),
        ),
      );
    });
  }

  // Found in review (advrelay): a vCard's LOGO and SOUND (XEP-0054 §3: base64 BINVAL like PHOTO)
  // crossed whole while PHOTO was stripped. Each user stores a vCard on their own server; the
  // other side's user fetches it across the relay.
  for (const [server, owner, asker, ownerJid] of [
    ["prosody", "alice", "bob", "alice@px.test"],
    ["ejabberd", "bob", "alice", "bob@ex.test"],
  ] as const) {
    test(`[${server}] a vCard crosses without any file it embeds (PHOTO, LOGO, SOUND)`, async () => {
      const mine = clients[owner]!;
      const theirs = clients[asker]!;
      const setId = `vcard-set-${server}`;
      await mine.send(
        xml(
          "iq",
          { type: "set", id: setId },
          parseElement(
            "<vCard xmlns='vcard-temp'><FN>Card Owner</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>UEhPVE8=</BINVAL></PHOTO><LOGO><TYPE>image/png</TYPE><BINVAL>TE9HTy1QTEFOUw==</BINVAL></LOGO><SOUND><BINVAL>U09VTkQ=</BINVAL></SOUND></vCard>",
          ),
        ),
      );
      const stored = await mine.waitFor(iqWith(setId), 8000);
      assert.equal(stored.attrs["type"], "result", stored.toString());
      const getId = `vcard-get-${server}`;
      await theirs.send(
        xml("iq", { type: "get", to: ownerJid, id: getId }, xml("vCard", { xmlns: "vcard-temp" })),
      );
      const got = await theirs.waitFor(iqWith(getId), 8000);
      assert.equal(got.attrs["type"], "result", got.toString());
      const card = got.getChild("vCard", "vcard-temp");
      assert.equal(card?.getChildText("FN"), "Card Owner", got.toString());
      for (const part of ["PHOTO", "LOGO", "SOUND", "BINVAL"])
        assert.ok(!got.toString().includes(part), got.toString());
    });
  }

  // Found in review (advrelay): a kept part's values crossed whatever they held — prose in a field
  // its XEP defines as a number, a date or an enumeration.
  for (const [server, sender, recipient] of [
    ["ejabberd", "bob", "alice"],
    ["prosody", "alice", "bob"],
  ] as const) {
    test(`[${server}] a folded presence's numbers, dates and enumerations cross only in their defined form`, async () => {
      const from = clients[sender]!;
      const to = clients[recipient]!;
      const id = `values-${server}`;
      await from.send(
        xml(
          "presence",
          { to: to.jid, id },
          xml("show", {}, "away"),
          parseElement(
            "<x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='operation dawn at 0400' maxchars='100' since='the plans'/></x>",
          ),
        ),
      );
      const got = await to.waitFor((el) => el.name === "presence" && el.attrs["id"] === id, 8000);
      assert.equal(got.getChildText("show"), "away");
      assert.ok(!got.toString().includes("dawn") && !got.toString().includes("plans"), got.toString());
      assert.equal(
        got.getChild("x", "http://jabber.org/protocol/muc")?.getChild("history")?.attrs["maxchars"],
        "100",
      );
    });
  }

  // Found in review (advrelay): XEP-0084 avatar data (the image, base64) crossed in a message's
  // pubsub event while bits of binary and vCard photos did not.
  for (const [server, sender, recipient, domain] of [
    ["ejabberd", "bob", "alice", "px.test"],
    ["prosody", "alice", "bob", "ex.test"],
  ] as const) {
    test(`[${server}] avatar data in a pubsub event is in-band data: refused under ibb block`, async () => {
      const from = clients[sender]!;
      const to = clients[recipient]!;
      const id = `avatar-data-${server}`;
      await from.send(
        xml(
          "message",
          { type: "headline", to: `${recipient}@${domain}`, id },
          parseElement(
            "<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:data'><item id='0123456789abcdef0123456789abcdef01234567'><data xmlns='urn:xmpp:avatar:data'>iVBORw0KGgo=</data></item></items></event>",
          ),
        ),
      );
      assertBareError(await from.waitFor(isMessage(id), 8000), "forbidden");
      assert.ok(!to.received.some(isMessage(id)));
    });
  }

  test("[ejabberd] a folded presence crosses in its known shape: nothing nested in a kept part", async () => {
    const bob = clients.bob!;
    const alice = clients.alice!;
    await bob.send(
      xml(
        "presence",
        { to: alice.jid, id: "shape-1" },
        xml("show", {}, "away"),
        parseElement(
          "<x xmlns='http://jabber.org/protocol/muc'><exfil>plans</exfil><history maxstanzas='1'/></x>",
        ),
      ),
    );
    // Default fold keeps show, priority and muc: the MUC part crosses, without what was nested in it.
    const got = await alice.waitFor((el) => el.name === "presence" && el.attrs["id"] === "shape-1", 8000);
    assert.equal(got.getChildText("show"), "away");
    assert.ok(!got.toString().includes("plans"), got.toString());
    assert.equal(
      got.getChild("x", "http://jabber.org/protocol/muc")?.getChild("history")?.attrs["maxstanzas"],
      "1",
    );
  });
});
