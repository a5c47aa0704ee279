// Review of the web console in a real Chromium (issue 18, advconsole): everything a user, a remote
// server or an uploaded SPIF controls — room names and descriptions, nicks, occupants' full JIDs,
// classification and policy names, SPIF colours — rendered by the Rooms, Policies and Clearances
// pages. Nothing may run, inject an element, or paint a colour the policy did not give as a colour.
// The admin API runs in this process (the console's real handler and assets) over hostile data.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicy, makeLabel, PolicyRegistry, type Policy } from "@cordon/policy";
import { auditKey, FileAuditSink, MemoryAuditSink } from "@cordon/relay";
import { MemoryStore } from "@cordon/store";
import { demoPolicyFile, repoRoot } from "../src/demo.js";
import { chromiumAvailable, loginPage, openPage, startBrowser, type BrowserSession } from "../src/browser.js";

const TOKEN = "console-attack-e2e-token-0123456789";
const SCRIPT = "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>";
const STYLE = "<style>*{background:url(http://127.0.0.1:1/css)!important}</style>";

/** The demo SPIF with markup in its names and CSS in a colour (XML-escaped: the SPIF loads). */
function hostilePolicy(): Policy {
  const esc = (s: string) => s.replace(/&/gu, "&amp;").replace(/</gu, "&lt;").replace(/>/gu, "&gt;");
  const xml = readFileSync(demoPolicyFile, "utf8")
    .replace('name="SECRET"', `name="SECRET${esc(SCRIPT)}"`)
    .replace('color="red"', 'color="red;background-image:url(http://127.0.0.1:1/colour)"')
    .replace('name="ALPHA"', `name="ALPHA${esc(STYLE)}"`)
    .replace('name="Cordon Demo"', `name="Demo${esc(SCRIPT)}"`);
  return loadPolicy(xml);
}

interface StartedServer {
  url: string;
  close(): Promise<void>;
}

