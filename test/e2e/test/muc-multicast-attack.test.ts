// Adversarial review of the MUC's XEP-0033 fan-out (issue 19 goal 2): forged "errors from the
// multicast service". The MUC re-delivers a refused chunk when an error comes from the service
// (packages/muc/src/service/multicast.ts): can an occupant make it deliver a message again — or to
// someone else — by sending an error itself, to the room or through the service? Setup as
// src/muc-multicast-fixture.ts (ejabberd: mod_multicast, chunks within its cap; Prosody: no
// service, so the MUC multicasts nothing there).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, type Element } from "@cordon/harness";
import { parseElement } from "@cordon/component";
import {
  useMulticastFixture,
  sleep,
  NS_ADDRESS,
  AWARE,
  UNAWARE,
  UNCLEARED,
} from "../src/muc-multicast-fixture.js";

for (const kind of serverKinds()) {
  describe(`XEP-0033 multicast attacks on ${kind}`, () => {
    const { mucA, service, client, kept, logged, enter, sayAndCheck } = useMulticastFixture(kind, "matk");

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
