// A real third-party client (Debian's python3-slixmpp 1.8.3, clients/slix.py) in Cordon's labelled
// MUC on real Prosody and ejabberd: it joins with its xep_0045 plugin, reads cleared messages with
// the marking as the body's first line when it loads no label plugin (docs/clients.md §3) and as a
// label when it loads xep_0258 (which lists sec-label:0 in its disco#info), sends a label built with
// its xep_0258 classes, and an occupant cleared UNCLASSIFIED only gets nothing above it.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, connectClient, sendRaw, type XmppServer, type TestClient } from "@cordon/harness";
import { parseElement, type Element } from "@cordon/component";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import * as single from "../src/muc-service-fixture.js";
import { statusCodes } from "../src/muc-client.js";
import { PythonClient } from "../src/python-client.js";

const demo = loadDemo();
const NS_LABEL = "urn:xmpp:sec-label:0";
const USERS = ["alice", "bob", "carol"];

const marking = (m: Element) => m.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking");

for (const kind of serverKinds()) {
  describe(`slixmpp in the labelled MUC on ${kind}`, () => {
    const domain = `${kind}-slixmuc.test`;
    const mucDomain = `rooms.${domain}`;
    const room = `ops@${mucDomain}`;
    const secret = "slix-muc-secret";
    let server: XmppServer;
    let store: Awaited<ReturnType<typeof single.storeWithClearances>>;
    let muc: MucService;
    let alice: TestClient;
    const slix: Record<string, PythonClient> = {};

    before(async () => {
      server = await single.startMucServer(kind, { domain, mucDomain, secret, users: USERS });
      store = await single.storeWithClearances(demo, domain, USERS, (u) =>
        u === "carol" ? ["UNCLASSIFIED"] : ALL_CLASSES,
      );
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret, store });
      alice = await connectClient(server, "alice", "alice-pw");
      await single.openRoom(room, [[alice, "Alice"]]);
      slix.bob = await PythonClient.connect("slix.py", server, "bob", "bob-pw", ["xep_0045", "xep_0258"]);
      slix.carol = await PythonClient.connect("slix.py", server, "carol", "carol-pw", ["xep_0045"]);
    });

    after(async () => {
      for (const c of Object.values(slix)) await c.stop();
      await single.stopMucTest([alice], muc, store, server);
    });

    test(`[${kind}] slixmpp joins with its xep_0045 plugin; cleared bob reads SECRET with its marking, carol nothing above UNCLASSIFIED`, async () => {
      for (const [who, nick] of [
        ["bob", "Bob"],
        ["carol", "Carol"],
      ] as const) {
        const answer = await slix[who]!.ask({ op: "join", room, nick });
        assert.equal(answer.error, undefined, String(answer.error));
        const self = parseElement(String(answer.xml));
        assert.equal(self.attrs.from, `${room}/${nick}`);
        assert.notEqual(self.attrs.type, "error");
        assert.ok(statusCodes(self).includes("110"), `${who}'s self-presence: ${String(answer.xml)}`);
      }
      const say = (id: string, body: string, label?: string) =>
        sendRaw(
          alice,
          `<message to='${room}' type='groupchat' id='${id}'><body>${body}</body>${label ?? ""}</message>`,
        );
      await say("m-s", "secret words", demo.labelXml(demo.label("SECRET")));
      await say("m-u", "open words", demo.labelXml(demo.label("UNCLASSIFIED")));
      const bobSecret = await slix.bob!.waitFor((m) => m.attrs.id === "m-s" && m.attrs.type === "groupchat");
      // bob's slixmpp loads xep_0258, which lists urn:xmpp:sec-label:0 in its disco#info: the MUC
      // asks (no caps) and treats it as label-aware — plain body, the policy's marking in the label.
      assert.equal(bobSecret.getChildText("body"), "secret words");
      assert.equal(marking(bobSecret), "SECRET");
      // carol's slixmpp loads no label plugin: FLOT.
      const carolOpen = await slix.carol!.waitFor(
        (m) => m.attrs.id === "m-u" && m.attrs.type === "groupchat",
      );
      assert.equal(carolOpen.getChildText("body"), "UNCLASSIFIED\nopen words");
      await slix.bob!.waitFor((m) => m.attrs.id === "m-u");
      assert.ok(!slix.carol!.received.some((m) => m.attrs.id === "m-s"));
      assert.ok(!slix.carol!.received.some((m) => m.toString().includes("secret words")));
    });

    test(`[${kind}] a label built with slixmpp's xep_0258 classes is honoured in the room`, async () => {
      const label = demo.labelXml(demo.label("SECRET"));
      await slix.bob!.ask({
        op: "labelled",
        to: room,
        type: "groupchat",
        id: "b-s",
        body: "from bob",
        label,
      });
      await slix.bob!.ask({
        op: "labelled",
        to: room,
        type: "groupchat",
        id: "b-end",
        body: "end",
        label: demo.labelXml(demo.label("UNCLASSIFIED")),
      });
      const got = await alice.waitFor((m) => m.attrs.id === "b-s" && m.attrs.type === "groupchat", 8000);
      // alice's xmpp.js announces nothing: FLOT with the policy's marking of bob's label.
      assert.equal(got.getChildText("body"), "SECRET\nfrom bob");
      await slix.carol!.waitFor((m) => m.attrs.id === "b-end");
      assert.ok(!slix.carol!.received.some((m) => m.attrs.id === "b-s"));
    });
  });
}
