import { test } from "node:test";
import assert from "node:assert/strict";
import { CordonError, isCordonError } from "../src/index.js";

class ExampleError extends CordonError {
  constructor(detail: string) {
    super("CORDON_EXAMPLE", `example: ${detail}`);
  }
}

test("a subclass carries its code, its message, its own name and the cause", () => {
  const cause = new Error("root");
  class WithCause extends CordonError {
    constructor() {
      super("CORDON_EXAMPLE_CAUSE", "with cause", { cause });
    }
  }
  const error = new ExampleError("x");
  assert.equal(error.code, "CORDON_EXAMPLE");
  assert.equal(error.message, "example: x");
  assert.equal(error.name, "ExampleError");
  assert.ok(error instanceof CordonError && error instanceof Error);
  assert.equal(new WithCause().cause, cause);
});

test("isCordonError: Cordon errors, also from another copy of the package, and nothing else", () => {
  assert.equal(isCordonError(new ExampleError("x")), true);
  const foreign = Object.assign(new Error("elsewhere"), { code: "CORDON_STORE_UNAVAILABLE" });
  assert.equal(isCordonError(foreign), true);
  assert.equal(isCordonError(Object.assign(new Error("node"), { code: "ENOENT" })), false);
  assert.equal(isCordonError({ code: "CORDON_X", message: "not an Error" }), false);
  assert.equal(isCordonError(undefined), false);
});
