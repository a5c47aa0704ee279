// Issue 14: one account must not be able to monopolise a component's only thread. A user's stanza
// with a long id or body (140,000 `>`, legal and under the servers' c2s limit) reaches the
// component escaped, 560 KB, in socket reads of up to 64 KiB; the stream parser (ltx) re-scanned
// every read from each character of a run that did not end in it, 0.5–0.9 s a stanza, so a few a
// second held every room behind them (the soak: deliveries to legitimate occupants minutes late,
// then lost). On real Prosody and real ejabberd: twenty such stanzas cost the component (in this
// process) about what the same bytes in short runs cost, not several times more (the old parser:
// 4–7 times), and an occupant's message after them is delivered.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  sendRaw,
  startServer,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { createComponent, type CordonComponent } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { ALL_CATEGORIES, ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import { configureRoom, joinRoom } from "../src/muc-client.js";

const demo = loadDemo();
const NS_INFO = "http://jabber.org/protocol/disco#info";
const FLOOD = 20;
/** CPU the twenty 560 KB stanzas may cost the component and the clients, in this process. */
const CEILING_MS = 1500;

/** Writes XML as given (raw `>` in an attribute is legal XML; the client library would escape it). */

for (const kind of serverKinds()) {
  describe(`a flood of long stanzas costs a component little on ${kind} (issue 14)`, () => {
    const domain = `${kind}-parse.test`;
    const mucDomain = `rooms.${domain}`;
    const room = `ops@${mucDomain}`;
    let server: XmppServer;
    let muc: MucService;
    let component: CordonComponent;
    const store = new MemoryStore();
    const c: Record<string, TestClient> = {};

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "parse" }],
        users: ["alice", "bob", "eve"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      const everything = demo.raw(demo.clearance(ALL_CLASSES, ALL_CATEGORIES));
      for (const u of ["alice", "bob"]) await store.setUserClearance(`${u}@${domain}`, everything);
      component = createComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: mucDomain,
        secret: "parse",
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "parse",
        store,
        component,
      });
      for (const u of ["alice", "bob", "eve"]) c[u] = await connectClient(server, u, `${u}-pw`);
      await joinRoom(c.alice!, room, "Alice");
      await configureRoom(c.alice!, room);
      await joinRoom(c.bob!, room, "Bob");
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      await muc?.stop();
      await server?.stop();
    });

    /** CPU this process (the component and the clients) spends until the component has read `stanzas`. */
    async function cpuFor(stanzas: string[]): Promise<number> {
      const eve = c.eve!;
      const cpu = process.cpuUsage();
      for (const stanza of stanzas) await sendRaw(eve, stanza);
      // The link hands the component eve's stanzas in order: this answer comes after all of them.
      const info = await eve.iq(
        xml("iq", { type: "get", to: mucDomain }, xml("query", { xmlns: NS_INFO })),
        120_000,
      );
      assert.equal(info.attrs.type, "result");
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / 1000;
    }

    test(`[${kind}] ${FLOOD} stanzas with a 140,000-character id or body cost about what the same bytes in short runs cost`, async (t) => {
      const reconnects = component.reconnects;
      const poison = ">".repeat(140_000);
      // The same bytes, the run broken every 100 characters: what parsing them costs anyway.
      const broken = Array.from({ length: 1400 }, () => ">".repeat(100)).join("<b/>");
      const baseline = await cpuFor(
        Array.from(
          { length: FLOOD },
          (_, i) => `<message to='${room}' id='s${i}' type='groupchat'><body>${broken}</body></message>`,
        ),
      );
      const flood = await cpuFor(
        Array.from({ length: FLOOD }, (_, i) =>
          i % 2 === 0
            ? `<message to='nosuch-${i}@${mucDomain}' id='${poison}' type='chat'><body>x</body></message>`
            : `<message to='${room}' id='b${i}' type='groupchat'><body>${poison}</body></message>`,
        ),
      );
      t.diagnostic(`CPU: ${flood.toFixed(0)} ms for long runs, ${baseline.toFixed(0)} ms for short ones`);
      // Both: relative to the same bytes (a busy machine slows both alike), and a ceiling (measured:
      // 0.24–0.46 s now, 2.3–4.2 s with the old parser).
      assert.ok(
        flood < baseline * 2.5 + 200,
        `long runs ${flood.toFixed(0)} ms, short ${baseline.toFixed(0)} ms`,
      );
      assert.ok(flood < CEILING_MS, `long runs ${flood.toFixed(0)} ms`);
      await c.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "after-flood" }, xml("body", {}, "still here")),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "after-flood" && m.attrs.type === "groupchat", 8000);
      assert.equal(component.reconnects, reconnects, "the component's stream was not closed");
    });
  });
}
