import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderTemplate, renderDeployFile, deployDir, checkConfigValue } from "../src/templates.js";
import { InvalidConfigValueError, TemplateError } from "../src/errors.js";

describe("renderTemplate", () => {
  test("fills placeholders and repeats each-blocks per item, dropping the marker lines", () => {
    const text = "port {{PORT}}\n# {{#each C}}\nname {{NAME}} on {{PORT}}\n# {{/each}}\nend";
    const out = renderTemplate("t", text, {
      values: { PORT: "5347" },
      lists: { C: [{ NAME: "a" }, { NAME: "b" }] },
    });
    assert.equal(out, "port 5347\nname a on 5347\nname b on 5347\nend");
  });

  test("an empty list renders the block zero times", () => {
    assert.equal(
      renderTemplate("t", "x\n-- {{#each C}}\n{{NAME}}\n-- {{/each}}\ny", { values: {}, lists: { C: [] } }),
      "x\ny",
    );
  });

  test("a missing value, list or closing marker is an error naming the file", () => {
    assert.throws(
      () => renderTemplate("f.yml", "{{NOPE}}", { values: {} }),
      (e: unknown) =>
        e instanceof TemplateError && e.code === "CORDON_HARNESS_TEMPLATE" && /f\.yml.*NOPE/.test(e.message),
    );
    assert.throws(
      () => renderTemplate("f", "{{#each L}}\nx", { values: {}, lists: { L: [] } }),
      TemplateError,
    );
    assert.throws(() => renderTemplate("f", "{{#each L}}\nx\n{{/each}}", { values: {} }), TemplateError);
    assert.throws(() => renderTemplate("f", "{{/each}}", { values: {} }), TemplateError);
  });

  test("values that would break Lua or YAML quoting are refused", () => {
    for (const bad of ['a"b', "a\nb", "a\\b", "a'b", "a b", "a}b"]) {
      assert.throws(() => checkConfigValue("SECRET", bad), InvalidConfigValueError);
    }
    assert.equal(checkConfigValue("NS", "urn:xmpp:sec-label:catalog:2"), "urn:xmpp:sec-label:catalog:2");
  });
});

describe("deploy/ snippets", () => {
  const data = {
    values: { COMPONENT_PORT: "5347", DOMAIN: "example.mil" },
    lists: {
      COMPONENT: [
        { COMPONENT_DOMAIN: "rooms.example.mil", SECRET: "s1" },
        { COMPONENT_DOMAIN: "catalog.example.mil", SECRET: "s2" },
      ],
      DELEGATION: [{ NAMESPACE: "urn:xmpp:sec-label:catalog:2", COMPONENT_DOMAIN: "catalog.example.mil" }],
      DELEGATED_COMPONENT: [{ COMPONENT_DOMAIN: "catalog.example.mil" }],
    },
  };

  test("every file renders with no placeholder left", () => {
    for (const file of [
      "prosody/cordon-components.cfg.lua",
      "prosody/cordon-delegation.cfg.lua",
      "ejabberd/cordon-components.yml",
      "ejabberd/cordon-delegation.yml",
    ]) {
      const out = renderDeployFile(file, data);
      assert.doesNotMatch(out, /\{\{[A-Z#/]/, file);
      assert.ok(readFileSync(join(deployDir(), file), "utf8").includes("{{"), `${file} is a template`);
    }
  });

  test("prosody components: one Component block per component, ports on loopback", () => {
    const out = renderDeployFile("prosody/cordon-components.cfg.lua", data);
    assert.match(out, /Component "rooms\.example\.mil" \{\n\tcomponent_secret = "s1";\n\}/);
    assert.match(out, /Component "catalog\.example\.mil" \{\n\tcomponent_secret = "s2";\n\}/);
    assert.match(out, /component_ports = \{ 5347 \}/);
    assert.match(out, /component_interfaces = \{ "127\.0\.0\.1" \}/);
  });

  test("prosody delegation matches docs/delegation.md §1", () => {
    const out = renderDeployFile("prosody/cordon-delegation.cfg.lua", data);
    assert.match(
      out,
      /VirtualHost "example\.mil" \{\n\tmodules_enabled = \{ "delegation"; "privilege" \};\n\tdelegations = \{\n\t\t\["urn:xmpp:sec-label:catalog:2"\] = \{ jid = "catalog\.example\.mil" \};\n\t\};\n\}/,
    );
    assert.match(
      out,
      /Component "catalog\.example\.mil" \{\n\tmodules_enabled = \{ "delegation"; "privilege" \};\n\}/,
    );
  });

  test("ejabberd components: one service listener, global_routes false, bounded stanzas", () => {
    const out = renderDeployFile("ejabberd/cordon-components.yml", data);
    assert.match(
      out,
      /- port: 5347\n {4}ip: "127\.0\.0\.1"\n {4}module: ejabberd_service\n {4}global_routes: false\n {4}max_stanza_size: 524288\n {4}hosts:\n {6}"rooms\.example\.mil":\n {8}password: "s1"\n {6}"catalog\.example\.mil":\n {8}password: "s2"/,
    );
  });

  test("ejabberd delegation matches docs/delegation.md §1", () => {
    const out = renderDeployFile("ejabberd/cordon-delegation.yml", data);
    assert.match(out, /acl:\n {2}cordon_components:\n {4}server:\n {6}- "catalog\.example\.mil"/);
    assert.match(out, /access_rules:\n {2}cordon_components:\n {4}allow: cordon_components/);
    assert.match(
      out,
      /mod_delegation:\n {4}namespaces:\n {6}"urn:xmpp:sec-label:catalog:2":\n {8}access: cordon_components/,
    );
  });
});
