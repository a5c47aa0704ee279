import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, serverKinds } from "../src/server.js";
import { connectClient } from "../src/client.js";
import { xml } from "../src/xml.js";
import type { XmppServer } from "../src/types.js";
import { historyLength, DEFAULT_NATIVE_MUC_HISTORY } from "../src/native-muc.js";
import { prosodyConfig } from "../src/prosody.js";
import { InvalidConfigValueError } from "../src/errors.js";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const MUC_DOMAIN = "conference.example.test";

test("native MUC history length: 10 by default, a non-negative integer otherwise", () => {
  assert.equal(historyLength({ domain: MUC_DOMAIN }), DEFAULT_NATIVE_MUC_HISTORY);
  assert.equal(historyLength({ domain: MUC_DOMAIN, historyLength: 0 }), 0);
  assert.throws(() => historyLength({ domain: MUC_DOMAIN, historyLength: -1 }), InvalidConfigValueError);
  assert.throws(() => historyLength({ domain: MUC_DOMAIN, historyLength: 1.5 }), InvalidConfigValueError);
});

test("the Prosody MUC component comes last, so its options stay its own", () => {
  const layout = { dir: "/tmp/x", c2sPort: 1, componentPort: 2, httpPort: 0, controlPort: 3 };
  const { main } = prosodyConfig(
    layout,
    {
      domain: "example.test",
      components: [],
      delegations: [],
      extraDomains: [],
      nativeMuc: { domain: MUC_DOMAIN, historyLength: 3 },
    },
    undefined,
  );
  const tail = main.slice(main.indexOf(`Component "${MUC_DOMAIN}" "muc"`));
  assert.ok(tail.length < main.length, "the component is declared");
  assert.match(tail, /muc_room_locking = false/);
  assert.match(tail, /muc_room_default_history_length = 3/);
  assert.doesNotMatch(tail, /VirtualHost|Include/);
  assert.throws(
    () =>
      prosodyConfig(
        layout,
        {
          domain: "example.test",
          components: [],
          delegations: [],
          extraDomains: [],
          nativeMuc: { domain: 'x" evil' },
        },
        undefined,
      ),
    InvalidConfigValueError,
  );
});

for (const kind of serverKinds()) {
  describe(`${kind} native MUC`, () => {
    let server: XmppServer;

    before(async () => {
      server = await startServer(kind, {
        nativeMuc: { domain: MUC_DOMAIN },
        extraDomains: ["other.example.test"],
        users: [
          { username: "alice", password: "alice-pw" },
          { username: "bob", password: "bob-pw" },
        ],
      });
    });

    after(async () => {
      await server.stop();
    });

    test(`[${kind}] a join creates a usable room at once; a second occupant gets the first one's message`, async () => {
      const room = `bench@${MUC_DOMAIN}`;
      const alice = await connectClient(server, "alice", "alice-pw");
      const bob = await connectClient(server, "bob", "bob-pw");
      try {
        const selfPresence =
          (nick: string) =>
          (el: {
            is(n: string): boolean;
            attrs: Record<string, string | undefined>;
            getChild(
              n: string,
              ns?: string,
            ): { getChildren(n: string): { attrs: Record<string, string | undefined> }[] } | undefined;
          }) =>
            el.is("presence") &&
            el.attrs["from"] === `${room}/${nick}` &&
            (el
              .getChild("x", NS_MUC_USER)
              ?.getChildren("status")
              .some((s) => s.attrs["code"] === "110") ??
              false);
        await alice.send(
          xml(
            "presence",
            { to: `${room}/Alice` },
            xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" })),
          ),
        );
        const aliceSelf = await alice.waitFor(selfPresence("Alice"), 10_000);
        assert.notEqual(aliceSelf.attrs["type"], "error", aliceSelf.toString());
        // No instant-room configuration: the room is open to others straight away.
        await bob.send(
          xml(
            "presence",
            { to: `${room}/Bob` },
            xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" })),
          ),
        );
        const bobSelf = await bob.waitFor(selfPresence("Bob"), 10_000);
        assert.notEqual(bobSelf.attrs["type"], "error", bobSelf.toString());
        await alice.send(
          xml("message", { to: room, type: "groupchat", id: "native-1" }, xml("body", {}, "hello room")),
        );
        const reflected = await alice.waitFor(
          (el) => el.is("message") && el.attrs["id"] === "native-1" && el.attrs["type"] === "groupchat",
          10_000,
        );
        assert.equal(reflected.attrs["from"], `${room}/Alice`);
        assert.equal(reflected.getChildText("body"), "hello room");
        const copy = await bob.waitFor((el) => el.is("message") && el.attrs["id"] === "native-1", 10_000);
        assert.equal(copy.attrs["from"], `${room}/Alice`);
        assert.equal(copy.getChildText("body"), "hello room");
      } finally {
        await alice.stop();
        await bob.stop();
      }
    });
  });
}
