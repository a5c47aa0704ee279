import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "@cordon/component";
import { lineOfKey, withConfigLine } from "../src/config-lines.js";

const TEXT = `log: { level: info }
policies:
  - a.xml
  - b.xml
components:
  catalog:
    catalogs:
      example.test:
        items:
          - { selector: X, label: { classification: NOPE } }
  muc:
    roomLabel: SECRET
`;

test("key paths map to lines, dotted keys included", () => {
  assert.equal(lineOfKey(TEXT, "log.level"), 1);
  assert.equal(lineOfKey(TEXT, "policies[1]"), 4);
  assert.equal(lineOfKey(TEXT, "components.muc.roomLabel"), 12);
  assert.equal(lineOfKey(TEXT, "components.catalog.catalogs.example.test.items[0]"), 10);
  assert.equal(lineOfKey(TEXT, "components.muc.missing"), 11, "deepest existing ancestor");
  assert.equal(lineOfKey("[", "x"), undefined);
});

test("withConfigLine leaves other errors, and errors of unreadable files, unchanged", () => {
  const error = new ConfigError("components.muc.roomLabel", "bad", "cordon.yaml");
  const plain = withConfigLine(new Error("x"), "cordon.yaml");
  assert.equal((plain as Error).message, "x");
  // The file does not exist here: the error comes back unchanged.
  assert.equal(withConfigLine(error, "cordon.yaml"), error);
});
