// Clearances from a real OpenLDAP directory installed as deploy/ldap describes (Cordon's schema,
// deploy/ldap/example-users.ldif: alice holds everything, bob up to SECRET, carol UNCLASSIFIED),
// read through the one ClearanceReader by the MUC, the catalog and the relay, all run by
// `cordon start` from a config with a `directory:` section and an empty in-memory store. On each
// server: bob enters the SECRET room and carol is refused; the catalog offers exactly what each
// LDAP clearance grants; the relay lets bob's CONFIDENTIAL message cross to the partner domain
// and refuses carol's. Before the relay read user clearances through the resolver (the runner
// gave it the store alone) bob's message was refused: his clearance is only in the directory.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import {
  startServer,
  startSlapd,
  serverKinds,
  connectClient,
  ldapDeployFile,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
  type SlapdInstance,
} from "@cordon/harness";
import { parseElement, NS_SEC_LABEL_CATALOG, NS_STANZAS } from "@cordon/component";
import { repoRoot } from "../src/demo.js";
import { joinRoom } from "../src/muc-client.js";

const OID = "1.3.6.1.4.1.99999.1.1";
const quickstart = (file: string) => join(repoRoot, "deploy/quickstart", file);
const confidential = () =>
  parseElement(
    `<securitylabel xmlns='urn:xmpp:sec-label:0'><label><label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${OID}'/><classification lacv='3'/></label></label></securitylabel>`,
  );
const selectors = (result: Element) =>
  (result.getChild("catalog", NS_SEC_LABEL_CATALOG)?.getChildren("item") ?? []).map((i) =>
    String(i.attrs.selector),
  );

function config(o: {
  home: XmppServer;
  partner: XmppServer;
  slapd: SlapdInstance;
  partnerDomain: string;
  audit: string;
}): string {
  const h = o.home.domain;
  return [
    "log: { level: info }",
    `server: { host: 127.0.0.1, port: ${o.home.componentPort} }`,
    `policies: [${quickstart("demo-policy.xml")}]`,
    "directory:",
    `  url: ${o.slapd.url}`,
    `  bindDn: "${o.slapd.bindDn}"`,
    "  secret: { env: LDAP_SECRET }",
    `  baseDn: "${o.slapd.baseDn}"`,
    '  filter: "(&(objectClass=cordonPerson)(uid={localpart}))"',
    `  domains: [${h}]`,
    '  clearanceAttributes: ["clearance;binary", cordonXmlClearance]',
    "components:",
    "  muc:",
    `    domain: rooms.${h}`,
    "    secret: { env: MUC_SECRET }",
    `    localDomains: [${h}]`,
    "    labels: { UNCLASSIFIED: { classification: UNCLASSIFIED }, SECRET: { classification: SECRET } }",
    "    roomLabel: UNCLASSIFIED",
    "    presetRooms:",
    `      vault: { name: Vault, label: SECRET, owners: ["alice@${h}"] }`,
    "  catalog:",
    `    domain: catalog.${h}`,
    "    secret: { env: CATALOG_SECRET }",
    `    served: [${h}]`,
    "    catalogs:",
    `      ${h}:`,
    "        name: Demo labels",
    "        items:",
    "          - { selector: UNCLASSIFIED, default: true, label: { classification: UNCLASSIFIED } }",
    "          - { selector: CONFIDENTIAL, label: { classification: CONFIDENTIAL } }",
    "          - { selector: SECRET, label: { classification: SECRET } }",
    "          - { selector: TOP SECRET, label: { classification: TOP SECRET } }",
    "  relay:",
    `    audit: { file: ${o.audit} }`,
    "    peerings:",
    "      partner:",
    "        local:",
    `          server: { host: 127.0.0.1, port: ${o.home.componentPort} }`,
    "          secret: { env: RELAY_SECRET }",
    `          domains: [${h}]`,
    `          policy: ${OID}`,
    `          defaultLabel: { file: ${quickstart("labels/unclassified.xml")} }`,
    "        remote:",
    `          server: { host: 127.0.0.1, port: ${o.partner.componentPort} }`,
    "          secret: { env: RELAY_SECRET }",
    `          domains: [${o.partnerDomain}]`,
    `          policy: ${OID}`,
    `          defaultLabel: { file: ${quickstart("labels/unclassified.xml")} }`,
    `          senderClearance: { file: ${quickstart("clearances/partner-link.xml")} }`,
    "        outbound:",
    `          peers: { grant: [${o.partnerDomain}] }`,
    "          unlabelled: default",
    `          clearance: { file: ${quickstart("clearances/partner-link.xml")} }`,
    "        inbound:",
    `          peers: { grant: [${h}] }`,
    "          unlabelled: default",
    `          clearance: { file: ${quickstart("clearances/partner-link.xml")} }`,
    "",
  ].join("\n");
}

