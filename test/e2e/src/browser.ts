// A real Chromium for the console's browser tests: Debian's `chromium` (test/run.sh installs it with
// apt; nothing is ever downloaded), driven by playwright-core over CDP. Each startBrowser() is its
// own browser process with a fresh profile directory (removed at close), so sessions never share
// cookies. Console messages and page errors are collected: a test asserts there were none (a CSP
// violation is reported there).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export type { Page, BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.CORDON_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, and uncaught page errors, as "type: text". */
  messages: string[];
  /** The messages that report a Content-Security-Policy violation. */
  cspViolations(): string[];
  close(): Promise<void>;
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function startBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserSession> {
  if (!chromiumAvailable())
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (test/run.sh does)`);
  const profile = mkdtempSync(join(tmpdir(), "cordon-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport: options.viewport ?? { width: 1280, height: 800 },
    timeout: 60_000,
  });
  const messages: string[] = [];
  const watch = (page: Page) => {
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") messages.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    messages,
    cspViolations: () => messages.filter((m) => /Content Security Policy|Content-Security-Policy/iu.test(m)),
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The console's base URL (`http://host:port/console/`) of an admin API address or console URL. */
export function consoleBase(url: string): string {
  return `${new URL(url).origin}/console/`;
}

/** Waits until the console shows a logged-in frame (the navigation). */
export async function waitForConsole(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "Console" }).waitFor({ timeout: 15_000 });
}

/** Opens a one-time login link (`…/console/#token=…`, printed by `cordon start`) and waits for the console. */
export async function loginWithLink(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await waitForConsole(page);
}

/** Logs in on the login page with the admin token. */
export async function loginPage(page: Page, url: string, token: string): Promise<void> {
  await page.goto(consoleBase(url));
  await page.getByLabel("admin token", { exact: false }).first().check();
  await page.getByLabel("Admin token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await waitForConsole(page);
}

/** Logs in on the login page as a console user (admin.console.users). */
export async function loginAsUser(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(consoleBase(url));
  await page.getByLabel("User", { exact: true }).fill(user);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await waitForConsole(page);
}

/** Opens a console page by its path ("/overview") once logged in. */
export async function openPage(page: Page, url: string, path: string): Promise<void> {
  await page.goto(`${consoleBase(url)}#${path}`);
  await waitForConsole(page);
}

/**
 * Calls the API from inside the page (same origin, the session cookie, and — with `csrf` — the
 * session's CSRF header, as the console's api.ts does). Returns status and parsed JSON.
 */
export async function pageFetch(
  page: Page,
  method: string,
  path: string,
  options: { body?: string; contentType?: string; csrf?: boolean } = {},
): Promise<{ status: number; json: unknown }> {
  return page.evaluate(
    async ({ method, path, body, contentType, csrf }) => {
      const headers: Record<string, string> = {};
      if (contentType) headers["content-type"] = contentType;
      if (csrf) {
        const s = (await (await fetch("/console/session")).json()) as { csrf: string };
        headers["x-cordon-csrf"] = s.csrf;
      }
      const r = await fetch(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await r.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: r.status, json };
    },
    { method, path, body: options.body, contentType: options.contentType, csrf: options.csrf ?? false },
  );
}
