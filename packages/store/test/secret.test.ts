import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSecret, SecretUnavailableError } from "../src/index.js";

describe("readSecret", () => {
  test("file (one trailing newline dropped), env, literal; typed errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-secret-"));
    try {
      writeFileSync(join(dir, "s"), "p@ss word\n");
      assert.equal(readSecret({ file: join(dir, "s") }), "p@ss word");
      process.env.CORDON_TEST_SECRET_X = "from-env";
      assert.equal(readSecret({ env: "CORDON_TEST_SECRET_X" }), "from-env");
      assert.equal(readSecret({ value: "v" }), "v");
      assert.throws(() => readSecret({ file: join(dir, "missing") }), SecretUnavailableError);
      assert.throws(
        () => readSecret({ env: "CORDON_TEST_SECRET_MISSING" }),
        (e: unknown) => e instanceof SecretUnavailableError && e.code === "CORDON_STORE_SECRET_UNAVAILABLE",
      );
    } finally {
      delete process.env.CORDON_TEST_SECRET_X;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
