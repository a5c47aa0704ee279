// What the relay's e2e tests share: the TLPX/TLP policy pair of test/conformance (equivalent
// policies, so a label crossing between them is translated), SPIFFY labels and clearances under
// them, the two servers a peering joins (Prosody ↔ ejabberd), a relay side on a real server's
// component port (XEP-0114), the TLPX ↔ TLP peering, and the bare stanza error a refusal must be
// (nothing of the refused stanza in it).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, type Element, type ServerOptions, type XmppServer } from "@cordon/harness";
import type { PolicyRegistry } from "@cordon/policy";
import type { RawValue } from "@cordon/store";
import { defaultRules, type DirectionRules, type PeeringConfig, type SideConfig } from "@cordon/relay";
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

/** One end of a peering: a server for `domain` with `users` (password "pw"). */
export interface PeerEnd {
  domain: string;
  users: readonly string[];
  extraModules?: ServerOptions["extraModules"];
}

/**
 * Prosody for `prosody` and ejabberd for `ejabberd`, started together, each accepting the other's
 * domain as a component with `secret` (the relay's two sides).
 */
export function startPeerServers(
  prosody: PeerEnd,
  ejabberd: PeerEnd,
  secret: string,
): Promise<[XmppServer, XmppServer]> {
  const start = (kind: "prosody" | "ejabberd", end: PeerEnd, other: PeerEnd) =>
    startServer(kind, {
      domain: end.domain,
      components: [{ domain: other.domain, secret }],
      users: end.users.map((username) => ({ username, password: "pw" })),
      ...(end.extraModules ? { extraModules: end.extraModules } : {}),
    });
  return Promise.all([start("prosody", prosody, ejabberd), start("ejabberd", ejabberd, prosody)]);
}

/**
 * The peering `name` from TLPX on `px` (`pxDomain`) to TLP on `ex` (`exDomain`): an unlabelled
 * stanza takes the default label, WHITE (10), and the peer's clearance is up to AMBER (12) each way;
 * `outbound` and `inbound` add rules.
 */
export function tlpPeering(
  name: string,
  px: XmppServer,
  pxDomain: string,
  ex: XmppServer,
  exDomain: string,
  secret: string,
  more: { outbound?: Partial<DirectionRules>; inbound?: Partial<DirectionRules> } = {},
): PeeringConfig {
  return {
    name,
    local: relaySide(px, pxDomain, TLPX, secret),
    remote: relaySide(ex, exDomain, TLP, secret),
    outbound: defaultRules({
      ...UNLABELLED_DEFAULT,
      defaultLabel: tlpLabel(TLPX, 10),
      clearance: tlpClearance(TLP, [10, 11, 12]),
      ...more.outbound,
    }),
    inbound: defaultRules({
      ...UNLABELLED_DEFAULT,
      defaultLabel: tlpLabel(TLP, 10),
      clearance: tlpClearance(TLPX, [10, 11, 12]),
      ...more.inbound,
    }),
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
