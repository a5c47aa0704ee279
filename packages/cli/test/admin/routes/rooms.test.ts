// The rooms area of the admin API (admin/routes/rooms.ts) as a pure handler over a real MUC service
// (never connected: what it would send is not looked at here — the MUC's own operator.test.ts and
// the console e2e do) and a real audit chain: markings in their SPIF colours, occupants with their
// clearance markings, relabel through the MUC's rules (the uncovered removed, the service clearance
// bounds it), kick, destroy, create; every change recorded with who made it before the answer, a
// refusal recorded as deny, a log that has failed refuses the change before it is made.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createComponent, silentLogger } from "@cordon/component";
import { makeClearance, makeLabel, PolicyRegistry, type Clearance, type Label } from "@cordon/policy";
import { createMucService, DEFAULT_ROOM_CONFIG, type MucService, type Occupant } from "@cordon/muc";
import { MemoryAuditSink, type AuditRecord } from "@cordon/relay";
import { MemoryStore } from "@cordon/store";
import { createAdminHandler } from "../../../src/admin/handler.js";
import {
  errorResponse,
  type AdminRequest,
  type AdminResponse,
  type RoutedRequest,
} from "../../../src/admin/http.js";
import { roomRoutes, type ChangeAudit } from "../../../src/admin/routes/rooms.js";
import { assertAuditWritable, recordEventWritten } from "../../../src/audit-log.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../..");
const registry = new PolicyRegistry();
const policy = registry.loadFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"));
const cls = (n: string) => policy.classifications.find((c) => c.name === n)!;
const label = (n: string): Label => makeLabel(policy, cls(n), []);
const clearance = (ns: string[]): Clearance => makeClearance(policy, ns.map(cls), []);
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const TOKEN = "rooms-route-token-0123456789";
const DOMAIN = "rooms.example.test";

function setup(serviceClearance?: Clearance) {
  const store = new MemoryStore();
  // Never connected: what it would send is given up after 100 ms (the default, 30 s a send, made
  // the relabel and kick tests take a minute each).
  const component = createComponent({
    service: "xmpp://127.0.0.1:1",
    domain: DOMAIN,
    secret: "unused",
    queue: { offlineTimeoutMs: 100 },
  });
  const named = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"].map((name) => ({ name, label: label(name) }));
  const service: MucService = createMucService({
    component,
    registry,
    governingPolicy: policy.id,
    store,
    settings: {
      domain: DOMAIN,
      createRooms: "anyone",
      localDomains: ["example.test"],
      serviceClearance,
      defaultRoomLabel: label("UNCLASSIFIED"),
      defaultRoomClearance: clearance(ALL),
      defaultMessageLabel: label("UNCLASSIFIED"),
      namedLabels: named,
      roomDefaults: { ...DEFAULT_ROOM_CONFIG },
      occupantIdSecret: "s",
      clearanceRefreshMs: 60_000,
      capsTimeoutMs: 100,
    },
    logger: silentLogger(),
  });
  const sink = new MemoryAuditSink(true);
  let order: string[] = [];
  const audit: ChangeAudit = {
    assertWritable: () => assertAuditWritable(sink),
    record: async (event) => {
      await recordEventWritten(sink, event, silentLogger());
      order.push(`audit:${event.action}`);
    },
  };
  const provider = () => ({ operator: service.operator, namedLabels: () => named });
  const handler = createAdminHandler(
    { components: () => [], rooms: provider, changeAudit: audit },
    { token: TOKEN },
  );
  // The routes themselves (pure), for a console user's `who`; without `who`, the whole handler with
  // the bearer token (who = "token").
  const routes = roomRoutes({ rooms: provider, audit: () => audit });
  const call = async (method: string, path: string, body?: unknown, who?: string) => {
    const req: AdminRequest = {
      method,
      url: path,
      authorization: `Bearer ${TOKEN}`,
      host: "127.0.0.1:9090",
      contentType: "application/json",
      body: body === undefined ? new Uint8Array() : Buffer.from(JSON.stringify(body)),
    };
    let r: AdminResponse;
    if (who === undefined) r = await handler(req);
    else {
      const url = new URL(path, "http://admin.invalid");
      const route = routes.find((x) => x.pattern.test(url.pathname))!;
      const match = route.pattern.exec(url.pathname)!;
      const routed: RoutedRequest = { ...req, who: { user: who, role: "admin" } };
      r = await route.methods[method]!(routed, match, url.searchParams).catch(errorResponse);
    }
    order.push(`answer:${method}`);
    return { status: r.status, json: JSON.parse(String(r.body)) as Record<string, unknown> };
  };
  const occupant = (room: string, nick: string, classes: string[] | "unknown"): void => {
    const r = service.rooms.get(room)!;
    const o: Occupant = {
      nick,
      jid: `${nick}@example.test/res`,
      bare: `${nick}@example.test`,
      role: "participant",
      affiliation: "none",
      occupantId: nick,
      clearance:
        classes === "unknown"
          ? { status: "unknown", reason: "down" }
          : { status: "known", clearance: clearance(classes), fingerprint: classes.join() },
      labelAware: true,
      presenceXml: "",
      joinedAt: 0,
    };
    r.add(o);
  };
  return { service, store, sink, call, occupant, orderReset: () => (order = []), order: () => order };
}

