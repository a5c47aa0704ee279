import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildFilter, checkFilterTemplate, DirectoryConfigError, escapeFilterValue } from "../src/index.js";

describe("LDAP filter building (RFC 4515 §3)", () => {
  test("escapes the five special characters", () => {
    assert.equal(escapeFilterValue("a*b(c)d\\e\u0000f"), "a\\2ab\\28c\\29d\\5ce\\00f");
    assert.equal(escapeFilterValue("élodie@exemple.fr"), "élodie@exemple.fr");
  });

  test("fills jid, localpart and domain placeholders", () => {
    assert.equal(
      buildFilter("(&(objectClass=cordonPerson)(jid={jid}))", "*)(uid=*@x.y"),
      "(&(objectClass=cordonPerson)(jid=\\2a\\29\\28uid=\\2a@x.y))",
    );
    assert.equal(
      buildFilter("(&(uid={localpart})(o={domain}))", "bob@example.mil"),
      "(&(uid=bob)(o=example.mil))",
    );
  });

  test("an escaped value never adds filter structure", () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const e = escapeFilterValue(v);
        for (const ch of ["(", ")", "*", String.fromCharCode(0)]) assert.ok(!e.includes(ch));
        assert.ok(!/\\(?![0-9a-f]{2})/u.test(e));
      }),
    );
  });

  test("templates are checked", () => {
    checkFilterTemplate("(mail={jid})");
    for (const bad of ["(mail=x)", "mail={jid}", "(mail={jid}", "(mail={who})"]) {
      assert.throws(() => checkFilterTemplate(bad), DirectoryConfigError, bad);
    }
  });
});
