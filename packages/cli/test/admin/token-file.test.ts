// The admin API always has a token (issue 16 item 12): without a configured one, `cordon start`
// generates one into the state directory (0600) and `cordon admin` reads it from there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, parseConfig } from "@cordon/component";
import { createOpsContext, startOperations } from "../../src/operations.js";
import { cordon } from "../cli-helpers.js";

test("no configured token: one is generated (0600), reused, and read by `cordon admin`", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-state-"));
  const state = join(dir, "state");
  const previous = process.env.CORDON_STATE_DIR;
  process.env.CORDON_STATE_DIR = state;
  try {
    const config = parseConfig(
      `admin: { listen: "127.0.0.1:0" }\ncomponents: { example: { domain: a.test, secret: s } }\n`,
    );
    const logger = createLogger({ level: "silent", redactJids: false, name: "test" });
    const start = () =>
      startOperations({
        config,
        only: undefined,
        logger,
        ops: createOpsContext(),
        running: [],
        environment: undefined,
      });
    const first = await start();
    const file = join(state, "admin-token");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(state).mode & 0o777, 0o700);
    const token = readFileSync(file, "utf8").trim();
    assert.match(token, /^[0-9a-f]{64}$/);
    const url = first.admin!.url;
    // Without the token: refused, whatever the address (loopback included).
    assert.equal((await fetch(`${url}/metrics`)).status, 401);
    assert.equal(
      (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    // The CLI finds the token in the state directory by itself.
    const ok = await cordon(["admin", "metrics", "--url", url], {
      CORDON_STATE_DIR: state,
      CORDON_ADMIN_TOKEN: "",
    });
    assert.equal(ok.status, 0, ok.stderr);
    const elsewhere = await cordon(["admin", "metrics", "--url", url], {
      CORDON_STATE_DIR: join(dir, "other"),
      CORDON_ADMIN_TOKEN: "",
    });
    assert.equal(elsewhere.status, 2);
    assert.match(elsewhere.stderr, /CORDON_ADMIN_UNAUTHORIZED/);
    // The state-changing route through the CLI carries an accepted content type.
    const reload = await cordon(["admin", "reload", "--url", url], {
      CORDON_STATE_DIR: state,
      CORDON_ADMIN_TOKEN: "",
    });
    assert.match(reload.stderr, /CORDON_ADMIN_NOT_RUNNING/, "reached the route (not 415)");
    await first.stop();
    // A second start keeps the same token.
    const second = await start();
    assert.equal(readFileSync(file, "utf8").trim(), token);
    await second.stop();
  } finally {
    if (previous === undefined) delete process.env.CORDON_STATE_DIR;
    else process.env.CORDON_STATE_DIR = previous;
    rmSync(dir, { recursive: true, force: true });
  }
});