const records = (sink: MemoryAuditSink) => sink.records as (AuditRecord & Record<string, unknown>)[];

describe("admin routes: rooms", () => {
  test("create, list with coloured markings, detail with occupants' clearance markings", async () => {
    const t = setup();
    const made = await t.call(
      "POST",
      "/rooms",
      { room: "ops", name: "Operations", label: "CONFIDENTIAL", clearance: ["UNCLASSIFIED", "CONFIDENTIAL"] },
      "officer",
    );
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const room = made.json.room as { jid: string; label: { text: string; bg?: string; fg?: string } };
    assert.equal(room.jid, `ops@${DOMAIN}`);
    assert.match(room.label.text, /CONFIDENTIAL/);
    assert.equal(room.label.bg, cls("CONFIDENTIAL").color, "the SPIF colour of the classification");
    assert.ok(room.label.fg === "black" || room.label.fg === "white");
    t.occupant(`ops@${DOMAIN}`, "alice", ALL);
    t.occupant(`ops@${DOMAIN}`, "dave", "unknown");
    const list = await t.call("GET", "/rooms");
    assert.equal(list.status, 200);
    const rooms = list.json.rooms as { jid: string; occupants: number; clearance: { text: string } }[];
    assert.deepEqual(
      rooms.map((r) => [r.jid, r.occupants]),
      [[`ops@${DOMAIN}`, 2]],
    );
    assert.deepEqual(
      (list.json.labels as { name: string }[]).map((l) => l.name),
      ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"],
    );
    const detail = await t.call("GET", `/rooms/${encodeURIComponent(`ops@${DOMAIN}`)}`);
    const occupants = (
      detail.json.room as { occupants: { nick: string; clearance: Record<string, unknown> }[] }
    ).occupants;
    assert.equal(occupants[0]?.nick, "alice");
    assert.equal(occupants[0]?.clearance.status, "known");
    assert.match((occupants[0]?.clearance.marking as { text: string }).text, /TOP SECRET/);
    assert.deepEqual(occupants[1]?.clearance, { status: "unknown" });
    const create = records(t.sink).find((r) => r.action === "room-create");
    assert.equal(create?.actor, "officer");
    assert.equal(create?.target, "ops");
    assert.equal(create?.decision, "change");
    assert.equal((await t.call("POST", "/rooms", { room: "ops", label: "SECRET" })).status, 409);
    assert.equal((await t.call("GET", "/rooms/nope%40rooms.example.test")).status, 404);
    assert.equal((await t.call("GET", "/rooms/%E0%A4%A")).status, 400, "malformed percent-encoding");
  });

  test("relabel upward: the uncleared occupant is removed, the answer names it; recorded before the answer", async () => {
    const t = setup();
    await t.call("POST", "/rooms", { room: "vault", label: "UNCLASSIFIED" });
    const jid = `vault@${DOMAIN}`;
    t.occupant(jid, "alice", ALL);
    t.occupant(jid, "carol", ["UNCLASSIFIED"]);
    t.orderReset();
    const r = await t.call("PUT", `/rooms/${encodeURIComponent(jid)}/label`, { label: "SECRET" }, "officer");
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.removed, ["carol"]);
    assert.deepEqual([...t.service.rooms.get(jid)!.occupants.keys()], ["alice"]);
    assert.match((r.json.room as { label: { text: string } }).label.text, /SECRET/);
    assert.deepEqual(t.order(), ["audit:room-relabel", "answer:PUT"]);
    const rec = records(t.sink).at(-1)!;
    assert.equal(rec.actor, "officer");
    assert.equal(rec.target, jid);
    assert.match(String(rec.marking), /SECRET/);
    assert.equal(rec.detail, "1 occupants removed");
  });

  test("relabel above the service clearance: 422 with the MUC's reason, recorded as deny, nothing changed", async () => {
    const t = setup(clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"]));
    await t.call("POST", "/rooms", { room: "ops", label: "UNCLASSIFIED" });
    const jid = `ops@${DOMAIN}`;
    t.occupant(jid, "carol", ["UNCLASSIFIED"]);
    const r = await t.call("PUT", `/rooms/${encodeURIComponent(jid)}/label`, { label: "SECRET" }, "officer");
    assert.equal(r.status, 422);
    assert.equal((r.json.error as { code: string }).code, "CORDON_MUC_OPERATOR_REFUSED");
    assert.match((r.json.error as { message: string }).message, /outside the service clearance/);
    assert.equal(t.service.rooms.get(jid)!.security.label?.classification.name, "UNCLASSIFIED");
    assert.equal(t.service.rooms.get(jid)!.occupants.size, 1);
    const rec = records(t.sink).at(-1)!;
    assert.equal(rec.decision, "deny");
    assert.equal(rec.reason, "CORDON_MUC_OPERATOR_REFUSED");
    // A label the service does not offer: refused without echoing it.
    const odd = await t.call("PUT", `/rooms/${encodeURIComponent(jid)}/label`, {
      label: "<b>XSS-MARKER</b>",
    });
    assert.equal(odd.status, 422);
    assert.doesNotMatch(JSON.stringify(odd.json), /XSS-MARKER/);
    assert.equal((await t.call("PUT", `/rooms/${encodeURIComponent(jid)}/label`, { label: 3 })).status, 400);
  });

  test("kick (any occupant) and destroy; a failed audit log refuses before anything is done", async () => {
    const t = setup();
    await t.call("POST", "/rooms", { room: "ops", label: "UNCLASSIFIED" });
    const jid = `ops@${DOMAIN}`;
    t.occupant(jid, "alice", ALL);
    t.occupant(jid, "bob", ALL);
    const kicked = await t.call(
      "POST",
      `/rooms/${encodeURIComponent(jid)}/kick`,
      { nick: "bob", reason: "out" },
      "o",
    );
    assert.equal(kicked.status, 200);
    assert.deepEqual(kicked.json, { kicked: "bob", occupant: "bob@example.test" });
    assert.ok(!t.service.rooms.get(jid)!.occupants.has("bob"));
    assert.equal(records(t.sink).at(-1)?.action, "room-kick");
    assert.equal(
      (await t.call("POST", `/rooms/${encodeURIComponent(jid)}/kick`, { nick: "bob" })).status,
      422,
    );

    t.sink.failed = new Error("disk full");
    const refused = await t.call("DELETE", `/rooms/${encodeURIComponent(jid)}`);
    assert.equal(refused.status, 503);
    assert.ok(t.service.rooms.has(jid), "not destroyed: the log could not tell it");
    t.sink.failed = undefined;

    const destroyed = await t.call("DELETE", `/rooms/${encodeURIComponent(jid)}`, { reason: "done" }, "o");
    assert.equal(destroyed.status, 200);
    assert.deepEqual(destroyed.json, { destroyed: jid, occupants: 1 });
    assert.ok(!t.service.rooms.has(jid));
    assert.equal(records(t.sink).at(-1)?.action, "room-destroy");
    assert.equal((await t.call("DELETE", `/rooms/${encodeURIComponent(jid)}`)).status, 404);
  });

  test("a kick names the occupant the page showed: a nickname taken by someone else since is refused", async () => {
    // The page showed bob as "lead" and sent only the nickname (adv16): had bob left and someone
    // else joined as "lead" meanwhile, the officer's click kicked them.
    const t = setup();
    await t.call("POST", "/rooms", { room: "ops2", label: "UNCLASSIFIED" });
    const jid = `ops2@${DOMAIN}`;
    const room = t.service.rooms.get(jid)!;
    // Now "lead" is lead@example.test/res (the test's occupants are NICK@example.test/res).
    t.occupant(jid, "lead", ALL);
    const kick = (occupant: string) =>
      t.call("POST", `/rooms/${encodeURIComponent(jid)}/kick`, { nick: "lead", occupant }, "o");
    const wrong = await kick("bob@example.test/res");
    assert.equal(wrong.status, 422, JSON.stringify(wrong.json));
    assert.ok(room.occupants.has("lead"), "the occupant the page did not show stays");
    assert.deepEqual(
      [records(t.sink).at(-1)?.action, records(t.sink).at(-1)?.decision],
      ["room-kick", "deny"],
    );
    const right = await kick("lead@example.test/res");
    assert.equal(right.status, 200);
    assert.ok(!room.occupants.has("lead"));
  });

  test("without a MUC: 404 CORDON_ADMIN_NOT_RUNNING; who defaults to the token", async () => {
    const handler = createAdminHandler({ components: () => [] }, { token: TOKEN });
    const r = await handler({
      method: "GET",
      url: "/rooms",
      authorization: `Bearer ${TOKEN}`,
      host: "127.0.0.1",
      body: new Uint8Array(),
    });
    assert.equal(r.status, 404);
    const t = setup();
    await t.call("POST", "/rooms", { room: "x", label: "UNCLASSIFIED" });
    assert.equal(records(t.sink).at(-1)?.actor, "token");
  });
});
