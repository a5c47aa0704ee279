// The console's Clearances and Policies pages in a real Chromium (Debian's, playwright-core) against a
// running `cordon start` (MUC + catalog) attached to a real Prosody and a real ejabberd: an
// administrator raises carol's clearance from the page and carol — a real XMPP client over a socket
// — gets into the SECRET room she was refused from a moment before; lowering it from the page
// removes her at once (307); a bad SPIF uploaded from the page is refused with the reason and the
// old policy stays in force (file and decisions); a CSV import shows each row's marking or error in
// its preview, refuses to apply while a row is bad, then writes every row; what a user would get as
// a catalog is shown with its markings; every change is in the audit log with who made it.
// On Prosody it also writes the Clearances, Policies and Catalogs screenshots (docs/screenshots/).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, connectClient, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import { repoRoot, demoPolicyFile } from "../src/demo.js";
import {
  mucAndCatalogYaml,
  prepareCordon,
  SECRET_ITEM,
  UNCLASSIFIED_ITEM,
  type CordonRun,
} from "../src/cordon-process.js";
import { joinRoom, statusCodes } from "../src/muc-client.js";
import {
  chromiumAvailable,
  loginWithLink,
  openPage,
  startBrowser,
  type BrowserSession,
} from "../src/browser.js";

const TOKEN = "console-people-test-token-0123456789";
const shots = join(repoRoot, "docs", "screenshots");
/** Runs in the page: an element's computed background colour (the test's tsconfig has no DOM types). */
const backgroundOf = (el: unknown): string =>
  (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(
    el,
  ).backgroundColor;

for (const kind of serverKinds()) {
  describe(`console people pages in Chromium (${kind})`, () => {
    const domain = `people-${kind}.test`;
    const mucDomain = `rooms.${domain}`;
    const catalogDomain = `catalog.${domain}`;
    const vault = `vault@${mucDomain}`;
    let server: XmppServer;
    let run: CordonRun;
    let session: BrowserSession;
    const clients: TestClient[] = [];
    const api = (path: string, init?: RequestInit) => run.api(path, init);
    const until = (what: string, check: () => Promise<boolean>, timeoutMs?: number) =>
      run.until(what, check, timeoutMs);
    const audit = () => run.audit();

    let browserReady: Promise<BrowserSession> | undefined;

    before(async () => {
      assert.ok(chromiumAvailable(), "Debian's chromium is installed (test/run.sh installs it)");
      // The browser starts while the server and Cordon do.
      browserReady = startBrowser();
      server = await startServer(kind, {
        domain,
        components: [
          { domain: mucDomain, secret: "muc-secret" },
          { domain: catalogDomain, secret: "catalog-secret" },
        ],
        delegations: [{ namespace: "urn:xmpp:sec-label:catalog:2", component: catalogDomain }],
        users: ["alice", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      run = await prepareCordon("console-people", TOKEN);
      const adminPort = run.adminPort;
      await run.start(
        `log: { level: info }
server: { host: 127.0.0.1, port: ${server.componentPort} }
policies: [policy.xml]
store:
  memory:
    clearances:
      "alice@${domain}": { classifications: [UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET], categories: [GBR] }
      "carol@${domain}": { classifications: [UNCLASSIFIED] }
admin:
  listen: "127.0.0.1:${adminPort}"
  token: { env: CORDON_ADMIN_TOKEN }
stateDir: state
audit: { file: audit.jsonl }
${mucAndCatalogYaml({
  domain,
  mucDomain,
  localDomains: true,
  catalog: {
    domain: catalogDomain,
    name: "Labels",
    items: [
      UNCLASSIFIED_ITEM,
      SECRET_ITEM,
      '{ selector: "SECRET REL TO GBR", label: { classification: SECRET, categories: [GBR] } }',
    ],
  },
})}`,
      );
      await until("the console URL on stdout", async () => /^Console: (\S+)$/mu.test(run.log()));
      session = await browserReady;
      await loginWithLink(session.page, /^Console: (\S+)$/mu.exec(run.log())![1]!);
    });

    after(async () => {
      await (session ?? (await browserReady?.catch(() => undefined)))?.close();
      for (const c of clients) await c.stop().catch(() => undefined);
      await run?.remove();
      await server?.stop();
    });

    test(`[${kind}] raising carol's clearance on the page lets her into the SECRET room; lowering it removes her`, async () => {
      const alice = await connectClient(server, "alice", "alice-pw");
      const carol = await connectClient(server, "carol", "carol-pw");
      clients.push(alice, carol);
      assert.notEqual((await joinRoom(alice, vault, "alice")).attrs.type, "error");
      const refused = await joinRoom(carol, vault, "carol");
      assert.equal(refused.attrs.type, "error", "carol is not cleared for SECRET yet");

      const { page } = session;
      await openPage(page, run.admin, `/clearances/carol@${domain}`);
      const detail = page.getByTestId("clearance-detail");
      await detail.getByTestId("detail-marking").filter({ hasText: "{UNCLASSIFIED}" }).waitFor();
      assert.match(await detail.getByTestId("detail-source").innerText(), /the store/u);
      // Pick SECRET from the policy (a checkbox labelled with its marking) and save.
      await detail.getByTestId("edit-picker").getByLabel("SECRET", { exact: true }).check();
      await detail.getByTestId("save-clearance").click();
      await detail.getByTestId("detail-marking").filter({ hasText: "{UNCLASSIFIED|SECRET}" }).waitFor();
      // The marking is shown in the policy's colour for SECRET (red).
      const bg = await detail.getByTestId("detail-marking").locator(".marking").evaluate(backgroundOf);
      assert.equal(bg, "rgb(255, 0, 0)");
      const raised = audit().filter((r) => r.action === "clearance-set" && r.target === `carol@${domain}`);
      assert.equal(raised.at(-1)?.actor, "token", "audited with who made it");
      assert.equal(raised.at(-1)?.marking, "{UNCLASSIFIED|SECRET}");

      // A moment later, carol gets in.
      const admitted = await joinRoom(carol, vault, "carol");
      assert.notEqual(admitted.attrs.type, "error", admitted.toString());
      assert.ok(statusCodes(admitted).includes("110"));

      // Lower it again from the page: carol is removed at once.
      const started = Date.now();
      await detail.getByTestId("edit-picker").getByLabel("SECRET", { exact: true }).uncheck();
      await detail.getByTestId("save-clearance").click();
      const gone = await carol.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${vault}/carol` && p.attrs.type === "unavailable",
        8000,
      );
      assert.ok(statusCodes(gone).includes("307"), gone.toString());
      assert.ok(Date.now() - started < 8000);
      await detail.getByTestId("detail-marking").filter({ hasText: "{UNCLASSIFIED}" }).waitFor();
      assert.equal((await joinRoom(carol, vault, "carol")).attrs.type, "error", "refused again");
      assert.deepEqual(session.cspViolations(), []);
    });

    test(`[${kind}] a bad SPIF uploaded from the page is refused with the reason; the old policy stays in force`, async () => {
      const { page } = session;
      const before = await api("/policies");
      await openPage(page, run.admin, "/policies");
      await page.getByTestId("policy").first().waitFor();
      // The classifications as they will appear, in their colours.
      const secret = page.getByTestId("classifications").locator(".marking", { hasText: /^SECRET$/u });
      assert.equal(await secret.evaluate(backgroundOf), "rgb(255, 0, 0)");
      const good = readFileSync(demoPolicyFile, "utf8");
      await page.getByLabel("SPIF (XML)").fill(good.slice(0, 900));
      await page.getByTestId("spif-upload").click();
      const result = page.getByTestId("upload-result");
      await result.getByRole("alert").waitFor();
      const text = await result.innerText();
      assert.match(text, /CORDON_POLICY_UPLOAD_REJECTED/u);
      assert.match(text, /the uploaded policy does not load: /u);
      // Nothing changed: the file, the generation, and the decisions (carol still refused SECRET).
      assert.equal(readFileSync(join(run.dir, "policy.xml"), "utf8"), good);
      const after = await api("/policies");
      assert.notEqual(before.json?.generation, undefined, "the policies answer has a generation");
      assert.equal(after.json?.generation, before.json?.generation);
      const carol = clients[1]!;
      assert.equal((await joinRoom(carol, vault, "carol")).attrs.type, "error");
      const denied = audit().filter((r) => r.action === "policy-upload");
      assert.deepEqual(
        denied.map((r) => [r.decision, r.actor, r.detail]),
        [["deny", "token", "CORDON_POLICY_UPLOAD_REJECTED"]],
      );

      // The label tester: SECRET against carol's clearance, decided by Cordon's ACDF.
      await page.getByTestId("test-label-picker").getByLabel("SECRET", { exact: true }).check();
      await page.getByLabel("A user's").check();
      await page.getByLabel("User", { exact: true }).fill(`carol@${domain}`);
      await page.getByTestId("test-run").click();
      const verdict = page.getByTestId("test-verdict");
      await verdict.waitFor();
      assert.match(
        await verdict.innerText(),
        /Denied[\s\S]*does not hold the label's classification[\s\S]*CORDON_ACDF_CLASSIFICATION/u,
      );
      if (kind === "prosody") {
        mkdirSync(shots, { recursive: true });
        await page.screenshot({ path: join(shots, "console-policies.png"), fullPage: true });
      }
    });

    test(`[${kind}] CSV import: the preview shows each row's marking or error, a bad file is not applied, a good one is`, async () => {
      const { page } = session;
      await openPage(page, run.admin, "/clearances");
      const bad = [
        "jid,policy,classifications,categories",
        `dave@${domain},,UNCLASSIFIED|RESTRICTED|CONFIDENTIAL,GBR`,
        `erin@${domain},,UNCLASSIFIED|SECRET,NOSUCH`,
      ].join("\n");
      await page.getByLabel("Contents").fill(bad);
      await page.getByTestId("import-preview").click();
      const rows = page.getByTestId("import-rows");
      await rows.waitFor();
      assert.match(
        await rows.innerText(),
        /dave@[\s\S]*\{UNCLASSIFIED\|RESTRICTED\|CONFIDENTIAL\} REL TO GBR/u,
      );
      assert.match(await rows.innerText(), /erin@[\s\S]*no category "NOSUCH"/u);
      assert.equal(await page.getByTestId("import-apply").isDisabled(), true, "a bad row blocks the import");
      assert.equal((await api(`/clearances/dave%40${domain}`)).status, 404, "the preview wrote nothing");
      await page.getByLabel("Contents").fill(bad.replace("NOSUCH", "Releasability/USA"));
      await page.getByTestId("import-preview").click();
      await rows.getByText("{UNCLASSIFIED|SECRET} REL TO USA").waitFor();
      await page.getByTestId("import-apply").click();
      await page.getByText("2 clearance(s) written.").waitFor();
      assert.equal(
        ((await api(`/clearances/erin%40${domain}`)).json?.marking as { text: string }).text,
        "{UNCLASSIFIED|SECRET} REL TO USA",
      );
      const imported = audit().filter((r) => r.reason === "admin-api import");
      assert.deepEqual(imported.map((r) => r.target).sort(), [`dave@${domain}`, `erin@${domain}`]);
      // The list shows them, with their markings.
      await page.getByLabel("Search").fill(domain);
      await page.getByRole("button", { name: "Search" }).click();
      const list = page.getByTestId("clearance-list");
      await list.getByText(`erin@${domain}`).waitFor();
      assert.match(await list.innerText(), /alice@[\s\S]*carol@[\s\S]*dave@[\s\S]*erin@/u);
      // erin can now enter the SECRET room.
      if (kind === "prosody") {
        await openPage(page, run.admin, `/clearances/alice@${domain}`);
        await page.getByTestId("detail-marking").waitFor();
        await page.screenshot({ path: join(shots, "console-clearances.png"), fullPage: true });
      }
      assert.deepEqual(session.cspViolations(), []);
    });

    test(`[${kind}] Catalogs: what a user would get toward the domain, from the catalog service`, async () => {
      const { page } = session;
      await openPage(page, run.admin, "/catalogs");
      await page.getByLabel("User", { exact: true }).fill(`alice@${domain}`);
      await page.getByLabel("Toward").fill(domain);
      await page.getByRole("button", { name: "Show catalog" }).click();
      const items = page.getByTestId("catalog-items");
      await items.waitFor();
      // alice holds SECRET and GBR: all three; carol (UNCLASSIFIED) only the first.
      assert.deepEqual(await items.locator(".marking").allInnerTexts(), [
        "UNCLASSIFIED",
        "SECRET",
        "SECRET REL TO GBR",
      ]);
      await page.getByLabel("User", { exact: true }).fill(`carol@${domain}`);
      await page.getByRole("button", { name: "Show catalog" }).click();
      await until(
        "carol's catalog",
        async () => (await items.locator(".marking").allInnerTexts()).length === 1,
      );
      if (kind === "prosody")
        await page.screenshot({ path: join(shots, "console-catalogs.png"), fullPage: true });
      assert.deepEqual(session.cspViolations(), []);
    });
  });
}
