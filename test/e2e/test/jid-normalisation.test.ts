// One JID, one spelling (RFC 7622, @cordon/jid): a user whose localpart holds a decomposed
// character ("rene" + U+0301 COMBINING ACUTE ACCENT) logs in with a real client and sits in a room
// labelled SECRET; an administrator lowers the clearance through the store spelling the JID in the
// other Unicode form ("ren" + U+00E9); the occupant is removed at once (307), not at the periodic
// re-read.
//
// What the servers do with the JID (measured): Prosody 0.12 nodepreps it at login, so its stanzas
// carry the composed form whatever the client typed; ejabberd 23.01 puts it into stanzas as the
// client wrote it (decomposed). Before the one normalisation the MUC keyed occupants by a
// lower-cased but not NFC-normalised JID, so on ejabberd the store's notification (NFC) missed the
// occupant; on Prosody the case passes either way (Prosody carries no decomposed JID).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  startSlapd,
  serverKinds,
  connectClient,
  type XmppServer,
  type TestClient,
  type SlapdInstance,
} from "@cordon/harness";
import { ClearanceResolver, LdapDirectory, MemoryStore } from "@cordon/store";
import { NS_MUC_USER, type MucService } from "@cordon/muc";
import { loadDemo, startDemoMuc, ALL_CLASSES } from "../src/demo.js";
import { joinRoom, configureRoom, statusCodes } from "../src/muc-client.js";

const demo = loadDemo();
const DECOMPOSED = "rene\u0301";
const COMPOSED = "ren\u00e9";
/** The account finn, as a user may type it at login: U+FB01 LATIN SMALL LIGATURE FI. */
const LIGATURE = "\ufb01nn";

for (const kind of serverKinds()) {
  describe(`JID normalisation on ${kind}`, () => {
    const domain = `${kind}-jid.test`;
    const mucDomain = `rooms.${domain}`;
    const room = `vault@${mucDomain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    let alice: TestClient;
    let rene: TestClient;

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "jid" }],
        users: [
          { username: "alice", password: "alice-pw" },
          { username: DECOMPOSED, password: "rene-pw" },
        ],
      });
      store = new MemoryStore();
      await store.setUserClearance(`alice@${domain}`, demo.raw(demo.clearance(ALL_CLASSES)));
      await store.setUserClearance(`${DECOMPOSED}@${domain}`, demo.raw(demo.clearance(ALL_CLASSES)));
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "jid", store });
      alice = await connectClient(server, "alice", "alice-pw");
      rene = await connectClient(server, DECOMPOSED, "rene-pw");
    });

    after(async () => {
      await alice?.stop().catch(() => undefined);
      await rene?.stop().catch(() => undefined);
      await muc?.stop();
      await store?.close();
      await server?.stop();
    });

    test(`[${kind}] a clearance lowered under the other Unicode form of the JID removes the occupant at once`, async () => {
      await joinRoom(alice, room, "Alice");
      await configureRoom(alice, room, { "sec-label#label": "SECRET" });
      const self = await joinRoom(rene, room, "Rene");
      assert.notEqual(self.attrs.type, "error", self.toString());
      const started = Date.now();
      await store.setUserClearance(`${COMPOSED}@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      const gone = await rene.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Rene` && p.attrs.type === "unavailable",
        3000,
      );
      assert.ok(statusCodes(gone).includes("307"), gone.toString());
      assert.ok(gone.getChild("x", NS_MUC_USER));
      assert.ok(Date.now() - started < 3000);
    });
  });
}

// The servers key accounts by nodeprep (case folding, NFKC): ejabberd logs "\ufb01nn" into the
// account finn and puts "\ufb01nn@…" into stanzas; OpenLDAP's caseIgnoreMatch finds finn's entry
// for it. Before the fold was nodeprep's the MUC keyed that occupant "\ufb01nn@…": it read finn's
// directory clearance, but an administrator's lowering stored under finn@… (and its notification)
// never reached it, not even at the periodic re-read. Prosody nodepreps at login: passes either way.
for (const kind of serverKinds()) {
  describe(`JID compatibility forms on ${kind}`, () => {
    const domain = `${kind}-nfkc.test`;
    const mucDomain = `rooms.${domain}`;
    const room = `vault@${mucDomain}`;
    let server: XmppServer;
    let slapd: SlapdInstance;
    let directory: LdapDirectory;
    let store: MemoryStore;
    let muc: MucService;
    let alice: TestClient;
    let finn: TestClient;

    before(async () => {
      const everything = Buffer.from(demo.raw(demo.clearance(ALL_CLASSES)).data, "base64");
      [server, slapd] = await Promise.all([
        startServer(kind, {
          domain,
          components: [{ domain: mucDomain, secret: "nfkc" }],
          users: [
            { username: "alice", password: "alice-pw" },
            { username: "finn", password: "finn-pw" },
          ],
        }),
        startSlapd({ users: [{ uid: "finn", jid: `finn@${domain}`, clearanceBer: [everything] }] }),
      ]);
      store = new MemoryStore();
      await store.setUserClearance(`alice@${domain}`, demo.raw(demo.clearance(ALL_CLASSES)));
      directory = new LdapDirectory({
        url: slapd.url,
        bindDn: slapd.bindDn,
        bindSecret: { value: slapd.bindPassword },
        baseDn: slapd.baseDn,
        filter: "(jid={jid})",
        clearanceAttributes: [{ attribute: "clearance;binary", encoding: "ber" }],
      });
      const users = new ClearanceResolver({ store, directory });
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "nfkc",
        store,
        users,
      });
      alice = await connectClient(server, "alice", "alice-pw");
      finn = await connectClient(server, LIGATURE, "finn-pw");
    });

    after(async () => {
      await alice?.stop().catch(() => undefined);
      await finn?.stop().catch(() => undefined);
      await muc?.stop();
      await directory?.close();
      await store?.close();
      await server?.stop();
      await slapd?.stop();
    });

    test(`[${kind}] a store override lowering finn@ removes the occupant who logged in as \ufb01nn`, async () => {
      await joinRoom(alice, room, "Alice");
      await configureRoom(alice, room, { "sec-label#label": "SECRET" });
      const self = await joinRoom(finn, room, "Finn");
      assert.notEqual(self.attrs.type, "error", self.toString());
      await store.setUserClearance(`finn@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      const gone = await finn.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Finn` && p.attrs.type === "unavailable",
        3000,
      );
      assert.ok(statusCodes(gone).includes("307"), gone.toString());
    });
  });
}
