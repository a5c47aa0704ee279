import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, readConnection, loadConfigFile } from "../src/config.js";
import { ConfigError } from "../src/errors.js";
import { ConfigReader } from "../src/config-reader.js";

const yaml = `
log: { level: debug }
server: { host: 127.0.0.2, port: 6000 }
components:
  example:
    domain: Echo.Example.Test
    secret: { env: ECHO_SECRET }
  other:
    domain: other.example.test
    secret: literal
    server: { port: 7000 }
`;

test("reads log, components and connection settings with defaults", () => {
  const config = parseConfig(yaml, "c.yaml", { ECHO_SECRET: "s3cret" });
  assert.equal(config.log.level, "debug");
  assert.deepEqual([...config.components.keys()], ["example", "other"]);
  const echo = readConnection(config, config.components.get("example")!, { ECHO_SECRET: "s3cret" });
  assert.deepEqual(echo, {
    service: "xmpp://127.0.0.2:6000",
    domain: "echo.example.test",
    secret: "s3cret",
    maxStanzaBytes: 262_144,
  });
  const other = readConnection(config, config.components.get("other")!);
  assert.equal(other.service, "xmpp://127.0.0.2:7000");
});

test("server.maxStanzaBytes: the component's own, else the top-level one, at least 16 KiB", () => {
  const config = parseConfig(
    `server: { maxStanzaBytes: 100000 }
components:
  a: { domain: a.test, secret: s, server: { maxStanzaBytes: 200000 } }
  b: { domain: b.test, secret: s }
  c: { domain: c.test, secret: s, server: { maxStanzaBytes: 1000 } }
`,
    "c.yaml",
  );
  assert.equal(readConnection(config, config.components.get("a")!).maxStanzaBytes, 200_000);
  assert.equal(readConnection(config, config.components.get("b")!).maxStanzaBytes, 100_000);
  const small = configError(() => readConnection(config, config.components.get("c")!));
  assert.match(small.message, /components\.c\.server\.maxStanzaBytes: expected at least 16384/);
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

test("errors name the file, the key and what was expected", () => {
  const config = parseConfig(yaml, "c.yaml", {});
  const missingEnv = configError(() => readConnection(config, config.components.get("example")!, {}));
  assert.equal(missingEnv.key, "components.example.secret");
  assert.match(
    missingEnv.message,
    /^c\.yaml: components\.example\.secret: environment variable ECHO_SECRET is not set/,
  );
  const badLevel = configError(() => parseConfig("log: { level: loud }\ncomponents: { a: {} }", "x.yaml"));
  assert.equal(badLevel.key, "log.level");
  assert.match(badLevel.message, /expected one of fatal, error, warn, info/);
  const typo = configError(() => parseConfig("log: { levle: info }\ncomponents: { a: {} }"));
  assert.equal(typo.key, "log.levle");
  const none = configError(() => parseConfig("log: { level: info }"));
  assert.equal(none.key, "components");
  const port = configError(() =>
    readConnection(
      parseConfig("server: { port: 99999 }\ncomponents: { a: { domain: a.test, secret: x } }"),
      parseConfig("components: { a: { domain: a.test, secret: x } }").components.get("a")!,
    ),
  );
  assert.equal(port.key, "server.port");
  const domain = configError(() => {
    const c = parseConfig("components: { a: { domain: 'not a domain', secret: x } }");
    readConnection(c, c.components.get("a")!);
  });
  assert.equal(domain.key, "components.a.domain");
});

test("syntax errors give the line", () => {
  const err = configError(() => parseConfig("components:\n  a: [1, 2\n", "bad.yaml"));
  assert.match(err.message, /^bad\.yaml: line \d+, column \d+: not valid YAML/);
});

test("secrets can come from a file, and a missing file is named", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-config-"));
  writeFileSync(join(dir, "secret"), "from-file\n");
  writeFileSync(
    join(dir, "c.yaml"),
    `components:\n  a: { domain: a.test, secret: { file: ${join(dir, "secret")} } }\n`,
  );
  const config = loadConfigFile(join(dir, "c.yaml"));
  assert.equal(readConnection(config, config.components.get("a")!).secret, "from-file");
  const c2 = parseConfig(`components:\n  a: { domain: a.test, secret: { file: ${join(dir, "nope")} } }\n`);
  const err = configError(() => readConnection(c2, c2.components.get("a")!));
  assert.match(err.message, /cannot read secret file .*nope \(ENOENT\)/);
  assert.equal(configError(() => loadConfigFile(join(dir, "missing.yaml"))).code, "CORDON_CONFIG_INVALID");
});

test("parse: a parser's error naming a key becomes a ConfigError for that key", () => {
  const r = ConfigReader.root({ a: { b: 1 } }, "cordon.yaml").section("a");
  assert.equal(
    r.parse("b", (v, key) => `${key}=${String(v)}`),
    "a.b=1",
  );
  const keyed = Object.assign(new Error("x"), { key: "a.b.c", reason: "no good" });
  assert.throws(
    () =>
      r.parse("b", () => {
        throw keyed;
      }),
    (e: unknown) => e instanceof ConfigError && e.message === "cordon.yaml: a.b.c: no good",
  );
  assert.throws(
    () =>
      r.parse("b", () => {
        throw new TypeError("other");
      }),
    TypeError,
  );
});
