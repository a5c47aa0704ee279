// Test fixtures: the "TLP Extended" (TLPX) / "TLP" equivalent-policy pair of the project's conformance
// corpus (test/conformance), labels and clearances in the spiffy XML format, and a peering between
// tlpx.test (local) and tlp.test (remote).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseElement, type Element } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { defaultRules, type DirectionRules, type PeeringConfig } from "../src/peering.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const CORPUS = resolve(repoRoot, "test/conformance");

export const TLPX = "1.3.6.1.4.1.99999.2.2";
export const TLP = "1.3.6.1.4.1.99999.2.3";
const SPIFFY = "http://surevine.com/xmlns/spiffy";

export function registry(): PolicyRegistry {
  const r = new PolicyRegistry();
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    r.loadString(readFileSync(resolve(CORPUS, f), "utf8"));
  return r;
}

/** A spiffy label: classification lacv and permissive categories of the policy's first tag set. */
export function label(policy: string, lacv: number, cats: number[] = []): string {
  const set = `${policy}.1`;
  return `<label xmlns='${SPIFFY}'><policy id='${policy}'/><classification lacv='${lacv}'/>${cats.map((c) => `<tag type='permissive' id='${set}' lacv='${c}'/>`).join("")}</label>`;
}

export function clearance(
  policy: string,
  lacvs: number[],
  cats: number[] = policy === TLP ? [0, 1] : [0, 1, 2],
): string {
  const set = `${policy}.1`;
  return `<clearance xmlns='${SPIFFY}'><policy id='${policy}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}${cats.map((c) => `<tag type='permissive' id='${set}' lacv='${c}'/>`).join("")}</clearance>`;
}

/** The XEP-0258 element carrying a label in the spiffy form. */
export function securityLabel(labelXml: string, marking = "FAKE MARKING"): string {
  return `<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>${marking}</displaymarking><label>${labelXml}</label></securitylabel>`;
}

export function el(text: string): Element {
  return parseElement(text);
}

export function peering(
  outbound: Partial<DirectionRules> = {},
  inbound: Partial<DirectionRules> = {},
): PeeringConfig {
  return {
    name: "tlp",
    local: {
      service: "xmpp://127.0.0.1:1",
      secret: "s",
      domains: ["tlpx.test", "rooms.tlpx.test"],
      mucDomains: ["rooms.tlpx.test"],
      policy: TLPX,
      labelAware: true,
      markingLang: "",
    },
    remote: {
      service: "xmpp://127.0.0.1:2",
      secret: "s",
      domains: ["tlp.test", "rooms.tlp.test"],
      mucDomains: ["rooms.tlp.test"],
      policy: TLP,
      labelAware: true,
      markingLang: "",
    },
    outbound: defaultRules({
      unlabelled: { message: "default", presence: "default", iq: "default" },
      defaultLabel: label(TLPX, 11),
      clearance: clearance(TLP, [10, 11, 12]),
      ...outbound,
    }),
    inbound: defaultRules({
      unlabelled: { message: "default", presence: "default", iq: "default" },
      defaultLabel: label(TLP, 10),
      clearance: clearance(TLPX, [10, 11, 12]),
      ...inbound,
    }),
  };
}
