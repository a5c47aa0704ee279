#!/usr/bin/env node
// Cordon's quickstart: a private Prosody on loopback (configured from deploy/prosody's snippets by
// the test harness), Cordon's components attached to it from cordon.yaml, and a banner telling
// people how to connect. Ctrl-C stops everything.
//   CORDON_QUICKSTART_C2S_PORT / _COMPONENT_PORT   ports (default 15222 / 15347; 0 = any free port)
//   CORDON_QUICKSTART_ADMIN_PORT                   admin API and web console (default 15290; 0 = any)
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { startProsody } from "@cordon/harness";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const domain = process.env.CORDON_QUICKSTART_DOMAIN ?? "example.test";
const port = (name, fallback) => {
  const v = process.env[`CORDON_QUICKSTART_${name}_PORT`];
  return v === undefined ? fallback : Number(v) || undefined;
};
const state = process.env.CORDON_QUICKSTART_DIR ?? "/tmp/cordon-quickstart";
mkdirSync(state, { recursive: true });

const partner = process.env.CORDON_QUICKSTART_PARTNER ?? "partner.test";
const secrets = {
  muc: randomBytes(12).toString("hex"),
  catalog: randomBytes(12).toString("hex"),
  relayLocal: randomBytes(12).toString("hex"),
  relayRemote: randomBytes(12).toString("hex"),
};
const users = [
  {
    username: "alice",
    password: "alice",
    sees: "TOP SECRET with ALPHA and BRAVO: every message; may enter both rooms",
  },
  {
    username: "bob",
    password: "bob",
    sees: "up to SECRET (no ALPHA): not SECRET ALPHA or TOP SECRET messages",
  },
  {
    username: "carol",
    password: "carol",
    sees: "UNCLASSIFIED only: only UNCLASSIFIED messages; cannot enter the vault",
  },
];

const server = await startProsody({
  domain,
  ports: { c2s: port("C2S", 15222), component: port("COMPONENT", 15347) },
  components: [
    { domain: `rooms.${domain}`, secret: secrets.muc },
    { domain: `catalog.${domain}`, secret: secrets.catalog },
    // Domain claiming (docs/servers.md §1): the relay is the component for the partner's domain here.
    { domain: partner, secret: secrets.relayLocal },
  ],
  delegations: [{ namespace: "urn:xmpp:sec-label:catalog:2", component: `catalog.${domain}` }],
  users: users.map(({ username, password }) => ({ username, password })),
});

// The partner domain on its own Prosody (no s2s between the two: the relay is the only path).
const partnerServer = await startProsody({
  domain: partner,
  ports: { c2s: port("PARTNER_C2S", 15223), component: port("PARTNER_COMPONENT", 15348) },
  components: [{ domain, secret: secrets.relayRemote }],
  users: [{ username: "dave", password: "dave" }],
});

const config = readFileSync(join(here, "cordon.yaml"), "utf8")
  .replaceAll("{{DOMAIN}}", domain)
  .replaceAll("{{PARTNER}}", partner)
  .replaceAll("{{COMPONENT_PORT}}", String(server.componentPort))
  .replaceAll("{{PARTNER_COMPONENT_PORT}}", String(partnerServer.componentPort))
  .replaceAll("{{ADMIN_PORT}}", String(Number(process.env.CORDON_QUICKSTART_ADMIN_PORT ?? 15290)));
writeFileSync(join(state, "cordon.yaml"), config);
for (const file of ["demo-policy.xml", "labels/unclassified.xml", "clearances/partner-link.xml"]) {
  mkdirSync(dirname(join(state, file)), { recursive: true });
  copyFileSync(join(here, file), join(state, file));
}

const cordon = spawn(
  process.execPath,
  [join(root, "packages/cli/dist/src/main.js"), "start", "--config", join(state, "cordon.yaml")],
  {
    env: {
      ...process.env,
      CORDON_MUC_SECRET: secrets.muc,
      CORDON_CATALOG_SECRET: secrets.catalog,
      CORDON_RELAY_LOCAL_SECRET: secrets.relayLocal,
      CORDON_RELAY_REMOTE_SECRET: secrets.relayRemote,
    },
    stdio: ["ignore", "pipe", "inherit"],
  },
);
// Cordon's standard output, passed on, but for the web console's one-time login link, which the
// banner shows.
let consoleUrl;
let pending = "";
cordon.stdout.on("data", (chunk) => {
  pending += chunk.toString("utf8");
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    const m = /^Console: (\S+)$/.exec(line);
    if (m) consoleUrl = m[1];
    else if (!/^\s+\(a one-time login link/.test(line)) process.stdout.write(`${line}\n`);
  }
});

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  cordon.kill("SIGTERM");
  await new Promise((r) => (cordon.exitCode !== null ? r() : cordon.once("exit", r)));
  await server.stop();
  await partnerServer.stop();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
cordon.on("exit", (code) => {
  if (!stopping) {
    console.error(`cordon exited (${code}); stopping the demo`);
    void Promise.all([server.stop(), partnerServer.stop()]).then(() => process.exit(1));
  }
});

// Ready when the MUC answers disco#info through Prosody.
const { connectClient, xml } = await import("@cordon/harness");
const probe = await connectClient(server, "alice", "alice");
for (let i = 0; ; i++) {
  try {
    await probe.iq(
      xml(
        "iq",
        { type: "get", to: `rooms.${domain}` },
        xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
      ),
      1000,
    );
    break;
  } catch (error) {
    if (i > 50) {
      console.error(`Cordon did not come up: ${error.message}`);
      await shutdown(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
await probe.stop();
for (let i = 0; consoleUrl === undefined && i < 50; i++) await new Promise((r) => setTimeout(r, 100));

console.log(`
Cordon quickstart is running.

  XMPP server  127.0.0.1 port ${server.c2sPort} (Prosody, domain ${domain}; no TLS: use "plain" / unencrypted
               connection and PLAIN authentication in your client — loopback only)
  Users        ${users.map((u) => `${u.username}@${domain} (password ${u.password})`).join("\n               ")}
  Rooms        briefing@rooms.${domain}  label UNCLASSIFIED: everyone may enter; messages may be
                                         labelled up to TOP SECRET and each reaches only those cleared
               vault@rooms.${domain}     label SECRET: carol is refused (forbidden)
  Catalog      ask your own server: <catalog xmlns='urn:xmpp:sec-label:catalog:2' to='briefing@rooms.${domain}'/>
  Partner      a second domain behind Cordon's relay: 127.0.0.1 port ${partnerServer.c2sPort}, dave@${partner} (password dave).
               Chat between the two domains crosses the relay: labels up to CONFIDENTIAL pass (unlabelled
               means UNCLASSIFIED); anything above is refused back to the sender with a bare error.

What each user sees in the briefing room when alice sends one message of each label:
${users.map((u) => `  ${u.username.padEnd(6)} ${u.sees}`).join("\n")}
Clients without label support (no urn:xmpp:sec-label:0) see the marking as the body's first line.

Web console  ${consoleUrl ?? "(not started: see the log above)"}
               a one-time login link (valid once, for 10 minutes); afterwards log in with the admin token
               in ${join(state, "state", "admin-token")} (and: npx cordon admin ready --config ${join(state, "cordon.yaml")})

Config: ${join(state, "cordon.yaml")}   Relay audit log: ${join(state, "relay-audit.jsonl")}
(check it: npx cordon audit verify ${join(state, "relay-audit.jsonl")} --config ${join(state, "cordon.yaml")})
Press Ctrl-C to stop.
READY
`);
