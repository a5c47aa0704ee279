// The recipient's clearance (issue: a remote user's TLP AMBER reached eve, cleared WHITE only, and
// mallory, cleared for nothing; only the direction and sender clearances were checked).
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, type ClearanceLookup, type RawClearance } from "@cordon/store";
import { ClearanceReader } from "@cordon/rules";
import { ClearanceSource, type RelayClearanceStore } from "../src/clearances.js";
import { decide, DirectionContext, type Decision } from "../src/decide.js";
import { directionsOf } from "../src/direction.js";
import { LabelEngine } from "../src/label-check.js";
import { clearance, el, label, peering, registry, securityLabel, TLP, TLPX } from "./fixtures.js";
import { IqTracker } from "../src/iq-control.js";

const engine = new LabelEngine(registry());
const store = new MemoryStore();
const xmlValue = (data: string): RawClearance => ({ encoding: "xml", data });

function source(s: RelayClearanceStore = store): ClearanceSource {
  return new ClearanceSource(new ClearanceReader({ registry: engine.registry, store: s }), engine, s);
}
const clearances = source();

before(async () => {
  await store.setUserClearance("alice@tlpx.test", xmlValue(clearance(TLPX, [10, 11, 12, 13])));
  await store.setUserClearance("eve@tlpx.test", xmlValue(clearance(TLPX, [10])));
  // Cleared up to AMBER but for no category: AMBER [TO:PARTNERS] is beyond her.
  await store.setUserClearance("fay@tlpx.test", xmlValue(clearance(TLPX, [10, 11, 12], [])));
  await store.setServiceClearance("tlpx.test", xmlValue(clearance(TLPX, [10, 11])));
  // A remote user the shared store knows, cleared WHITE only (in the remote side's policy).
  await store.setUserClearance("rob@tlp.test", xmlValue(clearance(TLP, [10])));
  await store.putRoom({
    jid: "white@rooms.tlpx.test",
    config: {},
    clearance: xmlValue(clearance(TLPX, [10])),
    affiliations: {},
    persistent: true,
  });
  await store.putRoom({ jid: "open@rooms.tlpx.test", config: {}, affiliations: {}, persistent: true });
});

async function run(stanza: string, which: "outbound" | "inbound", using = clearances): Promise<Decision> {
  return decide(el(stanza), new DirectionContext(directionsOf(peering())[which], engine), {
    engine,
    clearances: using,
    iqs: new IqTracker(),
  });
}

const WHITE = securityLabel(label(TLP, 10));
const AMBER = securityLabel(label(TLP, 12));
const AMBER_PARTNERS = securityLabel(label(TLP, 12, [0]));
const inbound = (to: string, sl: string, using = clearances) =>
  run(
    `<message type='chat' from='bob@tlp.test/r' to='${to}' id='x'><body>b</body>${sl}</message>`,
    "inbound",
    using,
  );
const outcome = (d: Decision) => (d.action === "pass" ? "pass" : `${d.action}:${d.audit.reason}`);

