// Issue 18 (review): every change made in the web console is recorded with who made it, so a
// process that keeps no audit log (no top-level `audit:`) lets nobody log in to the console; the
// bearer-token API (scripts, `cordon admin`) answers as before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, parseConfig } from "@cordon/component";
import { createOpsContext, startOperations } from "../../src/operations.js";

test("no process audit log: a console login is refused (CORDON_CONSOLE_UNAUDITED), the token API still answers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-unaudited-"));
  const previous = process.env.CORDON_STATE_DIR;
  process.env.CORDON_STATE_DIR = join(dir, "state");
  const token = "unaudited-console-token-0123456789";
  try {
    const config = parseConfig(
      `admin: { listen: "127.0.0.1:0", token: "${token}" }\ncomponents: { example: { domain: a.test, secret: s } }\n`,
    );
    const started = await startOperations({
      config,
      only: undefined,
      logger: createLogger({ level: "silent", redactJids: false, name: "test" }),
      ops: createOpsContext(),
      running: [],
      environment: undefined,
    });
    try {
      const url = started.admin!.url;
      const login = await fetch(`${url}/console/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      assert.equal(login.status, 503);
      assert.equal(login.headers.get("set-cookie"), null, "no session");
      const body = (await login.json()) as { error: { code: string } };
      assert.equal(body.error.code, "CORDON_CONSOLE_UNAUDITED");
      // The one-time link printed at start is refused the same way.
      const oneTime = /#token=(.+)$/u.exec(started.consoleUrl ?? "")?.[1];
      assert.ok(oneTime);
      const link = await fetch(`${url}/console/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: oneTime }),
      });
      assert.equal(link.status, 503);
      const ready = await fetch(`${url}/ready`, { headers: { authorization: `Bearer ${token}` } });
      assert.notEqual(ready.status, 401, "the bearer-token API still answers");
    } finally {
      await started.stop();
    }
  } finally {
    if (previous === undefined) delete process.env.CORDON_STATE_DIR;
    else process.env.CORDON_STATE_DIR = previous;
    rmSync(dir, { recursive: true, force: true });
  }
});
