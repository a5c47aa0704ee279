// The "TLP Extended" (TLPX) / "TLP" equivalent-policy pair of the project's conformance corpus
// (test/conformance) and spiffy-XML labels, for tests.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseElement, type Element } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const CORPUS = resolve(repoRoot, "test/conformance");

export const TLPX = "1.3.6.1.4.1.99999.2.2";
export const TLP = "1.3.6.1.4.1.99999.2.3";

export function registry(): PolicyRegistry {
  const r = new PolicyRegistry();
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    r.loadString(readFileSync(resolve(CORPUS, f), "utf8"));
  return r;
}

/** A spiffy label: classification lacv (TLP: 10 WHITE, 11 GREEN, 12 AMBER, 13 RED), permissive categories. */
export function label(policy: string, lacv: number, cats: number[] = []): string {
  return `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${policy}'/><classification lacv='${lacv}'/>${cats.map((c) => `<tag type='permissive' id='${policy}.1' lacv='${c}'/>`).join("")}</label>`;
}

/** A <securitylabel/> with `main` as <label> (empty when "") and each of `equivalents` as an <equivalentlabel>. */
export function securityLabel(main: string, ...equivalents: string[]): string {
  return `<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>ANYTHING</displaymarking>${main ? `<label>${main}</label>` : "<label/>"}${equivalents.map((e) => `<equivalentlabel>${e}</equivalentlabel>`).join("")}</securitylabel>`;
}

export function message(inner: string): Element {
  return parseElement(`<message to='b@tlp.test' type='chat'><body>x</body>${inner}</message>`);
}
