// The labelled MUC with XEP-0033 multicast on (`components.muc.multicast`, issue 19 goal 2;
// packages/muc/src/service/multicast.ts), against real servers and real clients. A room with
// cleared label-aware, cleared label-unaware and uncleared occupants: every entitled occupant gets
// exactly one copy — its label or FLOT, the sender's id, the room's stanza-id, the sender's
// occupant-id — with no <addresses/> and no other occupant's JID; the uncleared get nothing.
//
// ejabberd 23.01: mod_multicast with a cap of 3 addresses for a component (`limits: remote:
// message`). Service A sends chunks of 3 (accepted: the copies come from the server's multicast);
// service B sends chunks of 20 (over the cap: not-acceptable, XEP-0033 §8), so its groups of more
// than 3 come back as errors and go per copy, re-checked, while its group of 3 is accepted.
// Prosody 0.12 has no XEP-0033 service: its disco#info at start finds none, so the MUC never sends
// a multicast stanza (XEP-0033 §2, fail closed) and every copy goes one by one.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { serverKinds } from "@cordon/harness";
import { useMulticastFixture } from "../src/muc-multicast-fixture.js";

for (const kind of serverKinds()) {
  describe(`labelled MUC with XEP-0033 multicast on ${kind}`, () => {
    const { mucA, mucB, kept, logged, enter, sayAndCheck } = useMulticastFixture(kind, "mfan");

    if (kind === "ejabberd") {
      test("[ejabberd] within the cap: copies come from the server's multicast, one each, label or FLOT, ids kept", async () => {
        const room = `ops@${mucA}`;
        await enter(room);
        await sayAndCheck(room, "a1");
        // Aware 3 → one chunk; unaware 4 → a chunk of 3 and one copy: two stanzas kept for errors.
        assert.equal(kept(mucA), 2, "two multicast stanzas sent, none refused");
        await sayAndCheck(room, "a2");
        assert.equal(kept(mucA), 4);
        assert.equal(logged(mucA, "multicast refused: per copy").length, 0, "nothing refused");
      });

      test("[ejabberd] over the server's cap: refused chunks come back and go per copy, the accepted one stays", async () => {
        const room = `ops@${mucB}`;
        await enter(room);
        await sayAndCheck(room, "b1");
        // Unaware 4 (over 3: refused, delivered per copy); aware 3 accepted.
        assert.equal(kept(mucB), 1);
        const refused = logged(mucB, "multicast refused: per copy");
        assert.equal(refused.length, 1);
        assert.equal(refused[0]?.condition, "not-acceptable", "XEP-0033 §8: too many addresses");
        assert.equal(refused[0]?.copies, 4);
        assert.equal(refused[0]?.byAddress, true, "ejabberd returns the <addresses/> with the error");
        await sayAndCheck(room, "b2");
        await sayAndCheck(room, "b3");
        // Third refusal opened the breaker: the next message goes per copy, nothing kept.
        const before = kept(mucB);
        await sayAndCheck(room, "b4");
        assert.ok(kept(mucB) <= before, "breaker open: per copy, nothing more kept");
        assert.equal(logged(mucB, "multicast refused: per copy").length, 3);
        assert.equal(
          logged(mucB, "XEP-0033 multicast service keeps refusing: per-copy delivery for a while").length,
          1,
          "one warning",
        );
      });

      return;
    }

    test("[prosody] no multicast service: found by disco#info at start, nothing ever goes to it, every copy one by one", async () => {
      // Attack (adversarial review): before, every message's labelled payload and all recipients'
      // JIDs went to multicast.<domain> unchecked and came back not-allowed only because the test
      // server has no s2s; with s2s on, the server would route them on to whatever that name is.
      const room = `ops@${mucA}`;
      await enter(room);
      for (const id of ["p1", "p2", "p3", "p4"]) await sayAndCheck(room, id, 2000);
      assert.equal(kept(mucA), 0);
      assert.equal(
        logged(mucA, "multicast refused: per copy").length,
        0,
        "no multicast stanza was ever sent",
      );
      assert.equal(
        logged(
          mucA,
          "XEP-0033 multicast service not found (no disco#info answer with the address feature): per-copy delivery",
        ).length,
        1,
      );
    });
  });
}
