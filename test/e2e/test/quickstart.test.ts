// The README's run command, tested: deploy/quickstart/quickstart.mjs (what `npm start` runs after
// installing and building) brings up Prosody with Cordon attached; the demo users see what the
// banner says they will.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { once } from "node:events";
import { connectClient, xml, type TestClient, type XmppServer, type Element } from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { repoRoot, loadDemo } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";

const NS_CATALOG = "urn:xmpp:sec-label:catalog:2";
const domain = "quickstart.test";
const partner = "partner-qs.test";
const demo = loadDemo();
let child: ChildProcess;
let output = "";
let server: XmppServer;
const clients: Record<string, TestClient> = {};

const label = (classification: string, ...categories: string[]) =>
  parseElement(demo.labelXml(demo.label(classification, ...categories)));

before(async () => {
  child = spawn(process.execPath, [joinPath(repoRoot, "deploy/quickstart/quickstart.mjs")], {
    env: {
      ...process.env,
      CORDON_QUICKSTART_C2S_PORT: "0",
      CORDON_QUICKSTART_COMPONENT_PORT: "0",
      CORDON_QUICKSTART_PARTNER_C2S_PORT: "0",
      CORDON_QUICKSTART_PARTNER_COMPONENT_PORT: "0",
      CORDON_QUICKSTART_ADMIN_PORT: "0",
      CORDON_QUICKSTART_PARTNER: partner,
      CORDON_QUICKSTART_DOMAIN: domain,
      CORDON_QUICKSTART_DIR: mkdtempSync(joinPath(tmpdir(), "cordon-qs-")),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes("READY") && Date.now() < deadline && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 100));
  assert.match(output, /READY/, output);
  const port = Number(/XMPP server\s+127\.0\.0\.1 port (\d+)/.exec(output)?.[1]);
  server = { host: "127.0.0.1", c2sPort: port, domain } as unknown as XmppServer;
  for (const user of ["alice", "bob", "carol"]) clients[user] = await connectClient(server, user, user);
  const partnerPort = Number(/Partner .* port (\d+), dave@/.exec(output)?.[1]);
  clients.dave = await connectClient(
    { host: "127.0.0.1", c2sPort: partnerPort, domain: partner } as unknown as XmppServer,
    "dave",
    "dave",
  );
});

after(async () => {
  for (const c of Object.values(clients)) await c.stop().catch(() => undefined);
  if (child && child.exitCode === null) {
    const exited = once(child, "exit");
    child.kill("SIGINT");
    await exited;
  }
});

test("[prosody] quickstart: the banner names the users, rooms and what each sees", () => {
  for (const text of [
    `alice@${domain} (password alice)`,
    `bob@${domain}`,
    `carol@${domain}`,
    `briefing@rooms.${domain}`,
    `vault@rooms.${domain}`,
  ]) {
    assert.ok(output.includes(text), text);
  }
});

test("[prosody] quickstart: the banner shows the web console's one-time login link; it logs in once", async () => {
  const link = /Web console\s+(http:\/\/127\.0\.0\.1:\d+\/console\/#token=([A-Za-z0-9_-]+))/u.exec(output);
  assert.ok(link, output);
  const base = new URL(link[1]!).origin;
  const page = await fetch(`${base}/console/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Cordon console/u);
  const login = () =>
    fetch(`${base}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: link[2] }),
    });
  const first = await login();
  assert.equal(first.status, 200);
  assert.match(first.headers.get("set-cookie") ?? "", /^cordon_session=.*HttpOnly; SameSite=Strict/u);
  assert.equal((await login()).status, 401, "used once");
  assert.equal(output.match(/#token=/gu)?.length, 1, "printed once");
});

test("[prosody] quickstart: in the briefing room each demo user receives exactly what the banner says", async () => {
  const room = `briefing@rooms.${domain}`;
  for (const user of ["alice", "bob", "carol"])
    assert.notEqual((await join(clients[user]!, room, user)).attrs.type, "error", user);
  const sends: [string, Element | null][] = [
    ["u", label("UNCLASSIFIED")],
    ["c", label("CONFIDENTIAL")],
    ["s", label("SECRET")],
    ["sa", label("SECRET", "ALPHA")],
    ["ts", label("TOP SECRET")],
    ["end", label("UNCLASSIFIED")],
  ];
  for (const [id, l] of sends)
    await clients.alice!.send(
      xml("message", { to: room, type: "groupchat", id: `qs-${id}` }, xml("body", {}, `msg-${id}`), l),
    );
  const got: Record<string, string[]> = {};
  for (const user of ["alice", "bob", "carol"]) {
    await clients[user]!.waitFor((m) => m.attrs.id === "qs-end" && m.attrs.type === "groupchat");
    got[user] = clients[user]!.received.filter(
      (m) => m.attrs.type === "groupchat" && m.attrs.id?.startsWith("qs-"),
    ).map((m) => m.attrs.id!.slice(3));
  }
  assert.deepEqual(got.alice, ["u", "c", "s", "sa", "ts", "end"]);
  assert.deepEqual(got.bob, ["u", "c", "s", "end"]);
  assert.deepEqual(got.carol, ["u", "end"]);
});

test("[prosody] quickstart: carol is refused from the vault, bob may enter", async () => {
  const room = `vault@rooms.${domain}`;
  const carol = await join(clients.carol!, room, "carol");
  assert.equal(carol.attrs.type, "error");
  assert.ok(carol.getChild("error")!.getChild("forbidden"));
  assert.notEqual((await join(clients.bob!, room, "bob")).attrs.type, "error");
});

test("[prosody] quickstart: a client's own server answers the catalog for the briefing room", async () => {
  const result = await clients.bob!.iq(
    xml(
      "iq",
      { type: "get", to: domain },
      xml("catalog", { xmlns: NS_CATALOG, to: `briefing@rooms.${domain}` }),
    ),
  );
  const catalog = result.getChild("catalog", NS_CATALOG)!;
  const selectors = catalog.getChildren("item").map((i) => i.attrs.selector);
  assert.equal(catalog.getChildren("item")[0]!.attrs.default, "true");
  assert.ok(selectors.includes("SECRET"));
  assert.ok(!selectors.includes("TOP SECRET") && !selectors.includes("SECRET|ALPHA"), selectors.join(","));
});

test("[prosody] quickstart: the catalog toward the partner follows the relay's configured peering (issue 16 item 11)", async () => {
  // The peering is configured only in the relay's YAML: the catalog sees the same clearance.
  const result = await clients.alice!.iq(
    xml("iq", { type: "get", to: domain }, xml("catalog", { xmlns: NS_CATALOG, to: `dave@${partner}` })),
  );
  const selectors = result
    .getChild("catalog", NS_CATALOG)!
    .getChildren("item")
    .map((i) => i.attrs.selector);
  assert.ok(selectors.includes("CONFIDENTIAL"), selectors.join(","));
  assert.ok(!selectors.includes("SECRET") && !selectors.includes("TOP SECRET"), selectors.join(","));
});

test("[prosody] quickstart: chat with the partner domain crosses the relay up to CONFIDENTIAL, and no further", async () => {
  await clients.alice!.send(
    xml(
      "message",
      { to: `dave@${partner}`, type: "chat", id: "x-c" },
      xml("body", {}, "confidential hello"),
      label("CONFIDENTIAL"),
    ),
  );
  const got = await clients.dave!.waitFor((m) => m.attrs.id === "x-c", 8000);
  assert.equal(got.attrs.from?.startsWith(`alice@${domain}`), true);
  assert.equal(
    got.getChild("securitylabel", "urn:xmpp:sec-label:0")!.getChildText("displaymarking"),
    "CONFIDENTIAL",
  );
  await clients.alice!.send(
    xml(
      "message",
      { to: `dave@${partner}`, type: "chat", id: "x-s" },
      xml("body", {}, "secret plans"),
      label("SECRET"),
    ),
  );
  const refused = await clients.alice!.waitFor((m) => m.attrs.id === "x-s", 8000);
  assert.equal(refused.attrs.type, "error");
  assert.ok(!refused.toString().includes("secret plans") && !refused.toString().includes("securitylabel"));
  await clients.dave!.send(
    xml(
      "message",
      { to: `alice@${domain}`, type: "chat", id: "x-reply" },
      xml("body", {}, "unlabelled reply"),
    ),
  );
  const reply = await clients.alice!.waitFor((m) => m.attrs.id === "x-reply", 8000);
  assert.equal(
    reply.getChild("securitylabel", "urn:xmpp:sec-label:0")!.getChildText("displaymarking"),
    "UNCLASSIFIED",
  );
  assert.ok(!clients.dave!.received.some((m) => m.attrs.id === "x-s"));
});
