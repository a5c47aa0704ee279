// Found in review (advrelay): the process audit log of `cordon start` (the MUC's and the catalog's
// decisions, admin changes) failed silently — a log swapped for /dev/full (or a full disk) made
// every write fail, and the MUC went on admitting and delivering, the admin API went on changing
// clearances, none of it recorded and nothing logged. Now the first failed write is logged and
// everything the log must record is refused from then on (fail closed, as the relay does). On
// Prosody and on ejabberd, with `cordon start` as a child process and real clients.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startServer,
  connectClient,
  freePort,
  xml,
  type XmppServer,
  type TestClient,
  type ServerKind,
} from "@cordon/harness";
import { repoRoot, demoPolicyFile } from "../src/demo.js";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const cli = join(repoRoot, "packages/cli/dist/src/main.js");
const TOKEN = "audit-failure-test-token-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of ["prosody", "ejabberd"] as const satisfies readonly ServerKind[]) {
  describe(`process audit log that cannot be written (${kind})`, () => {
    const domain = `auditfail-${kind}.test`;
    const mucDomain = `rooms.${domain}`;
    const vault = `vault@${mucDomain}`;
    let server: XmppServer;
    let child: ChildProcess;
    let dir: string;
    let admin: string;
    let log = "";
    const clients: Record<string, TestClient> = {};

    const api = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${admin}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(init.method && init.method !== "GET" ? { "content-type": "application/json" } : {}),
        },
      });
      return { status: res.status, text: await res.text() };
    };
    const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await check().catch(() => false)) return;
        await sleep(100);
      }
      assert.fail(`timed out waiting for ${what}\n${log.slice(-3000)}`);
    };
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
      dir = mkdtempSync(join(tmpdir(), "cordon-auditfail-"));
      copyFileSync(demoPolicyFile, join(dir, "policy.xml"));
      // Every write to the log fails (ENOSPC), as on a full disk.
      symlinkSync("/dev/full", join(dir, "audit.jsonl"));
      const adminPort = await freePort();
      admin = `http://127.0.0.1:${adminPort}`;
      writeFileSync(
        join(dir, "cordon.yaml"),
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
components:
  muc:
    domain: ${mucDomain}
    secret: muc-secret
    labels:
      UNCLASSIFIED: { classification: UNCLASSIFIED }
      SECRET: { classification: SECRET }
    roomLabel: UNCLASSIFIED
    defaultLabel: UNCLASSIFIED
    presetRooms:
      vault: { name: Vault, label: SECRET, clearance: [UNCLASSIFIED, SECRET], defaultLabel: SECRET }
`,
      );
      child = spawn(process.execPath, [cli, "start", "--config", join(dir, "cordon.yaml")], {
        env: { ...process.env, CORDON_ADMIN_TOKEN: TOKEN },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
      await until("the admin API to report ready", async () => (await api("/ready")).status === 200);
      for (const u of ["alice", "bob"]) clients[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const c of Object.values(clients)) await c.stop().catch(() => undefined);
      if (child && child.exitCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test(`[${kind}] once the log has failed, nothing it must record happens: no join, no groupchat, no admin change; the failure is logged`, async () => {
      const alice = clients.alice!;
      const bob = clients.bob!;
      // The first decision is appended before the disk has said no (one batch in flight is lost
      // with the disk); its write fails, and that failure is logged.
      await enter(alice, "alice");
      await joined(alice, "alice", 8000).catch(() => undefined);
      await until("the audit failure to be logged", async () => /audit log cannot be written/.test(log));
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
