import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "@cordon/component";
import { isLoopback, parseListen, readAdminSection } from "../../src/admin/config.js";

const root = (admin: string) =>
  parseConfig(`components: { example: { domain: a.test, secret: s } }\n${admin}`).root;

describe("admin config", () => {
  test("parseListen reads host:port and [v6]:port", () => {
    assert.deepEqual(parseListen("127.0.0.1:9090"), { host: "127.0.0.1", port: 9090 });
    assert.deepEqual(parseListen("[::1]:9090"), { host: "::1", port: 9090 });
    assert.deepEqual(parseListen("localhost:1"), { host: "localhost", port: 1 });
    assert.equal(parseListen("9090"), undefined);
    assert.equal(parseListen("[nope]:1"), undefined);
    assert.equal(parseListen("a:99999"), undefined);
  });

  test("loopback addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"])
      assert.equal(isLoopback(h), true, h);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.0.2.1", "example.com"])
      assert.equal(isLoopback(h), false, h);
  });

  test("no section: no admin API; empty section: 127.0.0.1:9090 with the generated token's file", () => {
    assert.equal(readAdminSection(root("")), undefined);
    assert.deepEqual(readAdminSection(root("admin: {}"), undefined, { CORDON_STATE_DIR: "/var/lib/x" }), {
      host: "127.0.0.1",
      port: 9090,
      token: undefined,
      tokenFile: "/var/lib/x/admin-token",
      hosts: [],
      console: { users: [], secureCookie: false, overviewSampleSeconds: 10 },
    });
    assert.equal(
      readAdminSection(root("admin: {}"), undefined, { STATE_DIRECTORY: "/var/lib/cordon-muc" })?.tokenFile,
      "/var/lib/cordon-muc/admin-token",
    );
    assert.equal(
      readAdminSection(
        root("stateDir: /srv/cordon\nadmin: { tokenFile: /etc/t, hosts: [Admin.Example.MIL] }"),
      )?.tokenFile,
      "/etc/t",
    );
    assert.deepEqual(readAdminSection(root("admin: { hosts: [Admin.Example.MIL] }"))?.hosts, [
      "admin.example.mil",
    ]);
    assert.throws(() => readAdminSection(root("admin: { hosts: ['a.mil:80'] }")), /admin\.hosts\[0\]/);
  });

  test("a non-loopback address without a token is refused, naming the key", () => {
    assert.throws(
      () => readAdminSection(root("admin: { listen: '0.0.0.0:9090' }")),
      (e: Error & { code?: string }) =>
        e.code === "CORDON_CONFIG_INVALID" && /admin\.token: required/.test(e.message),
    );
    const s = readAdminSection(root("admin: { listen: '0.0.0.0:9090', token: { env: T } }"), undefined, {
      T: "0123456789abcdef0",
    });
    assert.equal(s?.token, "0123456789abcdef0");
    assert.equal(s?.host, "0.0.0.0");
  });

  test("short tokens and bad addresses are refused", () => {
    assert.throws(() => readAdminSection(root("admin: { token: short }")), /too short/);
    assert.throws(() => readAdminSection(root("admin: { listen: nonsense }")), /admin\.listen/);
    assert.throws(
      () => readAdminSection(root("admin: { listn: '127.0.0.1:1' }")),
      /admin\.listn: unknown setting/,
    );
  });

  test("--only NAME uses perComponent.NAME", () => {
    const r = root("admin: { listen: '127.0.0.1:9090', perComponent: { muc: '127.0.0.1:9091' } }");
    assert.equal(readAdminSection(r, "muc")?.port, 9091);
    assert.equal(readAdminSection(r, "catalog")?.port, 9090);
    assert.equal(readAdminSection(r)?.port, 9090);
  });
  test("console users: name, role and a hash from cordon admin hash-password; anything else refused", () => {
    const hash = "scrypt$32768$8$1$iDlNoEkZLEUxXQrO9O-YAw$ESknv1y2yPpZtz4gZXTSOfK1itzpWA24J324GSy4cOc";
    const read = (users: string) =>
      readAdminSection(root(`admin: { console: { users: ${users} } }`))?.console;
    assert.deepEqual(read(`[{ name: vera, role: viewer, passwordHash: "${hash}" }]`)?.users, [
      { name: "vera", role: "viewer", passwordHash: hash },
    ]);
    assert.throws(
      () => read(`[{ name: vera, role: root, passwordHash: "${hash}" }]`),
      /admin\.console\.users\[0\]\.role/u,
    );
    assert.throws(() => read(`[{ name: vera, role: admin, passwordHash: "plain-text" }]`), /passwordHash/u);
    assert.throws(() => read(`[{ name: token, role: admin, passwordHash: "${hash}" }]`), /token/u);
    assert.throws(
      () =>
        read(
          `[{ name: a, role: admin, passwordHash: "${hash}" }, { name: a, role: viewer, passwordHash: "${hash}" }]`,
        ),
      /twice/u,
    );
    assert.throws(
      () => read(`[{ name: a, role: admin, passwordHash: "${hash}", extra: 1 }]`),
      /unknown setting/u,
    );
    assert.throws(() => readAdminSection(root("admin: { console: { nope: 1 } }")), /admin\.console\.nope/u);
  });
  test("console overviewSampleSeconds: 10 by default, an integer from 1 to 3600 otherwise", () => {
    const read = (value: string) =>
      readAdminSection(root(`admin: { console: { overviewSampleSeconds: ${value} } }`))?.console
        .overviewSampleSeconds;
    assert.equal(readAdminSection(root("admin: { console: {} }"))?.console.overviewSampleSeconds, 10);
    assert.equal(read("1"), 1);
    assert.equal(read("3600"), 3600);
    for (const bad of ["0", "3601", "1.5", '"10"'])
      assert.throws(() => read(bad), /admin\.console\.overviewSampleSeconds/u, bad);
  });
});
