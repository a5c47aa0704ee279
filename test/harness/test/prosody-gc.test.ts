// The harness runs Prosody with the collector deploy/README.md recommends ("Prosody: the Lua
// garbage collector"): generational, set in the global section, and accepted by the real server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { prosodyConfig } from "../src/prosody.js";
import { startServer, serverKinds } from "../src/server.js";

const layout = { dir: "/tmp/x", c2sPort: 1, componentPort: 2, httpPort: 0, controlPort: 3 };
const base = { domain: "example.test", components: [], delegations: [], extraDomains: [] };

test("Prosody's config sets the generational collector globally, or Prosody's default on request", () => {
  const { main } = prosodyConfig(layout, base, undefined);
  const at = main.indexOf('gc = { mode = "generational" }');
  assert.ok(at >= 0, "the gc option is set");
  assert.ok(at < main.indexOf("VirtualHost"), "in the global section, before any VirtualHost");
  const plain = prosodyConfig(layout, { ...base, prosodyGc: "incremental" }, undefined).main;
  assert.doesNotMatch(plain, /^gc = /m);
});

test("Prosody accepts the collector setting (no GC configuration error in its log)", async (t) => {
  if (!serverKinds().includes("prosody")) return t.skip("Prosody not selected");
  const server = await startServer("prosody");
  try {
    assert.match(
      readFileSync(join(server.dir, "prosody.cfg.lua"), "utf8"),
      /^gc = \{ mode = "generational" \}/m,
    );
    assert.doesNotMatch(server.logTail(200), /GC configuration/);
  } finally {
    await server.stop();
  }
});
