// The XEP-0045 behaviours real clients rely on that muc.test.ts and muc-admin.test.ts do not cover,
// on real Prosody and real ejabberd with real clients: leaving, the subject, room discovery,
// history limits, room configuration (with the XEP-0258 fields), moderated rooms and voice, room
// capacity, nicknames, and the affiliation lists. Section numbers are those of XEP-0045 1.35
// (https://xmpp.org/extensions/xep-0045.html); the anchor follows each number.
//
// Users: olga (UNCLASSIFIED..TOP SECRET) owns most rooms; cody (..CONFIDENTIAL) owns one; pia and
// vic (..SECRET); uma (UNCLASSIFIED only). The service clearance stops at SECRET, so TOP SECRET is
// a named label no room may use. None of the clients announces XEP-0258, so bodies carry FLOT.
// The component's clock is Date.now() plus `skew`, which the history tests move forward instead
// of waiting.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  serverKinds,
  connectClient,
  xml,
  IqErrorResponse,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createLogger, parseElement } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import { NS_MUC, NS_MUC_USER, NS_MUC_ADMIN, NS_MUC_OWNER, type MucService } from "@cordon/muc";
import type { Label } from "@cordon/policy";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import {
  joinRoom as join,
  configureRoom as configure,
  statusCodes,
  errorCondition,
} from "../src/muc-client.js";

const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_ITEMS = "http://jabber.org/protocol/disco#items";
const NS_DATA = "jabber:x:data";
const NS_DELAY = "urn:xmpp:delay";
const demo = loadDemo();
const U = demo.label("UNCLASSIFIED");
const C = demo.label("CONFIDENTIAL");
const S = demo.label("SECRET");
const TS = demo.label("TOP SECRET");
const LEVELS = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const clearances = {
  olga: demo.clearance(LEVELS),
  cody: demo.clearance(LEVELS.slice(0, 3)),
  pia: demo.clearance(LEVELS.slice(0, 4)),
  vic: demo.clearance(LEVELS.slice(0, 4)),
  uma: demo.clearance(["UNCLASSIFIED"]),
};
type User = keyof typeof clearances;
const USERS = Object.keys(clearances) as User[];

// --- small client-side helpers -------------------------------------------------------------

const labelEl = (label: Label): Element => parseElement(demo.labelXml(label));
const stripFlot = (body: string): string => body.slice(body.indexOf("\n") + 1);

/** Sends a groupchat message (labelled when asked) and waits for the room to reflect it to the sender. */
async function say(
  client: TestClient,
  room: string,
  id: string,
  body: string,
  label?: Label,
): Promise<Element> {
  await client.send(
    xml("message", { to: room, type: "groupchat", id }, xml("body", {}, body), label ? labelEl(label) : null),
  );
  return client.waitFor(
    (m) => m.is("message") && m.attrs.id === id && m.attrs.from?.startsWith(`${room}/`) === true,
  );
}

/** The reply to a stanza the room refused (the error carries the stanza's id). */
const refusal = (client: TestClient, id: string): Promise<Element> =>
  client.waitFor((s) => s.attrs.id === id && s.attrs.type === "error");

/** Leaves room/nick (§7.14) and takes the unavailable self-presence. */
async function leave(client: TestClient, room: string, nick: string): Promise<Element> {
  await client.send(xml("presence", { to: `${room}/${nick}`, type: "unavailable" }));
  return client.waitFor(
    (p) =>
      p.is("presence") &&
      p.attrs.from === `${room}/${nick}` &&
      p.attrs.type === "unavailable" &&
      statusCodes(p).includes("110"),
  );
}

/**
 * A round trip to the MUC service. The service sends on one stream in order, so anything it sent
 * this client before answering has arrived when this returns: "nothing arrived" can be asserted.
 */
async function barrier(client: TestClient, service: string): Promise<void> {
  await client.iq(xml("iq", { type: "get", to: service }, xml("query", { xmlns: NS_INFO })));
}

/** The condition of a refused IQ. */
async function iqCondition(request: Promise<Element>): Promise<string | undefined> {
  try {
    await request;
  } catch (error) {
    if (error instanceof IqErrorResponse) return error.condition;
    throw error;
  }
  return "(result)";
}

/** A data form's fields as var → values. */
const formValues = (form: Element): Map<string, string[]> =>
  new Map(
    form.getChildren("field").map((f) => [f.attrs.var ?? "", f.getChildren("value").map((v) => v.getText())]),
  );

interface RoomInfo {
  name: string | undefined;
  features: string[];
  fields: Map<string, string[]>;
}

async function roomInfo(client: TestClient, room: string): Promise<RoomInfo> {
  const query = (
    await client.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO })))
  ).getChild("query", NS_INFO)!;
  return {
    name: query.getChild("identity")?.attrs.name,
    features: query.getChildren("feature").map((f) => f.attrs.var ?? ""),
    fields: formValues(query.getChild("x", NS_DATA)!),
  };
}