describe("the recipient's clearance", () => {
  test("inbound: a cleared user gets WHITE and AMBER; one cleared WHITE only gets WHITE; an uncleared one nothing", async () => {
    const results: Record<string, string[]> = {};
    for (const to of ["alice@tlpx.test/r", "eve@tlpx.test", "mallory@tlpx.test/r"])
      results[to] = [outcome(await inbound(to, WHITE)), outcome(await inbound(to, AMBER))];
    assert.deepEqual(results, {
      "alice@tlpx.test/r": ["pass", "pass"],
      "eve@tlpx.test": ["pass", "refuse:recipient-clearance"],
      "mallory@tlpx.test/r": ["refuse:recipient-clearance", "refuse:recipient-clearance"],
    });
  });

  test("inbound: a partial clearance (the classification, not the category) refuses the category", async () => {
    assert.equal(outcome(await inbound("fay@tlpx.test", AMBER)), "pass");
    const d = await inbound("fay@tlpx.test", AMBER_PARTNERS);
    assert.deepEqual(
      [d.action, d.audit.reason, d.audit.detail],
      ["refuse", "recipient-clearance", "category"],
    );
  });

  test("inbound: a store or directory that cannot answer refuses (fail closed)", async () => {
    const broken: RelayClearanceStore = {
      getUserClearance: (): Promise<ClearanceLookup> => Promise.reject(new Error("down")),
      getServiceClearance: (d) => store.getServiceClearance(d),
      getPeerClearance: (d, dir) => store.getPeerClearance(d, dir),
      subscribe: () => () => undefined,
    };
    const d = await inbound("alice@tlpx.test", WHITE, source(broken));
    assert.deepEqual([d.action, d.audit.reason], ["refuse", "recipient-clearance-unknown"]);
  });

  test("inbound: the server's domain is judged on its service clearance", async () => {
    const ping = (sl: string) =>
      run(
        `<iq type='get' id='p' from='bob@tlp.test/r' to='tlpx.test'><ping xmlns='urn:xmpp:ping'/>${sl}</iq>`,
        "inbound",
      );
    assert.equal(outcome(await ping(WHITE)), "pass");
    assert.equal(outcome(await ping(AMBER)), "refuse:recipient-clearance");
  });

  test("inbound: a local room is judged on its stored clearance; a room the relay cannot see is refused", async () => {
    const gc = (to: string, sl: string, using = clearances) =>
      run(
        `<message type='groupchat' from='bob@tlp.test/r' to='${to}' id='g'><body>b</body>${sl}</message>`,
        "inbound",
        using,
      );
    assert.equal(outcome(await gc("white@rooms.tlpx.test", WHITE)), "pass");
    assert.equal(outcome(await gc("white@rooms.tlpx.test", AMBER)), "refuse:recipient-clearance");
    // A room without a clearance and a service without one: nothing says who reads it.
    assert.equal(outcome(await gc("open@rooms.tlpx.test", WHITE)), "refuse:recipient-clearance-unknown");
    assert.equal(outcome(await gc("gone@rooms.tlpx.test/nick", WHITE)), "refuse:recipient-clearance-unknown");
    // A store without rooms (the relay given only clearances) cannot say either.
    const noRooms: RelayClearanceStore = {
      getUserClearance: (j, p) => store.getUserClearance(j, p),
      getServiceClearance: (d) => store.getServiceClearance(d),
      getPeerClearance: (d, dir) => store.getPeerClearance(d, dir),
      subscribe: () => () => undefined,
    };
    assert.equal(
      outcome(await gc("white@rooms.tlpx.test", WHITE, source(noRooms))),
      "refuse:recipient-clearance-unknown",
    );
  });

  test("outbound: a remote user the store knows is judged on that clearance; one it does not know on the direction's", async () => {
    const to = (jid: string, sl: string) =>
      run(
        `<message type='chat' from='alice@tlpx.test/r' to='${jid}'><body>b</body>${sl}</message>`,
        "outbound",
      );
    const AMBER_X = securityLabel(label(TLPX, 12, [0]));
    const WHITE_X = securityLabel(label(TLPX, 10));
    assert.equal(outcome(await to("rob@tlp.test/r", WHITE_X)), "pass");
    assert.equal(outcome(await to("rob@tlp.test/r", AMBER_X)), "refuse:recipient-clearance");
    assert.equal(outcome(await to("bob@tlp.test", AMBER_X)), "pass");
  });

  test("an error to an uncleared user is dropped, never answered", async () => {
    const d = await run(
      "<message type='error' from='bob@tlp.test' to='mallory@tlpx.test/r'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
      "inbound",
    );
    assert.deepEqual([d.action, d.audit.reason], ["drop", "recipient-clearance"]);
  });
});

// Found in review (advrelay): outbound, a remote user's clearance was asked for in the receiving
// side's policy only; one the shared store holds under the sending side's policy (an equivalent
// one: the clearance is read through the translation) was "not known" and bounded by the direction
// clearance alone — a WHITE-only remote user got AMBER.
describe("the recipient's clearance in either policy", () => {
  test("outbound: a remote user's clearance stored under the sending side's policy judges too", async () => {
    await store.setUserClearance("ria@tlp.test", xmlValue(clearance(TLPX, [10])), TLPX);
    const to = (sl: string) =>
      run(
        `<message type='chat' from='alice@tlpx.test/r' to='ria@tlp.test/r'><body>b</body>${sl}</message>`,
        "outbound",
      );
    assert.equal(outcome(await to(securityLabel(label(TLPX, 10)))), "pass");
    assert.equal(outcome(await to(securityLabel(label(TLPX, 12, [0])))), "refuse:recipient-clearance");
  });
});
