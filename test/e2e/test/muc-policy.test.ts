// The labelled MUC and policies, on real Prosody and real ejabberd with real clients (issue 15
// items 5 and 10):
// - a label's forms must all say the same thing and all decode; an empty <label/> ("the room
//   default") beside an <equivalentlabel/> is refused; labels sent on are encoded afresh from the
//   decided label, so the sender's ESS privacy mark (free text) reaches nobody;
// - occupants governed by an equivalent policy: a room governed by TLP, users cleared under TLPX
//   (test/conformance, the pair the relay's e2e tests use) enter, send and receive on their
//   clearance, judged on the label translated into their policy.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import {
  startServer,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createComponent, parseElement } from "@cordon/component";
import { MemoryStore, type RawValue } from "@cordon/store";
import { createMucService, DEFAULT_ROOM_CONFIG, type MucService } from "@cordon/muc";
import {
  buildSecurityLabelXml,
  decodeEssLabel,
  encodeEssLabel,
  makeLabel,
  parseClearance,
  parseLabelData,
  PolicyRegistry,
  type Label,
} from "@cordon/policy";
import { loadDemo, repoRoot, startDemoMuc, ALL_CLASSES } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure, errorCondition } from "../src/muc-client.js";
import { advertiseLabels } from "../src/caps.js";

const NS_SL = "urn:xmpp:sec-label:0";
const NS_ESS = "urn:xmpp:sec-label:ess:0";
const NS_CATALOG = "urn:xmpp:sec-label:catalog:2";
const TLPX = "1.3.6.1.4.1.99999.2.2";
const TLP = "1.3.6.1.4.1.99999.2.3";
const SPIFFY = "http://surevine.com/xmlns/spiffy";

const demo = loadDemo();
const U = demo.label("UNCLASSIFIED");
const TS = demo.label("TOP SECRET");

// The TLP / TLPX pair: the MUC's registry holds both, TLP governs.
const tlpRegistry = new PolicyRegistry();
for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
  tlpRegistry.loadString(readFileSync(joinPath(repoRoot, "test/conformance", f), "utf8"));
const tlpLabel = (policy: string, lacv: number): Label =>
  parseLabelData(
    `<label xmlns='${SPIFFY}'><policy id='${policy}'/><classification lacv='${lacv}'/></label>`,
    tlpRegistry,
  );
const tlpClearance = (policy: string, lacvs: number[]): RawValue => ({
  encoding: "xml",
  data: `<clearance xmlns='${SPIFFY}'><policy id='${policy}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}</clearance>`,
});
const [WHITE, GREEN, RED] = [10, 11, 13].map((l) => tlpLabel(TLP, l)) as [Label, Label, Label];

const groupchat = (to: string, id: string, body: string, label?: Element | string): Element =>
  xml(
    "message",
    { to, type: "groupchat", id },
    xml("body", {}, body),
    label === undefined ? null : typeof label === "string" ? parseElement(label) : label,
  );
const essForm = (bytes: Uint8Array | string) =>
  `<esssecuritylabel xmlns='${NS_ESS}'>${typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("base64")}</esssecuritylabel>`;
const ess = (label: Label) => essForm(encodeEssLabel(label, { reencode: true }));

/** A refusal: an error of `condition` carrying neither the body nor any label. */
function assertRefused(error: Element, condition: string, body: string): void {
  assert.equal(error.attrs.type, "error", error.toString());
  assert.equal(errorCondition(error), condition, error.toString());
  assert.ok(!error.toString().includes(body), "nothing the sender chose is echoed");
  assert.ok(!error.toString().includes("securitylabel"), "no label in the error");
}

