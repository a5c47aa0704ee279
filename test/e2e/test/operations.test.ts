// Operator experience end to end: `cordon start` (MUC + catalog) as a child process against a real
// Prosody and a real Redis, driven by real clients, observed through the admin API: readiness
// follows the server going away and coming back, a broken policy on SIGHUP is refused and the old
// one kept, a good reload keeps the MUC working, /metrics moves with traffic, and PUT /clearances
// changes who may enter a room.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  startServer,
  startRedis,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
  type RedisInstance,
} from "@cordon/harness";
import {
  cli,
  mucAndCatalogYaml,
  prepareCordon,
  SECRET_ITEM,
  UNCLASSIFIED_ITEM,
  type CordonRun,
} from "../src/cordon-process.js";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_CATALOG_2 = "urn:xmpp:sec-label:catalog:2";
const TOKEN = "operations-test-token-0123456789";
const domain = "ops.test";
const mucDomain = `rooms.${domain}`;
const catalogDomain = `catalog.${domain}`;
const vault = `vault@${mucDomain}`;

describe("operations: admin API, metrics, hot reload (prosody)", () => {
  let server: XmppServer;
  let redis: RedisInstance;
  let run: CordonRun;
  let admin: string;
  const clients: Record<string, TestClient> = {};

  const api = (path: string, init?: RequestInit) => run.api(path, init);
  const until = (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) =>
    run.until(what, check, timeoutMs);
  const setClearance = async (user: string, classifications: string[], categories: string[] = []) => {
    const r = await api(`/clearances/${encodeURIComponent(`${user}@${domain}`)}`, {
      method: "PUT",
      body: JSON.stringify({ classifications, categories }),
    });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const enter = async (client: TestClient, nick: string): Promise<Element> => {
    await client.send(
      xml(
        "presence",
        { to: `${vault}/${nick}` },
        xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" })),
      ),
    );
    const self = await client.waitFor(
      (p) =>
        p.is("presence") &&
        p.attrs.from === `${vault}/${nick}` &&
        (p.attrs.type === "error" ||
          (p
            .getChild("x", NS_MUC_USER)
            ?.getChildren("status")
            .some((s) => s.attrs.code === "110") ??
            false)),
      8000,
    );
    if (self.attrs.type !== "error")
      await client.waitFor(
        (m) => m.is("message") && m.attrs.from === vault && m.getChild("subject") !== undefined,
        8000,
      );
    return self;
  };
  const say = (client: TestClient, body: string) =>
    client.send(xml("message", { to: vault, type: "groupchat" }, xml("body", {}, body)));
  const hears = (client: TestClient, body: string) =>
    client.waitFor(
      (m) => m.is("message") && m.attrs.type === "groupchat" && (m.getChildText("body") ?? "").endsWith(body),
      8000,
    );
  const metric = (text: string, pattern: RegExp): number => {
    let sum = 0;
    for (const line of text.split("\n"))
      if (pattern.test(line)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    return sum;
  };

  before(async () => {
    redis = await startRedis();
    server = await startServer("prosody", {
      domain,
      components: [
        { domain: mucDomain, secret: "muc-secret" },
        { domain: catalogDomain, secret: "catalog-secret" },
      ],
      delegations: [{ namespace: NS_CATALOG_2, component: catalogDomain }],
      users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
    });
    run = await prepareCordon("ops", TOKEN);
    admin = run.admin;
    const adminPort = run.adminPort;
    await run.start(
      `log: { level: info }
server: { host: 127.0.0.1, port: ${server.componentPort} }
policies: [policy.xml]
store: { redis: { url: "${redis.url}", prefix: "ops-${process.pid}:" } }
admin: { listen: "127.0.0.1:${adminPort}", token: { env: CORDON_ADMIN_TOKEN } }
stateDir: state
audit: { file: audit.jsonl }
${mucAndCatalogYaml({ domain, mucDomain, catalog: { domain: catalogDomain, name: "Ops labels", items: [UNCLASSIFIED_ITEM, SECRET_ITEM] } })}`,
      { LOG_LEVEL: "info" },
    );
    for (const u of ["alice", "bob", "carol"]) clients[u] = await connectClient(server, u, `${u}-pw`);
  });

  after(async () => {
    for (const c of Object.values(clients)) await c.stop().catch(() => undefined);
    await run?.remove();
    await server?.stop();
    await redis?.stop();
  });

  test("[prosody] DNS rebinding and cross-site requests are refused, the clearance unchanged (issue 16 item 12)", async () => {
    const send = (method: string, path: string, headers: Record<string, string>, body = "") =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(admin);
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method,
            path,
            setHost: false,
            headers: { host: url.host, authorization: `Bearer ${TOKEN}`, ...headers },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const carol = `/clearances/${encodeURIComponent(`carol@${domain}`)}`;
    const before = await api(carol);
    const raise = JSON.stringify({ classifications: ["TOP SECRET"] });
    assert.equal(
      await send(
        "PUT",
        carol,
        { host: "rebind.attacker.example", "content-type": "application/json" },
        raise,
      ),
      403,
    );
    assert.equal(
      await send(
        "PUT",
        carol,
        { origin: "http://rebind.attacker.example", "content-type": "application/json" },
        raise,
      ),
      403,
    );
    assert.equal(await send("PUT", carol, { "content-type": "text/plain" }, raise), 415);
    assert.equal(await send("POST", "/policies/reload", { "content-type": "text/plain" }, "{}"), 415);
    const after = await api(carol);
    assert.equal(after.status, before.status);
    // The same clearance (the answer also says when it was read: not compared).
    const held = (text: string) => JSON.stringify({ ...(JSON.parse(text) as object), readAt: undefined });
    assert.equal(held(after.text), held(before.text));
  });

  test("[prosody] /ready lists each component's link; PUT /clearances/{jid} changes who may enter a room", async () => {
    const ready = await api("/ready");
    assert.equal(ready.status, 200);
    const components = ready.json?.components as {
      name: string;
      ready: boolean;
      links: { domain: string; online: boolean }[];
    }[];
    assert.deepEqual(
      components.map((c) => [c.name, c.ready, c.links.map((l) => l.domain)]),
      [
        ["muc", true, [mucDomain]],
        ["catalog", true, [catalogDomain]],
      ],
    );

    assert.equal((await setClearance("alice", ["UNCLASSIFIED", "SECRET"]))?.marking !== undefined, true);
    await setClearance("bob", ["UNCLASSIFIED"]);
    assert.equal((await enter(clients.alice!, "Alice")).attrs.type, undefined);
    const refused = await enter(clients.bob!, "Bob");
    assert.equal(refused.attrs.type, "error", "bob is not cleared for the SECRET room");
    assert.ok(refused.getChild("error")?.getChild("forbidden"));

    await setClearance("bob", ["UNCLASSIFIED", "SECRET"]);
    assert.equal(
      (await enter(clients.bob!, "Bob")).attrs.type,
      undefined,
      "after PUT /clearances bob may enter",
    );
    await say(clients.alice!, "first words");
    await hears(clients.bob!, "first words");

    const rooms = await api("/rooms");
    assert.equal(rooms.status, 200);
    const room = (
      rooms.json?.rooms as { jid: string; label: { text: string; bg?: string }; occupants: number }[]
    ).find((r) => r.jid === vault);
    assert.equal(room?.occupants, 2);
    assert.match(room?.label.text ?? "", /SECRET/);
    assert.ok(room?.label.bg, "the marking in its SPIF colour (issue 18)");

    // DELETE: bob's clearance is gone, so the MUC removes him from the SECRET room at once.
    assert.equal(
      (await api(`/clearances/${encodeURIComponent(`bob@${domain}`)}`, { method: "DELETE" })).status,
      200,
    );
    await clients.bob!.waitFor(
      (p) => p.is("presence") && p.attrs.type === "unavailable" && p.attrs.from === `${vault}/Bob`,
      8000,
    );
    await setClearance("bob", ["UNCLASSIFIED", "SECRET"]);
    assert.equal((await enter(clients.bob!, "Bob")).attrs.type, undefined);
  });

  test("[prosody] /metrics is Prometheus text whose counters moved with the clients' traffic", async () => {
    const before = (await api("/metrics")).text;
    await say(clients.alice!, "counted");
    await hears(clients.bob!, "counted");
    const catalog = await clients.alice!.iq(
      xml("iq", { type: "get", to: domain }, xml("catalog", { xmlns: NS_CATALOG_2, to: domain })),
    );
    assert.ok(catalog.getChild("catalog", NS_CATALOG_2));
    const r = await api("/metrics");
    assert.equal(r.status, 200);
    // Every non-comment line is `name{labels} value`; every family has HELP and TYPE.
    for (const line of r.text.split("\n").filter((l) => l && !l.startsWith("#"))) {
      assert.match(
        line,
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (NaN|[+-]Inf)$/,
        line,
      );
    }
    assert.match(r.text, /^# TYPE cordon_stanzas_in_total counter$/m);
    const moved = (pattern: RegExp) => metric(r.text, pattern) - metric(before, pattern);
    assert.ok(moved(/^cordon_stanzas_in_total\{component="muc",kind="message"\}/) >= 1);
    assert.ok(
      moved(/^cordon_stanzas_out_total\{component="muc"\}/) >= 2,
      "the message went to both occupants",
    );
    assert.ok(
      moved(/^cordon_decisions_total\{component="muc",outcome="grant",reason="groupchat:granted"\}/) >= 1,
    );
    assert.ok(moved(/^cordon_fanout_size_count\{component="muc"\}/) >= 1);
    assert.ok(moved(/^cordon_decisions_total\{component="catalog",outcome="grant"/) >= 1);
    assert.ok(moved(/^cordon_store_duration_seconds_count\{backend="store"/) >= 1);
    assert.ok(
      metric(r.text, /^cordon_decisions_total\{component="muc",outcome="deny",reason="join:/) >= 1,
      "bob's refused join was counted",
    );
    assert.equal(metric(r.text, /^cordon_links_online\{component="catalog"\}/), 1);
    assert.doesNotMatch(r.text, /ops\.test/, "no JID, domain or room name in any label value");
  });

  test("[prosody] SIGHUP with a broken policy keeps the old one; a good reload keeps the MUC working", async () => {
    const good = readFileSync(join(run.dir, "policy.xml"), "utf8");
    writeFileSync(join(run.dir, "policy.xml"), good.slice(0, Math.floor(good.length / 2)));
    const mark = run.log().length;
    run.child?.kill("SIGHUP");
    await until("the rejection in the log", async () => /policy reload rejected/.test(run.log().slice(mark)));
    assert.match(run.log().slice(mark), /policy\.xml/, "the log names the file");
    const viaApi = await api("/policies/reload", { method: "POST" });
    assert.equal(viaApi.status, 422);
    assert.equal((viaApi.json?.error as { code: string }).code, "CORDON_POLICY_RELOAD_REJECTED");
    await say(clients.alice!, "still labelled");
    await hears(clients.bob!, "still labelled");

    writeFileSync(join(run.dir, "policy.xml"), good);
    const reloaded = await api("/policies/reload", { method: "POST" });
    assert.equal(reloaded.status, 200, reloaded.text);
    // Room labels, occupants' clearances and configured labels were re-bound to the new policy objects.
    await say(clients.alice!, "after reload");
    await hears(clients.bob!, "after reload");
    const join2 = await enter(clients.carol!, "Carol");
    assert.equal(join2.attrs.type, "error", "carol (no clearance) is still kept out");
    const text = (await api("/metrics")).text;
    assert.equal(metric(text, /^cordon_policy_reloads_total\{result="rejected"\}/), 2);
    assert.equal(metric(text, /^cordon_policy_reloads_total\{result="ok"\}/), 1);
    // The process audit log (issue 16 item 9): admin changes, the MUC's and the catalog's
    // decisions, in one keyed chain that `cordon audit verify` checks with the generated key.
    const records = readFileSync(join(run.dir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const kinds = new Set(
      records.map((r) => `${String(r.component)}:${String(r.action)}:${String(r.decision)}`),
    );
    for (const kind of [
      "admin:clearance-set:change",
      "admin:policy-reload:change",
      "admin:policy-reload:deny",
      "muc:groupchat:grant",
      "muc:join:deny",
      "catalog:catalog:grant",
    ])
      assert.ok(kinds.has(kind), `${kind} in ${[...kinds].join(" ")}`);
    assert.ok(!records.some((r) => JSON.stringify(r).includes("after reload")), "no message text");
    const verified = spawnSync(
      process.execPath,
      [cli, "audit", "verify", join(run.dir, "audit.jsonl"), "--config", join(run.dir, "cordon.yaml")],
      {
        encoding: "utf8",
      },
    );
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  });

  test("[prosody] /ready goes 503 when the server is stopped and 200 again when it is back", async () => {
    await server.kill();
    await until("not ready", async () => (await api("/ready")).status === 503);
    const r = await api("/ready");
    assert.equal(r.json?.ready, false);
    assert.equal((await api("/health")).status, 200, "the process itself stays alive");
    await server.restart();
    await until("ready again", async () => (await api("/ready")).status === 200, 20_000);
  });
});