const field = (info: RoomInfo, name: string): string | undefined => info.fields.get(name)?.[0];

async function ownerForm(owner: TestClient, room: string): Promise<Element> {
  const result = await owner.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER })));
  return result.getChild("query", NS_MUC_OWNER)!.getChild("x", NS_DATA)!;
}

function submitConfig(
  owner: TestClient,
  room: string,
  fields: Record<string, string | string[]>,
): Promise<Element> {
  const form = xml(
    "x",
    { xmlns: NS_DATA, type: "submit" },
    xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
  );
  for (const [k, v] of Object.entries(fields))
    form.append(xml("field", { var: k }, ...(Array.isArray(v) ? v : [v]).map((x) => xml("value", {}, x))));
  return owner.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, form)));
}

function admin(actor: TestClient, room: string, ...items: Record<string, string>[]): Promise<Element> {
  return actor.iq(
    xml(
      "iq",
      { type: "set", to: room },
      xml("query", { xmlns: NS_MUC_ADMIN }, ...items.map((i) => xml("item", i))),
    ),
  );
}

async function affiliationList(actor: TestClient, room: string, affiliation: string): Promise<string[]> {
  const result = await actor.iq(
    xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { affiliation }))),
  );
  const items = result.getChild("query", NS_MUC_ADMIN)!.getChildren("item");
  for (const item of items) assert.equal(item.attrs.affiliation, affiliation);
  return items.map((i) => i.attrs.jid ?? "").sort();
}

const isSubject =
  (room: string) =>
  (m: Element): boolean =>
    m.is("message") &&
    m.attrs.type === "groupchat" &&
    m.attrs.from?.startsWith(room) === true &&
    m.getChild("subject") !== undefined &&
    !m.getChild("body");

/** A live subject change as one occupant receives it. */
const subjectChange = (client: TestClient, room: string, text: string): Promise<Element> =>
  client.waitFor((m) => isSubject(room)(m) && m.getChildText("subject") === text);

function sendSubject(
  client: TestClient,
  room: string,
  id: string,
  text: string,
  ...extra: Element[]
): Promise<void> {
  return client.send(xml("message", { to: room, type: "groupchat", id }, xml("subject", {}, text), ...extra));
}

/** The delayed (history) messages from `room` received since `mark`. */
const replayed = (client: TestClient, room: string, mark: number): Element[] =>
  client.received
    .slice(mark)
    .filter(
      (m) =>
        m.is("message") &&
        m.attrs.from?.startsWith(`${room}/`) === true &&
        m.getChild("delay", NS_DELAY) !== undefined,
    );

/** Joins with a <history/> request, returns the replayed stanzas, and leaves again. */
async function historyOn(
  client: TestClient,
  room: string,
  nick: string,
  history: Record<string, string>,
): Promise<Element[]> {
  const mark = client.received.length;
  const self = await join(client, room, nick, [xml("history", history)]);
  assert.notEqual(self.attrs.type, "error", self.toString());
  const got = replayed(client, room, mark);
  await leave(client, room, nick);
  return got;
}
const bodiesOf = (messages: Element[]): string[] =>
  messages.map((m) => stripFlot(m.getChildText("body") ?? ""));

