import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { freePort, isListening } from "../src/ports.js";

test("freePort returns distinct loopback ports that can be bound", async () => {
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  assert.equal(new Set(ports).size, ports.length);
  for (const port of ports) {
    assert.ok(port > 1024 && port < 65536);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", resolve);
    });
    assert.equal(await isListening(port), true);
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
});

test("isListening is false for a closed port", async () => {
  const port = await freePort();
  assert.equal(await isListening(port), false);
});
