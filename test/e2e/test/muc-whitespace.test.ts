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
import { startServer, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure } from "../src/muc-client.js";

const demo = loadDemo();
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const USERS = ["ann", "ben"] as const;

function sendRaw(client: TestClient, data: string): Promise<void> {
  return (client.xmpp as unknown as { write(data: string): Promise<void> }).write(data);
}

for (const kind of serverKinds()) {
  describe(`MUC keeps a sender's whitespace controls (adv13) on ${kind}`, () => {
    const domain = `${kind}-ws.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c = {} as Record<(typeof USERS)[number], TestClient>;

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "ws" }],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
      });
      store = new MemoryStore();
      for (const u of USERS) await store.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(ALL)));
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "ws", store });
      for (const u of USERS) c[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const client of Object.values(c)) await client?.stop().catch(() => undefined);
      await muc?.stop();
      await store?.close();
      await server?.stop();
    });

    test(`[${kind}] a groupchat body's CR and an extension attribute's tab, LF and CR reach the occupants`, async () => {
      const room = `ws@${mucDomain}`;
      await join(c.ann, room, "Ann");
      await configure(c.ann, room, {});
      await join(c.ben, room, "Ben");
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