for (const kind of serverKinds()) {
  describe(`clearances from LDAP (deploy/ldap) on ${kind}`, () => {
    const home = `${kind}-ldap.test`;
    const partnerDomain = `partner-${kind}-ldap.test`;
    const partnerKind = serverKinds().find((k) => k !== kind) ?? kind;
    let server: XmppServer;
    let partner: XmppServer;
    let slapd: SlapdInstance;
    let cordon: ChildProcess;
    let stderr = "";
    const c: Record<string, TestClient> = {};

    before(async () => {
      slapd = await startSlapd({ ldifFiles: [ldapDeployFile("example-users.ldif")] });
      [server, partner] = await Promise.all([
        startServer(kind, {
          domain: home,
          components: [
            { domain: `rooms.${home}`, secret: "muc-secret" },
            { domain: `catalog.${home}`, secret: "catalog-secret" },
            { domain: partnerDomain, secret: "relay-secret" },
          ],
          users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
        }),
        startServer(partnerKind, {
          domain: partnerDomain,
          components: [{ domain: home, secret: "relay-secret" }],
          users: [{ username: "dave", password: "dave-pw" }],
        }),
      ]);
      const dir = mkdtempSync(join(tmpdir(), "cordon-ldap-e2e-"));
      const file = join(dir, "cordon.yaml");
      writeFileSync(
        file,
        config({ home: server, partner, slapd, partnerDomain, audit: join(dir, "audit.jsonl") }),
      );
      cordon = spawn(
        process.execPath,
        [join(repoRoot, "packages/cli/dist/src/main.js"), "start", "--config", file],
        {
          env: {
            ...process.env,
            LDAP_SECRET: slapd.bindPassword,
            MUC_SECRET: "muc-secret",
            CATALOG_SECRET: "catalog-secret",
            RELAY_SECRET: "relay-secret",
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      cordon.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      // The MUC, the catalog and the relay's two links.
      const deadline = Date.now() + 30_000;
      while ((stderr.match(/"msg":"online"/g) ?? []).length < 4 && Date.now() < deadline) {
        if (cordon.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((stderr.match(/"msg":"online"/g) ?? []).length, 4, stderr);
      for (const u of ["bob", "carol"]) c[u] = await connectClient(server, u, `${u}-pw`);
      c.dave = await connectClient(partner, "dave", "dave-pw");
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      if (cordon && cordon.exitCode === null) {
        const exited = once(cordon, "exit");
        cordon.kill("SIGTERM");
        await exited;
      }
      await server?.stop();
      await partner?.stop();
      await slapd?.stop();
    });

    test(`[${kind}] MUC: a user cleared only in LDAP enters the SECRET room; one cleared lower is refused`, async () => {
      const room = `vault@rooms.${home}`;
      const bob = await joinRoom(c.bob!, room, "Bob");
      assert.notEqual(bob.attrs.type, "error", bob.toString());
      const carol = await joinRoom(c.carol!, room, "Carol");
      assert.equal(carol.attrs.type, "error");
      assert.ok(carol.getChild("error")?.getChild("forbidden", NS_STANZAS), carol.toString());
    });

    test(`[${kind}] catalog: exactly the labels the LDAP clearance grants`, async () => {
      const ask = (client: TestClient) =>
        client.iq(
          xml(
            "iq",
            { type: "get", to: `catalog.${home}` },
            xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: home }),
          ),
        );
      assert.deepEqual(selectors(await ask(c.bob!)).sort(), ["CONFIDENTIAL", "SECRET", "UNCLASSIFIED"]);
      assert.deepEqual(selectors(await ask(c.carol!)), ["UNCLASSIFIED"]);
    });

    test(`[${kind}] relay: crossing by an LDAP-only clearance (bob passes, carol is refused)`, async () => {
      const send = (client: TestClient, id: string) =>
        client.send(
          xml(
            "message",
            { to: `dave@${partnerDomain}`, type: "chat", id },
            xml("body", {}, id),
            confidential(),
          ),
        );
      await send(c.bob!, "ldap-bob");
      const got = await c.dave!.waitFor((m) => m.is("message") && m.attrs.id === "ldap-bob", 8000);
      assert.equal(got.getChildText("body"), "ldap-bob");
      await send(c.carol!, "ldap-carol");
      const refused = await c.carol!.waitFor((m) => m.attrs.id === "ldap-carol", 8000);
      assert.equal(refused.attrs.type, "error");
      assert.ok(refused.getChild("error")?.getChild("forbidden", NS_STANZAS), refused.toString());
      assert.ok(!c.dave!.received.some((m) => m.attrs.id === "ldap-carol"));
    });
  });
}
