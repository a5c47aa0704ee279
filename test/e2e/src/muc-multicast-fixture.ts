// One set-up for the e2e tests of the MUC's XEP-0033 fan-out (issue 19 goal 2;
// packages/muc/src/service/multicast.ts): a server, two labelled MUCs with multicast on and a room
// of cleared label-aware, cleared label-unaware and uncleared occupants. Registers its own
// before/after in the calling describe().
//
// ejabberd 23.01: mod_multicast with a cap of CAP addresses (`limits: remote: message`). Service A
// sends chunks of CAP (accepted); service B chunks of 20 (over the cap: not-acceptable, XEP-0033
// §8). Prosody 0.12 has no XEP-0033 service: the MUC finds none at start and goes per copy.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  connectClient,
  xml,
  type ServerKind,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createLogger, parseElement } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "./demo.js";
import { advertiseLabels } from "./caps.js";
import { joinRoom, configureRoom } from "./muc-client.js";

export const NS_ADDRESS = "http://jabber.org/protocol/address";
const NS_SL = "urn:xmpp:sec-label:0";
const NS_SID = "urn:xmpp:sid:0";
const NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0";
export const CAP = 3;
export const AWARE = ["alice", "bob", "frank"];
export const UNAWARE = ["erin", "grace", "hank", "ivan"];
export const UNCLEARED = ["carol"];
export const USERS = [...AWARE, ...UNAWARE, ...UNCLEARED];
const demo = loadDemo();
const SECRET = demo.label("SECRET");

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A MUC's log line (pino JSON) as the tests read it. */
export interface LogLine {
  msg: string;
  condition?: string;
  byAddress?: boolean;
  copies?: number;
}

export interface MulticastFixture {
  readonly domain: string;
  /** The multicast service's JID (XEP-0033 §2). */
  readonly service: string;
  /** Chunks within the server's cap. */
  readonly mucA: string;
  /** Chunks of 20, over ejabberd's cap. */
  readonly mucB: string;
  client: (user: string) => TestClient;
  /** Multicast stanzas a MUC keeps for their errors (`service.memory()`). */
  kept: (muc: string) => number;
  /** A MUC's log lines with this message. */
  logged: (muc: string, msg: string) => LogLine[];
  /** Everyone enters `room` (alice creates and configures it). */
  enter: (room: string) => Promise<void>;
  /**
   * Alice says `id` labelled SECRET; asserts every entitled occupant gets exactly one copy (its
   * label or FLOT, one stanza-id, the sender's occupant-id, no <addresses/>, no other JID) within
   * `waitMs`, and the uncleared nothing.
   */
  sayAndCheck: (room: string, id: string, waitMs?: number) => Promise<void>;
}

/** Sets up the server, MUCs and clients for `kind` under `<kind>-<tag>.test`. */
export function useMulticastFixture(kind: ServerKind, tag: string): MulticastFixture {
  const domain = `${kind}-${tag}.test`;
  const service = `multicast.${domain}`;
  const secret = "mfan-secret";
  const mucA = `rooms.${domain}`;
  const mucB = `rooms2.${domain}`;
  let server: XmppServer | undefined;
  let store: MemoryStore | undefined;
  const mucs = new Map<string, MucService>();
  const clients = new Map<string, TestClient>();
  const logs = new Map<string, LogLine[]>();

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
      const lines: LogLine[] = [];
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
            destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
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

  async function enter(room: string): Promise<void> {
    await joinRoom(client("alice"), room, "alice");
    await configureRoom(client("alice"), room);
    for (const u of USERS.slice(1)) {
      const self = await joinRoom(client(u), room, u);
      assert.notEqual(self.attrs.type, "error", `${u} enters`);
    }
  }

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

  return {
    domain,
    service,
    mucA,
    mucB,
    client,
    kept: (muc) =>
      mucs
        .get(muc)
        ?.memory()
        .find((b) => b.buffer === "multicast")?.entries ?? 0,
    logged: (muc, msg) => (logs.get(muc) ?? []).filter((l) => l.msg === msg),
    enter,
    sayAndCheck,
  };
}
