// Adversarial review of the MUC's XEP-0033 fan-out (issue 19 goal 2): forged "errors from the
// multicast service". The MUC re-delivers a refused chunk when an error comes from the service
// (packages/muc/src/service/multicast.ts): can an occupant make it deliver a message again — or to
// someone else — by sending an error itself, to the room or through the service? Setup as
// test/muc-multicast-fanout.test.ts (ejabberd: mod_multicast, chunks within its cap; Prosody: no
// service, so the MUC multicasts nothing there).
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
import { createLogger, parseElement } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure } from "../src/muc-client.js";

const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_SL = "urn:xmpp:sec-label:0";
const NS_ADDRESS = "http://jabber.org/protocol/address";
const NS_SID = "urn:xmpp:sid:0";
const NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0";
const CAP = 3;
const demo = loadDemo();
const SECRET = demo.label("SECRET");
const AWARE = ["alice", "bob", "frank"];
const UNAWARE = ["erin", "grace", "hank", "ivan"];
const UNCLEARED = ["carol"];
const USERS = [...AWARE, ...UNAWARE, ...UNCLEARED];

/** Makes a client advertise XEP-0258 support in its disco#info (as Gajim with labels on does). */
function advertiseLabels(client: TestClient): void {
  const callee = (
    client.xmpp as unknown as { iqCallee: { get(ns: string, name: string, h: () => unknown): void } }
  ).iqCallee;
  callee.get(NS_INFO, "query", () =>
    xml("query", { xmlns: NS_INFO }, xml("feature", { var: NS_INFO }), xml("feature", { var: NS_SL })),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of serverKinds()) {
  describe(`XEP-0033 multicast attacks on ${kind}`, () => {
    const domain = `${kind}-matk.test`;
    const service = `multicast.${domain}`;
    const secret = "mfan-secret";
    // Service A: chunks within the server's cap; B (ejabberd only): chunks over it.
    const mucA = `rooms.${domain}`;
    const mucB = `rooms2.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    const mucs = new Map<string, MucService>();
    const clients = new Map<string, TestClient>();
    /** The MUCs' log lines (pino JSON), by service. */
    const logs = new Map<
      string,
      { msg: string; condition?: string; byAddress?: boolean; copies?: number }[]
    >();
    const logged = (muc: string, msg: string) => (logs.get(muc) ?? []).filter((l) => l.msg === msg);

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [
          { domain: mucA, secret },
          { domain: mucB, secret },
        ],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
        ...(kind === "ejabberd"
          ? { extraModules: [`mod_multicast: {limits: {remote: {message: ${CAP}, presence: ${CAP}}}}`] }
          : {}),
      });
      store = new MemoryStore();
      for (const u of [...AWARE, ...UNAWARE])
        await store.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(ALL_CLASSES.slice(0, 4))));
      await store.setUserClearance(`carol@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      for (const [muc, chunk] of [
        [mucA, CAP],
        [mucB, 20],
      ] as const) {
        const lines: { msg: string }[] = [];
        logs.set(muc, lines);
        mucs.set(
          muc,
          await startDemoMuc(demo, {
            server,
            mucDomain: muc,
            localDomain: domain,
            secret,
            store,
            settings: { multicast: { service, chunk, timeoutMs: 10_000, maxBytes: 1 << 20 } },
            logger: createLogger({
              level: "debug",
              destination: { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) },
            }),
          }),
        );
      }
      for (const u of USERS) {
        const c = await connectClient(server, u, `${u}-pw`);
        if (AWARE.includes(u)) advertiseLabels(c);
        clients.set(u, c);
      }
    });

    after(async () => {
      for (const c of clients.values()) await c.stop().catch(() => undefined);
      for (const m of mucs.values()) await m.stop();
      await store?.close();
      await server?.stop();
    });

    const client = (u: string): TestClient => {
      const c = clients.get(u);
      assert.ok(c, u);
      return c;
    };
    const kept = (muc: string) =>
      mucs
        .get(muc)
        ?.memory()
        .find((b) => b.buffer === "multicast")?.entries ?? 0;

    /** Everyone enters `room` (alice creates it); returns the room JID. */
    async function enter(room: string): Promise<void> {
      await join(client("alice"), room, "alice");
      await configure(client("alice"), room);
      for (const u of USERS.slice(1)) {
        const self = await join(client(u), room, u);
        assert.notEqual(self.attrs.type, "error", `${u} enters`);
      }
    }

    /** Alice says `id` labelled SECRET; checks what everyone got within `waitMs`. */
    async function sayAndCheck(room: string, id: string, waitMs = 8000): Promise<void> {
      const text = `multicast ${id} <&>`;
      await client("alice").send(
        xml(
          "message",
          { to: room, type: "groupchat", id },
          xml("body", {}, text),
          parseElement(demo.labelXml(SECRET)),
        ),
      );
      const from = `${room}/alice`;
      const isIt = (el: Element) => el.is("message") && el.attrs.from === from && el.attrs.id === id;
      const got = new Map<string, Element>();
      for (const u of [...AWARE, ...UNAWARE]) got.set(u, await client(u).waitFor(isIt, waitMs));
      await sleep(700);
      const stanzaIds = new Set<string>();
      const occupantIds = new Set<string>();
      for (const [u, copy] of got) {
        assert.equal(client(u).received.filter(isIt).length, 1, `${u} gets exactly one copy of ${id}`);
        assert.equal(copy.attrs.type, "groupchat");
        assert.equal(copy.attrs.to, client(u).jid);
        assert.equal(copy.getChild("addresses", NS_ADDRESS), undefined, `${u}: no <addresses/>`);
        const whole = copy.toString();
        for (const other of USERS.filter((o) => o !== u))
          assert.ok(!whole.includes(`${other}@`), `${u}'s copy names ${other}`);
        const sid = copy.getChild("stanza-id", NS_SID);
        assert.equal(sid?.attrs.by, room);
        stanzaIds.add(sid?.attrs.id ?? "");
        occupantIds.add(copy.getChild("occupant-id", NS_OCCUPANT_ID)?.attrs.id ?? "");
        const body = copy.getChildText("body") ?? "";
        if (AWARE.includes(u)) {
          assert.ok(copy.getChild("securitylabel", NS_SL), `${u} (label-aware) gets the label`);
          assert.equal(body, text);
        } else {
          assert.equal(copy.getChild("securitylabel", NS_SL), undefined, `${u} (FLOT) gets no label element`);
          assert.equal(body, `SECRET\n${text}`, `${u} gets the FLOT body`);
        }
      }
      assert.equal(stanzaIds.size, 1, "one stanza-id for the message");
      assert.equal(occupantIds.size, 1, "one occupant-id, the sender's");
      assert.ok([...stanzaIds][0], "a stanza-id");
      for (const u of UNCLEARED)
        assert.equal(client(u).received.filter(isIt).length, 0, `${u} (uncleared) gets nothing`);
    }

    test(`[${kind}] forged errors (to the room, through the service) re-deliver nothing`, async () => {
      const room = `ops@${mucA}`;
      await enter(room);
      await sayAndCheck(room, "f1");
      // On ejabberd the fan-out went through mod_multicast (discovered at start); Prosody has none.
      assert.equal(
        logged(mucA, "XEP-0033 multicast service discovered: fan-out through it").length,
        kind === "ejabberd" ? 1 : 0,
      );
      const refusedBefore = logged(mucA, "multicast refused: per copy").length;
      // ejabberd: f1's two multicast stanzas are kept for their errors (10 s); a forged error releases none.
      const keptBefore = kept(mucA);
      assert.equal(keptBefore, kind === "ejabberd" ? 2 : 0);
      const error = (to: string, addresses: string) =>
        parseElement(
          `<message type="error" to="${to}" id="f1"><addresses xmlns="${NS_ADDRESS}">${addresses}</addresses>` +
            `<error type="cancel"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
        );
      const bcc = [...AWARE, ...UNAWARE].map((u) => `<address type="bcc" jid="${client(u).jid}"/>`).join("");
      // An occupant sends the error to the room itself (the server stamps its own JID on it).
      await client("erin").send(error(room, bcc));
      await client("erin").send(error(`${room}/alice`, bcc));
      // Through the service: an error addressed to the service with the room among the addresses.
      await client("erin").send(error(service, `<address type="to" jid="${room}"/>${bcc}`));
      // The uncleared occupant asks the service to relay an error to the room as well.
      await client("carol").send(error(service, `<address type="to" jid="${room}/alice"/>`));
      await sleep(1500);
      const isIt = (el: Element) =>
        el.is("message") && el.attrs.from === `${room}/alice` && el.attrs.id === "f1";
      for (const u of [...AWARE, ...UNAWARE])
        assert.equal(client(u).received.filter(isIt).length, 1, `${u} still has exactly one copy`);
      for (const u of UNCLEARED) assert.equal(client(u).received.filter(isIt).length, 0, `${u} gets nothing`);
      assert.equal(
        logged(mucA, "multicast refused: per copy").length,
        refusedBefore,
        "no fallback triggered",
      );
    });
  });
}
