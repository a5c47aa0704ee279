// The server access label (access.ts): a user may bind a resource when their clearance grants the
// configured label; unknown or no clearance denies (fail closed); without a label everyone may.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig, parseElement } from "@cordon/component";
import { encodeBerClearance, makeClearance, makeLabel, PolicyRegistry, type Label } from "@cordon/policy";
import { ClearanceReader, Translations } from "@cordon/rules";
import { MemoryStore, type ClearanceLookup } from "@cordon/store";
import { accessVerdictElement, decideAccess, readAccess, type AccessContext } from "../src/access.js";
import { readGuardSection } from "../src/config.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const cls = (n: string) => policy.classificationByName.get(n)!;
const cat = (n: string) => policy.categories.find((c) => c.name === n)!;
const raw = (names: string[], categories: string[] = []) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(makeClearance(policy, names.map(cls), categories.map(cat)))).toString(
    "base64",
  ),
});
const D = "example.test";
// CONFIDENTIAL in the restrictive compartment ALPHA: the classification and the compartment needed.
const ACCESS = makeLabel(policy, cls("CONFIDENTIAL"), [cat("ALPHA")]);

async function setup(accessLabel: Label | undefined, store = new MemoryStore()) {
  await store.setUserClearance(`alice@${D}`, raw(["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"], ["ALPHA"]));
  await store.setUserClearance(`bob@${D}`, raw(["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]));
  await store.setUserClearance(`carol@${D}`, raw(["UNCLASSIFIED"], ["ALPHA"]));
  const context: AccessContext = {
    clearances: new ClearanceReader({ registry, store, maxAgeMs: 0 }),
    translations: new Translations(registry),
    accessLabel,
  };
  return { store, ask: (jid: string) => decideAccess(context, jid) };
}

test("a clearance granting the access label binds; one that does not, or none, is denied", async () => {
  const { ask } = await setup(ACCESS);
  assert.deepEqual(await ask(`alice@${D}`), { allowed: true, reason: "granted" });
  // The classification without the compartment, the compartment without the classification.
  assert.deepEqual(await ask(`bob@${D}`), { allowed: false, reason: "not-cleared" });
  assert.deepEqual(await ask(`carol@${D}`), { allowed: false, reason: "not-cleared" });
  assert.deepEqual(await ask(`nobody@${D}`), { allowed: false, reason: "no-clearance" });
});

test("an unknown clearance (store down) denies: fail closed", async () => {
  const store = new MemoryStore();
  const { ask } = await setup(ACCESS, store);
  store.getUserClearance = (): Promise<ClearanceLookup> =>
    Promise.resolve({ status: "unknown", reason: "store down" });
  assert.deepEqual(await ask(`alice@${D}`), { allowed: false, reason: "unknown" });
  store.getUserClearance = (): Promise<ClearanceLookup> => Promise.reject(new Error("connection refused"));
  assert.deepEqual(await ask(`alice@${D}`), { allowed: false, reason: "unknown" });
});

test("a stored value that does not parse under the loaded policies is unknown, not granted", async () => {
  const store = new MemoryStore();
  const { ask } = await setup(ACCESS, store);
  await store.setUserClearance(`alice@${D}`, {
    encoding: "ber",
    data: Buffer.from("garbage").toString("base64"),
  });
  assert.equal((await ask(`alice@${D}`)).allowed, false);
});

test("without an access label everyone may bind, whatever the store says", async () => {
  const store = new MemoryStore();
  const { ask } = await setup(undefined, store);
  store.getUserClearance = (): Promise<ClearanceLookup> => Promise.reject(new Error("never asked"));
  assert.deepEqual(await ask(`nobody@${D}`), { allowed: true, reason: "no-access-label" });
});

test("a question names one user of the asking server, as a bare JID", () => {
  const access = (attrs: string, inner = "") =>
    parseElement(`<access xmlns='urn:cordon:guard:0' ${attrs}>${inner}</access>`);
  assert.equal(readAccess(access(`jid='Alice@Example.Test'`), D), `alice@${D}`);
  assert.equal(readAccess(access(`jid='alice@other.test'`), D), undefined);
  assert.equal(readAccess(access(`jid='alice@${D}/phone'`), D), undefined);
  assert.equal(readAccess(access(`jid='${D}'`), D), undefined);
  assert.equal(readAccess(access(``), D), undefined);
  assert.equal(readAccess(access(`jid='alice@${D}'`, "<x/>"), D), undefined);
});

test("the answer is an <access-verdict/> saying allow or deny, nothing else", () => {
  assert.equal(
    accessVerdictElement({ allowed: true, reason: "granted" }).toString(),
    `<access-verdict xmlns="urn:cordon:guard:0" action="allow"/>`,
  );
  assert.equal(
    accessVerdictElement({ allowed: false, reason: "unknown" }).toString(),
    `<access-verdict xmlns="urn:cordon:guard:0" action="deny"/>`,
  );
});

test("components.guard.accessLabel is read like defaultLabel", () => {
  const section = (yaml: string) => {
    const reader = parseConfig(`components:\n  guard:\n${yaml.replace(/^/gm, "    ")}`).components.get(
      "guard",
    );
    assert.ok(reader);
    return reader;
  };
  const base = `domain: guard.${D}\nsecret: s\nserved: [${D}]`;
  const spec = { registry, policy: policy.id };
  const read = readGuardSection(
    section(`${base}\naccessLabel: { classification: CONFIDENTIAL, categories: [ALPHA] }`),
    spec,
  );
  assert.equal(read.accessLabel?.classification.name, "CONFIDENTIAL");
  assert.deepEqual(
    read.accessLabel?.categories.map((c) => c.name),
    ["ALPHA"],
  );
  assert.equal(readGuardSection(section(base), spec).accessLabel, undefined);
  assert.throws(() => readGuardSection(section(`${base}\naccessLabel: { classification: NOPE }`), spec));
});

test("an access label not valid under its policy denies every bind, even to a user whose clearance grants it (adv15)", async () => {
  // UNCLASSIFIED BRAVO: BRAVO excludes UNCLASSIFIED in the demo policy. A reload can make a
  // configured access label so (the configuration refuses one at start).
  const invalid = makeLabel(policy, cls("UNCLASSIFIED"), [cat("BRAVO")]);
  const store = new MemoryStore();
  await store.setUserClearance(`dave@${D}`, raw(["UNCLASSIFIED"], ["BRAVO"]));
  const { ask } = await setup(invalid, store);
  // Was: { allowed: true, reason: "granted" }.
  assert.deepEqual(await ask(`dave@${D}`), { allowed: false, reason: "access-label-invalid" });
  const section = parseConfig(
    `components:\n  guard: { domain: guard.${D}, secret: s, served: [${D}], accessLabel: { classification: UNCLASSIFIED, categories: [BRAVO] } }\n`,
  ).components.get("guard");
  assert.ok(section);
  assert.throws(() => readGuardSection(section, { registry, policy: policy.id }), /accessLabel/);
});
