// Found in review (advrelay): the process audit log of `cordon start` (the MUC's and the catalog's
// decisions, admin changes) failed silently — a log swapped for /dev/full (or a full disk) made
// every write fail, and the MUC went on admitting and delivering, the admin API went on changing
// clearances, none of it recorded and nothing logged. Now the first failed write is logged and
// everything the log must record is refused from then on (fail closed, as the relay does). On
// Prosody and on ejabberd, with `cordon start` as a child process and real clients.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import {
  startServer,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type ServerKind,
} from "@cordon/harness";
import { mucAndCatalogYaml, prepareCordon, type CordonRun } from "../src/cordon-process.js";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const TOKEN = "audit-failure-test-token-0123456789";

for (const kind of ["prosody", "ejabberd"] as const satisfies readonly ServerKind[]) {
  describe(`process audit log that cannot be written (${kind})`, () => {
    const domain = `auditfail-${kind}.test`;
    const mucDomain = `rooms.${domain}`;
    const vault = `vault@${mucDomain}`;
    let server: XmppServer;
    let run: CordonRun;
    const clients: Record<string, TestClient> = {};

    const api = (path: string, init?: RequestInit) => run.api(path, init);
    const until = (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) =>
      run.until(what, check, timeoutMs);
    const joined = (client: TestClient, nick: string, timeoutMs: number) =>
      client.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${vault}/${nick}` &&
          (p.attrs.type === "error" ||
            (p
              .getChild("x", NS_MUC_USER)
              ?.getChildren("status")
              .some((s) => s.attrs.code === "110") ??
              false)),
        timeoutMs,
      );
    const enter = (client: TestClient, nick: string) =>
      client.send(
        xml(
          "presence",
          { to: `${vault}/${nick}` },
          xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" })),
        ),
      );

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "muc-secret" }],
        users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      run = await prepareCordon("auditfail", TOKEN);
      // Every write to the log fails (ENOSPC), as on a full disk.
      symlinkSync("/dev/full", join(run.dir, "audit.jsonl"));
      const adminPort = run.adminPort;
      await run.start(
        `log: { level: info }
server: { host: 127.0.0.1, port: ${server.componentPort} }
policies: [policy.xml]
store:
  memory:
    clearances:
      "alice@${domain}": { classifications: [UNCLASSIFIED, SECRET] }
      "bob@${domain}": { classifications: [UNCLASSIFIED, SECRET] }
admin: { listen: "127.0.0.1:${adminPort}", token: { env: CORDON_ADMIN_TOKEN } }
stateDir: state
audit: { file: audit.jsonl }
${mucAndCatalogYaml({ domain, mucDomain, vaultOwner: false })}`,
      );
      for (const u of ["alice", "bob"]) clients[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const c of Object.values(clients)) await c.stop().catch(() => undefined);
      await run?.remove();
      await server?.stop();
    });

    test(`[${kind}] once the log has failed, nothing it must record happens: no join, no groupchat, no admin change; the failure is logged`, async () => {
      const alice = clients.alice!;
      const bob = clients.bob!;
      // The first decision is appended before the disk has said no (one batch in flight is lost
      // with the disk); its write fails, and that failure is logged.
      await enter(alice, "alice");
      await joined(alice, "alice", 8000).catch(() => undefined);
      await until("the audit failure to be logged", async () =>
        /audit log cannot be written/.test(run.log()),
      );
      // From now on: bob does not get in, alice's message reaches no one (not even herself).
      await enter(bob, "bob");
      const bobIn = await joined(bob, "bob", 3000).then(
        (p) => p.attrs.type !== "error",
        () => false,
      );
      assert.equal(bobIn, false, "bob joined while the audit log could not record it");
      await alice.send(xml("message", { to: vault, type: "groupchat" }, xml("body", {}, "unaudited")));
      const heard = await alice
        .waitFor(
          (m) => m.is("message") && m.attrs.type === "groupchat" && m.getChildText("body") === "unaudited",
          3000,
        )
        .then(
          () => true,
          () => false,
        );
      assert.equal(heard, false, "a groupchat message was delivered while the audit log could not record it");
      // An admin change the log cannot record is not made.
      const set = await api(`/clearances/${encodeURIComponent(`bob@${domain}`)}`, {
        method: "PUT",
        body: JSON.stringify({ classifications: ["UNCLASSIFIED"] }),
      });
      assert.equal(set.status, 503, set.text);
      assert.match(set.text, /CORDON_AUDIT_UNAVAILABLE/);
      const now = await api(`/clearances/${encodeURIComponent(`bob@${domain}`)}`);
      assert.match(now.text, /SECRET/, now.text);
      const reload = await api("/policies/reload", { method: "POST", body: "{}" });
      assert.equal(reload.status, 503, reload.text);
    });
  });
}
