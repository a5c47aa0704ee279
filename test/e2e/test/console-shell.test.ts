// The web console's shell in a real Chromium (Debian's, driven by playwright-core) against a running
// `cordon start` (MUC + catalog) attached to a real Prosody: the one-time login link printed at start
// works once, the Overview shows both XEP-0114 links online and the decisions real clients caused,
// a viewer cannot change anything, cross-site requests (another site's form, a same-site request
// without the CSRF header) change nothing, the session cookie's flags, the CSP on every answer with
// the page working under it (and blocking injected inline script), every change and login audited
// with who. Writes the Overview screenshots of the README (docs/screenshots/).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { startServer, connectClient, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import { repoRoot } from "../src/demo.js";
import { joinRoom } from "../src/muc-client.js";
import {
  hashPassword,
  mucAndCatalogYaml,
  prepareCordon,
  UNCLASSIFIED_ITEM,
  type CordonRun,
} from "../src/cordon-process.js";
import {
  chromiumAvailable,
  loginAsUser,
  loginWithLink,
  openPage,
  pageFetch,
  startBrowser,
  type BrowserSession,
} from "../src/browser.js";

const TOKEN = "console-shell-test-token-0123456789";
const domain = "console.test";
const mucDomain = `rooms.${domain}`;
const catalogDomain = `catalog.${domain}`;
const vault = `vault@${mucDomain}`;
const shots = join(repoRoot, "docs", "screenshots");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const enabled = serverKinds().includes("prosody");

