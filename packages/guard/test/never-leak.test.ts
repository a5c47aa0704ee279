// Never-leak property of the central check (issue 17; Isode's "core SEF": a user only receives
// what the user is cleared to access, checked as a message arrives, with the sender's and the
// server's clearance too): the real decide() over the demo policy with a real in-memory store, for
// random labels, clearances (known, none, or unreadable), client locations and recipient sessions.
// Every verdict is checked against an oracle written here from the demo policy's rules
// (deploy/quickstart/demo-policy.xml: classification membership, every compartment held, one
// releasability country held), not with the engine under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseElement, type Element } from "@cordon/component";
import {
  buildSecurityLabelXml,
  encodeBerClearance,
  labelMarking,
  makeClearance,
  makeLabel,
  PolicyRegistry,
  type Clearance,
  type Label,
} from "@cordon/policy";
import { ClearanceReader, Markings, StanzaLabels } from "@cordon/rules";
import { MemoryStore, type ClearanceLookup } from "@cordon/store";
import { ClientLocations } from "@cordon/rules";
import { decide, type DecideContext } from "../src/decide.js";
import type { RecipientSession } from "../src/protocol.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);

// ── The oracle ────────────────────────────────────────────────────────────────────────────────
const CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const COMPARTMENTS = ["ALPHA", "BRAVO"];
const COUNTRIES = ["GBR", "USA", "FRA"];
interface Lab {
  cls: string;
  cats: string[];
}
interface Clr {
  classes: string[];
  cats: string[];
}
const validLabel = (l: Lab) => l.cls !== "UNCLASSIFIED" || !l.cats.some((c) => COMPARTMENTS.includes(c));
function grants(c: Clr | undefined, l: Lab): boolean {
  if (!c || !c.classes.includes(l.cls)) return false;
  if (l.cats.some((x) => COMPARTMENTS.includes(x) && !c.cats.includes(x))) return false;
  const countries = l.cats.filter((x) => COUNTRIES.includes(x));
  return countries.length === 0 || countries.some((x) => c.cats.includes(x));
}

// ── Real objects from the simple ones ─────────────────────────────────────────────────────────
const byName = <T extends { name: string }>(list: readonly T[], n: string) => list.find((x) => x.name === n)!;
const realLabel = (l: Lab): Label =>
  makeLabel(
    policy,
    byName(policy.classifications, l.cls),
    l.cats.map((n) => byName(policy.categories, n)),
  );
const realClearance = (c: Clr): Clearance =>
  makeClearance(
    policy,
    c.classes.map((n) => byName(policy.classifications, n)),
    c.cats.map((n) => byName(policy.categories, n)),
  );
const raw = (c: Clr) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(realClearance(c))).toString("base64"),
});

// ── Arbitraries ───────────────────────────────────────────────────────────────────────────────
const subset = (xs: string[]) => fc.subarray(xs);
const clr = fc.record({ classes: subset(CLASSES), cats: subset([...COMPARTMENTS, ...COUNTRIES]) });
const lab = fc
  .record({ cls: fc.constantFrom(...CLASSES), cats: subset([...COMPARTMENTS, ...COUNTRIES]) })
  .filter(validLabel);
type State = { kind: "known"; c: Clr } | { kind: "none" } | { kind: "unknown" };
const state: fc.Arbitrary<State> = fc.oneof(
  clr.map((c) => ({ kind: "known" as const, c })),
  fc.constant({ kind: "none" as const }),
  fc.constant({ kind: "unknown" as const }),
);
const SITES = { a: "10.1.0.5", b: "10.2.0.5", elsewhere: "192.0.2.9" } as const;
type Site = keyof typeof SITES | "no-address";
const site = fc.constantFrom<Site>("a", "b", "elsewhere", "no-address");
const ipOf = (s: Site) => (s === "no-address" ? undefined : SITES[s]);

const scenario = fc.record({
  label: fc.option(lab, { nil: undefined }), // undefined: unlabelled (the default label applies)
  sender: state,
  recipient: state,
  server: state,
  locations: fc.option(fc.record({ a: clr, b: clr }), { nil: undefined }),
  senderSite: site,
  sessions: fc.uniqueArray(
    fc.record({ resource: fc.constantFrom("r1", "r2", "r3", "r4"), site, labels: fc.boolean() }),
    {
      selector: (s) => s.resource,
      maxLength: 4,
    },
  ),
  toResource: fc.option(fc.constantFrom("r1", "r2", "r5"), { nil: undefined }),
});

const DEFAULT: Lab = { cls: "UNCLASSIFIED", cats: [] };
const WORDS = "crown-jewels";

