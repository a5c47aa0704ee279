// Attacks on mod_cordon_guard's life on Prosody 0.12 (issue 17; review of branch prguard11): an
// admin reloading, unloading and loading the module (Prosody's admin shell, as an admin would),
// while messages are in flight from many senders, while Cordon is down, with sessions of every kind
// (TCP at a cleared and an uncleared site, BOSH at both) bound before. Real Prosody, real clients;
// 127.0.0.1 is a site cleared for everything, 127.0.0.2 an UNCLASSIFIED-only one. Each held on
// prguard11 and is kept as a regression:
// - LA1: reloaded twice in quick succession, every session bound before — TCP and BOSH — gets each
//   message exactly once in the form decided for it (filters present once: a missing one hands
//   SECRET to the uncleared site, a doubled one a message twice or its label twice).
// - LA2: a burst from four senders with two reloads in its middle: nothing SECRET at the uncleared
//   sites, no message twice, each one delivered or refused to its sender with `wait` naming
//   nothing of it; later messages flow.
// - LA3: unloaded then loaded again: the sessions bound before get the new instance's filters.
// - LA4: reloaded while Cordon is down: refused with `wait`; Cordon back → delivered, as decided.
// - LA6: after a reload, carbons (XEP-0280) and the archive (XEP-0313) at the uncleared site of a
//   session bound before it: nothing SECRET (the new instance's filters on it), the cleared one gets it.
// Broken on prguard11, fixed here:
// - LA5: after a reload the new instance kept no verdict at all (the cache epoch is told only when
//   it changes or when the guard connects): every message asked about until then. Now the epoch
//   last told on the guard session still connected is carried over (module.save/restore); the
//   verdicts are not.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { sendRaw, BoshClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE as SITE, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "lifecycle-attack-pw";
const SECRET = demo.labelXml(demo.label("SECRET"));

/** Waits until `done()` or `ms` passed. */
async function until(done: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && !done();) await sleep(50);
}

/** How many times a message with this id was read in `text` (a BOSH client's bytes). */
const times = (text: string, id: string) =>
  text.match(new RegExp(`<message\\b[^>]*\\bid=["']${id}["']`, "g"))?.length ?? 0;

