// Issue 19 goal 2: what an occupant receives when a MUC component hands the server ONE stanza
// with every recipient as an XEP-0033 bcc address, instead of one copy per occupant.
//
// ejabberd 23.01 (src/mod_multicast.erl): a component may use mod_multicast (service
// multicast.<host>, XEP-0033 §2.2). Its domain is a subdomain of the host, so check_relay/3 lets it
// address the host's users; it is a "remote" sender (sender_type/1: its domain is not one of the
// hosts), whose cap is `limits: remote: message` (20 by default) — over the cap the whole stanza
// is refused (check_limit_dests/4, not-acceptable) and nobody receives it. The outer stanza's
// `from` (room@rooms/nick) is kept (XEP-0033 §3). The <addresses/> header is stripped
// (strip_addresses_element/1); a bcc recipient gets a copy with no header at all when every address
// is bcc (route_individual/5), and with only its own bcc address plus the non-bcc ones otherwise
// (XEP-0033 §4.6.3, §5 step 8). These tests hold ejabberd to that with a real client: no recipient
// sees another recipient's JID, and the copy is the per-copy stanza byte for byte in its children.
//
// Prosody 0.12 has no XEP-0033 service in core (mod_multicast is not shipped): a stanza sent to
// multicast.<host> is not delivered to anyone — the test documents that it bounces.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  serverKinds,
  connectClient,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createComponent, escapeXml, type CordonComponent } from "@cordon/component";

const NS_ADDRESS = "http://jabber.org/protocol/address";
const LABEL =
  '<securitylabel xmlns="urn:xmpp:sec-label:0"><displaymarking fgcolor="black" bgcolor="red">SECRET</displaymarking>' +
  '<label><esssecuritylabel xmlns="urn:xmpp:sec-label:ess:0">MQYCAQQGASk=</esssecuritylabel></label></securitylabel>';
/** The cap the tests configure for a component (a "remote" sender to mod_multicast). */
const CAP = 5;
const USERS = ["alice", "bob", "carol", "dave"];

/** What every copy of one room message carries, whoever receives it (issue 19: label, ids). */
function payload(id: string): string {
  return (
    `type="groupchat" id="${id}"><body>multicast ${id}</body>${LABEL}` +
    `<stanza-id xmlns="urn:xmpp:sid:0" id="sid-${id}" by="ROOM"/>` +
    `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-0123456789abcdef"/>`
  );
}

/** Asserts that nothing matching `pred` reaches `c` within half a second. */
async function nothing(c: TestClient, pred: (el: Element) => boolean, message: string): Promise<void> {
  const got = await c.waitFor(pred, 500).catch(() => null);
  assert.equal(got, null, message);
}

const children = (el: Element): string[] =>
  el.children.filter((c): c is Element => typeof c !== "string").map((c) => c.toString());