test("the central check never delivers to a party or a session not cleared, and echoes nothing", async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const store = new MemoryStore();
      const unknown = new Set<string>();
      const put = async (jid: string, st: State) => {
        if (st.kind === "known") await store.setUserClearance(jid, raw(st.c));
        if (st.kind === "unknown") unknown.add(jid);
      };
      await put("alice@example.test", s.sender);
      await put("bob@example.test", s.recipient);
      if (s.server.kind === "known") await store.setServiceClearance("example.test", raw(s.server.c));
      const getUser = store.getUserClearance.bind(store);
      store.getUserClearance = (jid: string): Promise<ClearanceLookup> =>
        unknown.has(jid) ? Promise.resolve({ status: "unknown", reason: "down" }) : getUser(jid);
      const getService = store.getServiceClearance.bind(store);
      store.getServiceClearance = (d: string): Promise<ClearanceLookup> =>
        s.server.kind === "unknown" ? Promise.resolve({ status: "unknown", reason: "down" }) : getService(d);

      const locations = new ClientLocations({
        locations: s.locations
          ? [
              { ranges: ["10.1.0.0/16"], clearance: realClearance(s.locations.a) },
              { ranges: ["10.2.0.0/16"], clearance: realClearance(s.locations.b) },
            ]
          : [],
      });
      const siteGrants = (x: Site, l: Lab) =>
        !s.locations
          ? true
          : x === "a"
            ? grants(s.locations.a, l)
            : x === "b"
              ? grants(s.locations.b, l)
              : false;
      const context: DecideContext = {
        labels: new StanzaLabels(registry),
        markings: new Markings(),
        clearances: new ClearanceReader({ registry, store, maxAgeMs: 0 }),
        accept: [policy.id],
        defaultLabel: realLabel(DEFAULT),
        served: ["example.test"],
        maxDepth: 60,
        locations,
      };
      const to = `bob@example.test${s.toResource ? `/${s.toResource}` : ""}`;
      const labelXml = s.label ? buildSecurityLabelXml(realLabel(s.label)) : "";
      const sessions: RecipientSession[] = s.sessions.map((x) => ({
        resource: x.resource,
        ip: ipOf(x.site),
        labels: x.labels,
      }));
      const got = await decide(context, "example.test", {
        origin: "c2s",
        message: parseElement(
          `<message from='alice@example.test/w' to='${to}' id='m1'><body>${WORDS}</body>${labelXml}</message>`,
        ),
        senderIp: ipOf(s.senderSite),
        sessions,
      });
      context.clearances.close();

      const l = s.label ?? DEFAULT;
      const known = (st: State) => (st.kind === "known" ? st.c : undefined);
      if (got.verdict.action !== "deliver") {
        if (got.verdict.action === "refuse") {
          const text = got.verdict.error.toString();
          assert.ok(!text.includes(WORDS) && !text.includes("securitylabel"), text);
        }
        return;
      }
      // Delivered: every party's clearance as it is in the store grants the label.
      assert.ok(s.sender.kind === "known" && grants(s.sender.c, l), "sender");
      assert.ok(s.recipient.kind === "known" && grants(s.recipient.c, l), "recipient");
      assert.ok(s.server.kind === "none" || grants(known(s.server), l), "server");
      assert.ok(siteGrants(s.senderSite, l), "the sending session's location");
      // Each session: nothing where its location does not grant; label or FLOT by its caps.
      const forms = new Map((got.verdict.sessions ?? []).map((x) => [x.resource, x.form]));
      for (const x of s.sessions) {
        const form = forms.get(x.resource);
        if (!siteGrants(x.site, l)) assert.equal(form, "none", `session ${x.resource}`);
        else assert.equal(form, x.labels ? "label" : "flot", `session ${x.resource}`);
      }
      if (s.toResource && s.sessions.some((x) => x.resource === s.toResource))
        assert.notEqual(forms.get(s.toResource), "none", "the addressed session");
      // What is shown is the policy's marking of the decided label, once.
      const marking = labelMarking(realLabel(l), "");
      const shown = (m: Element) => m.getChildren("securitylabel", "urn:xmpp:sec-label:0");
      assert.equal(shown(got.verdict.message).length, 1);
      assert.equal(shown(got.verdict.message)[0]?.getChildText("displaymarking"), marking);
      if (forms.size > 0 && [...forms.values()].includes("flot"))
        assert.equal(got.verdict.flot?.getChildText("body"), `${marking}\n${WORDS}`);
    }),
    { numRuns: 300 },
  );
});