describe("mod_cordon_guard reloaded, unloaded and loaded by an admin, on prosody (issue 17)", () => {
  const kind = "prosody" as const;
  const domain = `${kind}-lifecycle-la.test`;
  let server: XmppServer;
  let guard: GuardService | undefined;
  const store = new MemoryStore();
  const open: TestClient[] = [];
  const webs: BoshClient[] = [];
  const jid = (u: string) => `${u}@${domain}`;
  const chat = (to: string, id: string, body: string) =>
    `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`;
  const users = ["alice", "bob", "carol", "dave", "fay", "gus", "hal", "ivy", "jo", "kim"];
  let decisions = 0;

  /** Runs `command` in Prosody's admin shell (mod_admin_shell). */
  const shell = (command: string) =>
    promisify(execFile)("prosodyctl", ["--config", join(server.dir, "prosody.cfg.lua"), "shell", command], {
      timeout: 10_000,
    });

  const session = (user: string, resource: string, site = SITE) =>
    guarded.openSession(server, open, PASSWORD, user, resource, site);
  async function web(user: string, resource: string, site: string) {
    const client = new BoshClient(server.httpPort, site, domain);
    webs.push(client);
    await client.login(user, PASSWORD, resource);
    return client;
  }

  async function startGuard() {
    guard = await guarded.startGuard(demo, server, domain, {
      store,
      onDecision: () => void decisions++,
      locations: guarded.twoSites(demo),
    });
  }

  before(async () => {
    server = await guarded.startGuardedServer(
      kind,
      { demo, domain, store, users, password: PASSWORD, guard: { timeoutSeconds: 3, cacheSeconds: 60 } },
      { extraModules: ["admin_shell", "carbons", "mam"], bosh: true },
    );
    await startGuard();
  });

  after(async () => {
    for (const client of webs) client.close();
    await guarded.stopGuarded(server, guard, open);
  });

  test(`[${kind}] LA1: reloaded twice quickly — TCP and BOSH sessions bound before get each message once, as decided`, async () => {
    const alice = await session("alice", "la1");
    const desk = await session("fay", "desk");
    const annex = await session("fay", "annex", UNCLASSIFIED_SITE);
    const kiosk = await web("fay", "kiosk", UNCLASSIFIED_SITE);
    const browser = await web("gus", "browser", SITE);
    await shell(`module:reload("cordon_guard", "${domain}")`);
    await shell(`module:reload("cordon_guard", "${domain}")`);
    await sleep(500);
    // Asked about, then served from the cache (the same shape): both paths after the reloads.
    for (const id of ["la1-a", "la1-b"]) {
      await sendRaw(alice, chat(jid("fay"), id, `plans ${id}`) + chat(jid("gus"), `${id}-g`, `plans ${id}`));
      await desk.waitFor((m) => m.attrs.id === id, 8000);
      await browser.until(new RegExp(`id=["']${id}-g["']`));
    }
    await sendRaw(alice, `<message to='${jid("fay")}' id='la1-u' type='chat'><body>lunch</body></message>`);
    await annex.waitFor((m) => m.attrs.id === "la1-u", 8000);
    await kiosk.until(/id=["']la1-u["']/);
    await sleep(500);
    assert.deepEqual(
      annex.received.filter((m) => m.toString().includes("plans")).map((m) => m.attrs.id),
      [],
      "nothing SECRET at the uncleared TCP session",
    );
    assert.ok(!kiosk.text.includes("plans"), "nothing SECRET at the uncleared BOSH session");
    for (const id of ["la1-a", "la1-b", "la1-u"]) {
      assert.equal(desk.received.filter((m) => m.attrs.id === id).length, 1, `${id} once at the desk`);
    }
    assert.equal(annex.received.filter((m) => m.attrs.id === "la1-u").length, 1, "la1-u once at the annex");
    assert.equal(times(kiosk.text, "la1-u"), 1, "la1-u once at the BOSH kiosk");
    for (const id of ["la1-a-g", "la1-b-g"]) {
      assert.equal(times(browser.text, id), 1, `${id} once at the BOSH browser`);
      const message = browser.message(id) ?? "";
      assert.equal(message.match(/<securitylabel\b/g)?.length, 1, `${id}: one label, the policy's`);
    }
    const labelled = desk.received.find((m) => m.attrs.id === "la1-b");
    assert.equal(
      labelled?.getChildren("securitylabel", "urn:xmpp:sec-label:0").length,
      1,
      "one label at the desk",
    );
  });

  test(`[${kind}] LA2: a burst from four senders with two reloads in its middle — nothing SECRET uncleared, nothing twice, each delivered or refused with wait`, async () => {
    const senders = await Promise.all(["bob", "carol", "dave", "alice"].map((u) => session(u, "la2")));
    const desk = await session("hal", "desk");
    const annex = await session("hal", "annex", UNCLASSIFIED_SITE);
    const kiosk = await web("hal", "kiosk", UNCLASSIFIED_SITE);
    const ids: { sender: TestClient; id: string }[] = [];
    const burst = async (round: number) => {
      const writes = senders.map((sender, s) => {
        const batch = Array.from({ length: 10 }, (_, i) => `la2-${round}-${s}-${i}`);
        for (const id of batch) ids.push({ sender, id });
        return sendRaw(sender, batch.map((id) => chat(jid("hal"), id, `plans ${id}`)).join(""));
      });
      await Promise.all(writes);
    };
    await burst(0);
    const reloads = (async () => {
      await shell(`module:reload("cordon_guard", "${domain}")`);
      await shell(`module:reload("cordon_guard", "${domain}")`);
    })();
    await burst(1);
    await sleep(100);
    await burst(2);
    await reloads;
    await burst(3);
    const settled = ({ sender, id }: { sender: TestClient; id: string }) =>
      desk.received.some((m) => m.attrs.id === id) ||
      sender.received.some((m) => m.attrs.id === id && m.attrs.type === "error");
    await until(() => ids.every(settled), 20_000);
    await sleep(500);
    assert.deepEqual(
      ids.filter((i) => !settled(i)).map((i) => i.id),
      [],
      "each message delivered or refused to its sender",
    );
    assert.deepEqual(
      annex.received.filter((m) => m.toString().includes("plans")).map((m) => m.attrs.id),
      [],
      "nothing SECRET at the uncleared TCP session",
    );
    assert.ok(!kiosk.text.includes("plans"), "nothing SECRET at the uncleared BOSH session");
    let refused = 0;
    for (const { sender, id } of ids) {
      assert.ok(desk.received.filter((m) => m.attrs.id === id).length <= 1, `${id} at most once`);
      const errors = sender.received.filter((m) => m.attrs.id === id && m.attrs.type === "error");
      assert.ok(errors.length <= 1, `${id}: one error at most`);
      for (const error of errors) {
        refused++;
        assert.equal(error.getChild("error")?.attrs.type, "wait", `${id} refused with wait`);
        assert.ok(!error.toString().includes("plans"), "the error echoes nothing");
        assert.ok(!error.toString().includes("securitylabel"), "the error carries no label");
        assert.ok(!desk.received.some((m) => m.attrs.id === id), `${id} refused and delivered`);
      }
    }
    console.log(
      `LA2: ${ids.length} messages, ${ids.length - refused} delivered, ${refused} refused with wait`,
    );
    await sendRaw(senders[0]!, chat(jid("hal"), "la2-after", "plans after"));
    await desk.waitFor((m) => m.attrs.id === "la2-after", 8000);
  });

  test(`[${kind}] LA3: unloaded, then loaded — the sessions bound before get the new instance's filters`, async () => {
    const alice = await session("alice", "la3");
    const desk = await session("ivy", "desk");
    const annex = await session("ivy", "annex", UNCLASSIFIED_SITE);
    const kiosk = await web("ivy", "kiosk", UNCLASSIFIED_SITE);
    await shell(`module:unload("cordon_guard", "${domain}")`);
    await shell(`module:load("cordon_guard", "${domain}")`);
    await sleep(500);
    await guard!.cacheEpochTold();
    for (const id of ["la3-a", "la3-b"]) {
      await sendRaw(alice, chat(jid("ivy"), id, `plans ${id}`));
      await desk.waitFor((m) => m.attrs.id === id, 8000);
    }
    await sendRaw(alice, `<message to='${jid("ivy")}' id='la3-u' type='chat'><body>lunch</body></message>`);
    await annex.waitFor((m) => m.attrs.id === "la3-u", 8000);
    await kiosk.until(/id=["']la3-u["']/);
    await sleep(500);
    assert.deepEqual(
      annex.received.filter((m) => m.toString().includes("plans")).map((m) => m.attrs.id),
      [],
      "nothing SECRET at the uncleared TCP session",
    );
    assert.ok(!kiosk.text.includes("plans"), "nothing SECRET at the uncleared BOSH session");
    assert.equal(times(kiosk.text, "la3-u"), 1, "once at the BOSH kiosk");
    for (const id of ["la3-a", "la3-b"])
      assert.equal(desk.received.filter((m) => m.attrs.id === id).length, 1);
  });

  test(`[${kind}] LA4: reloaded while Cordon is down — refused with wait, nothing unchecked; Cordon back → delivered as decided`, async () => {
    const alice = await session("alice", "la4");
    const desk = await session("gus", "desk");
    const annex = await session("gus", "annex", UNCLASSIFIED_SITE);
    await guard!.stop();
    guard = undefined;
    try {
      await shell(`module:reload("cordon_guard", "${domain}")`);
      await sendRaw(alice, chat(jid("gus"), "la4-a", "plans la4-a"));
      await sendRaw(alice, `<message to='${jid("gus")}' id='la4-u' type='chat'><body>lunch</body></message>`);
      const errors = () =>
        alice.received.filter((m) => m.attrs.type === "error" && m.attrs.id?.startsWith("la4-"));
      await until(() => errors().length === 2, 10_000);
      assert.equal(errors().length, 2, "both refused");
      for (const error of errors()) {
        assert.equal(error.getChild("error")?.attrs.type, "wait");
        assert.ok(
          !error.toString().includes("plans") && !error.toString().includes("lunch"),
          "nothing echoed",
        );
      }
      assert.ok(!desk.received.some((m) => m.attrs.id?.startsWith("la4-")), "nothing delivered unchecked");
    } finally {
      await startGuard();
    }
    await sendRaw(alice, chat(jid("gus"), "la4-b", "plans la4-b"));
    await desk.waitFor((m) => m.attrs.id === "la4-b", 8000);
    await sleep(300);
    assert.ok(
      !annex.received.some((m) => m.toString().includes("plans")),
      "nothing SECRET at the uncleared site",
    );
  });

  test(`[${kind}] LA5: after a reload the verdict cache works again at once (the epoch carried over, no verdict)`, async () => {
    const alice = await session("alice", "la5");
    const desk = await session("jo", "desk");
    const annex = await session("jo", "annex", UNCLASSIFIED_SITE);
    // Kept before the reload: not carried over (asked again after it).
    await sendRaw(alice, chat(jid("jo"), "la5-0", "plans la5-0"));
    await desk.waitFor((m) => m.attrs.id === "la5-0", 8000);
    await shell(`module:reload("cordon_guard", "${domain}")`);
    await sleep(300);
    const asked: number[] = [];
    for (const id of ["la5-a", "la5-b", "la5-c"]) {
      const before = decisions;
      await sendRaw(alice, chat(jid("jo"), id, `plans ${id}`));
      await desk.waitFor((m) => m.attrs.id === id, 8000);
      asked.push(decisions - before);
    }
    assert.deepEqual(asked, [1, 0, 0], "asked once after the reload, then served from the cache");
    await sleep(300);
    assert.ok(
      !annex.received.some((m) => m.toString().includes("plans")),
      "nothing SECRET at the uncleared site",
    );
  });

  test(`[${kind}] LA6: after a reload, carbons and archive results at the uncleared site of a session bound before it carry nothing SECRET`, async () => {
    const alice = await session("alice", "la6");
    const desk = await session("kim", "desk");
    const annex = await session("kim", "annex", UNCLASSIFIED_SITE);
    await sendRaw(annex, "<iq type='set' id='la6-c'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    await annex.waitFor((m) => m.attrs.id === "la6-c", 8000);
    await shell(`module:reload("cordon_guard", "${domain}")`);
    await sleep(300);
    // To the desk's full address: mod_carbons copies it to the annex (XEP-0280 §7).
    await sendRaw(alice, chat(`${jid("kim")}/desk`, "la6-a", "plans la6-a"));
    await desk.waitFor((m) => m.attrs.id === "la6-a", 8000);
    await sendRaw(
      alice,
      `<message to='${jid("kim")}/desk' id='la6-u' type='chat'><body>lunch la6</body></message>`,
    );
    await desk.waitFor((m) => m.attrs.id === "la6-u", 8000);
    await annex.waitFor((m) => m.toString().includes("lunch la6"), 8000); // the unlabelled one's carbon
    // The archive, queried from each site.
    for (const [client, id] of [
      [desk, "la6-qd"],
      [annex, "la6-qa"],
    ] as const) {
      await sendRaw(client, `<iq type='set' id='${id}'><query xmlns='urn:xmpp:mam:2' queryid='${id}'/></iq>`);
      await client.waitFor((m) => m.name === "iq" && m.attrs.id === id, 8000);
    }
    await sleep(300);
    assert.deepEqual(
      annex.received.filter((m) => m.toString().includes("plans")).map((m) => m.toString().slice(0, 120)),
      [],
      "nothing SECRET at the uncleared site: no carbon, no archive result",
    );
    assert.ok(
      desk.received.some((m) => m.toString().includes("la6-qd") && m.toString().includes("plans la6-a")),
      "the cleared desk gets it from the archive",
    );
  });
});
