import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry } from "@cordon/policy";
import type { PeeringConfig } from "@cordon/relay";
import { relayRebinder } from "../../src/runners/relay.js";

const demo = readFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../deploy/quickstart/demo-policy.xml"),
  "utf8",
);
const OID = "1.3.6.1.4.1.99999.1.1";
const label = `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${OID}'/><classification lacv='1'/></label>`;
const side = {
  service: "xmpp://127.0.0.1:1",
  secret: "s",
  domains: ["a.test"],
  mucDomains: [],
  policy: OID,
  labelAware: true,
  markingLang: "",
  defaultLabel: label,
};
const peering = {
  name: "p",
  local: side,
  remote: { ...side, domains: ["b.test"] },
  outbound: { defaultLabel: label },
  inbound: {},
} as unknown as PeeringConfig;

test("a reload is accepted when every configured relay label still reads under the new policies", () => {
  const next = new PolicyRegistry();
  next.loadString(demo);
  const install = relayRebinder([peering]).prepare({ registry: next, governing: next.require(OID) });
  assert.equal(typeof install, "function");
});

test("a reload that drops the relay's policy is refused (the relay would otherwise refuse everything)", () => {
  const next = new PolicyRegistry();
  assert.throws(
    () => relayRebinder([peering]).prepare({ registry: next, governing: undefined as never }),
    /1\.3\.6\.1\.4\.1\.99999\.1\.1/,
  );
});
