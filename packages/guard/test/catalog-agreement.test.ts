// Issue 17: the catalog for a user target offers exactly the labels the central check lets
// through from the requester to that user — one decision function (@cordon/rules one-to-one.ts),
// tied here over random clearances of sender, server and recipient and every demo label. Its
// "no label" item is tied to the guard's verdict on an unlabelled message: offered exactly when
// the guard (with or without a default label, valid or not) delivers one. And the guard's
// client-location rule (@cordon/rules client-location.ts): random locations (none, one or two
// ranges, with or without otherLocations) and the requesting session at an address in a range, in
// none, or not known — the catalog told that address as its server would tell it. And the
// recipient side of that rule (@cordon/rules client-location.ts recipientRefused): bob with no
// session (offline), or one to three sessions each in a range, in none or without an address, the
// target his bare JID, one of his sessions' full JIDs or a resource he has no session at — the
// catalog told his sessions as his server would tell them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildSecurityLabelXml,
  encodeBerClearance,
  makeClearance,
  makeLabel,
  PolicyRegistry,
  type Label,
} from "@cordon/policy";
import { parseElement } from "@cordon/component";
import { createCatalogService } from "@cordon/catalog";
import {
  ClearanceReader,
  ClientLocations,
  labelKey,
  Markings,
  StanzaLabels,
  type ClientLocationOptions,
} from "@cordon/rules";
import { MemoryStore } from "@cordon/store";
import { decide } from "../src/decide.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const D = "example.test";

