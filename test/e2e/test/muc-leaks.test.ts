// Issue 15, on real Prosody and real ejabberd: paths around the core checks by which room content
// could reach someone it must not. An occupant whose clearance is unknown (here: a stored value
// that does not read, as when the store cannot answer for it) gets no room content — not the reason
// of a role change, not the subject in disco#info, not the destroy reason (item 3); config-form
// errors never quote what was submitted (item 8); the store's service clearance bounds messages as
// it bounds the catalog (item 12).
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
import { parseElement } from "@cordon/component";
import { NS_MUC_USER, NS_MUC_OWNER, NS_MUC_ADMIN, type MucService } from "@cordon/muc";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure } from "../src/muc-client.js";

const demo = loadDemo();
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const USERS = ["owner", "known", "dark"];

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fromRoom = (room: string) => (s: Element) => s.attrs.from?.startsWith(room) === true;

for (const kind of serverKinds()) {
  describe(`MUC leak paths on ${kind}`, () => {
    const domain = `${kind}-leaks.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c: Record<string, TestClient> = {};

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "leaks" }],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
      });
      store = new MemoryStore();
      for (const u of USERS) await store.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(ALL)));
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "leaks", store });
      for (const u of USERS) c[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const client of Object.values(c)) await client?.stop().catch(() => undefined);
      await muc?.stop();
      await store?.close();
      await server?.stop();
    });

    test(`[${kind}] item 8: config-form errors name the field, never the submitted value`, async () => {
      const room = `form@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      for (const field of ["muc#roomconfig_publicroom", "sec-label#label"]) {
        const form = xml(
          "x",
          { xmlns: "jabber:x:data", type: "submit" },
          xml("field", { var: field }, xml("value", {}, "ECHO-ME-<b>")),
        );
        const error = await c
          .owner!.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, form)))
          .then(
            () => assert.fail("accepted"),
            (e: { stanza?: Element }) => e.stanza,
          );
        assert.ok(error, field);
        assert.equal(error.toString().includes("ECHO-ME"), false, `${field}: ${error.toString()}`);
      }
    });

    test(`[${kind}] item 12: the store's service clearance of the MUC domain bounds messages`, async () => {
      const room = `bound@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      await store.setServiceClearance(mucDomain, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      try {
        const secret = demo.labelXml(demo.label("SECRET"));
        await c.owner!.send(
          xml(
            "message",
            { to: room, type: "groupchat", id: "svc-1" },
            xml("body", {}, "SVC-TEXT"),
            parseElement(secret),
          ),
        );
        const answer = await c.owner!.waitFor((m) => m.attrs.id === "svc-1");
        assert.equal(answer.attrs.type, "error");
        assert.equal(answer.toString().includes("SVC-TEXT"), false);
      } finally {
        await store.deleteServiceClearance(mucDomain);
      }
    });

    test(`[${kind}] item 3: an occupant whose clearance is unknown gets no reason, subject or destroy reason`, async () => {
      const room = `dim@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      await join(c.known!, room, "Known");
      await join(c.dark!, room, "Dark");
      await c.owner!.send(
        xml("message", { to: room, type: "groupchat", id: "subj" }, xml("subject", {}, "SUBJECT-TEXT")),
      );
      await c.dark!.waitFor((m) => m.getChildText("subject") === "SUBJECT-TEXT");
      // Dark's stored clearance stops reading: unknown from now on (fail closed), still in the room.
      await store.setUserClearance(`dark@${domain}`, { encoding: "ber", data: "AAAA" });
      await until(
        () => muc.rooms.get(room)?.occupants.get("Dark")?.clearance.status === "unknown",
        "Dark's clearance turns unknown",
      );
      // disco#info: the subject only for occupants whose clearance is known.
      const subjectOf = async (client: TestClient) => {
        const info = await client.iq(
          xml(
            "iq",
            { type: "get", to: room },
            xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
          ),
        );
        return info.toString().includes("SUBJECT-TEXT");
      };
      assert.equal(await subjectOf(c.known!), true);
      assert.equal(await subjectOf(c.dark!), false);
      // A role change that removes no one: its reason to occupants whose clearance is known only.
      await c.owner!.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml(
            "query",
            { xmlns: NS_MUC_ADMIN },
            xml("item", { nick: "Known", role: "visitor" }, xml("reason", {}, "ROLE-REASON")),
          ),
        ),
      );
      const isVisitor = (p: Element) =>
        p.is("presence") &&
        p.attrs.from === `${room}/Known` &&
        p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role === "visitor";
      const toKnown = await c.known!.waitFor(isVisitor);
      assert.ok(toKnown.toString().includes("ROLE-REASON"));
      const toDark = await c.dark!.waitFor(isVisitor);
      assert.equal(toDark.toString().includes("ROLE-REASON"), false);
      // Destroy: the reason and alternate venue to occupants whose clearance is known only.
      await c.owner!.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml(
            "query",
            { xmlns: NS_MUC_OWNER },
            xml("destroy", { jid: `elsewhere@${mucDomain}` }, xml("reason", {}, "DESTROY-REASON")),
          ),
        ),
      );
      const destroyed = (p: Element) =>
        p.is("presence") &&
        p.attrs.type === "unavailable" &&
        p.getChild("x", NS_MUC_USER)?.getChild("destroy") !== undefined;
      const goneKnown = await c.known!.waitFor(destroyed);
      assert.ok(goneKnown.toString().includes("DESTROY-REASON"));
      const goneDark = await c.dark!.waitFor(destroyed);
      assert.equal(goneDark.toString().includes("DESTROY-REASON"), false);
      assert.equal(goneDark.toString().includes("elsewhere@"), false);
      assert.equal(
        c.dark!.received.filter(fromRoom(room)).some((s) => s.toString().includes("ROLE-REASON")),
        false,
      );
    });
  });
}