for (const kind of serverKinds()) {
  describe(`MUC protocol (XEP-0045) on ${kind}`, () => {
    const domain = `${kind}-proto.test`;
    const mucDomain = `rooms.${domain}`;
    const secret = "proto-secret";
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    let skew = 0;
    const c = {} as Record<User, TestClient>;
    const jid = (u: User) => `${u}@${domain}`;
    const at = (room: string) => `${room}@${mucDomain}`;

    /** A room owned by olga, configured (unlocked) with `fields`. */
    async function openRoom(
      name: string,
      fields: Record<string, string | string[]> = {},
      owner: User = "olga",
      nick = "Olga",
    ): Promise<string> {
      const room = at(name);
      const self = await join(c[owner], room, nick);
      assert.ok(statusCodes(self).includes("201"), `${room} is new`);
      await configure(c[owner], room, fields);
      return room;
    }

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret }],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
      });
      store = new MemoryStore();
      for (const u of USERS) await store.setUserClearance(jid(u), demo.raw(clearances[u]));
      const upToSecret = demo.clearance(LEVELS.slice(0, 4));
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret,
        store,
        now: () => Date.now() + skew,
        settings: {
          serviceClearance: upToSecret,
          defaultRoomClearance: upToSecret,
          namedLabels: [
            { name: "UNCLASSIFIED", label: U },
            { name: "CONFIDENTIAL", label: C },
            { name: "SECRET", label: S },
            { name: "TOP SECRET", label: TS },
          ],
        },
        ...(process.env.CORDON_TEST_LOG
          ? { logger: createLogger({ level: process.env.CORDON_TEST_LOG }) }
          : {}),
      });
      for (const u of USERS) c[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      await muc?.stop();
      await store?.close();
      await server?.stop();
    });

    // §7.14 Exiting a Room (#exit)
    test(`[${kind}] leaving (§7.14): the leaver gets its unavailable self-presence (110), the others its unavailable presence, and it receives nothing after`, async () => {
      const room = await openRoom("exit");
      await join(c.pia, room, "Pia");
      await join(c.uma, room, "Uma");
      const self = await leave(c.uma, room, "Uma");
      assert.equal(self.getChild("x", NS_MUC_USER)!.getChild("item")!.attrs.role, "none");
      for (const other of [c.olga, c.pia]) {
        const gone = await other.waitFor(
          (p) => p.is("presence") && p.attrs.from === `${room}/Uma` && p.attrs.type === "unavailable",
        );
        assert.ok(!statusCodes(gone).includes("110"), gone.toString());
        assert.equal(gone.getChild("x", NS_MUC_USER)!.getChild("item")!.attrs.role, "none");
      }
      await say(c.olga, room, "after-exit", "said after Uma left");
      await c.pia.waitFor((m) => m.attrs.id === "after-exit");
      await barrier(c.uma, mucDomain);
      assert.ok(
        !c.uma.received.some((m) => m.attrs.id === "after-exit"),
        "the leaver received a room message",
      );
      assert.equal(field(await roomInfo(c.olga, room), "muc#roominfo_occupants"), "2");
    });

    // §8.1 Modifying the Room Subject (#subject-mod); §7.2.15 Room Subject (#enter-subject)
    test(`[${kind}] subject (§8.1): a moderator's change reaches every occupant from its occupant JID; a later joiner gets it last, after the history`, async () => {
      const room = await openRoom("topic");
      await join(c.pia, room, "Pia");
      await join(c.uma, room, "Uma");
      await sendSubject(c.olga, room, "subj-a", "Plan A");
      for (const u of ["olga", "pia", "uma"] as const) {
        const change = await subjectChange(c[u], room, "Plan A");
        assert.equal(change.attrs.from, `${room}/Olga`);
      }
      await say(c.olga, room, "topic-hist", "before Cody joins");
      const mark = c.cody.received.length;
      await join(c.cody, room, "Cody");
      await barrier(c.cody, mucDomain);
      const sequence = c.cody.received.slice(mark).filter((s) => s.attrs.from?.startsWith(room) === true);
      const last = sequence[sequence.length - 1]!;
      assert.ok(isSubject(room)(last), `last of the join: ${last.toString()}`);
      assert.equal(last.getChildText("subject"), "Plan A");
      const historyAt = sequence.findIndex(
        (m) => m.attrs.id === "topic-hist" && m.getChild("delay", NS_DELAY) !== undefined,
      );
      assert.ok(historyAt >= 0 && historyAt < sequence.length - 1, "the history precedes the subject");
      assert.equal(field(await roomInfo(c.uma, room), "muc#roominfo_subject"), "Plan A");
    });

    // §8.1 Modifying the Room Subject (#subject-mod); §10.2 muc#roomconfig_changesubject
    test(`[${kind}] subject (§8.1): a participant may not change it (forbidden, nobody receives it) until the room allows participants to`, async () => {
      const room = at("topic");
      await sendSubject(c.pia, room, "subj-pia-1", "Hijacked");
      assert.equal(errorCondition(await refusal(c.pia, "subj-pia-1")), "forbidden");
      for (const u of ["olga", "uma"] as const) await barrier(c[u], mucDomain);
      for (const u of ["olga", "pia", "uma"] as const)
        assert.ok(
          !c[u].received.some((m) => isSubject(room)(m) && m.getChildText("subject") === "Hijacked"),
          u,
        );
      assert.equal(field(await roomInfo(c.uma, room), "muc#roominfo_subject"), "Plan A");
      await submitConfig(c.olga, room, { "muc#roomconfig_changesubject": "1" });
      await sendSubject(c.pia, room, "subj-pia-2", "Plan B");
      for (const u of ["olga", "pia", "uma"] as const)
        assert.equal((await subjectChange(c[u], room, "Plan B")).attrs.from, `${room}/Pia`);
      assert.equal(field(await roomInfo(c.uma, room), "muc#roominfo_subject"), "Plan B");
    });

    // §8.1 (#subject-mod) with XEP-0258: a subject change carries no label; one that does is refused.
    test(`[${kind}] a subject change carrying a security label is refused (forbidden) and reaches nobody`, async () => {
      const room = at("topic");
      await sendSubject(c.olga, room, "subj-label", "Labelled subject", labelEl(U));
      const error = await refusal(c.olga, "subj-label");
      assert.equal(errorCondition(error), "forbidden");
      assert.ok(
        !error.toString().includes("Labelled subject") && !error.toString().includes("securitylabel"),
        error.toString(),
      );
      for (const u of ["pia", "uma"] as const) await barrier(c[u], mucDomain);
      for (const u of ["olga", "pia", "uma"] as const)
        assert.ok(
          !c[u].received.some((m) => isSubject(room)(m) && m.getChildText("subject") === "Labelled subject"),
          u,
        );
      assert.equal(field(await roomInfo(c.uma, room), "muc#roominfo_subject"), "Plan B");
    });

    // §8.1 (#subject-mod): "a <subject/> and a <thread/> is a legitimate message, but it SHALL NOT be
    // interpreted as a subject change."
    test(`[${kind}] a message with a subject and a thread is not a subject change (§8.1)`, async () => {
      const room = at("topic");
      await sendSubject(c.olga, room, "subj-thread", "Thread title", xml("thread", {}, "t-1"));
      // Reflected as a message of the thread (the occupants get it, thread kept)...
      const reflected = await c.uma.waitFor(
        (m) => m.is("message") && m.attrs.id === "subj-thread" && m.attrs.from === `${room}/Olga`,
        8000,
      );
      assert.equal(reflected.getChildText("thread"), "t-1");
      await barrier(c.olga, mucDomain);
      // ...and the room's subject is unchanged.
      assert.equal(field(await roomInfo(c.uma, room), "muc#roominfo_subject"), "Plan B");
    });

    // §6.3 Discovering Rooms (#disco-rooms)
    test(`[${kind}] disco#items on the service (§6.3) lists public rooms with their names, not hidden or locked ones`, async () => {
      const lobby = await openRoom("lobby", { "muc#roomconfig_roomname": "Lobby" });
      const den = await openRoom("den", { "muc#roomconfig_publicroom": "0" });
      const draft = at("draft");
      await join(c.olga, draft, "Olga"); // created, locked until configured (§10.1.1)
      const result = await c.uma.iq(
        xml("iq", { type: "get", to: mucDomain }, xml("query", { xmlns: NS_ITEMS })),
      );
      const items = new Map(
        result
          .getChild("query", NS_ITEMS)!
          .getChildren("item")
          .map((i) => [i.attrs.jid, i.attrs.name]),
      );
      assert.equal(items.get(lobby), "Lobby");
      assert.ok(items.has(at("topic")), [...items.keys()].join(","));
      assert.ok(!items.has(den), "hidden room listed");
      assert.ok(!items.has(draft), "locked room listed");
      // A hidden room still answers disco#info for those who know its address (§6.4).
      assert.ok((await roomInfo(c.uma, den)).features.includes("muc_hidden"));
    });

    // §6.4 Querying for Room Information (#disco-roominfo); XEP-0258 room marking; Swift's x-isode fields
    test(`[${kind}] disco#info on a room (§6.4): muc#roominfo with name, description, occupants, the subject (to occupants) and the room marking with its colours`, async () => {
      const room = await openRoom("brief", {
        "muc#roomconfig_roomname": "Morning brief",
        "muc#roomconfig_roomdesc": "Daily summary",
        "sec-label#label": "CONFIDENTIAL",
        "sec-label#default-label": "CONFIDENTIAL",
      });
      await sendSubject(c.olga, room, "brief-subj", "Weather");
      await subjectChange(c.olga, room, "Weather");
      await join(c.pia, room, "Pia");
      // Issue 15: uma may not enter, so the room does not exist for her (item-not-found); cody,
      // cleared for CONFIDENTIAL but not in the room, sees what the room is, without its subject.
      await assert.rejects(roomInfo(c.uma, room), /item-not-found/);
      const info = await roomInfo(c.cody, room);
      assert.equal(info.name, "Morning brief");
      assert.equal(field(info, "FORM_TYPE"), "http://jabber.org/protocol/muc#roominfo");
      assert.equal(field(info, "muc#roominfo_description"), "Daily summary");
      // The subject is shown to occupants only: it was written in the room, under its label.
      assert.notEqual(field(info, "muc#roominfo_subject"), "Weather");
      assert.equal(field(await roomInfo(c.pia, room), "muc#roominfo_subject"), "Weather");
      assert.equal(field(info, "muc#roominfo_occupants"), "2");
      assert.equal(field(info, "sec-label#room-marking"), "CONFIDENTIAL");
      assert.equal(field(info, "x-isode#roominfo_marking"), "CONFIDENTIAL");
      // The demo policy colours CONFIDENTIAL navy; dark backgrounds get white text.
      assert.equal(field(info, "x-isode#roominfo_marking_bg_color"), "navy");
      assert.equal(field(info, "x-isode#roominfo_marking_fg_color"), "white");
      for (const f of [NS_MUC, "muc_semianonymous", "muc_open", "muc_unmoderated"])
        assert.ok(info.features.includes(f), f);
    });

    // §7.2.14 Managing Discussion History (#enter-managehistory). History of the room "annals",
    // olga's messages, a second apart on the component's clock: u1 (U), s1 (SECRET), then ten
    // minutes later u2 (U), s2 (SECRET), u3 (U).
    let annals: Promise<string> | undefined;
    const seedAnnals = () =>
      (annals ??= (async () => {
        const room = await openRoom("annals");
        for (const [id, label] of [
          ["u1", U],
          ["s1", S],
          ["u2", U],
          ["s2", S],
          ["u3", U],
        ] as const) {
          skew += id === "u2" ? 600_000 : 1_000;
          await say(c.olga, room, id, id, label);
        }
        return room;
      })());

    test(`[${kind}] history (§7.2.14): 'seconds' replays only the recent messages the joiner may see`, async () => {
      const room = await seedAnnals();
      assert.deepEqual(
        bodiesOf(await historyOn(c.uma, room, "Uma", {})),
        ["u1", "u2", "u3"],
        "without limits: all Uma may see",
      );
      assert.deepEqual(bodiesOf(await historyOn(c.uma, room, "Uma", { seconds: "300" })), ["u2", "u3"]);
      assert.deepEqual(bodiesOf(await historyOn(c.pia, room, "Pia", { seconds: "300" })), ["u2", "s2", "u3"]);
      // Limits combine: the smallest amount meeting all of them (here: the newest visible one).
      assert.deepEqual(bodiesOf(await historyOn(c.uma, room, "Uma", { seconds: "300", maxstanzas: "1" })), [
        "u3",
      ]);
    });

    test(`[${kind}] history (§7.2.14): 'since' replays only later messages the joiner may see`, async () => {
      const room = await seedAnnals();
      const all = await historyOn(c.pia, room, "Pia", {});
      assert.deepEqual(bodiesOf(all), ["u1", "s1", "u2", "s2", "u3"]);
      const stampOf = (id: string) =>
        all.find((m) => m.attrs.id === id)!.getChild("delay", NS_DELAY)!.attrs.stamp!;
      assert.deepEqual(bodiesOf(await historyOn(c.pia, room, "Pia", { since: stampOf("u1") })), [
        "s1",
        "u2",
        "s2",
        "u3",
      ]);
      assert.deepEqual(bodiesOf(await historyOn(c.uma, room, "Uma", { since: stampOf("u1") })), ["u2", "u3"]);
      assert.deepEqual(bodiesOf(await historyOn(c.uma, room, "Uma", { since: stampOf("u2") })), ["u3"]);
      assert.deepEqual(bodiesOf(await historyOn(c.uma, room, "Uma", { since: stampOf("u3") })), []);
    });

    test(`[${kind}] history (§7.2.14): 'maxchars' replays whole stanzas within the limit, counting only what the joiner may see; 0 means none`, async () => {
      const room = await openRoom("chronicle");
      const long = (ch: string) => ch.repeat(5000);
      await say(c.olga, room, "l1", long("a"), U);
      await say(c.olga, room, "l2", long("b"), U);
      await say(c.olga, room, "l3", long("c"), U);
      await say(c.olga, room, "l4", long("d"), S); // newest, and hidden from Uma
      // 12000 characters hold two of these ~5.5k-character stanzas, not three.
      const two = await historyOn(c.uma, room, "Uma", { maxchars: "12000" });
      assert.deepEqual(
        two.map((m) => m.attrs.id),
        ["l2", "l3"],
      );
      for (const m of two)
        assert.equal(stripFlot(m.getChildText("body") ?? "").length, 5000, "complete stanzas only");
      const size = two.reduce((n, m) => n + m.toString().length, 0);
      assert.ok(size <= 12000, `replayed ${size} characters for maxchars=12000`);
      assert.deepEqual(
        (await historyOn(c.pia, room, "Pia", { maxchars: "12000" })).map((m) => m.attrs.id),
        ["l3", "l4"],
      );
      assert.deepEqual(await historyOn(c.uma, room, "Uma", { maxchars: "0" }), []);
    });

    // §10.2 Subsequent Room Configuration (#roomconfig); XEP-0258 §"Room Configuration"
    test(`[${kind}] muc#roomconfig (§10.2): the owner's form has the XEP-0045 fields and the sec-label fields with the named labels`, async () => {
      const room = await openRoom("conf");
      const form = await ownerForm(c.olga, room);
      assert.equal(form.attrs.type, "form");
      const values = formValues(form);
      assert.deepEqual(values.get("FORM_TYPE"), ["http://jabber.org/protocol/muc#roomconfig"]);
      for (const f of [
        "muc#roomconfig_roomname",
        "muc#roomconfig_roomdesc",
        "muc#roomconfig_persistentroom",
        "muc#roomconfig_publicroom",
        "muc#roomconfig_membersonly",
        "muc#roomconfig_moderatedroom",
        "muc#roomconfig_passwordprotectedroom",
        "muc#roomconfig_roomsecret",
        "muc#roomconfig_maxusers",
        "muc#roomconfig_whois",
        "muc#roomconfig_changesubject",
        "sec-label#custom-label",
        "sec-label#custom-clearance",
      ])
        assert.ok(values.has(f), f);
      const byVar = (v: string) => form.getChildren("field").find((f) => f.attrs.var === v)!;
      const options = (v: string) =>
        byVar(v)
          .getChildren("option")
          .map((o) => o.getChildText("value"));
      assert.equal(byVar("sec-label#label").attrs.type, "list-single");
      assert.deepEqual(values.get("sec-label#label"), ["UNCLASSIFIED"]);
      assert.deepEqual(options("sec-label#label"), ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"]);
      assert.equal(byVar("sec-label#clearance").attrs.type, "list-multi");
      assert.deepEqual(
        values.get("sec-label#clearance"),
        ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"],
        "the room clearance as named labels",
      );
      assert.deepEqual(values.get("sec-label#default-label"), ["UNCLASSIFIED"]);
      assert.deepEqual(options("sec-label#default-label"), [
        "none",
        "UNCLASSIFIED",
        "CONFIDENTIAL",
        "SECRET",
        "TOP SECRET",
      ]);
      assert.equal(byVar("sec-label#flot").attrs.type, "boolean");
    });

    test(`[${kind}] muc#roomconfig (§10.2): submitted changes take effect — 104 to occupants, disco reflects them, unlabelled messages get the new default label`, async () => {
      const room = at("conf");
      await join(c.pia, room, "Pia");
      const listed = async () =>
        (await c.uma.iq(xml("iq", { type: "get", to: mucDomain }, xml("query", { xmlns: NS_ITEMS }))))
          .getChild("query", NS_ITEMS)!
          .getChildren("item")
          .some((i) => i.attrs.jid === room);
      assert.ok(await listed(), "public before");
      await submitConfig(c.olga, room, {
        "muc#roomconfig_roomname": "Conference",
        "muc#roomconfig_roomdesc": "Planning",
        "muc#roomconfig_publicroom": "0",
        "sec-label#default-label": "CONFIDENTIAL",
      });
      // §10.2.1 (#roomconfig-notify): status 104 to the occupants.
      const notice = await c.pia.waitFor(
        (m) => m.is("message") && m.attrs.from === room && statusCodes(m).includes("104"),
      );
      assert.ok(!notice.getChild("body"));
      const info = await roomInfo(c.uma, room);
      assert.equal(info.name, "Conference");
      assert.equal(field(info, "muc#roominfo_description"), "Planning");
      assert.ok(
        info.features.includes("muc_hidden") && !info.features.includes("muc_public"),
        info.features.join(","),
      );
      assert.ok(!(await listed()), "hidden after");
      const values = formValues(await ownerForm(c.olga, room));
      assert.deepEqual(values.get("muc#roomconfig_roomname"), ["Conference"]);
      assert.deepEqual(values.get("sec-label#default-label"), ["CONFIDENTIAL"]);
      await c.pia.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "conf-unlabelled" },
          xml("body", {}, "no label given"),
        ),
      );
      const got = await c.olga.waitFor(
        (m) => m.attrs.id === "conf-unlabelled" && m.attrs.type === "groupchat",
      );
      assert.equal(got.getChildText("body"), "CONFIDENTIAL\nno label given");
    });

    test(`[${kind}] muc#roomconfig (§10.2): raising the room label removes the occupants it no longer covers (307) and keeps them out`, async () => {
      const room = at("conf");
      await join(c.uma, room, "Uma");
      await submitConfig(c.olga, room, { "sec-label#label": "CONFIDENTIAL" });
      const removed = await c.uma.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Uma` && p.attrs.type === "unavailable",
      );
      assert.ok(
        statusCodes(removed).includes("307") && statusCodes(removed).includes("110"),
        statusCodes(removed).join(","),
      );
      const seen = await c.pia.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Uma` && p.attrs.type === "unavailable",
      );
      assert.ok(statusCodes(seen).includes("307"));
      assert.equal(field(await roomInfo(c.pia, room), "x-isode#roominfo_marking"), "CONFIDENTIAL");
      assert.equal(errorCondition(await join(c.uma, room, "Uma")), "forbidden");
      await say(c.pia, room, "conf-after", "still here");
    });

    test(`[${kind}] muc#roomconfig: a value beyond the service clearance is refused (not-acceptable) and the configuration stays`, async () => {
      const room = at("conf");
      const refused = (fields: Record<string, string | string[]>) =>
        iqCondition(submitConfig(c.olga, room, { "muc#roomconfig_roomname": "Must not stick", ...fields }));
      // Olga holds TOP SECRET herself: only the service clearance stands in the way.
      assert.equal(await refused({ "sec-label#label": "TOP SECRET" }), "not-acceptable");
      assert.equal(
        await refused({ "sec-label#clearance": ["UNCLASSIFIED", "TOP SECRET"] }),
        "not-acceptable",
      );
      assert.equal(await refused({ "sec-label#default-label": "TOP SECRET" }), "not-acceptable");
      const info = await roomInfo(c.pia, room);
      assert.equal(info.name, "Conference");
      assert.equal(field(info, "x-isode#roominfo_marking"), "CONFIDENTIAL");
      const values = formValues(await ownerForm(c.olga, room));
      assert.deepEqual(values.get("muc#roomconfig_roomname"), ["Conference"]);
      assert.deepEqual(values.get("sec-label#clearance"), ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]);
      assert.deepEqual(values.get("sec-label#default-label"), ["CONFIDENTIAL"]);
      // TOP SECRET messages stay out of the room.
      await c.olga.send(
        xml("message", { to: room, type: "groupchat", id: "conf-ts" }, xml("body", {}, "ts"), labelEl(TS)),
      );
      assert.equal(errorCondition(await refusal(c.olga, "conf-ts")), "forbidden");
    });

    test(`[${kind}] muc#roomconfig: a custom room clearance beyond the service clearance is refused (not-acceptable)`, async () => {
      const room = at("conf");
      // SECRET with the ALPHA compartment: the service clearance has no compartments, and no
      // named label carries ALPHA, so only a check of the clearance itself can catch it.
      const beyond = demo.raw(demo.clearance(LEVELS.slice(0, 4), ["ALPHA"])).data;
      assert.equal(
        await iqCondition(submitConfig(c.olga, room, { "sec-label#custom-clearance": beyond })),
        "not-acceptable",
      );
      // Within the service clearance, the same kind of value is accepted.
      await submitConfig(c.olga, room, {
        "sec-label#custom-clearance": demo.raw(demo.clearance(LEVELS.slice(0, 4))).data,
      });
    });

    test(`[${kind}] muc#roomconfig: a room label beyond the owner's own clearance is refused (not-acceptable) and the label stays`, async () => {
      const room = await openRoom("cody-room", {}, "cody", "Cody");
      assert.equal(
        await iqCondition(submitConfig(c.cody, room, { "sec-label#label": "SECRET" })),
        "not-acceptable",
      );
      assert.equal(field(await roomInfo(c.cody, room), "x-isode#roominfo_marking"), "UNCLASSIFIED");
      await submitConfig(c.cody, room, { "sec-label#label": "CONFIDENTIAL" }); // within both clearances
      assert.equal(field(await roomInfo(c.cody, room), "x-isode#roominfo_marking"), "CONFIDENTIAL");
    });

    // §10.2 (#roomconfig): "If the <user@host> of the 'from' address does not match the bare JID of a room owner, the service MUST return a <forbidden/> error"
    test(`[${kind}] muc#owner (§10.2): a non-owner gets forbidden for the form and for a submission`, async () => {
      const room = at("conf");
      assert.equal(
        await iqCondition(
          c.pia.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER }))),
        ),
        "forbidden",
      );
      assert.equal(
        await iqCondition(submitConfig(c.pia, room, { "muc#roomconfig_roomname": "Pia's room" })),
        "forbidden",
      );
      assert.equal((await roomInfo(c.pia, room)).name, "Conference");
    });

    // §8.3 Granting Voice to a Visitor (#grantvoice), §8.4 Revoking Voice (#revokevoice); §7.4: visitors may not send
    test(`[${kind}] moderated room (§8.3, §8.4): a visitor's message is refused (forbidden) and not delivered; with voice it is, revoked again it is not`, async () => {
      const room = await openRoom("stage", { "muc#roomconfig_moderatedroom": "1" });
      assert.ok((await roomInfo(c.olga, room)).features.includes("muc_moderated"));
      const self = await join(c.pia, room, "Pia");
      assert.equal(self.getChild("x", NS_MUC_USER)!.getChild("item")!.attrs.role, "visitor");
      await c.pia.send(
        xml("message", { to: room, type: "groupchat", id: "stage-1" }, xml("body", {}, "mute me")),
      );
      assert.equal(errorCondition(await refusal(c.pia, "stage-1")), "forbidden");
      await barrier(c.olga, mucDomain);
      assert.ok(!c.olga.received.some((m) => m.attrs.id === "stage-1"));
      await admin(c.olga, room, { nick: "Pia", role: "participant" });
      const voiced = await c.pia.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Pia` &&
          statusCodes(p).includes("110") &&
          p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role === "participant",
      );
      assert.ok(voiced);
      // §8.3: every occupant learns the new role.
      await c.olga.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Pia` &&
          p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role === "participant",
      );
      await c.pia.send(
        xml("message", { to: room, type: "groupchat", id: "stage-2" }, xml("body", {}, "with voice")),
      );
      assert.equal(
        stripFlot((await c.olga.waitFor((m) => m.attrs.id === "stage-2")).getChildText("body") ?? ""),
        "with voice",
      );
      await admin(c.olga, room, { nick: "Pia", role: "visitor" });
      await c.pia.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Pia` &&
          p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role === "visitor",
      );
      await c.pia.send(
        xml("message", { to: room, type: "groupchat", id: "stage-3" }, xml("body", {}, "muted again")),
      );
      assert.equal(errorCondition(await refusal(c.pia, "stage-3")), "forbidden");
      await barrier(c.olga, mucDomain);
      assert.ok(!c.olga.received.some((m) => m.attrs.id === "stage-3"));
    });

    // §7.2.9 Max Users (#enter-maxusers)
    test(`[${kind}] max users (§7.2.9): a full room refuses a joiner with service-unavailable (wait), but admits an admin`, async () => {
      const room = await openRoom("tiny", { "muc#roomconfig_maxusers": "2" });
      await join(c.pia, room, "Pia");
      const full = await join(c.uma, room, "Uma");
      assert.equal(full.attrs.type, "error");
      assert.equal(errorCondition(full), "service-unavailable");
      assert.equal(full.getChild("error")!.attrs.type, "wait");
      await admin(c.olga, room, { jid: jid("vic"), affiliation: "admin" });
      const vic = await join(c.vic, room, "Vic");
      assert.notEqual(vic.attrs.type, "error", vic.toString());
      assert.equal(field(await roomInfo(c.olga, room), "muc#roominfo_occupants"), "3");
    });

    // §7.2.1 Basic MUC Protocol (#enter-muc: no nickname → jid-malformed); §7.2.17 Error Conditions (#enter-errorcodes)
    test(`[${kind}] nicknames (§7.2.1): a join without a nickname, or with an overlong one, is refused with jid-malformed`, async () => {
      const room = at("exit");
      await c.vic.send(xml("presence", { to: room, id: "no-nick" }, xml("x", { xmlns: NS_MUC })));
      const bare = await c.vic.waitFor((p) => p.is("presence") && p.attrs.id === "no-nick");
      assert.equal(bare.attrs.type, "error");
      assert.equal(errorCondition(bare), "jid-malformed");
      const overlong = await join(c.vic, room, "N".repeat(65));
      assert.equal(errorCondition(overlong), "jid-malformed");
      assert.equal(field(await roomInfo(c.olga, room), "muc#roominfo_occupants"), "2", "nobody entered");
      // XEP-0045 sets no length; Cordon's limit is 64 characters.
      assert.notEqual(
        (await join(c.vic, room, "N".repeat(64))).attrs.type,
        "error",
        "64 characters are allowed",
      );
    });

    // §9.2 Modifying the Ban List (#modifyban), §9.5 Modifying the Member List (#modifymember),
    // §10.5 Modifying the Owner List (#modifyowner), §10.8 Modifying the Admin List (#modifyadmin)
    test(`[${kind}] affiliation lists (§9.2, §9.5, §10.5, §10.8): the owner gets the lists it set; a participant is forbidden`, async () => {
      const room = await openRoom("roster");
      await admin(
        c.olga,
        room,
        { jid: jid("pia"), affiliation: "member" },
        { jid: jid("cody"), affiliation: "member" },
        { jid: jid("vic"), affiliation: "admin" },
        { jid: jid("uma"), affiliation: "outcast" },
      );
      assert.deepEqual(await affiliationList(c.olga, room, "member"), [jid("cody"), jid("pia")]);
      assert.deepEqual(await affiliationList(c.olga, room, "admin"), [jid("vic")]);
      assert.deepEqual(await affiliationList(c.olga, room, "outcast"), [jid("uma")]);
      assert.deepEqual(await affiliationList(c.olga, room, "owner"), [jid("olga")]);
      await admin(c.olga, room, { jid: jid("cody"), affiliation: "none" });
      assert.deepEqual(await affiliationList(c.olga, room, "member"), [jid("pia")]);
      assert.equal(errorCondition(await join(c.uma, room, "Uma")), "forbidden", "the outcast stays out");
      await join(c.pia, room, "Pia");
      assert.equal(
        await iqCondition(
          c.pia.iq(
            xml(
              "iq",
              { type: "get", to: room },
              xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { affiliation: "outcast" })),
            ),
          ),
        ),
        "forbidden",
      );
    });
  });
}
