import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigReader } from "../src/config-reader.js";
import { readBytes, readRuntimeLimits } from "../src/limits-config.js";

const reader = (value: unknown) => ConfigReader.root(value).section("limits");

test("sizes are integers or binary units; anything else names the key", () => {
  const r = reader({ limits: { a: 1024, b: "32 MiB", c: "512KiB", d: "1 GiB", e: "lots", f: -1 } });
  assert.equal(readBytes(r, "a", 0), 1024);
  assert.equal(readBytes(r, "b", 0), 32 * 1024 * 1024);
  assert.equal(readBytes(r, "c", 0), 512 * 1024);
  assert.equal(readBytes(r, "d", 0), 1024 ** 3);
  assert.equal(readBytes(r, "missing", 7), 7);
  assert.throws(() => readBytes(r, "e", 0), /limits\.e: expected a size in bytes/);
  assert.throws(() => readBytes(r, "f", 0), /limits\.f/);
});

test("throttle, pending and queue: given keys only, unknown keys refused", () => {
  const limits = readRuntimeLimits(
    reader({
      limits: {
        throttle: { burst: 5, perMinute: 10 },
        pending: { totalBytes: "1 MiB", perSender: 3 },
        queue: { bytes: "4 MiB" },
      },
    }),
  );
  assert.deepEqual(limits, {
    throttle: { burst: 5, perMinute: 10 },
    pending: { totalBytes: 1024 * 1024, perSender: 3 },
    queue: { maxBytes: 4 * 1024 * 1024 },
  });
  assert.deepEqual(readRuntimeLimits(undefined), { throttle: {}, pending: {}, queue: {} });
  assert.throws(
    () => readRuntimeLimits(reader({ limits: { pending: { perUser: 3 } } })),
    /limits\.pending\.perUser: unknown setting/,
  );
});
