// Review adv13 (flot13's escaping in the MUC, through component serialise.ts), on real Prosody and
// real ejabberd: what a room reflects is what it decided on. A sender's carriage returns in a body
// and a tab, line feed and CR in an extension's attribute (written by the sender as character
// references) reach the other occupants as written: the MUC writes them as character references,
// so the server's parser (expat: XML 1.0 §2.11 makes a raw CR a line feed, §3.3.3 a raw tab or
// line end in an attribute a space) keeps them. The recipient's library (ltx) does not normalise
// what the server writes, so what it reads is what the server held. Before flot13 the room wrote
// them raw and the occupants got line feeds and spaces.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const USERS = ["ann", "ben"] as const;

for (const kind of serverKinds()) {
  describe(`MUC keeps a sender's whitespace controls (adv13) on ${kind}`, () => {
    const domain = `${kind}-ws.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c = {} as Record<(typeof USERS)[number], TestClient>;

    before(async () => {
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "ws", users: USERS });
      store = await single.storeWithClearances(demo, domain, USERS, () => ALL_CLASSES);
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "ws", store });
      await single.connectUsers(server, USERS, c);
    });

    after(() => single.stopMucTest(Object.values(c), muc, store, server));

    test(`[${kind}] a groupchat body's CR and an extension attribute's tab, LF and CR reach the occupants`, async () => {
      const room = `ws@${mucDomain}`;
      await single.openRoom(room, [
        [c.ann, "Ann"],
        [c.ben, "Ben"],
      ]);
      await sendRaw(
        c.ann,
        `<message to='${room}' type='groupchat' id='ws1'><body>one&#13;&#10;two&#13;three</body>` +
          `<note xmlns='urn:example:adv13' v='a&#9;b&#10;c&#13;d'/></message>`,
      );
      for (const who of [c.ben, c.ann]) {
        const got = await who.waitFor(
          (s) => s.is("message") && s.attrs.type === "groupchat" && s.attrs.id === "ws1",
          8000,
        );
        const body = got.getChildText("body") ?? "";
        assert.ok(body.endsWith("one\r\ntwo\rthree"), JSON.stringify(body));
        assert.equal(got.getChild("note", "urn:example:adv13")?.attrs.v, "a\tb\nc\rd");
      }
    });
  });
}
