import { test } from "node:test";
import assert from "node:assert/strict";
import { createReconnect, type ReconnectOptions } from "../src/reconnect.js";
import { createBackoff } from "../src/backoff.js";
import type { LinkState } from "../src/link-state.js";
import { AuthenticationFailedError, type CordonComponentError } from "../src/errors.js";
import { silentLogger } from "../src/logger.js";

function setup(attempt: (link: LinkState) => Promise<void>, extra: Partial<ReconnectOptions> = {}) {
  const link: LinkState = { status: "idle" };
  const events: string[] = [];
  const fatal: CordonComponentError[] = [];
  const reconnect = createReconnect({
    link,
    backoff: createBackoff({ initialMs: 5, maxMs: 10 }),
    enabled: true,
    logger: silentLogger(),
    attempt: () => attempt(link),
    onOffline: (reason) => events.push(`offline ${reason}`),
    onFatal: (error) => fatal.push(error),
    ...extra,
  });
  const first = {
    resolve: () => events.push("first online"),
    reject: (e: Error) => events.push(`first ${e.message}`),
  };
  return { link, events, fatal, reconnect, first };
}

test("retries failed attempts with backoff until online, then waits for the link to drop", async () => {
  let tries = 0;
  const s = setup(() => {
    tries += 1;
    if (tries < 3) return Promise.reject(new Error("ECONNREFUSED"));
    s.reconnect.online();
    return Promise.resolve();
  });
  const loop = s.reconnect.run(s.first);
  while (s.link.status !== "online") await new Promise((r) => setTimeout(r, 2));
  assert.equal(tries, 3);
  assert.equal(s.reconnect.reconnects, 2);
  assert.deepEqual(s.events, ["first online"]);
  s.reconnect.disconnected();
  assert.equal(s.link.status, "offline");
  assert.deepEqual(s.events, ["first online", "offline connection closed"]);
  while (tries < 4) await new Promise((r) => setTimeout(r, 2));
  s.link.status = "stopping";
  s.reconnect.wake();
  await loop;
  assert.equal(s.reconnect.reconnects, 3);
});

test("a fatal error ends the loop: failed, reported once, the first start rejected", async () => {
  const s = setup((link) => {
    link.fatalError = new AuthenticationFailedError("c.test");
    return Promise.reject(new Error("closed"));
  });
  await s.reconnect.run(s.first);
  assert.equal(s.link.status, "failed");
  assert.equal(s.fatal.length, 1);
  assert.match(s.events.join(), /first component c\.test: the server rejected the secret/);
});

test("without reconnect, the first failure fails the start and a drop leaves the link offline", async () => {
  const refused = setup(() => Promise.reject(new Error("ECONNREFUSED")), { enabled: false });
  await refused.reconnect.run(refused.first);
  assert.equal(refused.link.status, "failed");
  assert.deepEqual(refused.events, ["first ECONNREFUSED"]);

  const s = setup(
    () => {
      s.reconnect.online();
      return Promise.resolve();
    },
    { enabled: false },
  );
  const loop = s.reconnect.run(s.first);
  while (s.link.status !== "online") await new Promise((r) => setTimeout(r, 2));
  s.reconnect.disconnected();
  await loop;
  assert.equal(s.link.status, "offline");
  assert.equal(s.reconnect.reconnects, 0);
});

test("wake() ends a long backoff sleep at once when stopping", async () => {
  const s = setup(() => Promise.reject(new Error("ECONNREFUSED")), {
    backoff: createBackoff({ initialMs: 60_000, maxMs: 60_000 }),
  });
  const loop = s.reconnect.run(s.first);
  while (s.reconnect.reconnects < 1) await new Promise((r) => setTimeout(r, 2));
  s.link.status = "stopping";
  s.reconnect.wake();
  await loop;
  assert.equal(s.reconnect.reconnects, 1);
});

test("the late close of a failed attempt does not cut the backoff sleep short", async () => {
  let tries = 0;
  const s = setup(
    () => {
      tries += 1;
      // The socket's 'close' of the failed attempt arrives after the loop began to sleep.
      setTimeout(() => s.reconnect.disconnected(), 1);
      return Promise.reject(new Error("ECONNREFUSED"));
    },
    { backoff: createBackoff({ initialMs: 1000, maxMs: 1000, random: () => 1 }) },
  );
  const loop = s.reconnect.run(s.first);
  await new Promise((r) => setTimeout(r, 100));
  s.link.status = "stopping";
  s.reconnect.wake();
  await loop;
  assert.equal(tries, 1);
});