for (const kind of serverKinds()) {
  describe(`labelled MUC and policies on ${kind}`, () => {
    const domain = `${kind}-policy.test`;
    const demoRooms = `rooms.${domain}`;
    const tlpRooms = `tlp.${domain}`;
    const secret = "muc-secret";
    let server: XmppServer;
    const store = new MemoryStore();
    const services: MucService[] = [];
    const c: Record<string, TestClient> = {};
    const users = {
      // The demo-policy room.
      alice: demo.raw(demo.clearance(ALL_CLASSES, ["ALPHA", "BRAVO"])),
      bob: demo.raw(demo.clearance(ALL_CLASSES)),
      // The TLP room: dave under TLP (everything), erin and frank under TLPX.
      dave: tlpClearance(TLP, [10, 11, 12, 13]),
      erin: tlpClearance(TLPX, [10, 11]),
      frank: tlpClearance(TLPX, [10]),
    };

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [
          { domain: demoRooms, secret },
          { domain: tlpRooms, secret },
        ],
        users: Object.keys(users).map((u) => ({ username: u, password: `${u}-pw` })),
      });
      for (const [u, clearance] of Object.entries(users))
        await store.setUserClearance(`${u}@${domain}`, clearance);
      services.push(
        await startDemoMuc(demo, { server, mucDomain: demoRooms, localDomain: domain, secret, store }),
      );
      const everything = parseClearance(tlpClearance(TLP, [10, 11, 12, 13]).data, tlpRegistry);
      const tlp = createMucService({
        component: createComponent({
          service: `xmpp://127.0.0.1:${server.componentPort}`,
          domain: tlpRooms,
          secret,
        }),
        registry: tlpRegistry,
        governingPolicy: TLP,
        store,
        settings: {
          domain: tlpRooms,
          createRooms: "local",
          localDomains: [domain],
          serviceClearance: everything,
          defaultRoomLabel: WHITE,
          defaultRoomClearance: everything,
          defaultMessageLabel: WHITE,
          namedLabels: [
            { name: "WHITE", label: WHITE },
            { name: "GREEN", label: GREEN },
            { name: "RED", label: RED },
          ],
          roomDefaults: { ...DEFAULT_ROOM_CONFIG },
          occupantIdSecret: secret,
          clearanceRefreshMs: 60_000,
          capsTimeoutMs: 500,
        },
      });
      await tlp.start();
      services.push(tlp);
      for (const u of Object.keys(users)) {
        c[u] = await connectClient(server, u, `${u}-pw`);
        advertiseLabels(c[u]!);
      }
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      for (const s of services) await s.stop();
      await store.close();
      await server?.stop();
    });

    // --- item 5: every form compared, the label sent on encoded afresh ---

    test(`[${kind}] label forms: an empty <label/> beside an <equivalentlabel/>, or a form that does not decode, is refused bad-request and reaches nobody`, async () => {
      const room = `forms@${demoRooms}`;
      await join(c.alice!, room, "Alice");
      await configure(c.alice!, room);
      await join(c.bob!, room, "Bob");
      const cases: [string, string][] = [
        // "The room default" beside TOP SECRET: the sender's client may show TOP SECRET.
        [
          "f-empty",
          `<securitylabel xmlns='${NS_SL}'><label/><equivalentlabel>${ess(TS)}</equivalentlabel></securitylabel>`,
        ],
        // UNCLASSIFIED beside TOP SECRET, both the governing policy's.
        ["f-disagree", buildSecurityLabelXml(U, { equivalents: [TS] })],
        // TOP SECRET as the <label>, UNCLASSIFIED (the default's value) as the equivalent.
        ["f-disagree-2", buildSecurityLabelXml(TS, { equivalents: [U] })],
        // A good <label> beside an <equivalentlabel> that does not decode.
        [
          "f-garbage",
          `<securitylabel xmlns='${NS_SL}'><label>${ess(U)}</label><equivalentlabel>${essForm("bm90IGJlcg==")}</equivalentlabel></securitylabel>`,
        ],
      ];
      for (const [id, label] of cases) {
        await c.alice!.send(groupchat(room, id, `body-${id}`, label));
        assertRefused(await c.alice!.waitFor((m) => m.attrs.id === id), "bad-request", `body-${id}`);
      }
      await c.alice!.send(groupchat(room, "f-after", "after", buildSecurityLabelXml(U)));
      await c.bob!.waitFor((m) => m.attrs.id === "f-after");
      for (const [id] of cases) {
        assert.ok(!c.bob!.received.some((m) => m.attrs.id === id), `${id} reached bob`);
        assert.ok(!c.alice!.received.some((m) => m.attrs.id === id && m.attrs.type === "groupchat"));
      }
    });

    test(`[${kind}] the sender's ESS bytes are not sent on: the label is encoded afresh, its privacy mark dropped`, async () => {
      const room = `forms@${demoRooms}`;
      const marked = encodeEssLabel(
        makeLabel(U.policy, U.classification, U.categories, { privacyMark: "meet at the north gate" }),
      );
      await c.alice!.send(
        groupchat(
          room,
          "f-privacy",
          "privacy",
          `<securitylabel xmlns='${NS_SL}'><displaymarking>whatever</displaymarking><label>${essForm(marked)}</label></securitylabel>`,
        ),
      );
      for (const client of [c.bob!, c.alice!]) {
        const got = await client.waitFor((m) => m.attrs.id === "f-privacy" && m.attrs.type === "groupchat");
        const text = got.toString();
        assert.ok(!text.includes(Buffer.from(marked).toString("base64")), "the sender's bytes");
        const sent = got
          .getChild("securitylabel", NS_SL)!
          .getChild("label")!
          .getChildText("esssecuritylabel")!;
        const decoded = decodeEssLabel(Buffer.from(sent, "base64"), demo.registry);
        assert.equal(decoded.privacyMark, undefined);
        assert.equal(decoded.classification.name, "UNCLASSIFIED");
        assert.ok(!Buffer.from(sent, "base64").toString("latin1").includes("north gate"));
        assert.equal(got.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "UNCLASSIFIED");
      }
    });

    // --- item 10: occupants governed by an equivalent policy ---

    test(`[${kind}] users cleared under an equivalent policy enter, send and receive on their translated clearance`, async () => {
      const room = `green@${tlpRooms}`;
      await join(c.dave!, room, "Dave");
      await configure(c.dave!, room, { "sec-label#label": "GREEN" });
      // erin (TLPX WHITE, GREEN) enters the GREEN room; frank (TLPX WHITE) is refused.
      const erin = await join(c.erin!, room, "Erin");
      assert.notEqual(erin.attrs.type, "error", erin.toString());
      const frank = await join(c.frank!, room, "Frank");
      assert.equal(errorCondition(frank), "forbidden");
      // erin sends GREEN: within her TLPX clearance once translated.
      await c.erin!.send(groupchat(room, "e-green", "green from erin", buildSecurityLabelXml(GREEN)));
      const atDave = await c.dave!.waitFor((m) => m.attrs.id === "e-green");
      assert.equal(atDave.attrs.type, "groupchat");
      assert.equal(atDave.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "TLP:GREEN");
      // Her own copy shows the label in her policy.
      const own = await c.erin!.waitFor((m) => m.attrs.id === "e-green");
      assert.equal(own.attrs.type, "groupchat");
      assert.equal(own.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "TLPX:GREEN");
      // RED is beyond erin's clearance: refused, nothing echoed; dave's RED does not reach her.
      await c.erin!.send(groupchat(room, "e-red", "red from erin", buildSecurityLabelXml(RED)));
      assertRefused(await c.erin!.waitFor((m) => m.attrs.id === "e-red"), "forbidden", "red from erin");
      await c.dave!.send(groupchat(room, "d-red", "red from dave", buildSecurityLabelXml(RED)));
      await c.dave!.send(groupchat(room, "d-green", "green from dave", buildSecurityLabelXml(GREEN)));
      const green = await c.erin!.waitFor((m) => m.attrs.id === "d-green");
      assert.equal(green.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "TLPX:GREEN");
      assert.ok(!c.erin!.received.some((m) => m.attrs.id === "d-red"));
      // The room's catalog offers erin what she may send there (the room default first), not RED.
      const result = await c.erin!.iq(
        xml("iq", { type: "get", to: room }, xml("catalog", { xmlns: NS_CATALOG, to: room })),
      );
      const items = result.getChild("catalog", NS_CATALOG)!.getChildren("item");
      assert.deepEqual(
        items.map((i) => i.attrs.selector),
        ["WHITE", "GREEN"],
      );
    });

    test(`[${kind}] a user under an equivalent policy in a WHITE room receives only what their clearance covers`, async () => {
      const room = `white@${tlpRooms}`;
      await join(c.dave!, room, "Dave");
      await configure(c.dave!, room);
      const frank = await join(c.frank!, room, "Frank");
      assert.notEqual(frank.attrs.type, "error", frank.toString());
      await c.frank!.send(groupchat(room, "f-white", "white from frank"));
      const atDave = await c.dave!.waitFor((m) => m.attrs.id === "f-white");
      assert.equal(atDave.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "TLP:WHITE");
      await c.dave!.send(groupchat(room, "d-green-w", "green", buildSecurityLabelXml(GREEN)));
      await c.dave!.send(groupchat(room, "d-white-w", "white", buildSecurityLabelXml(WHITE)));
      const white = await c.frank!.waitFor((m) => m.attrs.id === "d-white-w");
      assert.equal(white.getChild("securitylabel", NS_SL)!.getChildText("displaymarking"), "TLPX:WHITE");
      assert.ok(!c.frank!.received.some((m) => m.attrs.id === "d-green-w"));
    });
  });
}