describe("web console shell in Chromium (prosody)", { skip: !enabled }, () => {
  let server: XmppServer;
  let run: CordonRun;
  let admin: string;
  let consoleUrl = "";
  let attacker: Server;
  const browsers: BrowserSession[] = [];
  const clients: TestClient[] = [];

  const api = (path: string, init?: RequestInit) => run.api(path, init);
  const until = (what: string, check: () => Promise<boolean>, timeoutMs?: number) =>
    run.until(what, check, timeoutMs);
  const audit = () => run.audit();
  const browser = async (viewport?: { width: number; height: number }) => {
    const b = await startBrowser(viewport ? { viewport } : {});
    browsers.push(b);
    return b;
  };

  before(async () => {
    assert.ok(chromiumAvailable(), "Debian's chromium is installed (test/run.sh installs it)");
    // The console users' password hashes are made while the server starts.
    const hashes = Promise.all([hashPassword("vera-password"), hashPassword("adam-password")]);
    server = await startServer("prosody", {
      domain,
      components: [
        { domain: mucDomain, secret: "muc-secret" },
        { domain: catalogDomain, secret: "catalog-secret" },
      ],
      delegations: [{ namespace: "urn:xmpp:sec-label:catalog:2", component: catalogDomain }],
      users: ["alice", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
    });
    const [veraHash, adamHash] = await hashes;
    run = await prepareCordon("console", TOKEN);
    admin = run.admin;
    const adminPort = run.adminPort;
    await run.start(
      `log: { level: info }
server: { host: 127.0.0.1, port: ${server.componentPort} }
policies: [policy.xml]
store:
  memory:
    clearances:
      "alice@${domain}": { classifications: [UNCLASSIFIED, SECRET] }
      "carol@${domain}": { classifications: [UNCLASSIFIED] }
admin:
  listen: "127.0.0.1:${adminPort}"
  token: { env: CORDON_ADMIN_TOKEN }
  console:
    users:
      - { name: vera, role: viewer, passwordHash: "${veraHash}" }
      - { name: adam, role: admin, passwordHash: "${adamHash}" }
    # One Overview sample a second (default 10 s), so the screenshots' chart has points soon.
    overviewSampleSeconds: 1
stateDir: state
audit: { file: audit.jsonl }
${mucAndCatalogYaml({ domain, mucDomain, catalog: { domain: catalogDomain, name: "Labels", items: [UNCLASSIFIED_ITEM] } })}`,
    );
    await until("the console URL on stdout", async () => /^Console: (\S+)$/mu.test(run.log()));
    consoleUrl = /^Console: (\S+)$/mu.exec(run.log())![1]!;
    // Another site, as a browser sees it (another port is another origin): a page with forms that
    // post to the admin API.
    attacker = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>evil</title>
<form id="reload" method="POST" action="${admin}/policies/reload" enctype="text/plain"><input name='{"a":"' value='"}'></form>
<form id="logout" method="POST" action="${admin}/console/logout"><input name="x" value="1"></form>`);
    });
    await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
  });

  after(async () => {
    for (const b of browsers) await b.close();
    for (const c of clients) await c.stop().catch(() => undefined);
    attacker?.close();
    await run?.remove();
    await server?.stop();
  });

  let adminSession: BrowserSession;
  /** The browser that opened a spent login link (its refused login is a 401 in its console). */
  let refusedLink: BrowserSession | undefined;

  test("[prosody] cordon start prints a one-time login link: it logs in once, then is refused", async () => {
    assert.match(consoleUrl, new RegExp(`^${admin}/console/#token=[A-Za-z0-9_-]{43}$`, "u"));
    assert.ok(
      !run
        .log()
        .replace(/^Console: .*$/gmu, "")
        .includes(consoleUrl.split("#token=")[1]!),
      "the token is not logged",
    );
    adminSession = await browser();
    const { page } = adminSession;
    await loginWithLink(page, consoleUrl);
    assert.ok(!page.url().includes("token="), `the token left the address bar: ${page.url()}`);
    assert.equal(await page.getByTestId("who").textContent(), "token admin");
    // The same link again, in another browser: refused, the login page says why.
    const second = await browser();
    refusedLink = second;
    await second.page.goto(consoleUrl);
    await second.page.getByText("That login link has been used or has expired").waitFor();
    assert.equal(await second.page.getByRole("navigation", { name: "Console" }).count(), 0);
    assert.ok(!second.page.url().includes("token="));
    const again = await fetch(`${admin}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: consoleUrl.split("#token=")[1] }),
    });
    assert.equal(again.status, 401);
    const logins = audit().filter((r) => r.action === "console-login");
    assert.deepEqual(
      logins.map((r) => [r.decision, r.reason, r.actor]),
      [
        ["grant", "one-time", "token"],
        // A refused token cannot say which kind it was meant to be.
        ["deny", "token", "token"],
        ["deny", "token", "token"],
      ],
    );
  });

  test("[prosody] Overview: both XEP-0114 links online, the deliveries and refusals real clients caused", async () => {
    const alice = await connectClient(server, "alice", "alice-pw");
    const carol = await connectClient(server, "carol", "carol-pw");
    clients.push(alice, carol);
    assert.notEqual((await joinRoom(alice, vault, "alice")).attrs.type, "error");
    assert.equal(
      (await joinRoom(carol, vault, "carol")).attrs.type,
      "error",
      "carol is not cleared for SECRET",
    );
    const { page } = adminSession;
    await openPage(page, admin, "/overview");
    await page.getByTestId("links-online").filter({ hasText: "2 / 2 online" }).waitFor();
    for (const link of [mucDomain, catalogDomain]) {
      const row = page.locator(`tr[data-link="${link}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), /online/u, link);
    }
    // Refusals by reason (refreshed every 5 s): carol's refused join is there.
    await page.getByRole("heading", { name: "Refusals by reason" }).waitFor();
    await page.locator("table.reasons tbody tr").first().waitFor({ timeout: 15_000 });
    const overview = JSON.parse((await api("/overview")).text) as {
      totals: { deliveries: number; refusals: number; refusalsByReason: Record<string, number> };
      series: unknown[];
    };
    assert.ok(overview.totals.refusals >= 1, JSON.stringify(overview.totals));
    assert.ok(overview.totals.deliveries >= 1, JSON.stringify(overview.totals));
    assert.ok(overview.series.length >= 1 && overview.series.length <= 360);
    const reason = Object.keys(overview.totals.refusalsByReason)[0]!;
    await page.locator("table.reasons").getByText(reason).waitFor();
    // The chart is drawn (uPlot's canvas).
    assert.equal(await page.locator(".chart canvas").count(), 1);
    // Keyboard: the navigation is reachable with Tab and shows where the focus is.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return {
        tag: el?.tagName,
        text: el?.textContent,
        outline: el ? getComputedStyle(el).outlineStyle : "",
      };
    });
    assert.equal(focused.tag, "A");
    assert.equal(focused.text, "Overview");
    assert.notEqual(focused.outline, "none", "visible focus");
  });

  test("[prosody] the session cookie is HttpOnly, SameSite=Strict, Path=/ (not Secure over plain HTTP)", async () => {
    const cookies = await adminSession.context.cookies(admin);
    const session = cookies.find((c) => c.name === "cordon_session");
    assert.ok(session, JSON.stringify(cookies));
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Strict");
    assert.equal(session.path, "/");
    assert.equal(session.secure, false);
    assert.equal(session.expires, -1, "a browser-session cookie");
    // Scripts cannot read it.
    assert.equal(await adminSession.page.evaluate(() => document.cookie.includes("cordon_session")), false);
  });

  test("[prosody] a viewer sees the Overview and cannot change anything (403, nothing changed)", async () => {
    const viewer = await browser();
    await loginAsUser(viewer.page, admin, "vera", "vera-password");
    assert.equal(await viewer.page.getByTestId("who").textContent(), "vera viewer");
    await openPage(viewer.page, admin, "/overview");
    await viewer.page.getByTestId("links-online").filter({ hasText: "2 / 2 online" }).waitFor();
    // No change control on the page (the only button is Log out).
    assert.equal(await viewer.page.locator("main button:enabled, main input, main select").count(), 0);
    // A clearance as the API answers it, without when it was read (CONSOLE.md: `readAt`).
    const held = async () =>
      JSON.stringify({
        ...(JSON.parse((await api(`/clearances/${encodeURIComponent(`carol@${domain}`)}`)).text) as object),
        readAt: undefined,
      });
    const before = await held();
    const records = audit().length;
    for (const [method, path, body] of [
      [
        "PUT",
        `/clearances/${encodeURIComponent(`carol@${domain}`)}`,
        JSON.stringify({ classifications: ["SECRET"] }),
      ],
      ["DELETE", `/clearances/${encodeURIComponent(`alice@${domain}`)}`, "{}"],
      ["POST", "/policies/reload", "{}"],
    ] as const) {
      const r = await pageFetch(viewer.page, method, path, {
        body,
        contentType: "application/json",
        csrf: true,
      });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal((r.json as { error: { code: string } }).error.code, "CORDON_ADMIN_FORBIDDEN");
    }
    assert.equal(await held(), before);
    assert.equal(audit().length, records, "nothing changed, nothing recorded");
    // Carol still cannot enter the vault.
    const carol = await connectClient(server, "carol", "carol-pw");
    clients.push(carol);
    assert.equal((await joinRoom(carol, vault, "carol2")).attrs.type, "error");
  });

  test("[prosody] cross-site requests are refused: another site's forms, and a request without the CSRF header", async () => {
    const { page, context } = adminSession;
    const reloads = () => audit().filter((r) => r.action === "policy-reload").length;
    const before = reloads();
    const site = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    // A page of another site submits forms to the API in the logged-in admin's browser.
    for (const form of ["reload", "logout"]) {
      const evil = await context.newPage();
      await evil.goto(site);
      const answer = evil.waitForResponse((r) => r.url().startsWith(admin));
      await evil.evaluate((id) => (document.getElementById(id) as HTMLFormElement).submit(), form);
      const r = await answer;
      assert.equal(r.status(), 403, form);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "CORDON_ADMIN_CROSS_ORIGIN");
      await evil.close();
    }
    // Same origin (the console's own page) but without the session's CSRF header: a form post and JSON.
    for (const contentType of ["application/x-www-form-urlencoded", "application/json"]) {
      const r = await pageFetch(page, "POST", "/policies/reload", { body: "{}", contentType });
      assert.equal(r.status, 403, contentType);
      assert.equal((r.json as { error: { code: string } }).error.code, "CORDON_ADMIN_CSRF");
    }
    assert.equal(reloads(), before, "no reload happened");
    // The admin is still logged in (the cross-site logout did nothing), and with the header it works.
    assert.equal(((await pageFetch(page, "GET", "/console/session")).json as { user: string }).user, "token");
    const ok = await pageFetch(page, "POST", "/policies/reload", {
      body: "{}",
      contentType: "application/json",
      csrf: true,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(reloads(), before + 1);
    assert.equal(
      audit()
        .filter((r) => r.action === "policy-reload")
        .at(-1)?.actor,
      "token",
    );
  });

  test("[prosody] every change is audited with who made it (a console user's name)", async () => {
    const adam = await browser();
    await loginAsUser(adam.page, admin, "adam", "adam-password");
    const r = await pageFetch(adam.page, "PUT", `/clearances/${encodeURIComponent(`carol@${domain}`)}`, {
      body: JSON.stringify({ classifications: ["UNCLASSIFIED", "SECRET"] }),
      contentType: "application/json",
      csrf: true,
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const record = audit()
      .filter((x) => x.action === "clearance-set")
      .at(-1);
    assert.equal(record?.actor, "adam");
    assert.equal(record?.target, `carol@${domain}`);
    assert.ok(
      audit().some((x) => x.action === "console-login" && x.actor === "adam" && x.decision === "grant"),
    );
    // The change takes effect: carol now enters the vault.
    const carol = await connectClient(server, "carol", "carol-pw");
    clients.push(carol);
    await until(
      "carol to enter the vault",
      async () => (await joinRoom(carol, vault, `c${Date.now()}`)).attrs.type !== "error",
    );
  });

  test("[prosody] the CSP is on every answer; the page works under it and injected inline script is blocked", async () => {
    for (const path of ["/console/", "/console/assets/app.js", "/overview", "/health"]) {
      const r = await fetch(`${admin}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const csp = r.headers.get("content-security-policy") ?? "";
      assert.match(csp, /default-src 'self'/u, path);
      assert.match(csp, /script-src 'self'(;|$)/u, path);
      assert.match(csp, /frame-ancestors 'none'/u, path);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(r.headers.get("referrer-policy"), "no-referrer", path);
    }
    const { page } = adminSession;
    const violations = await page.evaluate(async () => {
      const seen: string[] = [];
      document.addEventListener("securitypolicyviolation", (e) => seen.push(e.violatedDirective));
      (window as unknown as { injected?: number }).injected = 0;
      document.body.insertAdjacentHTML("beforeend", `<img src="data:," onerror="window.injected = 1">`);
      const s = document.createElement("script");
      s.textContent = "window.injected = 2";
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 300));
      return { seen, injected: (window as unknown as { injected?: number }).injected };
    });
    assert.equal(violations.injected, 0, "inline script did not run");
    assert.ok(
      violations.seen.some((d) => d.startsWith("script-src")),
      JSON.stringify(violations.seen),
    );
    // Until this injection, no browser saw a CSP violation or any error.
    // Until this injection no browser saw a CSP violation or a script error: the only messages are
    // the refusals the tests asked for (a spent login link's 401, a viewer's and a CSRF-less 403s).
    const refused = /^error: Failed to load resource: the server responded with a status of (401|403) /u;
    for (const b of browsers.filter((x) => x !== adminSession)) {
      assert.deepEqual(b.cspViolations(), []);
      assert.deepEqual(
        b.messages.filter((m) => !refused.test(m)),
        [],
        "console messages",
      );
    }
    assert.deepEqual(
      // (The other site's forms navigated to the API's JSON answers, after which the browser asks
      // the API for /favicon.ico: a 404.)
      adminSession.messages.filter(
        (m) => !refused.test(m) && !/status of 404 /u.test(m) && !/Content Security Policy/u.test(m),
      ),
      [],
    );
    assert.equal(refusedLink?.messages.length, 1, "the refused login link");
  });

  test("[prosody] screenshots of the Overview at 1280×800 and 390 px wide (docs/screenshots)", async () => {
    // A few points of the time series first (one a second: overviewSampleSeconds), with some traffic.
    const alice = clients[0]!;
    const points = async () =>
      (JSON.parse((await api("/overview")).text) as { series: unknown[] }).series.length;
    const before = await points();
    for (let i = 0; i < 3; i++) {
      await joinRoom(clients[1]!, vault, `carol-${i}`).catch(() => undefined);
      await alice.send(
        (await import("@cordon/harness")).xml(
          "message",
          { to: vault, type: "groupchat" },
          (await import("@cordon/harness")).xml("body", {}, `hello ${i}`),
        ),
      );
      await sleep(1_500);
    }
    const overview = JSON.parse((await api("/overview")).text) as {
      intervalSeconds: number;
      series: unknown[];
    };
    assert.equal(overview.intervalSeconds, 1, "admin.console.overviewSampleSeconds");
    assert.ok(overview.series.length >= before + 3, `${before} → ${overview.series.length} points`);
    mkdirSync(shots, { recursive: true });
    for (const [name, viewport] of [
      ["console-overview.png", { width: 1280, height: 800 }],
      ["console-overview-narrow.png", { width: 390, height: 844 }],
    ] as const) {
      const b = await browser(viewport);
      await loginAsUser(b.page, admin, "adam", "adam-password");
      await openPage(b.page, admin, "/overview");
      await b.page.getByTestId("links-online").filter({ hasText: "2 / 2 online" }).waitFor();
      await b.page.locator(".chart canvas").waitFor();
      await b.page.getByText("Deliveries and refusals every 1 s").waitFor();
      // Readable: nothing wider than the window but the tables' own scroll boxes.
      const overflow = await b.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at ${viewport.width} px`);
      await b.page.screenshot({ path: join(shots, name), fullPage: viewport.width < 600 });
      assert.deepEqual(b.messages, []);
    }
  });
});
