import { test } from "node:test";
import assert from "node:assert/strict";
import { makeClearance, makeLabel, PolicyRegistry, type Clearance } from "@cordon/policy";
import { oneToOne } from "../src/one-to-one.js";
import { Translations } from "../src/translation.js";
import { NO_CLEARANCE, unknownClearance, type ClearanceState } from "../src/clearance-state.js";
import { demoPolicyFile } from "./demo.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(demoPolicyFile);
const translations = new Translations(registry);
const cls = (name: string) => policy.classificationByName.get(name)!;
const label = (name: string) => makeLabel(policy, cls(name), []);
const clearance = (...names: string[]): Clearance => makeClearance(policy, names.map(cls), []);
const known = (c: Clearance): ClearanceState => ({ status: "known", clearance: c, fingerprint: "t" });
const SECRET_UP = known(clearance("UNCLASSIFIED", "SECRET", "TOP SECRET"));
const UNCLASSIFIED = known(clearance("UNCLASSIFIED"));

test("a label passes only when sender, server and recipient all grant it", () => {
  assert.deepEqual(
    oneToOne(translations, label("SECRET"), {
      sender: SECRET_UP,
      server: NO_CLEARANCE,
      recipient: SECRET_UP,
    }),
    { ok: true },
  );
  assert.deepEqual(
    oneToOne(translations, label("SECRET"), {
      sender: UNCLASSIFIED,
      server: NO_CLEARANCE,
      recipient: SECRET_UP,
    }),
    { ok: false, party: "sender", unknown: false },
  );
  assert.deepEqual(
    oneToOne(translations, label("SECRET"), {
      sender: SECRET_UP,
      server: UNCLASSIFIED,
      recipient: SECRET_UP,
    }),
    { ok: false, party: "server", unknown: false },
  );
  assert.deepEqual(
    oneToOne(translations, label("SECRET"), {
      sender: SECRET_UP,
      server: SECRET_UP,
      recipient: UNCLASSIFIED,
    }),
    { ok: false, party: "recipient", unknown: false },
  );
});

test("no clearance grants nothing; a server without a clearance sets no bound of its own", () => {
  assert.deepEqual(
    oneToOne(translations, label("UNCLASSIFIED"), {
      sender: SECRET_UP,
      server: NO_CLEARANCE,
      recipient: NO_CLEARANCE,
    }),
    { ok: false, party: "recipient", unknown: false },
  );
  assert.deepEqual(
    oneToOne(translations, label("UNCLASSIFIED"), {
      sender: NO_CLEARANCE,
      server: NO_CLEARANCE,
      recipient: SECRET_UP,
    }),
    { ok: false, party: "sender", unknown: false },
  );
});

test("an unknown clearance anywhere decides nothing, even when another party would refuse", () => {
  assert.deepEqual(
    oneToOne(translations, label("SECRET"), {
      sender: UNCLASSIFIED,
      server: NO_CLEARANCE,
      recipient: unknownClearance("store down"),
    }),
    { ok: false, party: "recipient", unknown: true },
  );
});