for (const kind of serverKinds()) {
  describe(`XEP-0033 multicast from a MUC component on ${kind}`, () => {
    const domain = `${kind}-mcast.test`;
    const rooms = `rooms.${domain}`;
    const room = `r1@${rooms}`;
    const service = `multicast.${domain}`;
    const secret = "mcast-secret";
    let server: XmppServer;
    let component: CordonComponent;
    const clients = new Map<string, TestClient>();
    const toComponent: Element[] = [];

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: rooms, secret }],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
        ...(kind === "ejabberd"
          ? { extraModules: [`mod_multicast: {limits: {remote: {message: ${CAP}, presence: ${CAP}}}}`] }
          : {}),
      });
      component = createComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: rooms,
        secret,
      });
      component.onMessage((st) => {
        toComponent.push(st);
        return Promise.resolve();
      });
      await component.start();
      for (const u of USERS) clients.set(u, await connectClient(server, u, `${u}-pw`));
    });

    after(async () => {
      for (const c of clients.values()) await c.stop();
      await component?.stop();
      await server?.stop();
    });

    const client = (u: string): TestClient => {
      const c = clients.get(u);
      assert.ok(c, u);
      return c;
    };
    const byId = (id: string) => (el: Element) => el.name === "message" && el.attrs.id === id;
    const outer = (id: string, addresses: string): string =>
      `<message from="${escapeXml(`${room}/speaker`)}" to="${service}" ${payload(id).replace("ROOM", room)}` +
      `<addresses xmlns="${NS_ADDRESS}">${addresses}</addresses></message>`;
    const bcc = (jid: string) => `<address type="bcc" jid="${escapeXml(jid)}"/>`;

    if (kind === "prosody") {
      test("[prosody] 0.12 has no multicast service: the stanza bounces, nobody receives it", async () => {
        await component.sendRaw([outer("p1", [client("alice").jid, client("bob").jid].map(bcc).join(""))]);
        const deadline = Date.now() + 5000;
        while (!toComponent.some(byId("p1")) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        const bounce = toComponent.find(byId("p1"));
        assert.equal(bounce?.attrs.type, "error", "an error comes back to the component");
        for (const u of ["alice", "bob"]) await nothing(client(u), byId("p1"), `${u} must receive nothing`);
      });
      return;
    }

    test("[ejabberd] every bcc recipient gets one copy, from the occupant, with no <addresses/> and no other JID", async () => {
      const recipients = ["alice", "bob", "carol"];
      const jids = recipients.map((u) => client(u).jid);
      await component.sendRaw([outer("m1", jids.map(bcc).join(""))]);
      for (const u of recipients) {
        const got = await client(u).waitFor(byId("m1"));
        assert.equal(got.attrs.from, `${room}/speaker`, "XEP-0033 §3: the from is kept");
        assert.equal(got.attrs.to, client(u).jid);
        assert.equal(
          got.getChild("addresses", NS_ADDRESS),
          undefined,
          "bcc header removed (XEP-0033 §4.6.3)",
        );
        const text = got.toString();
        for (const other of recipients.filter((o) => o !== u))
          assert.ok(!text.includes(`${other}@`), `${u}'s copy names ${other}`);
        assert.equal(got.getChildText("body"), "multicast m1");
      }
      await nothing(client("dave"), byId("m1"), "not addressed, not delivered");
      assert.equal(toComponent.filter(byId("m1")).length, 0, "no error");
    });

    test("[ejabberd] a multicast copy carries exactly the children of a per-copy stanza (clients need no XEP-0033)", async () => {
      const alice = client("alice");
      await component.sendRaw([
        `<message from="${escapeXml(`${room}/speaker`)}" to="${escapeXml(alice.jid)}" ${payload("c1").replace("ROOM", room)}</message>`,
        outer("c1", bcc(alice.jid)),
      ]);
      const first = await alice.waitFor(byId("c1"));
      const second = await alice.waitFor(byId("c1"));
      assert.deepEqual(children(second), children(first));
      assert.deepEqual(second.attrs, first.attrs);
      assert.ok(
        children(first).some((c) => c.includes("esssecuritylabel")),
        "the label arrives intact",
      );
    });

    test("[ejabberd] with a non-bcc address on the stanza, a bcc recipient sees only its own bcc address", async () => {
      const recipients = ["alice", "bob"];
      await component.sendRaw([
        outer("n1", recipients.map((u) => bcc(client(u).jid)).join("") + '<address type="noreply"/>'),
      ]);
      for (const u of recipients) {
        const got = await client(u).waitFor(byId("n1"));
        const header = got.getChild("addresses", NS_ADDRESS);
        assert.ok(header, "ejabberd keeps a header when the stanza has non-bcc addresses");
        const addresses = header.getChildren("address");
        const bccs = addresses.filter((a) => a.attrs.type === "bcc").map((a) => a.attrs.jid);
        assert.deepEqual(bccs, [client(u).jid], "only the recipient's own bcc (XEP-0033 §5 step 8)");
        for (const other of recipients.filter((o) => o !== u))
          assert.ok(!got.toString().includes(`${other}@`), `${u}'s copy names ${other}`);
      }
    });

    test("[ejabberd] over the cap the stanza is refused whole: an error to the component, nobody receives it", async () => {
      const jids = [client("alice").jid, client("bob").jid];
      for (let k = jids.length; k <= CAP; k++) jids.push(`absent${k}@${domain}`);
      assert.equal(jids.length, CAP + 1);
      await component.sendRaw([outer("x1", jids.map(bcc).join(""))]);
      const deadline = Date.now() + 5000;
      while (!toComponent.some(byId("x1")) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const bounce = toComponent.find(byId("x1"));
      assert.equal(bounce?.attrs.type, "error");
      assert.ok(bounce?.getChild("error")?.getChild("not-acceptable", "urn:ietf:params:xml:ns:xmpp-stanzas"));
      for (const u of ["alice", "bob"]) await nothing(client(u), byId("x1"), `${u} must receive nothing`);
    });
  });
}
