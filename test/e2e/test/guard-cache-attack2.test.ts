// Attacks on the central check (issue 17), review of the verdict cache's second round: label_splice
// (Prosody: a cached verdict's label written from text serialised once), single flight (ejabberd:
// messages waiting on the same question) and the modules' <served/> reports. Real servers, real
// clients; 127.0.0.1 is a site cleared for everything, 127.0.0.2 an UNCLASSIFIED-only one.
// - R1: XEP-0198 resumption (same address, so allowed) must keep what the guard decided per
//   session: a resumed session at the uncleared site gets nothing SECRET, a resumed label-unaware
//   session the FLOT form. On Prosody mod_smacks hands the resumed session the new connection's
//   filters — none of the module's (they are added at resource-bind) — so the resumed session got
//   every message as routed: SECRET at the uncleared site.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startServer, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import { createGuardService, type GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";

const demo = loadDemo();
const PASSWORD = "cache-attack2-pw";
const CLEARED_SITE = "127.0.0.1";
const UNCLASSIFIED_SITE = "127.0.0.2";
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sendRaw(client: TestClient, data: string): Promise<void> {
  return (client.xmpp as unknown as { write(data: string): Promise<void> }).write(data);
}

/** A bare-bones client on a raw socket (XEP-0198 needs control of the connection): all it read. */
class RawClient {
  text = "";
  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (this.text += d));
    socket.on("error", () => undefined);
  }
  static async open(port: number, localAddress: string): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawClient(socket);
  }
  write(data: string): void {
    this.socket.write(data);
  }
  async until(pattern: RegExp, ms = 8000): Promise<RegExpMatchArray> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
      const m = this.text.match(pattern);
      if (m) return m;
    }
    throw new Error(`never read ${pattern}: ${this.text.slice(-400)}`);
  }
  /** Stream opened and authenticated (SASL PLAIN), stream restarted. */
  async login(domain: string, user: string, password: string): Promise<void> {
    const open = `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
    this.write(open);
    await this.until(/<\/stream:features>/);
    const plain = Buffer.from(`\0${user}\0${password}`).toString("base64");
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    await this.until(/<success/);
    this.text = "";
    this.write(open);
    await this.until(/<\/stream:features>/);
  }
  /** Bound, stream management enabled with resumption, available: the resumption id. */
  async bindResumable(resource: string): Promise<string> {
    this.write(
      `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    await this.until(/id=["']bind1["']/);
    this.write("<enable xmlns='urn:xmpp:sm:3' resume='true'/><presence/>");
    const [, previd] = await this.until(/<enabled[^>]*\bid=["']([^"']+)["']/);
    return previd!;
  }
  /** Gone without closing its stream (a dropped connection): the server keeps the session for resumption. */
  drop(): void {
    this.socket.destroy();
  }
}

for (const kind of serverKinds()) {
  describe(`attacks on the verdict cache, round 2, on ${kind} (issue 17)`, () => {
    const domain = `${kind}-gcattack2.test`;
    const guardDomain = `guard.${domain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const chat = (to: string, id: string, body: string, extra = SECRET) =>
      `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${extra}</message>`;

    async function session(user: string, resource: string, site: string) {
      const client = await connectClient(server, user, PASSWORD, resource, { localAddress: site });
      open.push(client);
      return client;
    }

    /** A session of `user` that lost its connection and resumed it (XEP-0198) from the same `site`. */
    async function resumed(user: string, resource: string, site: string): Promise<RawClient> {
      const first = await RawClient.open(server.c2sPort, site);
      await first.login(domain, user, PASSWORD);
      const previd = await first.bindResumable(resource);
      await sleep(300);
      first.drop();
      await sleep(500);
      const back = await RawClient.open(server.c2sPort, site);
      await back.login(domain, user, PASSWORD);
      back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
      await back.until(/<resumed\b/);
      await sleep(300);
      return back;
    }

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: guardDomain, secret: "guard" }],
        guard: { component: guardDomain, timeoutSeconds: 10, cacheSeconds: 60 },
        users: ["alice", "bob", "carol", "dan"].map((u) => ({ username: u, password: PASSWORD })),
        extraModules: kind === "prosody" ? ["smacks"] : ["mod_stream_mgmt"],
      });
      for (const u of ["alice", "bob", "carol", "dan"])
        await store.setUserClearance(jid(u), demo.raw(demo.clearance(ALL)));
      guard = createGuardService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: guardDomain,
        secret: "guard",
        served: [domain],
        registry: demo.registry,
        store,
        defaultLabel: demo.label("UNCLASSIFIED"),
        locations: [
          { ranges: [`${CLEARED_SITE}/32`], clearance: demo.clearance(ALL) },
          { ranges: [`${UNCLASSIFIED_SITE}/32`], clearance: demo.clearance(["UNCLASSIFIED"]) },
        ],
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await guard.start();
      await sleep(300);
      await guard.cacheEpochTold();
    });

    after(async () => {
      if (process.env["GUARD_DEBUG"]) console.log(server.logTail(120));
      for (const client of open) await client.stop().catch(() => undefined);
      await guard?.stop();
      await server?.stop();
    });

    test(`[${kind}] R1: a session resumed (XEP-0198) at the uncleared site gets nothing SECRET — asked or from the cache`, async () => {
      const alice = await session("alice", "desk", CLEARED_SITE);
      const desk = await session("bob", "desk", CLEARED_SITE);
      const annex = await resumed("bob", "annex", UNCLASSIFIED_SITE);
      // Asked about (the first), then served from the cache (the second): the session at the
      // cleared site gets both (the control), the resumed one at the uncleared site neither.
      for (const id of ["r1a", "r1b"]) {
        await sendRaw(alice, chat(jid("bob"), id, `plans ${id}`));
        await desk.waitFor((m) => m.attrs.id === id, 8000);
      }
      // (an unlabelled message reaches it: the session is live and available)
      await sendRaw(alice, chat(jid("bob"), "r1c", "lunch", ""));
      await desk.waitFor((m) => m.attrs.id === "r1c", 8000);
      await annex.until(/lunch/);
      assert.ok(
        !annex.text.includes("plans"),
        `nothing SECRET at the uncleared site: ${annex.text.slice(-600)}`,
      );
      annex.drop();
      await desk.stop();
      await alice.stop();
    });

    test(`[${kind}] R1: a label-unaware session resumed (XEP-0198) gets the FLOT form, as before`, async () => {
      const alice = await session("alice", "desk2", CLEARED_SITE);
      const phone = await resumed("carol", "phone", CLEARED_SITE);
      for (const id of ["r2a", "r2b"]) {
        await sendRaw(alice, chat(jid("carol"), id, `plans ${id}`));
        const [m] = await phone.until(new RegExp(`<message[^>]*id=["']${id}["'][\\s\\S]*?</message>`));
        const body = /<body[^>]*>([\s\S]*?)<\/body>/.exec(m)?.[1];
        assert.equal(body, `SECRET\n${`plans ${id}`}`, `the FLOT form: ${m}`);
      }
      phone.drop();
      await alice.stop();
    });
  });
}
