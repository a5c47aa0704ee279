// The console's Rooms and Boundary pages (issue 18) on a real Chromium, against `cordon start`
// (MUC + relay in one process) attached to a real server of each kind, with the relay toward a
// partner server of the other kind, driven by real XMPP clients:
// - relabel a room upward from the page: the uncleared occupant is removed (307) at once, the
//   cleared one stays; kick (307); destroy (every occupant told, XEP-0045 §10.9);
// - create a room from the page and have a client join it;
// - browse the relay's audit log after real cross-domain traffic (one message passed, one refused),
//   filter by decision, verify (ok), then tamper the file and verify shows where the chain breaks;
// - every change is in the process audit log with who made it.
// Screenshots of both pages go to docs/screenshots/ (from the Prosody run).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startServer,
  serverKinds,
  connectClient,
  freePort,
  xml,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { repoRoot, demoPolicyFile, loadDemo } from "../src/demo.js";
import { joinRoom, statusCodes } from "../src/muc-client.js";
import {
  chromiumAvailable,
  loginAsUser,
  loginPage,
  openPage,
  pageFetch,
  startBrowser,
  type BrowserSession,
} from "../src/browser.js";
import { cli, hashPassword } from "../src/cordon-process.js";

const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const TOKEN = "console-rooms-test-token-0123456789";
const SECRET = "console-rooms-secret";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const demo = loadDemo();

