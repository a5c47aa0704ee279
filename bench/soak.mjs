// Soak: Cordon (MUC, catalog and relay in one `cordon start` process, as deployed) under mixed
// legitimate traffic while hostile accounts flood every availability vector issue 14 names, for a
// long time. Reports the process's RSS and heap over time, the component links' reconnects, and
// the deliveries legitimate users lost. On demand only (not part of `npm test`):
//
//   node bench/soak.mjs [--server prosody|ejabberd] [--minutes 30] [--sample-seconds 10]
//                       [--hostile-interval-ms 50] [--no-hostile] [--vectors a,b] [--trace]
//                       [--cordon-log FILE] [--profile DIR]
//
// Goals (issue 14): RSS growth under 10 % after warm-up, 0 reconnects, 0 lost legitimate deliveries.
// Legitimate traffic: alice (TOP SECRET) writes to the room `ops` every 250 ms, alternating an
// UNCLASSIFIED and a SECRET label; bob (SECRET) must receive every one, carol (UNCLASSIFIED) every
// UNCLASSIFIED one and no SECRET one (a SECRET one reaching carol is counted as a leak); alice
// writes to dave on the partner domain through the relay every second (UNCLASSIFIED, must arrive);
// bob asks the catalog for his labels every 5 s (must be answered).
// Hostile: eve (no clearance at all) and mallory (UNCLASSIFIED, so that she may create and join
// rooms) take turns over the vectors below, one stanza every --hostile-interval-ms. What the
// server does to their own streams (its c2s limits) is theirs: they reconnect and go on.
// Warm-up is the first tenth of the run (at most 3 minutes); growth compares the median RSS of the
// three samples after warm-up with that of the last three. The last line of stdout is one JSON object.
import { spawn } from "node:child_process";
import {
  mkdtempSync,
  mkdirSync,
  copyFileSync,
  writeFileSync,
  readFileSync,
  rmSync,
  createWriteStream,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { startServer, connectClient, freePort, xml } from "@cordon/harness";
import { client as xmppClient } from "@xmpp/client";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const quickstart = join(root, "deploy/quickstart");
const DOMAIN = "soak.test";
const PARTNER = "partner.soak";
const ROOMS = `rooms.${DOMAIN}`;
const CATALOG = `catalog.${DOMAIN}`;
const NS_SEC = "urn:xmpp:sec-label:0";
const NS_CATALOG = "urn:xmpp:sec-label:catalog:2";
const NS_MUC = "http://jabber.org/protocol/muc";
const SPIF = "1.3.6.1.4.1.99999.1.1"; // the demo policy's id

function parseArgs(argv) {
  const opts = {
    server: "prosody",
    minutes: 30,
    sampleSeconds: 10,
    hostileIntervalMs: 50,
    hostile: true,
    vectors: null,
    trace: false,
    cordonLog: null,
    profile: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    switch (argv[i]) {
      case "--server":
        opts.server = next();
        break;
      case "--minutes":
        opts.minutes = Number(next());
        break;
      case "--sample-seconds":
        opts.sampleSeconds = Number(next());
        break;
      case "--hostile-interval-ms":
        opts.hostileIntervalMs = Number(next());
        break;
      case "--no-hostile":
        opts.hostile = false;
        break;
      case "--vectors": // only these hostile vectors (names as in hostileSent), comma-separated
        opts.vectors = next().split(",").filter(Boolean);
        break;
      case "--trace": // each legitimate client's stream events on stderr as they happen
        opts.trace = true;
        break;
      case "--cordon-log": // Cordon's log (level warn) in full, to this file
        opts.cordonLog = next();
        break;
      case "--profile": // a V8 CPU profile of the Cordon process, written into this directory
        opts.profile = resolve(next());
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!["prosody", "ejabberd"].includes(opts.server)) throw new Error(`--server prosody|ejabberd`);
  if (!(opts.minutes > 0)) throw new Error("--minutes must be positive");
  return opts;
}

const esc = (s) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** The demo policy's labels in XEP-0258 form (ESS BER, base64), built by Cordon's policy package. */
const { PolicyRegistry, makeLabel, buildSecurityLabelXml } = await import("@cordon/policy");
const registry = new PolicyRegistry();
const demoPolicy = registry.loadFileSync(join(quickstart, "demo-policy.xml"));
const labelXml = Object.fromEntries(
  ["UNCLASSIFIED", "SECRET", "TOP SECRET"].map((name) => [
    name,
    buildSecurityLabelXml(
      makeLabel(
        demoPolicy,
        demoPolicy.classifications.find((c) => c.name === name),
        [],
      ),
    ),
  ]),
);
const simpleLabel = (classification) => labelXml[classification];

function config({ server, partnerServer, adminPort, token }) {
  const c = (classes, cats = []) =>
    `{ classifications: [${classes.join(", ")}]${cats.length ? `, categories: [${cats.join(", ")}]` : ""} }`;
  const all = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
  return `log: { level: warn }
server: { host: 127.0.0.1, port: ${server.componentPort} }
policies: [demo-policy.xml]
admin: { listen: "127.0.0.1:${adminPort}", token: "${token}" }
store:
  memory:
    clearances:
      "alice@${DOMAIN}": ${c(all, ["ALPHA", "BRAVO", "GBR", "USA"])}
      "bob@${DOMAIN}": ${c(all.slice(0, 4), ["GBR"])}
      "carol@${DOMAIN}": ${c(["UNCLASSIFIED"])}
      "mallory@${DOMAIN}": ${c(["UNCLASSIFIED"])}
components:
  muc:
    domain: ${ROOMS}
    secret: s-muc
    localDomains: ["${DOMAIN}"]
    labels:
      UNCLASSIFIED: { classification: UNCLASSIFIED }
      SECRET: { classification: SECRET }
      TOP SECRET: { classification: TOP SECRET }
    serviceClearance: ${c(all, ["ALPHA", "BRAVO", "GBR", "USA", "FRA"])}
    roomLabel: UNCLASSIFIED
    defaultLabel: UNCLASSIFIED
    presetRooms:
      ops:
        name: Ops
        label: UNCLASSIFIED
        clearance: [UNCLASSIFIED, SECRET, TOP SECRET]
        defaultLabel: UNCLASSIFIED
        owners: ["alice@${DOMAIN}"]
  catalog:
    domain: ${CATALOG}
    secret: s-catalog
    served: ["${DOMAIN}"]
    muc: ["${ROOMS}"]
    catalogs:
      "${DOMAIN}":
        name: Soak labels
        items:
          - { selector: UNCLASSIFIED, default: true, label: { classification: UNCLASSIFIED } }
          - { selector: SECRET, label: { classification: SECRET } }
  relay:
    audit: { file: relay-audit.jsonl }
    peerings:
      soak-partner:
        local:
          server: { host: 127.0.0.1, port: ${server.componentPort} }
          secret: s-relay-local
          domains: ["${DOMAIN}"]
          policy: ${SPIF}
          defaultLabel: { file: labels/unclassified.xml }
        remote:
          server: { host: 127.0.0.1, port: ${partnerServer.componentPort} }
          secret: s-relay-remote
          domains: ["${PARTNER}"]
          policy: ${SPIF}
          defaultLabel: { file: labels/unclassified.xml }
          senderClearance: { file: clearances/partner-link.xml }
        outbound:
          peers: { grant: ["${PARTNER}"] }
          unlabelled: default
          clearance: { file: clearances/partner-link.xml }
        inbound:
          peers: { grant: ["${DOMAIN}"] }
          unlabelled: default
          clearance: { file: clearances/partner-link.xml }
`;
}

/** RSS of a process in bytes (Linux /proc); null once it is gone. */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function metrics(adminPort, token) {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    const sum = (name) =>
      text
        .split("\n")
        .filter((l) => l.startsWith(name) && !l.startsWith("#"))
        .reduce((acc, l) => acc + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
    return {
      reconnects: sum("cordon_reconnects_total"),
      heapUsed: sum("cordon_nodejs_heap_size_used_bytes"),
      linksOnline: sum("cordon_links_online"),
      eventLoopLagMaxMs: Math.round(sum("cordon_nodejs_eventloop_lag_max_seconds") * 1000),
      queueDepth: sum("cordon_queue_depth"),
    };
  } catch {
    return null;
  }
}

/** A client whose received stanzas are counted by a handler, never kept (30 minutes of traffic). */
async function connect(server, name) {
  const client = await connectClient(server, name, `pw-${name}`);
  client.xmpp.on("stanza", () => {
    client.received.length = 0;
  });
  return client;
}

/**
 * @xmpp/connection 0.14 sets its parser to null when the stream closes (a </stream:stream> or a
 * parse error) but keeps reading the socket: data the server had already sent then throws
 * "Cannot read properties of null (reading 'write')" from a socket handler, uncaught, which ended
 * the whole soak when a hostile stream was torn down. Such data belongs to a closed stream: drop it.
 */
function tolerateLateData(xmpp) {
  for (let proto = Object.getPrototypeOf(xmpp); proto; proto = Object.getPrototypeOf(proto)) {
    if (!Object.hasOwn(proto, "_onData") || proto._soakTolerant) continue;
    const onData = proto._onData;
    proto._onData = function (data) {
      if (this.parser) onData.call(this, data);
    };
    proto._soakTolerant = true;
    return;
  }
}

// Before any client connects (each binds the handler when its socket is attached).
tolerateLateData(xmppClient({ service: "xmpp://127.0.0.1:1", domain: "soak.invalid" }));

/** Per legitimate client: its stream's events, the stanza errors it got, its last stanzas. */
const diagnostics = {};
let traceStart = Date.now();
let trace = false;
const since = () => Math.round((Date.now() - traceStart) / 100) / 10;
const brief = (el) => {
  const s = el.toString();
  return s.length > 240 ? `${s.slice(0, 240)}… (${s.length} chars)` : s;
};
function watch(client, name) {
  const d = { events: [], stanzas: 0, lastStanzaAt: null, stanzaErrors: {}, writeFailures: 0, last: [] };
  diagnostics[name] = d;
  const note = (event, detail) => {
    const e = { t: since(), event, ...(detail ? { detail: String(detail).slice(0, 300) } : {}) };
    if (d.events.length < 50) d.events.push(e);
    if (trace) process.stderr.write(`${name}: ${JSON.stringify(e)}\n`);
  };
  client.xmpp.on("status", (status) => note(`status ${status}`));
  client.xmpp.on("error", (err) => note("error", err?.message ?? err));
  client.xmpp.on("offline", () => note("offline"));
  client.xmpp.on("stanza", (el) => {
    d.stanzas += 1;
    d.lastStanzaAt = since();
    d.last.push(`${since()}s ${brief(el)}`);
    if (d.last.length > 6) d.last.shift();
    if (el.attrs.type === "error") {
      const cond = el.getChild("error")?.children.find((c) => typeof c !== "string")?.name ?? "?";
      const key = `${el.name} ${cond}`;
      if (!d.stanzaErrors[key]) note("stanza error", brief(el));
      d.stanzaErrors[key] = (d.stanzaErrors[key] ?? 0) + 1;
    }
  });
  client.diag = d;
}
const write = (client, data) =>
  client.xmpp.write(data).catch((err) => {
    if (client.diag) {
      if (client.diag.writeFailures === 0 && trace)
        process.stderr.write(`write failed: ${String(err?.message ?? err)}\n`);
      client.diag.writeFailures += 1;
    }
  });

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const users = ["alice", "bob", "carol", "eve", "mallory"].map((u) => ({
    username: u,
    password: `pw-${u}`,
  }));
  const [server, partnerServer] = await Promise.all([
    startServer(opts.server, {
      domain: DOMAIN,
      components: [
        { domain: ROOMS, secret: "s-muc" },
        { domain: CATALOG, secret: "s-catalog" },
        { domain: PARTNER, secret: "s-relay-local" },
      ],
      delegations: [{ namespace: NS_CATALOG, component: CATALOG }],
      users,
    }),
    startServer(opts.server, {
      domain: PARTNER,
      components: [{ domain: DOMAIN, secret: "s-relay-remote" }],
      users: [{ username: "dave", password: "pw-dave" }],
    }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), "cordon-soak-"));
  for (const file of ["demo-policy.xml", "labels/unclassified.xml", "clearances/partner-link.xml"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(quickstart, file), join(dir, file));
  }
  const adminPort = await freePort();
  const token = randomBytes(16).toString("hex");
  writeFileSync(join(dir, "cordon.yaml"), config({ server, partnerServer, adminPort, token }));
  const cordon = spawn(
    process.execPath,
    [
      ...(opts.profile ? ["--cpu-prof", `--cpu-prof-dir=${opts.profile}`] : []),
      join(root, "packages/cli/dist/src/main.js"),
      "start",
      "--config",
      join(dir, "cordon.yaml"),
    ],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  let cordonExit = null;
  cordon.on("exit", (code, signal) => (cordonExit = { code, signal }));
  let stderrTail = "";
  cordon.stderr.on("data", (d) => (stderrTail = (stderrTail + d).slice(-4000)));
  if (opts.cordonLog) cordon.stderr.pipe(createWriteStream(opts.cordonLog));
  const clients = [];
  const hostileClients = {};
  const result = { server: opts.server, minutes: opts.minutes, hostile: opts.hostile };
  try {
    // Ready when all links are up (3: MUC, catalog, relay's two sides = 4).
    for (let i = 0; ; i++) {
      const m = await metrics(adminPort, token);
      if (m && m.linksOnline >= 4) break;
      if (i > 300 || cordonExit) throw new Error(`cordon did not come up: ${stderrTail}`);
      await delay(100);
    }
    const [alice, bob, carol, dave] = await Promise.all([
      connect(server, "alice"),
      connect(server, "bob"),
      connect(server, "carol"),
      connect(partnerServer, "dave"),
    ]);
    clients.push(alice, bob, carol, dave);
    trace = opts.trace;
    for (const [c, name] of [
      [alice, "alice"],
      [bob, "bob"],
      [carol, "carol"],
      [dave, "dave"],
    ])
      watch(c, name);
    const room = `ops@${ROOMS}`;
    const join = (c, nick) =>
      c.send(
        xml(
          "presence",
          { to: `${room}/${nick}` },
          xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" })),
        ),
      );
    await join(alice, "alice");
    await join(bob, "bob");
    await join(carol, "carol");
    await delay(1000);

    // ── legitimate traffic and its accounting
    const legit = { roomSent: { U: 0, S: 0 }, bob: { U: 0, S: 0 }, carol: { U: 0, S: 0, leaked: 0 } };
    legit.relay = { sent: 0, received: 0 };
    legit.catalog = { asked: 0, answered: 0 };
    // When each count last grew (seconds since the legitimate traffic started).
    const lastAt = { bob: null, carol: null, relay: null, catalog: null };
    traceStart = Date.now();
    const roomCounter = (who) => (el) => {
      if (el.name !== "message" || el.attrs.type !== "groupchat") return;
      const body = el.getChildText("body") ?? "";
      const m = /#soak-(U|S)-\d+/.exec(body);
      if (!m) return;
      if (who === "carol" && m[1] === "S") legit.carol.leaked += 1;
      legit[who][m[1]] += 1;
      lastAt[who] = since();
    };
    bob.xmpp.on("stanza", roomCounter("bob"));
    carol.xmpp.on("stanza", roomCounter("carol"));
    dave.xmpp.on("stanza", (el) => {
      if (el.name === "message" && /#soak-relay-\d+/.test(el.getChildText("body") ?? "")) {
        legit.relay.received += 1;
        lastAt.relay = since();
      }
    });
    bob.xmpp.on("stanza", (el) => {
      if (el.name === "iq" && el.attrs.type === "result" && el.attrs.id?.startsWith("soak-cat-")) {
        legit.catalog.answered += 1;
        lastAt.catalog = since();
      }
    });
    let seq = 0;
    let running = true;
    const loops = [];
    const every = (ms, fn) =>
      loops.push(
        (async () => {
          while (running) {
            fn();
            await delay(ms);
          }
        })(),
      );
    every(250, () => {
      const kind = seq % 2 === 0 ? "U" : "S";
      const classification = kind === "U" ? "UNCLASSIFIED" : "SECRET";
      seq += 1;
      legit.roomSent[kind] += 1;
      write(
        alice,
        `<message to='${room}' type='groupchat' id='soak-${seq}'><body>#soak-${kind}-${seq} status report</body>${simpleLabel(classification)}</message>`,
      );
    });
    let relaySeq = 0;
    every(1000, () => {
      relaySeq += 1;
      legit.relay.sent += 1;
      write(
        alice,
        `<message to='dave@${PARTNER}' type='chat' id='soak-r${relaySeq}'><body>#soak-relay-${relaySeq}</body></message>`,
      );
    });
    let catSeq = 0;
    every(5000, () => {
      catSeq += 1;
      legit.catalog.asked += 1;
      write(
        bob,
        `<iq type='get' to='${DOMAIN}' id='soak-cat-${catSeq}'><catalog xmlns='${NS_CATALOG}' to='${room}'/></iq>`,
      );
    });

    // ── hostile traffic
    const hostileCounts = {};
    let malloryJoined;
    const hostileReconnects = { eve: 0, mallory: 0 };
    async function hostile(name) {
      const c = hostileClients[name];
      if (c && c.xmpp.status === "online") return c;
      hostileReconnects[name] += 1;
      try {
        hostileClients[name] = await connect(server, name);
      } catch {
        hostileClients[name] = undefined;
      }
      return hostileClients[name];
    }
    const huge = (n, ch = ">") => ch.repeat(n);
    let h = 0;
    const vectors = [
      // One-stanza kills: a sender-chosen id the component would copy, escaped, into its reply.
      [
        "eve",
        "id-error-reply",
        () => `<message to='nosuch-${h}@${ROOMS}' id='${huge(140_000)}'><body>x</body></message>`,
      ],
      [
        "eve",
        "id-disco",
        () =>
          `<iq type='get' to='${ROOMS}' id='${huge(140_000)}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
      ],
      [
        "eve",
        "id-catalog",
        () =>
          `<iq type='get' to='${CATALOG}' id='${huge(140_000)}'><catalog xmlns='${NS_CATALOG}' to='${room}'/></iq>`,
      ],
      [
        "eve",
        "id-relay",
        () =>
          `<message to='dave@${PARTNER}' id='${huge(140_000)}' type='chat'><body>x</body>${simpleLabel("TOP SECRET")}</message>`,
      ],
      [
        "mallory",
        "groupchat-reflect",
        () =>
          `<message to='${room}' type='groupchat' id='${huge(120_000)}'><body>${huge(20_000)}</body></message>`,
      ],
      // Caches: a distinct, refused 150 KB label each time.
      [
        "eve",
        "labels-relay",
        () =>
          `<message to='dave@${PARTNER}' type='chat'><body>x</body><securitylabel xmlns='${NS_SEC}'><displaymarking>${randomBytes(8).toString("hex")}${huge(150_000, "Z")}</displaymarking><label>TOP SECRET</label></securitylabel></message>`,
      ],
      [
        "mallory",
        "labels-muc",
        () =>
          `<message to='${room}' type='groupchat'><body>x</body><securitylabel xmlns='${NS_SEC}'><label><x xmlns='urn:soak'>${randomBytes(8).toString("hex")}${huge(150_000, "Z")}</x></label></securitylabel></message>`,
      ],
      // IQ tracking: requests through the relay that nobody answers soon, with long ids.
      [
        "eve",
        "iq-relay",
        () =>
          `<iq type='get' to='dave@${PARTNER}/nowhere-${h}' id='${randomBytes(8).toString("hex")}${huge(60_000, "Q")}'><query xmlns='jabber:iq:version'/></iq>`,
      ],
      // Rooms and presence payloads: a new room with a 100 KB status, never left.
      [
        "mallory",
        "rooms-presence",
        () =>
          `<presence to='junk-${h}-${randomBytes(3).toString("hex")}@${ROOMS}/m'><x xmlns='${NS_MUC}'/><status>${huge(100_000, "P")}</status></presence>`,
      ],
      // History: 150 KB bodies into the room mallory is allowed in.
      [
        "mallory",
        "history",
        () => `<message to='${room}' type='groupchat'><body>${huge(150_000, "H")}</body></message>`,
      ],
    ];
    const unknown = (opts.vectors ?? []).filter((v) => !vectors.some(([, name]) => name === v));
    if (unknown.length > 0) throw new Error(`unknown vectors ${unknown.join(", ")}`);
    const active = opts.vectors ? vectors.filter(([, name]) => opts.vectors.includes(name)) : vectors;
    if (opts.hostile && active.length > 0) {
      const mallory = await hostile("mallory");
      if (mallory) await join(mallory, "mallory");
      loops.push(
        (async () => {
          while (running) {
            const [who, name, make] = active[h % active.length];
            h += 1;
            const c = await hostile(who);
            if (c) {
              if (who === "mallory" && hostileReconnects.mallory > 1 && c !== malloryJoined) {
                malloryJoined = c;
                await join(c, "mallory");
              }
              hostileCounts[name] = (hostileCounts[name] ?? 0) + 1;
              write(c, make());
            }
            await delay(opts.hostileIntervalMs);
          }
        })(),
      );
    }

    // ── sampling
    const samples = [];
    const t0 = Date.now();
    const end = t0 + opts.minutes * 60_000;
    while (Date.now() < end && !cordonExit) {
      await delay(Math.min(opts.sampleSeconds * 1000, Math.max(0, end - Date.now())));
      const m = await metrics(adminPort, token);
      const sample = {
        t: Math.round((Date.now() - t0) / 1000),
        rssMiB: +((rssOf(cordon.pid) ?? 0) / 2 ** 20).toFixed(1),
        heapMiB: m ? +(m.heapUsed / 2 ** 20).toFixed(1) : null,
        reconnects: m?.reconnects ?? null,
        linksOnline: m?.linksOnline ?? null,
        eventLoopLagMaxMs: m?.eventLoopLagMaxMs ?? null,
        queueDepth: m?.queueDepth ?? null,
      };
      samples.push(sample);
      process.stderr.write(`${JSON.stringify(sample)}\n`);
    }
    running = false;
    // A loop may be waiting on a hostile stream the server is tearing down: bounded wait.
    await Promise.race([Promise.all(loops), delay(15_000)]);
    await delay(5000); // let the last legitimate stanzas arrive

    const warmupSeconds = Math.min(180, (opts.minutes * 60) / 10);
    const afterWarmup = samples.filter((s) => s.t >= warmupSeconds);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rssAtWarmup = median(afterWarmup.slice(0, 3).map((s) => s.rssMiB));
    const rssAtEnd = median(afterWarmup.slice(-3).map((s) => s.rssMiB));
    const reconnects = (samples.at(-1)?.reconnects ?? 0) - 0;
    const lost =
      legit.roomSent.U -
      legit.bob.U +
      (legit.roomSent.S - legit.bob.S) +
      (legit.roomSent.U - legit.carol.U) +
      (legit.relay.sent - legit.relay.received) +
      (legit.catalog.asked - legit.catalog.answered);
    Object.assign(result, {
      cordonExited: cordonExit,
      samples,
      rssMiB: { atWarmup: rssAtWarmup, atEnd: rssAtEnd, max: Math.max(...samples.map((s) => s.rssMiB)) },
      rssGrowthPercent: rssAtWarmup ? +(((rssAtEnd - rssAtWarmup) / rssAtWarmup) * 100).toFixed(1) : null,
      reconnects,
      legitimate: legit,
      lostLegitimateDeliveries: lost,
      leaks: legit.carol.leaked,
      hostileSent: hostileCounts,
      hostileStreamsReconnected: hostileReconnects,
      lastLegitimateDeliveryAt: lastAt,
      clients: diagnostics,
    });
    result.goals = {
      rssGrowthUnder10Percent: result.rssGrowthPercent !== null && result.rssGrowthPercent < 10,
      noReconnects: reconnects === 0 && !cordonExit,
      noLostDeliveries: lost === 0,
      noLeaks: legit.carol.leaked === 0,
    };
  } finally {
    // Bounded: closing a stream first writes what the client still has queued, and a hostile
    // client may have megabytes the server reads slowly (its writes are not awaited).
    const all = [...clients, ...Object.values(hostileClients)].filter((c) => c?.stop);
    await Promise.race([Promise.allSettled(all.map((c) => c.stop())), delay(5000)]);
    for (const c of all) c.xmpp.socket?.destroy();
    cordon.kill("SIGTERM");
    await Promise.race([new Promise((r) => (cordonExit ? r() : cordon.once("exit", r))), delay(5000)]);
    await Promise.allSettled([server.stop(), partnerServer.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}

await main();
process.exit(0);
