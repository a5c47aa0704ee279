// The MUC's own policy reload: re-read under the new policies, refused (nothing changes) when a room
// no longer reads, and once installed, occupants the room label no longer admits are removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { makeClearance, makeLabel, PolicyRegistry, type Policy } from "@cordon/policy";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { Room } from "../src/room/room.js";
import type { Occupant } from "../src/room/occupant.js";
import { MucReloadError, preparePolicyReload } from "../src/service/policy-reload.js";
import { capturingContext, demoPolicyPath } from "./muc-test-context.js";

const demo = readFileSync(demoPolicyPath(), "utf8");
/** The demo policy without the BRAVO compartment: labels and clearances holding it no longer read. */
const withoutBravo = demo.replace(/<tagCategory name="BRAVO"[\s\S]*?<\/tagCategory>/, "");

function setUp() {
  const registry = new PolicyRegistry();
  const policy = registry.loadString(demo);
  const cls = (p: Policy, n: string) => p.classificationByName.get(n)!;
  const cat = (p: Policy, n: string) => p.categories.find((c) => c.name === n)!;
  const unclassified = makeLabel(policy, cls(policy, "UNCLASSIFIED"), []);
  const ctx = capturingContext(registry, policy, { defaultRoomLabel: unclassified });
  const room = new Room(
    "ops@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG },
    { label: unclassified, clearance: undefined, defaultLabel: undefined, raw: {} },
  );
  ctx.rooms.set(room.jid, room);
  const occupant = (name: string, categories: string[]): Occupant => ({
    nick: name,
    jid: `${name}@example.test/r`,
    bare: `${name}@example.test`,
    role: "participant",
    affiliation: "none",
    occupantId: name,
    clearance: {
      status: "known",
      clearance: makeClearance(
        policy,
        [cls(policy, "UNCLASSIFIED"), cls(policy, "SECRET")],
        categories.map((c) => cat(policy, c)),
      ),
      fingerprint: name,
    },
    labelAware: true,
    presenceXml: "",
    joinedAt: 0,
  });
  const alice = occupant("alice", ["ALPHA"]);
  const bob = occupant("bob", ["BRAVO"]);
  room.add(alice);
  room.add(bob);
  return { registry, policy, ctx, room, alice, bob, cls, cat };
}

test("a room whose label no longer reads refuses the reload; nothing changes", () => {
  const { ctx, room, policy, cls, cat, registry } = setUp();
  room.security = {
    ...room.security,
    label: makeLabel(policy, cls(policy, "SECRET"), [cat(policy, "BRAVO")]),
  };
  const before = { security: room.security, settings: { ...ctx.settings } };
  const next = new PolicyRegistry();
  next.loadString(withoutBravo);
  let refreshed = 0;
  assert.throws(
    () => preparePolicyReload(ctx, { registry: next, settings: { ...ctx.settings } }, () => refreshed++),
    (e: unknown) =>
      e instanceof MucReloadError &&
      e.code === "CORDON_MUC_RELOAD_REFUSED" &&
      /^room ops@rooms\.example\.test label does not parse under the new policies/.test(e.message),
  );
  assert.equal(room.security, before.security);
  assert.deepEqual(ctx.settings, before.settings);
  assert.equal(room.occupants.size, 2);
  assert.equal(refreshed, 0);
  assert.equal(registry.policies()[0], policy);
});

test("an accepted reload re-binds rooms, occupants and settings, and removes those no longer cleared", async () => {
  const { ctx, room, alice, registry } = setUp();
  const next = new PolicyRegistry();
  const fresh = next.loadString(withoutBravo);
  const settings = {
    ...ctx.settings,
    defaultRoomLabel: makeLabel(fresh, fresh.classificationByName.get("UNCLASSIFIED")!, []),
  };
  let refreshed = 0;
  const install = preparePolicyReload(ctx, { registry: next, settings }, () => refreshed++);
  assert.equal(room.security.label?.policy, registry.policies()[0], "nothing installed before the switch");
  registry.replaceAll(next.policies());
  install();
  await new Promise((r) => setImmediate(r));
  assert.equal(room.security.label?.policy, fresh);
  assert.equal(ctx.settings.defaultRoomLabel.policy, fresh);
  assert.equal(alice.clearance.status === "known" && alice.clearance.clearance.policy, fresh);
  assert.deepEqual([...room.occupants.keys()], ["alice"], "bob's clearance (BRAVO) no longer reads: removed");
  const removal = ctx.sent.find((s) => s.includes('to="bob@example.test/r"') && s.includes("unavailable"));
  assert.ok(removal, "bob is told");
  assert.match(removal, /<status code="307"\/>/);
  assert.equal(refreshed, 1);
});

test("an occupant whose clearance's policy a reload removed is removed, even where an equivalent policy stays (adv15)", async () => {
  // TLP rooms, an occupant cleared under TLPX (its equivalent). The reload drops TLPX: the
  // occupant's clearance no longer reads and is kept bound to the old TLPX object — said to be
  // denied (policy mismatch). It was granted: the room's new TLP label was translated into the
  // removed TLPX object (same OID) and judged on it, so the occupant stayed, receiving TLP traffic
  // on a clearance of a policy no longer loaded.
  const corpus = demoPolicyPath().replace(/deploy\/quickstart\/demo-policy\.xml$/, "test/conformance/");
  const tlpxText = readFileSync(`${corpus}tlp-extended-policy.xml`, "utf8");
  const tlpText = readFileSync(`${corpus}tlp-policy.xml`, "utf8");
  const registry = new PolicyRegistry();
  const tlpx = registry.loadString(tlpxText);
  const tlp = registry.loadString(tlpText);
  const green = makeLabel(tlp, tlp.classificationByLacv.get(11)!, []);
  const ctx = capturingContext(registry, tlp, { defaultRoomLabel: green });
  const carolsClearance = makeClearance(tlpx, tlpx.classifications, tlpx.categories);
  const room = new Room(
    "tlp@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG },
    { label: green, clearance: undefined, defaultLabel: undefined, raw: {} },
  );
  ctx.rooms.set(room.jid, room);
  room.add({
    nick: "carol",
    jid: "carol@example.test/r",
    bare: "carol@example.test",
    role: "participant",
    affiliation: "none",
    occupantId: "carol",
    clearance: { status: "known", clearance: carolsClearance, fingerprint: "carol" },
    labelAware: true,
    presenceXml: "",
    joinedAt: 0,
  });
  assert.equal(ctx.labels.grants(green, carolsClearance), true, "admitted before the reload");
  const next = new PolicyRegistry();
  const fresh = next.loadString(tlpText);
  const settings = {
    ...ctx.settings,
    defaultRoomLabel: makeLabel(fresh, fresh.classificationByLacv.get(11)!, []),
  };
  const install = preparePolicyReload(ctx, { registry: next, settings }, () => undefined);
  registry.replaceAll(next.policies());
  install();
  await new Promise((r) => setImmediate(r));
  assert.equal(room.security.label?.policy, fresh);
  // Was: ["carol"].
  assert.deepEqual([...room.occupants.keys()], [], "carol's clearance (TLPX) no longer reads: removed");
});
