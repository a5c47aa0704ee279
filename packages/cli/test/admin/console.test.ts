// The web console's side of the admin API over a real HTTP server: assets open with the security
// headers, login (admin token, one-time token once, user and password), the session cookie's flags,
// CSRF on every change made with a cookie, the viewer role refused every change, who handed to the
// routes, logout, the login throttle.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { hashPassword } from "@cordon/console";
import { createAdminHandler, type AdminProviders, type Who } from "../../src/admin/handler.js";
import { ConsoleAuth, type LoginEvent } from "../../src/admin/console.js";
import { startAdminServer, type AdminServer } from "../../src/admin/server.js";

const TOKEN = "console-test-token-0123456789";
const JSON_TYPE = { "content-type": "application/json" };

describe("admin API: console sessions", () => {
  let server: AdminServer;
  let secure: AdminServer;
  let auth: ConsoleAuth;
  const changes: { jid: string; who: Who | undefined }[] = [];
  const reloads: (Who | undefined)[] = [];
  const logins: LoginEvent[] = [];
  const providers: AdminProviders = {
    components: () => [],
    clearances: {
      get: async (jid) => ({ jid, marking: "SECRET" }),
      async set(jid, _body, _policy, who) {
        changes.push({ jid, who });
        return { jid, marking: "SECRET" };
      },
      clear: async () => true,
    },
    async reload(who) {
      reloads.push(who);
      return { generation: 2, policies: [] };
    },
  };

  before(async () => {
    const users = [
      { name: "vera", role: "viewer" as const, passwordHash: await hashPassword("vera-password") },
      { name: "adam", role: "admin" as const, passwordHash: await hashPassword("adam-password") },
    ];
    auth = new ConsoleAuth({ token: TOKEN, users, onLogin: async (e) => void logins.push(e) });
    server = await startAdminServer({
      host: "127.0.0.1",
      port: 0,
      handler: createAdminHandler(providers, { token: TOKEN, console: auth }),
    });
    secure = await startAdminServer({
      host: "127.0.0.1",
      port: 0,
      handler: createAdminHandler(providers, {
        token: TOKEN,
        console: new ConsoleAuth({ token: TOKEN, secureCookie: true }),
      }),
    });
  });
  after(async () => {
    await server.close();
    await secure.close();
  });

  const call = async (path: string, init: RequestInit = {}, base = server.url) => {
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  };
  const code = (r: { json?: Record<string, unknown> | undefined }) =>
    (r.json?.error as { code?: string } | undefined)?.code;
  const login = async (body: unknown, base = server.url) => {
    const r = await call(
      "/console/login",
      { method: "POST", headers: JSON_TYPE, body: JSON.stringify(body) },
      base,
    );
    const cookie = r.headers.get("set-cookie") ?? "";
    return {
      ...r,
      cookie,
      id: /cordon_session=([^;]*)/u.exec(cookie)?.[1] ?? "",
      csrf: typeof r.json?.csrf === "string" ? r.json.csrf : "",
    };
  };

  test("the page and its assets answer without login, with the security headers", async () => {
    const page = await call("/console/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/u);
    assert.match(page.text, /<script type="module" src="\/console\/assets\/app\.js">/u);
    const csp = page.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
    ])
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    assert.ok(!csp.includes("unsafe-inline"));
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("referrer-policy"), "no-referrer");
    const js = await call("/console/assets/app.js");
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/u);
    assert.equal((await call("/console/assets/app.css")).status, 200);
    assert.equal((await call("/console/assets/..%2f..%2fpackage.json")).status, 404);
    assert.equal((await call("/console/assets/nothing.js")).status, 404);
    // The API's JSON carries the same headers.
    const denied = await call("/ready");
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("x-content-type-options"), "nosniff");
    assert.ok(denied.headers.get("content-security-policy")?.includes("frame-ancestors 'none'"));
  });

  test("login with the admin token: an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP)", async () => {
    const r = await login({ token: TOKEN });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ user: r.json?.user, role: r.json?.role }, { user: "token", role: "admin" });
    assert.ok(r.csrf.length >= 32);
    assert.match(r.cookie, /^cordon_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/u);
    const session = await call("/console/session", { headers: { cookie: `cordon_session=${r.id}` } });
    assert.equal(session.status, 200);
    assert.equal(session.json?.csrf, r.csrf);
    const over = await login({ token: TOKEN }, secure.url);
    assert.match(over.cookie, /; Secure$/u);
  });

  test("a change with the cookie needs the session's CSRF header; who reaches the route", async () => {
    const r = await login({ user: "adam", password: "adam-password" });
    assert.equal(r.status, 200, r.text);
    const cookie = `cordon_session=${r.id}`;
    const put = (headers: Record<string, string>) =>
      call("/clearances/carol%40example.test", {
        method: "PUT",
        headers: { cookie, ...JSON_TYPE, ...headers },
        body: JSON.stringify({ classifications: ["SECRET"] }),
      });
    const before = changes.length;
    const none = await put({});
    assert.equal(none.status, 403);
    assert.equal(code(none), "CORDON_ADMIN_CSRF");
    const wrong = await put({ "x-cordon-csrf": "x".repeat(43) });
    assert.equal(code(wrong), "CORDON_ADMIN_CSRF");
    assert.equal(changes.length, before, "nothing changed without the token");
    // A form post (what a page of another site can send) with the cookie: refused before anything else.
    const form = await call("/policies/reload", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "a=1",
    });
    assert.equal(code(form), "CORDON_ADMIN_CSRF");
    const ok = await put({ "x-cordon-csrf": r.csrf });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(changes.at(-1), { jid: "carol@example.test", who: { user: "adam", role: "admin" } });
    // The bearer token needs no CSRF header (no cookie: nothing a browser sends by itself) and is "token".
    const bearer = await call("/policies/reload", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, ...JSON_TYPE },
      body: "{}",
    });
    assert.equal(bearer.status, 200);
    assert.deepEqual(reloads.at(-1), { user: "token", role: "admin" });
  });

  test("a viewer reads everything and changes nothing (403 on every change)", async () => {
    const r = await login({ user: "vera", password: "vera-password" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json?.role, "viewer");
    const headers = { cookie: `cordon_session=${r.id}`, "x-cordon-csrf": r.csrf, ...JSON_TYPE };
    assert.equal((await call("/clearances/carol%40example.test", { headers })).status, 200);
    const before = { changes: changes.length, reloads: reloads.length };
    for (const [method, path] of [
      ["PUT", "/clearances/carol%40example.test"],
      ["DELETE", "/clearances/carol%40example.test"],
      ["POST", "/policies/reload"],
    ] as const) {
      const res = await call(path, {
        method,
        headers,
        body: JSON.stringify({ classifications: ["SECRET"] }),
      });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(code(res), "CORDON_ADMIN_FORBIDDEN");
    }
    assert.deepEqual({ changes: changes.length, reloads: reloads.length }, before);
    // Logging out is not a change of Cordon: a viewer may.
    const out = await call("/console/logout", { method: "POST", headers, body: "{}" });
    assert.equal(out.status, 200);
    assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/u);
    const ended = await call("/console/session", { headers });
    assert.equal(ended.status, 200);
    assert.equal(ended.json?.user, null);
    assert.equal((await call("/ready", { headers })).status, 401);
  });

  test("a one-time login token works once", async () => {
    const token = auth.oneTime.issue();
    const first = await login({ token });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json?.role, "admin");
    const second = await login({ token });
    assert.equal(second.status, 401);
    assert.equal(code(second), "CORDON_ADMIN_LOGIN_FAILED");
    assert.equal(second.cookie, "");
  });

  test("wrong passwords, unknown users and cross-site logins are refused and audited", async () => {
    const wrong = await login({ user: "adam", password: "nope-nope" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.cookie, "");
    assert.equal((await login({ user: "nobody", password: "adam-password" })).status, 401);
    assert.deepEqual(logins.at(-1), { user: "nobody", method: "password", granted: false });
    assert.ok(logins.some((e) => e.user === "adam" && e.granted && e.method === "password"));
    const cross = await call("/console/login", {
      method: "POST",
      headers: { ...JSON_TYPE, origin: "http://evil.example" },
      body: JSON.stringify({ token: TOKEN }),
    });
    assert.equal(cross.status, 403);
    assert.equal(code(cross), "CORDON_ADMIN_CROSS_ORIGIN");
    const form = await call("/console/login", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ token: TOKEN }),
    });
    assert.equal(form.status, 415);
    const bad = await call("/console/login", { method: "POST", headers: JSON_TYPE, body: "{" });
    assert.equal(bad.status, 400);
  });

  test("an unknown or forged session cookie is no login", async () => {
    const r = await call("/ready", { headers: { cookie: `cordon_session=${"A".repeat(43)}` } });
    assert.equal(r.status, 401);
  });

  test("past 20 failed logins a minute every login waits (429), the right password too", async () => {
    const throttled = await startAdminServer({
      host: "127.0.0.1",
      port: 0,
      handler: createAdminHandler(providers, { token: TOKEN, console: new ConsoleAuth({ token: TOKEN }) }),
    });
    try {
      for (let i = 0; i < 20; i++)
        assert.equal((await login({ token: `wrong-${i}` }, throttled.url)).status, 401);
      const r = await login({ token: TOKEN }, throttled.url);
      assert.equal(r.status, 429);
      assert.equal(code(r), "CORDON_ADMIN_LOGIN_THROTTLED");
    } finally {
      await throttled.close();
    }
  });
});
