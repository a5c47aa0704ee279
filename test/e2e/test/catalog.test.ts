// The XEP-0258 catalog service on real Prosody and real ejabberd: real clients ask their own
// server (which delegates catalog:2 to the component by XEP-0355) and the component directly.
// The component runs in this process over the in-memory store.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  startServer,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createCatalogService, parseCatalogSpec, type CatalogService } from "@cordon/catalog";
import { NS_SEC_LABEL_CATALOG } from "@cordon/component";
import { labelFromSpec, PolicyRegistry } from "@cordon/policy";
import { MemoryStore, type RawValue } from "@cordon/store";
import { startCli, untilOnline } from "../src/cordon-process.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_LABEL = "urn:xmpp:sec-label:0";
const OID = "1.3.6.1.4.1.99999.1.1";
const LACV: Record<string, number> = { UNCLASSIFIED: 1, RESTRICTED: 2, CONFIDENTIAL: 3, SECRET: 4 };

/** A demo-policy clearance holding every classification up to `upTo` (+ compartment ALPHA). */
function clearance(upTo: string, alpha = false): RawValue {
  const classes = Object.values(LACV)
    .filter((l) => l <= (LACV[upTo] ?? 0))
    .map((l) => `<classification lacv='${l}'/>`)
    .join("");
  const tags = alpha ? `<tag type='restrictive' id='${OID}.1' lacv='1'/>` : "";
  return {
    encoding: "xml",
    data: `<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='${OID}'/>${classes}${tags}</clearance>`,
  };
}
const label = (name: string): RawValue => ({
  encoding: "xml",
  data: `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${OID}'/><classification lacv='${LACV[name]}'/></label>`,
});

const DEMO_CATALOG = {
  name: "Demo",
  desc: "Cordon demo labels",
  restrict: true,
  items: [
    { selector: "SECRET", label: { policy: "Cordon Demo", classification: "SECRET" } },
    { selector: "CONFIDENTIAL", label: { policy: "Cordon Demo", classification: "CONFIDENTIAL" } },
    {
      selector: "SECRET|ALPHA",
      label: { policy: "Cordon Demo", classification: "SECRET", categories: ["ALPHA"] },
    },
    {
      selector: "UNCLASSIFIED",
      label: { policy: "Cordon Demo", classification: "UNCLASSIFIED" },
      default: true,
    },
  ],
};

function selectors(catalog: Element | undefined): string[] {
  return (catalog?.getChildren("item") ?? []).map((i) => String(i.attrs.selector));
}