for (const kind of serverKinds()) {
  const other = kind === "prosody" ? "ejabberd" : "prosody";
  const domain = `${kind[0]}home.test`;
  const partner = `${other[0]}partner.test`;
  const mucDomain = `rooms.${domain}`;
  const ops = `ops@${mucDomain}`;

  describe(
    `console: rooms and boundary (${kind}, relay to ${other})`,
    { skip: !chromiumAvailable() && "no Chromium" },
    () => {
      let home: XmppServer;
      let far: XmppServer;
      let child: ChildProcess;
      let dir: string;
      let admin: string;
      let browser: BrowserSession;
      let log = "";
      const c: Record<string, TestClient> = {};

      const api = async (path: string) => {
        const res = await fetch(`${admin}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        return (await res.json()) as Record<string, unknown>;
      };
      const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (await Promise.resolve(check()).catch(() => false)) return;
          await sleep(100);
        }
        assert.fail(`timed out waiting for ${what}\n${log.slice(-3000)}`);
      };
      const processAudit = () =>
        readFileSync(join(dir, "audit.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const shot = async (name: string) => {
        if (kind !== "prosody") return;
        mkdirSync(join(repoRoot, "docs/screenshots"), { recursive: true });
        await browser.page.screenshot({ path: join(repoRoot, "docs/screenshots", name), fullPage: true });
      };

      let browserReady: Promise<BrowserSession> | undefined;

      before(async () => {
        // The browser and the viewer's password hash are made while the servers start.
        browserReady = startBrowser();
        const veraHash = hashPassword("vera-password");
        [home, far] = await Promise.all([
          startServer(kind, {
            domain,
            components: [
              { domain: mucDomain, secret: SECRET },
              { domain: partner, secret: SECRET },
            ],
            users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
          }),
          startServer(other, {
            domain: partner,
            components: [{ domain, secret: SECRET }],
            users: [{ username: "dave", password: "dave-pw" }],
          }),
        ]);
        dir = mkdtempSync(join(tmpdir(), "cordon-console-rooms-"));
        copyFileSync(demoPolicyFile, join(dir, "policy.xml"));
        copyFileSync(
          join(repoRoot, "deploy/quickstart/labels/unclassified.xml"),
          join(dir, "unclassified.xml"),
        );
        copyFileSync(join(repoRoot, "deploy/quickstart/clearances/partner-link.xml"), join(dir, "link.xml"));
        const adminPort = await freePort();
        admin = `http://127.0.0.1:${adminPort}`;
        const policy = "1.3.6.1.4.1.99999.1.1";
        writeFileSync(
          join(dir, "cordon.yaml"),
          `log: { level: info }
server: { host: 127.0.0.1, port: ${home.componentPort} }
policies: [policy.xml]
stateDir: state
store:
  memory:
    clearances:
      "alice@${domain}": { classifications: [UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP SECRET] }
      "bob@${domain}": { classifications: [UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET] }
      "carol@${domain}": { classifications: [UNCLASSIFIED] }
admin:
  listen: "127.0.0.1:${adminPort}"
  token: { env: CORDON_ADMIN_TOKEN }
  console:
    users:
      - { name: vera, role: viewer, passwordHash: "${await veraHash}" }
audit: { file: audit.jsonl }
components:
  muc:
    domain: ${mucDomain}
    secret: ${SECRET}
    localDomains: ["${domain}"]
    labels:
      UNCLASSIFIED: { classification: UNCLASSIFIED }
      CONFIDENTIAL: { classification: CONFIDENTIAL }
      SECRET: { classification: SECRET }
    serviceClearance: { classifications: [UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET] }
    roomLabel: UNCLASSIFIED
    defaultLabel: UNCLASSIFIED
    presetRooms:
      ops: { name: Operations, label: UNCLASSIFIED, owners: ["alice@${domain}"] }
  relay:
    audit: { file: relay-audit.jsonl }
    peerings:
      partner:
        local:
          server: { host: 127.0.0.1, port: ${home.componentPort} }
          secret: ${SECRET}
          domains: ["${domain}"]
          policy: ${policy}
          defaultLabel: { file: unclassified.xml }
        remote:
          server: { host: 127.0.0.1, port: ${far.componentPort} }
          secret: ${SECRET}
          domains: ["${partner}"]
          policy: ${policy}
          defaultLabel: { file: unclassified.xml }
          senderClearance: { file: link.xml }
        outbound:
          peers: { grant: ["${partner}"] }
          unlabelled: default
          clearance: { file: link.xml }
        inbound:
          peers: { grant: ["${domain}"] }
          unlabelled: default
          clearance: { file: link.xml }
`,
        );
        child = spawn(process.execPath, [cli, "start", "--config", join(dir, "cordon.yaml")], {
          env: { ...process.env, CORDON_ADMIN_TOKEN: TOKEN },
          stdio: ["ignore", "pipe", "pipe"],
        });
        child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
        child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
        await until(
          "the admin API to report ready",
          async () => {
            const r = await fetch(`${admin}/ready`, { headers: { authorization: `Bearer ${TOKEN}` } });
            return r.status === 200;
          },
          30_000,
        );
        await Promise.all([
          ...["alice", "bob", "carol"].map(async (u) => (c[u] = await connectClient(home, u, `${u}-pw`))),
          connectClient(far, "dave", "dave-pw").then((d) => (c.dave = d)),
        ]);
        browser = await browserReady;
        await loginPage(browser.page, admin, TOKEN);
      });

      after(async () => {
        await (browser ?? (await browserReady?.catch(() => undefined)))?.close();
        for (const client of Object.values(c)) await client.stop().catch(() => undefined);
        if (child && child.exitCode === null) {
          const exited = once(child, "exit");
          child.kill("SIGTERM");
          await Promise.race([exited, sleep(5000)]);
          if (child.exitCode === null) child.kill("SIGKILL");
        }
        await Promise.allSettled([home?.stop(), far?.stop()]);
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      test(`[${kind}] relabel upward from the page: the uncleared occupant is removed, the cleared ones stay; kick; destroy`, async () => {
        const page = browser.page;
        assert.equal((await joinRoom(c.alice!, ops, "Alice")).attrs.type, undefined);
        assert.equal((await joinRoom(c.bob!, ops, "Bob")).attrs.type, undefined);
        assert.equal((await joinRoom(c.carol!, ops, "Carol")).attrs.type, undefined);
        await openPage(page, admin, "/rooms");
        const row = page.locator(`tr[data-room="${ops}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), /UNCLASSIFIED/);
        assert.match(await row.locator("td.num").innerText(), /3/);
        await row.getByRole("link", { name: ops }).click();
        for (const nick of ["Alice", "Bob", "Carol"]) await page.locator(`tr[data-nick="${nick}"]`).waitFor();
        // Each occupant's clearance marking, in the policy's colours.
        const carolMarking = page.locator('tr[data-nick="Carol"] .marking');
        assert.match(await carolMarking.innerText(), /UNCLASSIFIED/);
        assert.match(await page.locator('tr[data-nick="Alice"] .marking').innerText(), /TOP SECRET/);
        await shot("console-rooms.png");

        const carolOut = c.carol!.waitFor(
          (p) => p.is("presence") && p.attrs.type === "unavailable" && p.attrs.from === `${ops}/Carol`,
          10_000,
        );
        await page.getByLabel("New room label").selectOption("SECRET");
        await page.getByRole("button", { name: "Relabel" }).click();
        const out = await carolOut;
        assert.deepEqual(statusCodes(out).sort(), ["110", "307"]);
        await page.getByText("removed: Carol").waitFor();
        await until("the new label on the page", async () =>
          /SECRET/.test(await page.getByTestId("room-label").innerText()),
        );
        await until(
          "Carol gone from the page",
          async () => (await page.locator('tr[data-nick="Carol"]').count()) === 0,
        );
        assert.equal(await page.locator('tr[data-nick="Bob"]').count(), 1, "bob (SECRET) stays");
        assert.equal((await joinRoom(c.carol!, ops, "Carol")).attrs.type, "error", "carol may not come back");

        // Kick (XEP-0045 §8.2): 307 to bob, alice hears it.
        const bobOut = c.bob!.waitFor(
          (p) => p.is("presence") && p.attrs.type === "unavailable" && p.attrs.from === `${ops}/Bob`,
          10_000,
        );
        await page.getByRole("button", { name: "Kick Bob" }).click();
        assert.ok(statusCodes(await bobOut).includes("307"));
        await until(
          "Bob gone from the page",
          async () => (await page.locator('tr[data-nick="Bob"]').count()) === 0,
        );

        // Destroy (XEP-0045 §10.9): alice is told, with the reason.
        const destroyed = c.alice!.waitFor(
          (p) =>
            p.is("presence") &&
            p.attrs.type === "unavailable" &&
            p.getChild("x", NS_MUC_USER)?.getChild("destroy") !== undefined,
          10_000,
        );
        await page
          .getByLabel("Reason given to occupants (kick, destroy)")
          .fill("Closed by the security officer");
        await page.getByRole("button", { name: "Destroy room…" }).click();
        await page.getByRole("button", { name: "Destroy now" }).click();
        const gone = await destroyed;
        assert.equal(
          gone.getChild("x", NS_MUC_USER)?.getChild("destroy")?.getChildText("reason"),
          "Closed by the security officer",
        );
        await until(
          "the room gone from GET /rooms",
          async () => !((await api("/rooms")).rooms as { jid: string }[]).some((r) => r.jid === ops),
        );

        // Every change in the process audit log, with who made it (the token's session). (The room
        // is gone before the route writes its record and answers: the page's request may still be
        // in flight here — wait for the record, not for a moment.)
        await until("the destroy recorded", async () =>
          processAudit().some((r) => r.component === "admin" && r.action === "room-destroy"),
        );
        const changes = processAudit().filter(
          (r) => r.component === "admin" && String(r.action).startsWith("room-"),
        );
        assert.deepEqual(
          changes.map((r) => [r.action, r.decision, r.target]),
          [
            ["room-relabel", "change", ops],
            ["room-kick", "change", ops],
            ["room-destroy", "change", ops],
          ],
        );
        for (const r of changes) assert.equal(typeof r.actor, "string");
        assert.equal(browser.cspViolations().length, 0, browser.messages.join("\n"));
      });

      test(`[${kind}] create a room from the page; a client joins it; a label above the service clearance is not offered and refused`, async () => {
        const page = browser.page;
        await openPage(page, admin, "/rooms");
        await page.getByLabel("Room (local part or JID)").fill("made");
        await page.getByLabel("Name", { exact: true }).fill("Made on the page");
        await page.getByLabel("Room label").selectOption("CONFIDENTIAL");
        await page.getByRole("button", { name: "Create room" }).click();
        await until("the new room's page", async () =>
          /CONFIDENTIAL/.test(await page.getByTestId("room-label").innerText()),
        );
        const made = `made@${mucDomain}`;
        const self = await joinRoom(c.bob!, made, "Bob");
        assert.equal(self.attrs.type, undefined, self.toString());
        assert.ok(!statusCodes(self).includes("201"), "the room existed: not created by the join");
        assert.equal((await joinRoom(c.carol!, made, "Carol")).attrs.type, "error", "carol is not cleared");
        await page.locator('tr[data-nick="Bob"]').waitFor();
        // The API refuses a label the service does not offer (TOP SECRET is above the service clearance).
        const refused = await browser.page.evaluate(async () => {
          const s = (await (await fetch("/console/session")).json()) as { csrf: string };
          const r = await fetch("/rooms", {
            method: "POST",
            headers: { "content-type": "application/json", "x-cordon-csrf": s.csrf },
            body: JSON.stringify({ room: "top", label: "TOP SECRET" }),
          });
          return { status: r.status, body: await r.text() };
        });
        assert.equal(refused.status, 422, refused.body);
        const rec = processAudit().find((r) => r.action === "room-create" && r.decision === "change");
        assert.equal(rec?.target, "made");
      });

      test(`[${kind}] a viewer sees rooms, occupants and markings, changes nothing (403, nothing recorded), and may verify the audit chain`, async () => {
        const viewer = await startBrowser();
        try {
          await loginAsUser(viewer.page, admin, "vera", "vera-password");
          const made = `made@${mucDomain}`;
          await openPage(viewer.page, admin, `/rooms/${encodeURIComponent(made)}`);
          await viewer.page.locator('tr[data-nick="Bob"] .marking').waitFor();
          assert.match(await viewer.page.locator('tr[data-nick="Bob"] .marking').innerText(), /SECRET/);
          // No change control on the page: no kick, relabel, destroy or create.
          assert.equal(await viewer.page.locator("main button, main select, main input").count(), 0);
          const records = processAudit().length;
          for (const [method, path, body] of [
            ["POST", `/rooms/${encodeURIComponent(made)}/kick`, { nick: "Bob" }],
            ["PUT", `/rooms/${encodeURIComponent(made)}/label`, { label: "UNCLASSIFIED" }],
            ["DELETE", `/rooms/${encodeURIComponent(made)}`, {}],
            ["POST", "/rooms", { room: "viewer-made", label: "UNCLASSIFIED" }],
          ] as const) {
            const r = await pageFetch(viewer.page, method, path, {
              body: JSON.stringify(body),
              contentType: "application/json",
              csrf: true,
            });
            assert.equal(r.status, 403, `${method} ${path}`);
          }
          assert.equal(processAudit().length, records, "nothing changed, nothing recorded");
          const still = (await api(`/rooms/${encodeURIComponent(made)}`)).room as {
            occupants: { nick: string }[];
          };
          assert.deepEqual(
            still.occupants.map((o) => o.nick),
            ["Bob"],
          );
          // Verifying changes nothing: a viewer may (GET /audit/verify).
          await openPage(viewer.page, admin, "/boundary");
          await viewer.page.getByRole("button", { name: "Verify the chain" }).click();
          await viewer.page.getByText("Chain verified").waitFor();
          assert.equal(viewer.cspViolations().length, 0, viewer.messages.join("\n"));
        } finally {
          await viewer.close();
        }
      });

      test(`[${kind}] boundary: the relay audit log after real cross-domain traffic; filter by decision; verify ok; tampered, verify shows the break`, async () => {
        const page = browser.page;
        // One message within the link's clearance (unlabelled: the default UNCLASSIFIED) crosses, one
        // labelled SECRET is refused.
        await c.alice!.send(
          xml(
            "message",
            { to: `dave@${partner}`, type: "chat", id: "ok-1" },
            xml("body", {}, "hello partner"),
          ),
        );
        await c.dave!.waitFor((m) => m.is("message") && m.attrs.id === "ok-1", 10_000);
        const secret = xml(
          "message",
          { to: `dave@${partner}`, type: "chat", id: "secret-1" },
          xml("body", {}, "not for the partner"),
        );
        secret.append(parseElement(demo.labelXml(demo.label("SECRET"))));
        await c.alice!.send(secret);
        await c.alice!.waitFor((m) => m.attrs.id === "secret-1" && m.attrs.type === "error", 10_000);

        await openPage(page, admin, "/boundary");
        await page.locator('[data-peering="partner"]').waitFor();
        assert.match(await page.locator('[data-peering="partner"]').innerText(), /CONFIDENTIAL/);
        await until("a refusal counted", async () =>
          /[1-9]\d* refused/.test(await page.getByTestId("counts-outbound").innerText()),
        );
        await page.locator("table.audit tbody tr[data-seq]").first().waitFor();
        await page.getByLabel("Decision").selectOption("refuse");
        await page.getByRole("button", { name: "Apply filter" }).click();
        // Read at once from the table's markup (a row re-rendered meanwhile is not waited for).
        const decisionsShown = async () =>
          [
            ...(await page.locator("table.audit tbody").innerHTML()).matchAll(/data-decision="([^"]*)"/gu),
          ].map((m) => m[1]);
        await until("only refusals shown", async () => {
          const decisions = await decisionsShown();
          return decisions.length > 0 && decisions.every((d) => d === "refuse");
        });
        await page.getByRole("button", { name: "Verify the chain" }).click();
        await page.getByText("Chain verified").waitFor();
        await shot("console-boundary.png");

        // Tamper in place (same length, as an editor would): the first passed record now says drop.
        const file = join(dir, "relay-audit.jsonl");
        const text = readFileSync(file, "utf8");
        const at = text.indexOf('"decision":"pass"');
        assert.ok(at > 0);
        const line = text.slice(0, at).split("\n").length;
        const fd = openSync(file, "r+");
        writeSync(fd, '"decision":"drop"', Buffer.byteLength(text.slice(0, at)), "utf8");
        closeSync(fd);
        await page.getByRole("button", { name: "Verify the chain" }).click();
        const broken = page.getByText(`Chain broken at line ${line}`);
        await broken.waitFor();
        assert.match(await page.getByTestId("verify-result").innerText(), /HMAC does not match/);
        await page.getByRole("button", { name: "Show the records there" }).click();
        await page.getByText("chain breaks here").waitFor();
        await shot("console-boundary-broken.png");
        assert.equal(browser.cspViolations().length, 0, browser.messages.join("\n"));
      });
    },
  );
}
