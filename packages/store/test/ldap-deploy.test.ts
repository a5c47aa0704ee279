// deploy/ldap as an admin installs it: Cordon's schema in both OpenLDAP forms (slapd.conf
// `include cordon.schema`, and cordon.ldif in cn=config), the example users loaded from
// example-users.ldif, read by LdapDirectory with the configuration the README shows.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ldapDeployFile, startSlapd } from "@cordon/harness";
import { LdapDirectory } from "../src/index.js";
import { slapdDirectoryOptions } from "./helpers.js";

for (const config of ["slapd.conf", "cn=config"] as const) {
  describe(`deploy/ldap schema in ${config} form`, () => {
    test("the example users' clearances read as the quickstart's (BER in clearance;binary, XML)", async () => {
      const slapd = await startSlapd({ config, ldifFiles: [ldapDeployFile("example-users.ldif")] });
      const directory = new LdapDirectory(slapdDirectoryOptions(slapd));
      try {
        const bob = await directory.getUserClearance("Bob@Example.mil");
        assert.equal(bob.status, "known");
        assert.equal(bob.status === "known" && bob.clearance.encoding, "ber");
        const alice = await directory.getUserClearance("alice@example.mil");
        assert.equal(alice.status === "known" && alice.clearance.encoding, "ber");
        const carol = await directory.getUserClearance("carol@example.mil");
        assert.equal(carol.status === "known" && carol.clearance.encoding, "xml");
        assert.match(carol.status === "known" ? carol.clearance.data : "", /<clearance /);
        assert.equal((await directory.getUserClearance("dave@example.mil")).status, "none");
      } finally {
        await directory.close();
        await slapd.stop();
      }
    });
  });
}