for (const kind of serverKinds()) {
  describe(`catalog service on ${kind}`, () => {
    const domain = `${kind}.test`;
    const catalogDomain = `catalog.${domain}`;
    const rooms = `rooms.${domain}`;
    const secret = "catalog-secret";
    let server: XmppServer;
    let store: MemoryStore;
    let service: CatalogService;
    let alice: TestClient;
    let bob: TestClient;
    let carol: TestClient;

    const askServer = (client: TestClient, target: string) =>
      client.iq(
        xml("iq", { type: "get", to: domain }, xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: target })),
        10_000,
      );
    const catalogOf = async (client: TestClient, target: string) =>
      (await askServer(client, target)).getChild("catalog", NS_SEC_LABEL_CATALOG);

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [
          { domain: catalogDomain, secret },
          { domain: `cli-${catalogDomain}`, secret: "cli-secret" },
        ],
        users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
        delegations: [{ namespace: NS_SEC_LABEL_CATALOG, component: catalogDomain }],
      });
      store = new MemoryStore();
      await store.setUserClearance(`alice@${domain}`, clearance("SECRET", true));
      await store.setUserClearance(`bob@${domain}`, clearance("CONFIDENTIAL"));
      await store.setUserClearance(`carol@${domain}`, clearance("UNCLASSIFIED"));
      await store.putRoom({
        jid: `ops@${rooms}`,
        config: {},
        clearance: clearance("SECRET"),
        defaultLabel: label("CONFIDENTIAL"),
        affiliations: {},
        persistent: true,
      });
      const registry = new PolicyRegistry();
      registry.loadString(readFileSync(join(repoRoot, "deploy/quickstart/demo-policy.xml"), "utf8"));
      service = createCatalogService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: catalogDomain,
        secret,
        served: [domain],
        muc: [rooms],
        registry,
        store,
        catalogs: new Map([[domain, parseCatalogSpec(DEMO_CATALOG, registry)]]),
        remoteRequests: true,
        // The guard's default label (issue 17): a user target's "no label" item follows it.
        guardDefaultLabel: labelFromSpec({ classification: "CONFIDENTIAL" }, "test", {
          registry,
          policy: "Cordon Demo",
        }),
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await service.start();
      [alice, bob, carol] = await Promise.all([
        connectClient(server, "alice", "alice-pw"),
        connectClient(server, "bob", "bob-pw"),
        connectClient(server, "carol", "carol-pw"),
      ]);
      // ejabberd activates the delegation only after asking the component's disco#info for the
      // delegation nodes (docs/delegation.md §2): wait until the server forwards a request.
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          await askServer(alice, domain);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    });

    after(async () => {
      await Promise.all([alice, bob, carol].map((c) => c?.stop()));
      await service?.stop();
      await store?.close();
      await server?.stop();
    });

    test(`[${kind}] the server's own disco#info lists sec-label:0 and catalog:2`, async () => {
      const result = await alice.iq(xml("iq", { type: "get", to: domain }, xml("query", { xmlns: NS_INFO })));
      const features =
        result
          .getChild("query", NS_INFO)
          ?.getChildren("feature")
          .map((f) => f.attrs.var) ?? [];
      assert.ok(features.includes(NS_LABEL), `features: ${features.join(" ")}`);
      assert.ok(features.includes(NS_SEC_LABEL_CATALOG), `features: ${features.join(" ")}`);
    });

    test(`[${kind}] the catalog of the server, asked of the own server, comes back from the server`, async () => {
      const result = await askServer(alice, domain);
      assert.equal(result.attrs.from, domain);
      const catalog = result.getChild("catalog", NS_SEC_LABEL_CATALOG);
      assert.deepEqual(selectors(catalog), ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "SECRET|ALPHA"]);
      assert.equal(catalog?.attrs.to, domain);
      assert.equal(catalog?.attrs.restrict, "true");
      assert.equal(catalog?.attrs.size, "4");
      const first = catalog?.getChildren("item")[0];
      assert.equal(first?.attrs.default, "true");
      const marking = first?.getChild("securitylabel", NS_LABEL)?.getChild("displaymarking");
      assert.equal(marking?.getText(), "UNCLASSIFIED");
      assert.ok(
        first
          ?.getChild("securitylabel", NS_LABEL)
          ?.getChild("label")
          ?.getChild("esssecuritylabel", "urn:xmpp:sec-label:ess:0"),
      );
    });

    test(`[${kind}] a less-cleared user receives fewer labels`, async () => {
      assert.deepEqual(selectors(await catalogOf(carol, domain)), ["UNCLASSIFIED"]);
      assert.deepEqual(selectors(await catalogOf(bob, domain)), ["UNCLASSIFIED", "CONFIDENTIAL"]);
    });

    test(`[${kind}] the catalog toward another local user holds only labels both are cleared for`, async () => {
      assert.deepEqual(selectors(await catalogOf(alice, `bob@${domain}`)), ["UNCLASSIFIED", "CONFIDENTIAL"]);
      assert.deepEqual(selectors(await catalogOf(alice, `carol@${domain}/phone`)), ["UNCLASSIFIED"]);
    });

    test(`[${kind}] the catalog of a labelled room: within the room clearance, room default first`, async () => {
      const catalog = await catalogOf(alice, `ops@${rooms}`);
      assert.deepEqual(selectors(catalog), ["CONFIDENTIAL", "SECRET", "UNCLASSIFIED"]);
      assert.equal(catalog?.getChildren("item")[0]?.attrs.default, "true");
      assert.deepEqual(selectors(await catalogOf(carol, `ops@${rooms}`)), ["UNCLASSIFIED"]);
      await assert.rejects(
        askServer(alice, `nope@${rooms}`),
        (e: Error & { condition?: string }) => e.condition === "item-not-found",
      );
    });

    test(`[${kind}] a clearance change in the store changes the next answer and its id`, async () => {
      const before = await catalogOf(bob, domain);
      assert.deepEqual(selectors(before), ["UNCLASSIFIED", "CONFIDENTIAL"]);
      await store.setUserClearance(`bob@${domain}`, clearance("SECRET"));
      const after = await catalogOf(bob, domain);
      assert.deepEqual(selectors(after), ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL"]);
      assert.notEqual(after?.attrs.id, before?.attrs.id);
      await store.setUserClearance(`bob@${domain}`, clearance("CONFIDENTIAL"));
      assert.equal((await catalogOf(bob, domain))?.attrs.id, before?.attrs.id);
    });

    test(`[${kind}] <catalog from> does not make a local user remote (issue 16 item 10)`, async () => {
      // remoteRequests on, and a store shared by both sites holding a peer clearance for our own domain.
      await store.setPeerClearance(domain, "inbound", clearance("SECRET", true));
      try {
        for (const behalf of [`carol@${domain}`, `alice@${domain}`, domain]) {
          const result = await carol.iq(
            xml(
              "iq",
              { type: "get", to: domain },
              xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: domain, from: behalf }),
            ),
            10_000,
          );
          assert.deepEqual(selectors(result.getChild("catalog", NS_SEC_LABEL_CATALOG)), ["UNCLASSIFIED"]);
        }
      } finally {
        await store.deletePeerClearance(domain, "inbound");
      }
    });

    test(`[${kind}] "no label" toward a user only when the guard lets an unlabelled message through`, async () => {
      // A non-restrictive catalog with a "no label" item (XEP-0258 §"Label Catalog Discovery"),
      // the guard's default label CONFIDENTIAL: bob is cleared for it, carol is not.
      await store.setCatalog(
        { kind: "domain", domain },
        JSON.stringify({
          restrict: false,
          items: [
            { selector: "UNCLASSIFIED", label: { policy: "Cordon Demo", classification: "UNCLASSIFIED" } },
            { selector: "none" },
          ],
        }),
      );
      try {
        assert.deepEqual(selectors(await catalogOf(alice, `bob@${domain}`)), ["UNCLASSIFIED", "none"]);
        assert.deepEqual(selectors(await catalogOf(alice, `carol@${domain}`)), ["UNCLASSIFIED"]);
        assert.deepEqual(selectors(await catalogOf(carol, `bob@${domain}`)), ["UNCLASSIFIED"]);
        // Not a one-to-one message: the server target keeps it.
        assert.deepEqual(selectors(await catalogOf(carol, domain)), ["UNCLASSIFIED", "none"]);
      } finally {
        await store.deleteCatalog({ kind: "domain", domain });
      }
    });

    test(`[${kind}] a request addressed to the component directly gets the same catalog`, async () => {
      const result = await alice.iq(
        xml(
          "iq",
          { type: "get", to: catalogDomain },
          xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: `bob@${domain}` }),
        ),
      );
      assert.equal(result.attrs.from, catalogDomain);
      assert.deepEqual(selectors(result.getChild("catalog", NS_SEC_LABEL_CATALOG)), [
        "UNCLASSIFIED",
        "CONFIDENTIAL",
      ]);
    });
    test(`[${kind}] cordon start runs the catalog from a config file`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "cordon-catalog-"));
      const config = join(dir, "cordon.yaml");
      writeFileSync(
        config,
        [
          "log: { level: info }",
          `server: { host: 127.0.0.1, port: ${server.componentPort} }`,
          `policies: [${join(repoRoot, "deploy/quickstart/demo-policy.xml")}]`,
          // The process audit log (issue 16 item 9): the catalog's decisions, keyed by a generated key.
          `audit: { file: ${join(dir, "audit.jsonl")}, keyFile: ${join(dir, "state/audit-key")}, anchorEvery: 1 }`,
          "components:",
          "  catalog:",
          `    domain: cli-${catalogDomain}`,
          "    secret: { env: CATALOG_SECRET }",
          `    served: [${domain}]`,
          "    catalogs:",
          `      ${domain}:`,
          "        name: From config",
          "        items:",
          "          - { selector: UNCLASSIFIED, default: true, label: { classification: UNCLASSIFIED } }",
          // A peering configured only here (not in the store): the catalog sees it (issue 16 item 11),
          // even in a process that does not run the relay.
          "  relay:",
          `    audit: { file: ${join(dir, "relay-audit.jsonl")} }`,
          "    peerings:",
          "      partner:",
          `        local: { secret: a-secret, domains: [${domain}], policy: Cordon Demo }`,
          "        remote: { secret: b-secret, domains: [partner.example], policy: Cordon Demo }",
          "        outbound: { peers: { grant: [partner.example] }, unlabelled: refuse, clearance: { classifications: [UNCLASSIFIED] } }",
          `        inbound: { peers: { grant: [${domain}] }, unlabelled: refuse, clearance: { classifications: [UNCLASSIFIED] } }`,
          "",
        ].join("\n"),
      );
      const run = startCli(config, { CATALOG_SECRET: "cli-secret" }, ["--only", "catalog"]);
      const child = run.child;
      try {
        await untilOnline(run);
        // The config-file instance has its own (empty) in-memory store: nobody is cleared, so the
        // catalog is empty, restrictive and named after the configured catalog.
        const result = await alice.iq(
          xml(
            "iq",
            { type: "get", to: `cli-${catalogDomain}` },
            xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: domain }),
          ),
        );
        const catalog = result.getChild("catalog", NS_SEC_LABEL_CATALOG);
        assert.equal(catalog?.attrs.name, "From config");
        assert.equal(catalog?.attrs.size, "0");
        assert.equal(catalog?.attrs.restrict, "true");
        // A remote target of the relay's configured peering is answered (alice is not cleared in
        // this store: an empty catalog), not item-not-found; a domain without a peering still is.
        const remote = await alice.iq(
          xml(
            "iq",
            { type: "get", to: `cli-${catalogDomain}` },
            xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: "dave@partner.example" }),
          ),
        );
        assert.equal(remote.getChild("catalog", NS_SEC_LABEL_CATALOG)?.attrs.to, "dave@partner.example");
        await assert.rejects(
          alice.iq(
            xml(
              "iq",
              { type: "get", to: `cli-${catalogDomain}` },
              xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: "eve@nowhere.example" }),
            ),
          ),
          (e: Error & { condition?: string }) => e.condition === "item-not-found",
        );
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        const [code] = (await exited) as [number | null];
        assert.equal(code, 0, run.stderr());
        // The decision is in the keyed chain; `cordon audit verify` checks it with the generated key.
        const key = join(dir, "state/audit-key");
        assert.equal(statSync(key).mode & 0o777, 0o600);
        // With --only catalog the process keeps its own chain: audit.catalog.jsonl (one writer per chain).
        const log = join(dir, "audit.catalog.jsonl");
        const records = readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const answered = records.find((r) => r.component === "catalog" && r.actor === `alice@${domain}`);
        assert.equal(answered?.decision, "grant", JSON.stringify(records));
        assert.equal(answered?.target, domain);
        assert.equal(answered?.items, 0);
        assert.match(
          run.stderr(),
          /"auditAnchor":"1:[0-9a-f]{64}"/,
          "an anchor every record (anchorEvery: 1)",
        );
        const verified = spawnSync(
          process.execPath,
          [join(repoRoot, "packages/cli/dist/src/main.js"), "audit", "verify", log, "--key-file", key],
          { encoding: "utf8" },
        );
        assert.equal(verified.status, 0, verified.stdout + verified.stderr);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
}