/** A small deterministic generator (xorshift), so a failure can be replayed from its seed. */
function random(seed: number) {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const SEEDS = 120;
const subset = <T>(next: () => number, items: readonly T[]) => items.filter(() => next() < 0.5);

// Every classification with every single category and none: the candidate labels.
const candidates: Label[] = policy.classifications.flatMap((c) => [
  makeLabel(policy, c, []),
  ...policy.categories.map((cat) => makeLabel(policy, c, [cat])),
]);

test("catalog(requester → user) = the labels the guard delivers from requester to user", async () => {
  let unlabelledDelivered = 0;
  let refusedAtLocation = 0;
  let refusedAtRecipient = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const next = random(seed * 7919);
    const store = new MemoryStore();
    const clearance = () => {
      const c = makeClearance(policy, subset(next, policy.classifications), subset(next, policy.categories));
      return { encoding: "ber" as const, data: Buffer.from(encodeBerClearance(c)).toString("base64") };
    };
    await store.setUserClearance(`alice@${D}`, clearance());
    if (next() < 0.8) await store.setUserClearance(`bob@${D}`, clearance());
    if (next() < 0.5) await store.setServiceClearance(D, clearance());
    // The guard's default label: none, or any candidate (some its policy excludes: UNCLASSIFIED|ALPHA).
    const defaultLabel = next() < 0.25 ? undefined : candidates[Math.floor(next() * candidates.length)];
    // Client locations: none (a third of the seeds), else 10.1/16 and maybe 10.9/16, maybe otherLocations.
    const siteClearance = () =>
      makeClearance(policy, subset(next, policy.classifications), subset(next, policy.categories));
    const locations: ClientLocationOptions | undefined =
      next() < 0.33
        ? undefined
        : {
            locations: [
              { ranges: ["10.1.0.0/16"], clearance: siteClearance() },
              ...(next() < 0.5 ? [{ ranges: ["10.9.0.0/16"], clearance: siteClearance() }] : []),
            ],
            ...(next() < 0.5 ? { otherLocations: siteClearance() } : {}),
          };
    // Where alice's session is: in either range, in none, or not known (no answer from its server).
    const ip = ["10.1.2.3", "10.9.2.3", "192.0.2.1", undefined][Math.floor(next() * 4)];
    // bob's sessions (none: offline), each somewhere; the target: his bare JID, a session's, or none's.
    const bobSessions = Array.from({ length: Math.floor(next() * 4) }, (_, i) => ({
      resource: `b${i}`,
      ip: ["10.1.0.9", "10.9.0.9", "192.0.2.9", undefined][Math.floor(next() * 4)],
      labels: next() < 0.5,
    }));
    const to = [`bob@${D}`, `bob@${D}/b0`, `bob@${D}/gone`][Math.floor(next() * 3)] as string;
    const catalog = createCatalogService({
      service: "xmpp://127.0.0.1:1",
      domain: `catalog.${D}`,
      secret: "s",
      served: [D],
      registry,
      store,
      // Non-restrictive, with a "no label" item (XEP-0258 §"Label Catalog Discovery").
      catalogs: new Map([
        [D, { restrict: false, items: [...candidates.map((label) => ({ label })), { selector: "none" }] }],
      ]),
      ...(defaultLabel ? { guardDefaultLabel: defaultLabel } : {}),
      ...(locations ? { guardLocations: locations } : {}),
      sessionAddress: async (session) => (session === `alice@${D}/r` ? ip : undefined),
      // As bob's server tells them (rules session-address.ts): the full JID's session, else all.
      recipientSessions: async (target) => {
        const named = bobSessions.filter((s) => `bob@${D}/${s.resource}` === target);
        return (named.length > 0 ? named : bobSessions).map((s) => ({ resource: s.resource, ip: s.ip }));
      },
    });
    const items = (
      await catalog.catalogFor({
        requester: `alice@${D}`,
        home: D,
        target: to,
        session: `alice@${D}/r`,
      })
    ).items;
    const offered = new Set(items.filter((i) => i.label).map((i) => labelKey(i.label!)));
    const offersNoLabel = items.some((i) => !i.label);
    await catalog.stop();
    const context = {
      labels: new StanzaLabels(registry),
      markings: new Markings(),
      clearances: new ClearanceReader({ registry, store, maxAgeMs: 0 }),
      accept: [policy.id],
      defaultLabel,
      served: [D],
      maxDepth: 60,
      locations: new ClientLocations(locations ?? { locations: [] }),
    };
    for (const label of candidates) {
      const message = parseElement(
        `<message from='alice@${D}/r' to='${to}'><body>x</body>${buildSecurityLabelXml(label)}</message>`,
      );
      const decision = await decide(context, D, {
        origin: "c2s",
        message,
        senderIp: ip,
        sessions: bobSessions,
      });
      if (decision.reason === "sender-location") refusedAtLocation++;
      if (decision.reason === "recipient-location") refusedAtRecipient++;
      assert.equal(
        decision.verdict.action === "deliver",
        offered.has(labelKey(label)),
        `seed ${seed}: ${labelKey(label)} guard ${decision.reason}, catalog ${offered.has(labelKey(label))}`,
      );
    }
    const unlabelled = parseElement(`<message from='alice@${D}/r' to='${to}'><body>x</body></message>`);
    const decision = await decide(context, D, {
      origin: "c2s",
      message: unlabelled,
      senderIp: ip,
      sessions: bobSessions,
    });
    if (decision.verdict.action === "deliver") unlabelledDelivered++;
    assert.equal(
      decision.verdict.action === "deliver",
      offersNoLabel,
      `seed ${seed}: unlabelled (default ${defaultLabel ? labelKey(defaultLabel) : "none"}) guard ${decision.reason}, catalog "no label" ${offersNoLabel}`,
    );
    context.clearances.close();
  }
  // Both sides of the "no label" property were exercised.
  assert.ok(unlabelledDelivered > 0 && unlabelledDelivered < SEEDS, `delivered ${unlabelledDelivered}`);
  // The location rule decided some labels (refused there, and so not offered).
  assert.ok(refusedAtLocation > 0, `refused at the sender's location ${refusedAtLocation}`);
  // ... and some at the recipient's sessions' (refused there, and so not offered).
  assert.ok(refusedAtRecipient > 0, `refused at the recipient's sessions ${refusedAtRecipient}`);
});
