// XEP-0045 administration and the remaining enforcement paths of the labelled MUC, on real Prosody
// and real ejabberd: kick, ban, nick change, passwords, members-only, mediated invitations (cleared
// and not), XEP-0410 self-ping, destroy, and a user of another domain judged on its peer clearance.
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
import { MemoryStore } from "@cordon/store";
import { NS_MUC_USER, NS_MUC_OWNER, NS_MUC_ADMIN, type MucService } from "@cordon/muc";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import {
  joinRoom as join,
  configureRoom as configure,
  statusCodes,
  errorCondition,
} from "../src/muc-client.js";

const demo = loadDemo();
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const USERS = ["owner", "mod", "pat", "low", "nobody"];

async function admin(
  actor: TestClient,
  room: string,
  item: Record<string, string>,
  reason?: string,
): Promise<Element> {
  return actor.iq(
    xml(
      "iq",
      { type: "set", to: room },
      xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", item, reason ? xml("reason", {}, reason) : null)),
    ),
  );
}

for (const kind of serverKinds()) {
  describe(`MUC administration on ${kind}`, () => {
    const domain = `${kind}-adm.test`;
    const remote = `far-${kind}.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c: Record<string, TestClient> = {};
    let stranger: TestClient;

    before(async () => {
      server = await startServer(kind, {
        domain,
        extraDomains: [remote],
        components: [{ domain: mucDomain, secret: "adm" }],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
      });
      await server.addUser("stranger", "stranger-pw", remote);
      store = new MemoryStore();
      for (const u of ["owner", "mod", "pat"])
        await store.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(ALL)));
      await store.setUserClearance(`low@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      // The other domain has no per-user clearances: its users get the peer's inbound clearance.
      await store.setPeerClearance(
        remote,
        "inbound",
        demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED"])),
      );
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "adm", store });
      for (const u of USERS) c[u] = await connectClient(server, u, `${u}-pw`);
      stranger = await connectClient(
        { host: server.host, c2sPort: server.c2sPort, domain: remote } as XmppServer,
        "stranger",
        "stranger-pw",
      );
    });

    after(async () => {
      for (const client of [...Object.values(c), stranger]) await client?.stop().catch(() => undefined);
      await muc?.stop();
      await store?.close();
      await server?.stop();
    });

    test(`[${kind}] moderators kick (307) and admins ban (301); a banned user cannot return`, async () => {
      const room = `court@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, { "muc#roomconfig_persistentroom": "0" });
      await join(c.mod!, room, "Mod");
      await join(c.pat!, room, "Pat");
      await admin(c.owner!, room, { nick: "Mod", role: "moderator" });
      await c.mod!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Mod` &&
          p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role === "moderator",
      );
      await admin(c.mod!, room, { nick: "Pat", role: "none" }, "calm down");
      const kicked = await c.pat!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Pat` && p.attrs.type === "unavailable",
      );
      assert.ok(statusCodes(kicked).includes("307") && statusCodes(kicked).includes("110"));
      assert.equal(kicked.getChild("x", NS_MUC_USER)!.getChild("item")!.getChildText("reason"), "calm down");
      // A moderator cannot kick the owner.
      await assert.rejects(admin(c.mod!, room, { nick: "Owner", role: "none" }), /not-allowed/);
      await join(c.pat!, room, "Pat");
      await admin(c.owner!, room, { jid: `pat@${domain}`, affiliation: "outcast" });
      const banned = await c.pat!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Pat` &&
          p.attrs.type === "unavailable" &&
          statusCodes(p).includes("301"),
      );
      assert.equal(banned.getChild("x", NS_MUC_USER)!.getChild("item")!.attrs.affiliation, "outcast");
      const back = await join(c.pat!, room, "Pat");
      assert.equal(errorCondition(back), "forbidden");
      const list = await c.owner!.iq(
        xml(
          "iq",
          { type: "get", to: room },
          xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { affiliation: "outcast" })),
        ),
      );
      assert.deepEqual(
        list
          .getChild("query", NS_MUC_ADMIN)!
          .getChildren("item")
          .map((i) => i.attrs.jid),
        [`pat@${domain}`],
      );
    });

    test(`[${kind}] nick change (303), nick conflicts, and XEP-0410 self-ping`, async () => {
      const room = `court@${mucDomain}`;
      await c.mod!.send(xml("presence", { to: `${room}/Moderator` }));
      const renamed = await c.mod!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Mod` && p.attrs.type === "unavailable",
      );
      assert.ok(statusCodes(renamed).includes("303"));
      assert.equal(renamed.getChild("x", NS_MUC_USER)!.getChild("item")!.attrs.nick, "Moderator");
      await c.mod!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Moderator` && p.attrs.type === undefined,
      );
      const conflict = await join(c.low!, room, "Owner");
      assert.equal(errorCondition(conflict), "conflict");
      const pong = await c.mod!.iq(
        xml("iq", { type: "get", to: `${room}/Moderator` }, xml("ping", { xmlns: "urn:xmpp:ping" })),
      );
      assert.equal(pong.attrs.type, "result");
      await assert.rejects(
        c.pat!.iq(xml("iq", { type: "get", to: `${room}/Pat` }, xml("ping", { xmlns: "urn:xmpp:ping" }))),
        /not-acceptable/,
      );
    });

    test(`[${kind}] passwords and members-only rooms refuse entry with the XEP-0045 conditions`, async () => {
      const room = `locked@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {
        "muc#roomconfig_passwordprotectedroom": "1",
        "muc#roomconfig_roomsecret": "s3same",
      });
      assert.equal(errorCondition(await join(c.low!, room, "Low")), "not-authorized");
      const ok = await join(c.low!, room, "Low", [xml("password", {}, "s3same")]);
      assert.notEqual(ok.attrs.type, "error");
      const members = `club@${mucDomain}`;
      await join(c.owner!, members, "Owner");
      await configure(c.owner!, members, { "muc#roomconfig_membersonly": "1" });
      assert.equal(errorCondition(await join(c.mod!, members, "Mod")), "registration-required");
      await admin(c.owner!, members, { jid: `mod@${domain}`, affiliation: "member" });
      assert.notEqual((await join(c.mod!, members, "Mod")).attrs.type, "error");
    });

    test(`[${kind}] mediated invitations reach only those cleared for the room`, async () => {
      const room = `secret-briefing@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, { "sec-label#label": "SECRET", "sec-label#default-label": "SECRET" });
      await c.owner!.send(
        xml(
          "message",
          { to: room, id: "inv-low" },
          xml(
            "x",
            { xmlns: NS_MUC_USER },
            xml("invite", { to: `low@${domain}` }, xml("reason", {}, "join us")),
          ),
        ),
      );
      const refused = await c.owner!.waitFor((m) => m.attrs.id === "inv-low");
      assert.equal(refused.attrs.type, "error");
      assert.equal(errorCondition(refused), "forbidden");
      await c.owner!.send(
        xml(
          "message",
          { to: room, id: "inv-mod" },
          xml(
            "x",
            { xmlns: NS_MUC_USER },
            xml("invite", { to: `mod@${domain}` }, xml("reason", {}, "join us")),
          ),
        ),
      );
      const invitation = await c.mod!.waitFor(
        (m) => m.attrs.from === room && m.getChild("x", NS_MUC_USER)?.getChild("invite") !== undefined,
      );
      assert.equal(
        invitation.getChild("x", NS_MUC_USER)!.getChild("invite")!.attrs.from?.startsWith(`owner@${domain}`),
        true,
      );
      assert.ok(
        !c.low!.received.some(
          (m) => m.attrs.from === room && m.getChild("x", NS_MUC_USER)?.getChild("invite"),
        ),
      );
    });

    test(`[${kind}] a user of another domain is judged on its domain's peer clearance`, async () => {
      const open = `court@${mucDomain}`;
      assert.notEqual((await join(stranger, open, "Stranger")).attrs.type, "error");
      const secret = `secret-briefing@${mucDomain}`;
      assert.equal(errorCondition(await join(stranger, secret, "Stranger")), "forbidden");
      // Without a peer clearance, the same user has the nil clearance.
      await store.deletePeerClearance(remote, "inbound");
      assert.equal(
        errorCondition(await join(stranger, `other@${mucDomain}`, "Stranger")),
        "not-allowed",
        "remote users may not create rooms either",
      );
      await stranger.send(xml("presence", { to: `${open}/Stranger`, type: "unavailable" }));
      await stranger.waitFor((p) => p.attrs.from === `${open}/Stranger` && p.attrs.type === "unavailable");
      assert.equal(errorCondition(await join(stranger, open, "Stranger")), "forbidden");
    });

    test(`[${kind}] destroying a room tells its occupants and removes it`, async () => {
      const room = `locked@${mucDomain}`;
      await c.owner!.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml("query", { xmlns: NS_MUC_OWNER }, xml("destroy", {}, xml("reason", {}, "done"))),
        ),
      );
      const gone = await c.low!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Low` && p.attrs.type === "unavailable",
      );
      assert.equal(gone.getChild("x", NS_MUC_USER)!.getChild("destroy")!.getChildText("reason"), "done");
      await assert.rejects(
        c.low!.iq(
          xml(
            "iq",
            { type: "get", to: room },
            xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
          ),
        ),
        /item-not-found/,
      );
    });
  });
}
