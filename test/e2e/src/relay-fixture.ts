// What the relay's e2e tests share: the TLPX/TLP policy pair of test/conformance (equivalent
// policies, so a label crossing between them is translated), SPIFFY labels and clearances under
// them, a relay side on a real server's component port (XEP-0114), and the bare stanza error a
// refusal must be (nothing of the refused stanza in it).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Element, XmppServer } from "@cordon/harness";
import type { PolicyRegistry } from "@cordon/policy";
import type { RawValue } from "@cordon/store";
import type { SideConfig } from "@cordon/relay";
import { repoRoot } from "./demo.js";

export const TLPX = "1.3.6.1.4.1.99999.2.2";
export const TLP = "1.3.6.1.4.1.99999.2.3";
export const SPIFFY = "http://surevine.com/xmlns/spiffy";
export const NS_SL = "urn:xmpp:sec-label:0";
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** Unlabelled traffic of every kind takes the direction's default label. */
export const UNLABELLED_DEFAULT = {
  unlabelled: { message: "default", presence: "default", iq: "default" },
} as const;

/** Loads TLPX and TLP from the conformance corpus. */
export function loadTlpPolicies(registry: PolicyRegistry): void {
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    registry.loadString(readFileSync(join(repoRoot, "test/conformance", f), "utf8"));
}

/** A SPIFFY label: classification `lacv`, with the policy's first tag set's permissive `cats`. */
export function tlpLabel(policy: string, lacv: number, cats: number[] = []): string {
  return `<label xmlns='${SPIFFY}'><policy id='${policy}'/><classification lacv='${lacv}'/>${cats.map((c) => `<tag type='permissive' id='${policy}.1' lacv='${c}'/>`).join("")}</label>`;
}

/** A SPIFFY clearance for the classifications `lacvs` and every category of the first tag set. */
export function tlpClearance(policy: string, lacvs: number[]): string {
  const cats = policy === TLP ? [0, 1] : [0, 1, 2];
  return `<clearance xmlns='${SPIFFY}'><policy id='${policy}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}${cats.map((c) => `<tag type='permissive' id='${policy}.1' lacv='${c}'/>`).join("")}</clearance>`;
}

/** Clearance data as the store takes it. */
export const xmlValue = (data: string): RawValue => ({ encoding: "xml", data });

/** One side of a peering: `server`'s component listener, hosting `domain`, labels under `policy`. */
export function relaySide(server: XmppServer, domain: string, policy: string, secret: string): SideConfig {
  return {
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    secret,
    domains: [domain],
    mucDomains: [],
    policy,
    labelAware: true,
    markingLang: "",
  };
}

export const isMessage = (id: string) => (el: Element) => el.name === "message" && el.attrs["id"] === id;

/** A refusal (RFC 6120 §8.3) with `condition` and no child but the error: nothing of the stanza. */
export function assertBareError(el: Element, condition: string): void {
  assert.equal(el.attrs["type"], "error");
  assert.ok(el.getChild("error")?.getChild(condition, NS_STANZAS), el.toString());
  assert.deepEqual(
    el.getChildElements().map((c) => c.name),
    ["error"],
    `nothing but the error: ${el.toString()}`,
  );
}
