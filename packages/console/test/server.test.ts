// The console's server-side pieces: sessions bounded in number, bytes and time; one-time tokens
// once and within their TTL; scrypt password hashes; the session cookie; CSRF; roles; assets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConsoleAssets,
  csrfSatisfied,
  hashPassword,
  mayChange,
  OneTimeTokens,
  parsePasswordHash,
  readCookie,
  sessionCookie,
  SessionStore,
  verifyPassword,
  DUMMY_PASSWORD_HASH,
  LoginThrottle,
} from "../src/server/index.js";

test("sessions: random ids, idle and absolute expiry", () => {
  let now = 0;
  const store = new SessionStore({ idleMs: 1000, absoluteMs: 5000, now: () => now });
  const a = store.create("alice", "admin");
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/u);
  assert.notEqual(a.id, a.csrf);
  assert.equal(store.get(a.id)?.user, "alice");
  now = 900;
  assert.ok(store.get(a.id), "used within the idle time");
  now = 1800;
  assert.ok(store.get(a.id));
  now = 2900;
  assert.equal(store.get(a.id), undefined, "idle too long");
  assert.equal(store.size, 0);
  const b = store.create("bob", "viewer");
  for (let t = 3000; t <= 7800; t += 800) {
    now = t;
    assert.ok(store.get(b.id), `alive at ${t}`);
  }
  now = 8100;
  assert.equal(store.get(b.id), undefined, "older than the absolute limit");
  assert.equal(store.get(undefined), undefined);
  assert.equal(store.get("nope"), undefined);
});

test("sessions: bounded in number and bytes, least recently used dropped first", () => {
  const store = new SessionStore({ maxSessions: 3 });
  const [a, b, c] = [store.create("a", "admin"), store.create("b", "admin"), store.create("c", "admin")];
  store.get(a.id); // a is now the most recently used
  const d = store.create("d", "admin");
  assert.equal(store.size, 3);
  assert.equal(store.get(b.id), undefined, "b was the least recently used");
  for (const s of [a, c, d]) assert.ok(store.get(s.id));
  const small = new SessionStore({ maxBytes: 2000 });
  for (let i = 0; i < 100; i++) small.create(`user-${i}`.padEnd(60, "x"), "viewer");
  assert.ok(small.bytes <= 2000, `${small.bytes} bytes`);
  assert.ok(small.size >= 1 && small.size < 10);
  store.removeUser("a");
  assert.equal(store.get(a.id), undefined);
});

test("one-time tokens: once, within the TTL, a few outstanding", () => {
  let now = 0;
  const tokens = new OneTimeTokens({ ttlMs: 600_000, now: () => now });
  const t = tokens.issue();
  assert.equal(tokens.consume("x".repeat(43)), false);
  assert.equal(tokens.consume(t), true);
  assert.equal(tokens.consume(t), false, "second use refused");
  const late = tokens.issue();
  now = 600_001;
  assert.equal(tokens.consume(late), false, "expired");
  now = 0;
  const many = Array.from({ length: 10 }, () => tokens.issue());
  assert.equal(tokens.consume(many[0]!), false, "the oldest was dropped past 8 outstanding");
  assert.equal(tokens.consume(many[9]!), true);
});

test("password hashes: scrypt, salted, verified; malformed or absurd ones never match", async () => {
  const h1 = await hashPassword("correct horse battery");
  const h2 = await hashPassword("correct horse battery");
  assert.match(h1, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/u);
  assert.notEqual(h1, h2, "salted");
  assert.equal(await verifyPassword("correct horse battery", h1), true);
  assert.equal(await verifyPassword("correct horse batterY", h1), false);
  assert.equal(await verifyPassword("anything", "plain"), false);
  assert.equal(await verifyPassword("", DUMMY_PASSWORD_HASH), false);
  assert.ok(parsePasswordHash(DUMMY_PASSWORD_HASH));
  assert.equal(parsePasswordHash(h1.replace("$32768$", "$1073741824$")), undefined, "cost bounded");
  assert.equal(parsePasswordHash(h1.replace("$32768$", "$30000$")), undefined, "N a power of two");
});

test("cookie, CSRF, roles", () => {
  assert.equal(sessionCookie("abc", false), "cordon_session=abc; HttpOnly; SameSite=Strict; Path=/");
  assert.equal(sessionCookie("abc", true), "cordon_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure");
  assert.equal(readCookie("a=1; cordon_session=xyz_-9; b=2", "cordon_session"), "xyz_-9");
  assert.equal(readCookie("cordon_session=bad value", "cordon_session"), undefined);
  assert.equal(readCookie(undefined, "cordon_session"), undefined);
  assert.equal(csrfSatisfied("GET", "t", undefined), true);
  assert.equal(csrfSatisfied("POST", "t", undefined), false);
  assert.equal(csrfSatisfied("PUT", "t", "u"), false);
  assert.equal(csrfSatisfied("DELETE", "t", "t"), true);
  assert.equal(mayChange({ user: "v", role: "viewer" }, "GET"), true);
  for (const m of ["POST", "PUT", "DELETE", "PATCH"]) {
    assert.equal(mayChange({ user: "v", role: "viewer" }, m), false, m);
    assert.equal(mayChange({ user: "a", role: "admin" }, m), true, m);
  }
});

test("login throttle: a fixed window of failures", () => {
  let now = 0;
  const t = new LoginThrottle({ perMinute: 3, now: () => now });
  t.fail();
  t.fail();
  assert.equal(t.blocked, false);
  t.fail();
  assert.equal(t.blocked, true);
  now = 60_001;
  assert.equal(t.blocked, false);
});

test("assets: only the built files, by name", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-assets-"));
  writeFileSync(join(dir, "index.html"), "<!doctype html>");
  writeFileSync(join(dir, "app.js"), "1");
  writeFileSync(join(dir, "secret.txt"), "no");
  const assets = new ConsoleAssets(dir);
  assert.equal(assets.available, true);
  assert.equal(assets.lookup("/console/")?.contentType, "text/html; charset=utf-8");
  assert.equal(assets.lookup("/console")?.contentType, "text/html; charset=utf-8");
  assert.equal(assets.lookup("/console/assets/app.js")?.contentType, "text/javascript; charset=utf-8");
  assert.equal(assets.lookup("/console/assets/secret.txt"), undefined);
  assert.equal(assets.lookup("/console/assets/../app.js"), undefined);
  assert.equal(new ConsoleAssets(join(dir, "none")).available, false);
});