describe(
  "console attack (Chromium): hostile data rendered by the pages",
  { skip: !chromiumAvailable() },
  () => {
    let server: StartedServer;
    let browser: BrowserSession;
    let store: MemoryStore;
    let policyId = "";
    const dir = mkdtempSync(join(tmpdir(), "cordon-console-attack-"));

    before(async () => {
      // An audit log whose records carry what senders control (JIDs, resources, reasons, markings).
      const key = auditKey("console-attack-audit-key-0123456789abcdef");
      const auditFile = join(dir, "audit.jsonl");
      const sink = await FileAuditSink.open(auditFile, { key });
      for (const decision of ["grant", "deny", "change"] as const)
        sink.append({
          component: "muc",
          action: `join${SCRIPT}`,
          decision,
          reason: `reason${SCRIPT}${STYLE}`,
          actor: `actor@example.com/${SCRIPT}`,
          target: `target${SCRIPT}@muc.example`,
          marking: `SECRET${SCRIPT}`,
          detail: `detail${STYLE}`,
        });
      await sink.written();
      const policy = hostilePolicy();
      const registry = new PolicyRegistry();
      registry.register(policy);
      const secret = policy.classifications.find((c) => c.name.startsWith("SECRET"))!;
      const label = makeLabel(policy, secret, []);
      store = new MemoryStore();
      policyId = policy.id;
      const room = {
        jid: "hostile@muc.example",
        name: `room${SCRIPT}${STYLE}`,
        description: `desc${SCRIPT}`,
        persistent: true,
        public: true,
        membersOnly: false,
        label,
        clearance: undefined,
        defaultLabel: undefined,
        owners: [`owner@example.com`],
        occupants: [
          {
            nick: `nick${SCRIPT}${STYLE}`,
            jid: `user@example.com/${SCRIPT}`,
            role: "participant",
            affiliation: "none",
            clearance: { status: "none" },
            joinedAt: 0,
          },
        ],
        locked: false,
        createdAt: 0,
      };
      const refused = async (): Promise<never> => {
        throw new Error("not in this test");
      };
      // The cli's real handler and console (its dist, built before the e2e package).
      const cli = `${repoRoot}/packages/cli/dist/src/admin`;
      const { createAdminHandler } = (await import(`${cli}/handler.js`)) as {
        createAdminHandler: (p: unknown, o: unknown) => unknown;
      };
      const { startAdminServer } = (await import(`${cli}/server.js`)) as {
        startAdminServer: (o: unknown) => Promise<StartedServer>;
      };
      const handler = createAdminHandler(
        {
          components: () => [],
          rooms: () => ({
            operator: {
              rooms: () => [room],
              room: () => room,
              create: refused,
              relabel: refused,
              kick: refused,
              destroy: refused,
            },
            namedLabels: () => [{ name: `named${SCRIPT}`, label }],
          }),
          boundary: () => ({
            relay: () => undefined,
            auditLogs: () => [{ name: "process", file: auditFile, key }],
          }),
          people: {
            registry: () => registry,
            governing: () => policy,
            store,
            audit: new MemoryAuditSink(),
          },
        },
        { token: TOKEN },
      );
      server = await startAdminServer({ host: "127.0.0.1", port: 0, handler });
      // A stored clearance of the hostile classification, for the Clearances page.
      const put = await fetch(`${server.url}/clearances/alice%40example.com`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ classifications: [secret.name], categories: [] }),
      });
      assert.equal(put.status, 200, await put.text());
      // JIDs whose localparts hold what a URL treats specially, and a user with a per-policy entry.
      const set = async (jid: string, classification: string, forPolicy?: string) => {
        const r = await fetch(
          `${server.url}/clearances/${encodeURIComponent(jid)}${forPolicy ? `?policy=${forPolicy}` : ""}`,
          {
            method: "PUT",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            body: JSON.stringify({ classifications: [classification], categories: [] }),
          },
        );
        assert.equal(r.status, 200, await r.text());
      };
      await set("bob%41@example.com", "UNCLASSIFIED");
      await set("boba@example.com", secret.name);
      await set("x%zz@example.com", "UNCLASSIFIED");
      await set("carol@example.com", "UNCLASSIFIED");
      await set("carol@example.com", secret.name, policy.id);
      browser = await startBrowser();
      await loginPage(browser.page, server.url, TOKEN);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const assertInert = async (where: string) => {
      const found = await browser.page.evaluate(() => {
        const w = window as unknown as { __pwned?: number };
        const injected = Array.from(document.querySelectorAll("img, script, style, [onerror]")).filter(
          (e) =>
            !(e instanceof HTMLScriptElement && e.src.endsWith("/console/assets/app.js")) &&
            !(e instanceof HTMLStyleElement && e.textContent?.includes(".uplot")),
        );
        const painted = Array.from(document.querySelectorAll<HTMLElement>(".marking")).filter(
          (e) => getComputedStyle(e).backgroundImage !== "none",
        );
        return {
          pwned: w.__pwned ?? null,
          injected: injected.map((e) => e.outerHTML.slice(0, 80)),
          painted: painted.length,
          markings: document.querySelectorAll(".marking").length,
          text: document.body.innerText.includes("onerror"),
        };
      });
      assert.equal(found.pwned, null, `${where}: script ran`);
      assert.deepEqual(found.injected, [], `${where}: markup injected`);
      assert.equal(found.painted, 0, `${where}: a colour from the SPIF painted an image`);
      assert.deepEqual(browser.cspViolations(), [], `${where}: CSP violations (an injection the CSP caught)`);
      return found;
    };

    test("Rooms: room names, nicks and occupants' resources stay text", async () => {
      await openPage(browser.page, server.url, "/rooms");
      await browser.page.getByText("hostile@muc.example").first().waitFor({ timeout: 15_000 });
      const list = await assertInert("rooms list");
      assert.ok(list.markings > 0, "the room label's marking is shown");
      await openPage(browser.page, server.url, `/rooms/${encodeURIComponent("hostile@muc.example")}`);
      await browser.page
        .getByText("user@example.com/", { exact: false })
        .first()
        .waitFor({ timeout: 15_000 });
      const one = await assertInert("room detail");
      assert.ok(one.text, "the hostile texts are shown as text");
    });

    test("Policies and Clearances: names from an uploaded SPIF stay text, its colours only colours", async () => {
      await openPage(browser.page, server.url, "/policies");
      await browser.page.getByText("TOP SECRET").first().waitFor({ timeout: 15_000 });
      await assertInert("policies");
      await openPage(browser.page, server.url, "/clearances");
      await browser.page.getByText("alice@example.com").first().waitFor({ timeout: 15_000 });
      await assertInert("clearances");
    });

    test("Boundary: audit records' actors, targets, reasons and markings stay text", async () => {
      await openPage(browser.page, server.url, "/boundary");
      await browser.page
        .getByText("actor@example.com/", { exact: false })
        .first()
        .waitFor({ timeout: 15_000 });
      const found = await assertInert("boundary");
      assert.ok(found.text, "the hostile texts are shown as text");
    });

    test("Clearances: a JID holding % opens that user, never another, and breaks nothing", async () => {
      // The page put the JID into its address unencoded (adv16): bob%41@… opened bobA@… — another
      // user, whose clearance the officer then saw and changed — and x%zz@… broke the page.
      const page = browser.page;
      for (const jid of ["bob%41@example.com", "x%zz@example.com"]) {
        await openPage(page, server.url, "/clearances");
        await page.getByRole("link", { name: jid, exact: true }).first().click();
        await page.getByTestId("clearance-detail").waitFor({ timeout: 15_000 });
        assert.equal(await page.locator("#detail-h").innerText(), jid);
        await page.getByTestId("detail-marking").waitFor({ timeout: 15_000 });
        assert.match(await page.getByTestId("detail-marking").innerText(), /UNCLASSIFIED/u);
      }
      assert.deepEqual(browser.cspViolations(), []);
    });

    test("Clearances: a per-policy entry that decides is named on the user's page, and can be removed there", async () => {
      // The relay and the catalog read a user's entry for the label's policy first. The page showed
      // only the policy-independent one (adv16): carol looked UNCLASSIFIED while her SECRET entry for
      // the policy decided, and the page offered no way to see or remove that entry.
      const page = browser.page;
      await openPage(page, server.url, `/clearances/${encodeURIComponent("carol@example.com")}`);
      const note = page.getByTestId("detail-per-policy");
      await note.waitFor({ timeout: 15_000 });
      assert.match(await note.innerText(), /SECRET/u);
      await note.getByRole("link", { name: policyId }).click();
      await page.getByText(`For labels of policy ${policyId}`, { exact: false }).waitFor({ timeout: 15_000 });
      assert.match(await page.getByTestId("detail-marking").innerText(), /SECRET/u);
      await page.getByTestId("remove-clearance").click();
      await page.getByText("Removed from the store.").waitFor({ timeout: 15_000 });
      const left = await store.listUserClearancesPage({ query: "carol@example.com" });
      assert.deepEqual(
        left.entries.map((e) => e.policy ?? "any"),
        ["any"],
        "the per-policy entry is removed, the policy-independent one stays",
      );
      assert.deepEqual(browser.cspViolations(), []);
    });
  },
);
