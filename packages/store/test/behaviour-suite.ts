// The behaviour suite every ClearanceStore backend must pass (run for memory and Redis).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  InvalidJidError,
  InvalidValueError,
  RoomNotStoredError,
  type ClearanceStore,
  type RoomRecord,
  type StoreEvent,
} from "../src/index.js";
import { BER_ALL_OKAY, eventually, recorder, XML_CLEARANCE } from "./helpers.js";

export interface StoreFactory {
  name: string;
  /** A fresh, empty store. `peer` gives a second client on the same backend. */
  create(): Promise<{ store: ClearanceStore; peer(): Promise<ClearanceStore> }>;
  teardown?(): Promise<void>;
}

function hasEvent(events: StoreEvent[], want: StoreEvent): boolean {
  return events.some((e) => JSON.stringify(e) === JSON.stringify(want));
}

export function behaviourSuite(factory: StoreFactory): void {
  describe(`ClearanceStore behaviour: ${factory.name}`, () => {
    let store: ClearanceStore;
    let peerOf: () => Promise<ClearanceStore>;
    const opened: ClearanceStore[] = [];

    before(async () => {
      const made = await factory.create();
      store = made.store;
      peerOf = () => made.peer();
      opened.push(store);
    });
    after(async () => {
      for (const s of opened) await s.close();
      await factory.teardown?.();
    });

    test("user clearance: none, set, get with normalised JID, delete", async () => {
      assert.deepEqual(await store.getUserClearance("nobody@example.mil"), { status: "none" });
      await store.setUserClearance("Alice@Example.MIL", BER_ALL_OKAY);
      const got = await store.getUserClearance("alice@example.mil");
      assert.equal(got.status, "known");
      assert.ok(got.status === "known");
      assert.deepEqual(got.clearance, BER_ALL_OKAY);
      assert.ok(got.source === "store" || got.source === "cache");
      assert.equal(await store.deleteUserClearance("ALICE@example.mil"), true);
      assert.equal(await store.deleteUserClearance("alice@example.mil"), false);
      await eventually(
        async () => (await store.getUserClearance("alice@example.mil")).status === "none",
        "alice deleted",
      );
    });

    test("user clearance per policy falls back to the policy-independent one", async () => {
      await store.setUserClearance("bob@example.mil", XML_CLEARANCE);
      await store.setUserClearance("bob@example.mil", BER_ALL_OKAY, "1.2.826.0.1.6726289.0.0");
      const p = await store.getUserClearance("bob@example.mil", "1.2.826.0.1.6726289.0.0");
      assert.ok(p.status === "known");
      assert.deepEqual(p.clearance, BER_ALL_OKAY);
      const other = await store.getUserClearance("bob@example.mil", "1.3.6.1.4.1.1");
      assert.ok(other.status === "known");
      assert.deepEqual(other.clearance, XML_CLEARANCE);
      const list = (await store.listUserClearances()).filter((e) => e.jid === "bob@example.mil");
      assert.deepEqual(list, [
        { jid: "bob@example.mil", clearance: XML_CLEARANCE },
        { jid: "bob@example.mil", policy: "1.2.826.0.1.6726289.0.0", clearance: BER_ALL_OKAY },
      ]);
      assert.equal(await store.deleteUserClearance("bob@example.mil"), true);
      await eventually(async () => {
        const r = await store.getUserClearance("bob@example.mil", "1.3.6.1.4.1.1");
        return r.status === "none";
      }, "bob's default clearance gone");
      assert.equal(
        (await store.getUserClearance("bob@example.mil", "1.2.826.0.1.6726289.0.0")).status,
        "known",
      );
      assert.equal(await store.deleteUserClearance("bob@example.mil", "1.2.826.0.1.6726289.0.0"), true);
      assert.deepEqual(
        (await store.listUserClearances()).filter((e) => e.jid === "bob@example.mil"),
        [],
      );
    });

    test("bounded listing: pages cover every user once, search narrows, bad input refused", async () => {
      const jids = Array.from({ length: 300 }, (_, i) => `page-${String(i).padStart(3, "0")}@list.test`);
      for (const jid of jids) await store.setUserClearance(jid, BER_ALL_OKAY);
      await store.setUserClearance("page-007@list.test", XML_CLEARANCE, "1.3.6.1.4.1.1");
      const seen = new Map<string, number>();
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listUserClearancesPage({
          query: "@LIST.test",
          limit: 50,
          ...(cursor !== undefined ? { cursor } : {}),
        });
        pages++;
        const pageJids = new Set(page.entries.map((e) => e.jid));
        // Bounded: a page holds about `limit` JIDs (Redis may add the rest of a batch).
        assert.ok(pageJids.size <= 100, `page of ${pageJids.size}`);
        for (const j of pageJids) seen.set(j, (seen.get(j) ?? 0) + 1);
        cursor = page.next;
      } while (cursor !== undefined && pages < 100);
      assert.ok(pages >= 3, `${pages} pages`);
      assert.deepEqual([...seen.keys()].sort(), jids);
      // One JID, every policy of it.
      const one = await store.listUserClearancesPage({ query: "page-007@" });
      assert.deepEqual(one, {
        entries: [
          { jid: "page-007@list.test", clearance: BER_ALL_OKAY },
          { jid: "page-007@list.test", policy: "1.3.6.1.4.1.1", clearance: XML_CLEARANCE },
        ],
      });
      const tens = await store.listUserClearancesPage({ query: "page-01", limit: 500 });
      assert.deepEqual(
        [...new Set(tens.entries.map((e) => e.jid))],
        jids.filter((j) => j.startsWith("page-01")),
      );
      // Glob metacharacters are searched literally.
      assert.deepEqual((await store.listUserClearancesPage({ query: "page-*" })).entries, []);
      for (const bad of [
        { limit: 0 },
        { limit: 501 },
        { limit: 1.5 },
        { query: "x".repeat(257) },
        { cursor: "garbage!" },
      ])
        await assert.rejects(store.listUserClearancesPage(bad), InvalidValueError);
      for (const jid of jids) await store.deleteUserClearance(jid);
      await store.deleteUserClearance("page-007@list.test", "1.3.6.1.4.1.1");
      assert.deepEqual((await store.listUserClearancesPage({ query: "@list.test" })).entries, []);
    });

    test("malformed JIDs and values are rejected with typed errors", async () => {
      for (const bad of [
        "",
        "@example.mil",
        "a@b@c",
        "alice@example.mil/res",
        "a b@example.mil",
        "alice@",
        "alice@-bad-.mil",
        "al<ice@example.mil",
      ]) {
        await assert.rejects(
          store.getUserClearance(bad),
          (e: unknown) => e instanceof InvalidJidError && e.code === "CORDON_STORE_INVALID_JID",
          bad,
        );
      }
      await assert.rejects(
        store.setUserClearance("a@example.mil", { encoding: "der" as "ber", data: "AA==" }),
        InvalidValueError,
      );
      await assert.rejects(
        store.setUserClearance("a@example.mil", { encoding: "ber", data: "not base64!" }),
        InvalidValueError,
      );
      await assert.rejects(
        store.setUserClearance("a@example.mil", BER_ALL_OKAY, "not-an-oid"),
        InvalidValueError,
      );
      await assert.rejects(
        store.setPeerClearance("peer.example", "sideways" as "inbound", BER_ALL_OKAY),
        InvalidValueError,
      );
    });

    test("service clearance per component domain", async () => {
      assert.deepEqual(await store.getServiceClearance("rooms.example.mil"), { status: "none" });
      await store.setServiceClearance("Rooms.Example.mil", XML_CLEARANCE);
      const got = await store.getServiceClearance("rooms.example.mil");
      assert.ok(got.status === "known");
      assert.deepEqual(got.clearance, XML_CLEARANCE);
      assert.deepEqual(await store.listServiceClearances(), [
        { domain: "rooms.example.mil", clearance: XML_CLEARANCE },
      ]);
      assert.equal(await store.deleteServiceClearance("rooms.example.mil"), true);
      await eventually(
        async () => (await store.getServiceClearance("rooms.example.mil")).status === "none",
        "service clearance gone",
      );
    });

    test("peer clearances per domain and direction", async () => {
      await store.setPeerClearance("Peer.Example", "inbound", BER_ALL_OKAY);
      await store.setPeerClearance("peer.example", "outbound", XML_CLEARANCE);
      const inb = await store.getPeerClearance("peer.example", "inbound");
      const out = await store.getPeerClearance("peer.example", "outbound");
      assert.ok(inb.status === "known" && out.status === "known");
      assert.deepEqual(inb.clearance, BER_ALL_OKAY);
      assert.deepEqual(out.clearance, XML_CLEARANCE);
      assert.deepEqual(await store.listPeerClearances(), [
        { domain: "peer.example", direction: "inbound", clearance: BER_ALL_OKAY },
        { domain: "peer.example", direction: "outbound", clearance: XML_CLEARANCE },
      ]);
      assert.equal(await store.deletePeerClearance("peer.example", "inbound"), true);
      await eventually(
        async () => (await store.getPeerClearance("peer.example", "inbound")).status === "none",
        "inbound gone",
      );
      assert.equal((await store.getPeerClearance("peer.example", "outbound")).status, "known");
      assert.equal(await store.deletePeerClearance("peer.example", "outbound"), true);
      assert.deepEqual(await store.listPeerClearances(), []);
    });

    test("room records, affiliations, listing and deletion", async () => {
      const room: RoomRecord = {
        jid: "War-Room@Rooms.Example.mil",
        config: { name: "War room", maxUsers: 20, nested: { moderated: true } },
        label: BER_ALL_OKAY,
        clearance: XML_CLEARANCE,
        affiliations: { "Alice@example.mil": "owner", "bob@example.mil": "member" },
        persistent: true,
      };
      assert.equal(await store.getRoom("war-room@rooms.example.mil"), undefined);
      await store.putRoom(room);
      const got = await store.getRoom("war-room@rooms.example.mil");
      assert.deepEqual(got, {
        jid: "war-room@rooms.example.mil",
        config: { name: "War room", maxUsers: 20, nested: { moderated: true } },
        label: BER_ALL_OKAY,
        clearance: XML_CLEARANCE,
        affiliations: { "alice@example.mil": "owner", "bob@example.mil": "member" },
        persistent: true,
      });
      assert.equal(
        await store.setAffiliation("war-room@rooms.example.mil", "Carol@example.mil", "admin"),
        true,
      );
      assert.equal(await store.setAffiliation("war-room@rooms.example.mil", "bob@example.mil", "none"), true);
      assert.equal(
        await store.setAffiliation("nowhere@rooms.example.mil", "bob@example.mil", "member"),
        false,
      );
      assert.deepEqual((await store.getRoom("war-room@rooms.example.mil"))?.affiliations, {
        "alice@example.mil": "owner",
        "carol@example.mil": "admin",
      });
      await store.putRoom({
        jid: "lobby@rooms.example.mil",
        config: {},
        affiliations: {},
        persistent: false,
        defaultLabel: XML_CLEARANCE,
      });
      await store.putRoom({
        jid: "other@conference.peer.example",
        config: {},
        affiliations: {},
        persistent: false,
      });
      assert.deepEqual(await store.listRooms("rooms.example.mil"), [
        "lobby@rooms.example.mil",
        "war-room@rooms.example.mil",
      ]);
      assert.equal((await store.listRooms()).length, 3);
      const lobby = await store.getRoom("lobby@rooms.example.mil");
      assert.deepEqual(lobby, {
        jid: "lobby@rooms.example.mil",
        config: {},
        affiliations: {},
        persistent: false,
        defaultLabel: XML_CLEARANCE,
      });
      // put replaces the whole record, affiliations included
      await store.putRoom({ ...room, affiliations: { "dave@example.mil": "outcast" }, label: undefined });
      const replaced = await store.getRoom("war-room@rooms.example.mil");
      assert.deepEqual(replaced?.affiliations, { "dave@example.mil": "outcast" });
      assert.equal(replaced?.label, undefined);
      for (const j of await store.listRooms()) assert.equal(await store.deleteRoom(j), true);
      assert.equal(await store.deleteRoom("lobby@rooms.example.mil"), false);
      assert.deepEqual(await store.listRooms(), []);
    });

    test("room history is append-only, capped, oldest first, removed with the room", async () => {
      const r = "hist@rooms.example.mil";
      await store.putRoom({ jid: r, config: {}, affiliations: {}, persistent: true });
      for (let i = 0; i < 7; i++) await store.appendRoomHistory(r, JSON.stringify({ i }), 5);
      assert.deepEqual(
        await store.getRoomHistory(r),
        [2, 3, 4, 5, 6].map((i) => JSON.stringify({ i })),
      );
      assert.deepEqual(
        await store.getRoomHistory("HIST@rooms.example.mil", 2),
        [5, 6].map((i) => JSON.stringify({ i })),
      );
      await assert.rejects(store.appendRoomHistory(r, "x", 0), InvalidValueError);
      assert.equal(await store.deleteRoom(r), true);
      assert.deepEqual(await store.getRoomHistory(r), []);
    });

    test("history is kept only for a stored room: appends to a deleted or never stored room are refused", async () => {
      const r = "late@rooms.example.mil";
      const record = { jid: r, config: {}, affiliations: {}, persistent: true };
      await assert.rejects(store.appendRoomHistory(r, "never stored"), RoomNotStoredError);
      await store.putRoom(record);
      await store.appendRoomHistory(r, "1");
      assert.equal(await store.deleteRoom(r), true);
      await assert.rejects(
        store.appendRoomHistory(r, "after the deletion"),
        (e: Error & { code?: string }) => {
          return e instanceof RoomNotStoredError && e.code === "CORDON_STORE_ROOM_NOT_STORED";
        },
      );
      // Whoever creates a room of that JID next finds no history of the deleted one.
      await store.putRoom(record);
      assert.deepEqual(await store.getRoomHistory(r), []);
      assert.equal(await store.deleteRoom(r), true);
    });

    test("catalogs per domain, per room, personal", async () => {
      const scopes = [
        { kind: "domain", domain: "Example.mil" },
        { kind: "room", jid: "ops@rooms.example.mil" },
        { kind: "personal", jid: "Alice@example.mil" },
      ] as const;
      for (const [i, s] of scopes.entries()) {
        assert.equal(await store.getCatalog(s), undefined);
        await store.setCatalog(s, JSON.stringify({ items: i }));
      }
      assert.equal(
        await store.getCatalog({ kind: "domain", domain: "example.mil" }),
        JSON.stringify({ items: 0 }),
      );
      assert.equal(
        await store.getCatalog({ kind: "room", jid: "ops@rooms.example.mil" }),
        JSON.stringify({ items: 1 }),
      );
      assert.equal(
        await store.getCatalog({ kind: "personal", jid: "alice@example.mil" }),
        JSON.stringify({ items: 2 }),
      );
      for (const s of scopes) assert.equal(await store.deleteCatalog(s), true);
      assert.equal(await store.deleteCatalog(scopes[0]), false);
    });

    test("notifications: every change kind, to this client and to a second client", async () => {
      const other = await peerOf();
      opened.push(other);
      const mine = recorder();
      const theirs = recorder();
      const un1 = store.subscribe(mine.listener);
      const un2 = other.subscribe(theirs.listener);
      await store.setUserClearance("Eve@example.mil", BER_ALL_OKAY);
      await store.setServiceClearance("muc.example.mil", BER_ALL_OKAY);
      await store.setPeerClearance("peer.example", "outbound", BER_ALL_OKAY);
      await store.putRoom({ jid: "n@rooms.example.mil", config: {}, affiliations: {}, persistent: false });
      await store.setCatalog({ kind: "personal", jid: "eve@example.mil" }, "[]");
      const want: StoreEvent[] = [
        { kind: "user-clearance", jid: "eve@example.mil" },
        { kind: "service-clearance", domain: "muc.example.mil" },
        { kind: "peer-clearance", domain: "peer.example", direction: "outbound" },
        { kind: "room", jid: "n@rooms.example.mil" },
        { kind: "catalog", scope: { kind: "personal", jid: "eve@example.mil" } },
      ];
      for (const w of want) {
        await eventually(() => hasEvent(mine.events, w), `own ${w.kind} event`);
        await eventually(() => hasEvent(theirs.events, w), `peer ${w.kind} event`);
      }
      // The second client sees the change, and a change it makes reaches the first.
      const seen = await other.getUserClearance("eve@example.mil");
      assert.equal(seen.status, "known");
      await other.setAffiliation("n@rooms.example.mil", "eve@example.mil", "member");
      await eventually(
        () => mine.events.filter((e) => e.kind === "room").length >= 2,
        "affiliation change notified",
      );
      assert.deepEqual((await store.getRoom("n@rooms.example.mil"))?.affiliations, {
        "eve@example.mil": "member",
      });
      // A cached answer in one client is dropped when the other client changes the value.
      await other.deleteUserClearance("eve@example.mil");
      await eventually(
        async () => (await store.getUserClearance("eve@example.mil")).status === "none",
        "delete seen by first client",
      );
      // Unsubscribe stops delivery; a throwing listener does not break others.
      un1();
      const count = mine.events.length;
      const un3 = other.subscribe(() => {
        throw new Error("listener bug");
      });
      await store.deleteRoom("n@rooms.example.mil");
      await eventually(
        () =>
          theirs.events.some(
            (e) => e.kind === "room" && theirs.events.filter((x) => x.kind === "room").length >= 3,
          ),
        "room delete notified",
      );
      assert.equal(mine.events.length, count);
      un2();
      un3();
      await store.deleteServiceClearance("muc.example.mil");
      await store.deletePeerClearance("peer.example", "outbound");
      await store.deleteCatalog({ kind: "personal", jid: "eve@example.mil" });
    });

    test("returned values are copies", async () => {
      await store.putRoom({
        jid: "copy@rooms.example.mil",
        config: { a: 1 },
        affiliations: {},
        persistent: false,
      });
      const r1 = await store.getRoom("copy@rooms.example.mil");
      assert.ok(r1);
      r1.config.a = 2;
      r1.affiliations["x@example.mil"] = "owner";
      assert.deepEqual(await store.getRoom("copy@rooms.example.mil"), {
        jid: "copy@rooms.example.mil",
        config: { a: 1 },
        affiliations: {},
        persistent: false,
      });
      await store.deleteRoom("copy@rooms.example.mil");
    });
  });
}
