import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeBerClearance, makeClearance } from "@cordon/policy";
import { ClearanceReader } from "@cordon/rules";
import { MemoryStore } from "@cordon/store";
import { ClearanceBook } from "../src/security/clearance-book.js";
import { loadDemoPolicy } from "./muc-test-context.js";

const { registry, policy } = loadDemoPolicy();
const raw = (names: string[]) => ({
  encoding: "ber" as const,
  data: Buffer.from(
    encodeBerClearance(
      makeClearance(
        policy,
        names.map((n) => policy.classifications.find((c) => c.name === n)!),
        [],
      ),
    ),
  ).toString("base64"),
});

test("own clearance first; users of other domains fall back to their domain's inbound clearance", async () => {
  const store = new MemoryStore();
  await store.setUserClearance("ann@example.test", raw(["UNCLASSIFIED", "SECRET"]));
  await store.setPeerClearance("partner.test", "inbound", raw(["UNCLASSIFIED"]));
  const book = new ClearanceBook({
    reader: new ClearanceReader({ registry, store }),
    localDomains: ["example.test"],
  });
  const ann = await book.lookup("ann@example.test");
  assert.equal(ann.status === "known" && ann.clearance.classifications.length, 2);
  const guest = await book.lookup("gus@partner.test");
  assert.equal(guest.status === "known" && guest.clearance.classifications.length, 1);
  assert.equal((await book.lookup("nobody@example.test")).status, "none", "local users never fall back");
  assert.equal((await book.lookup("x@elsewhere.test")).status, "none");
});

test("a stored clearance that does not parse is unknown (was: none), so nothing is decided on it", async () => {
  const store = new MemoryStore();
  await store.setUserClearance("eve@example.test", { encoding: "ber", data: "BAMxMjM=" });
  const book = new ClearanceBook({
    reader: new ClearanceReader({ registry, store }),
    localDomains: ["example.test"],
  });
  assert.equal((await book.lookup("eve@example.test")).status, "unknown");
});
