// The server's CPU per stanza a component routes to a client, against the number of sessions
// connected and (Prosody) the Lua collector (issue 19: a stanza cost Prosody ~80 µs with 100
// sessions and ~225 µs with 1,000). A raw XEP-0114 component sends `K` presences shaped like the
// MUC's occupant presences (XEP-0115 caps, muc#user item with the real JID, XEP-0421 occupant-id)
// to one client, in writes of 100, three times after a warm-up; the server's CPU is read from
// /proc. N sessions (plain TCP, bench/lib/bench-client.mjs) are connected and idle meanwhile.
//
//   node bench/probe-fanout.mjs [prosody|ejabberd] [N,N...=100,1000] [gc,gc...=incremental,generational] [K=3000]
//
// gc (Prosody only): "incremental" is Prosody 0.12's default (pause 105 %, step multiplier 500),
// "generational" what deploy/README.md recommends, "incremental200" Lua's own default pause.
// PROBE_PERF=PREFIX records `perf record -g` of the server during the measured sends into
// PREFIX-<server>-<N>-<gc>.data. Prints one JSON line per case to stderr and all of them on stdout.
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout } from "node:timers";
import { BenchClient } from "./lib/bench-client.mjs";

const DOMAIN = "bench.test";
const MUC = `rooms.${DOMAIN}`;
const SECRET = "probe-fanout";
const kind = process.argv[2] ?? "prosody";
const sessionCounts = (process.argv[3] ?? "100,1000").split(",").map(Number);
const collectors = kind === "prosody" ? (process.argv[4] ?? "incremental,generational").split(",") : ["-"];
const K = Number(process.argv[5] ?? 3000);
const GC_LINE = {
  incremental: "",
  generational: 'gc = { mode = "generational" }',
  incremental200: 'gc = { mode = "incremental"; threshold = 200 }',
};
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** User + system CPU of `pid`, ms (clock ticks of 10 ms). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** A XEP-0114 component stream, resolved once the handshake is accepted (§3). */
function component(port) {
  return new Promise((ok, fail) => {
    const s = connect(port, "127.0.0.1");
    let buf = "";
    let shaken = false;
    s.on("error", fail);
    s.on("data", (d) => {
      buf += d.toString();
      if (!shaken) {
        const id = /<stream:stream[^>]*\sid=['"]([^'"]+)['"]/.exec(buf)?.[1];
        if (id === undefined) return;
        shaken = true;
        s.write(
          `<handshake>${createHash("sha1")
            .update(id + SECRET)
            .digest("hex")}</handshake>`,
        );
      } else if (buf.includes("<handshake")) {
        s.removeAllListeners("data");
        s.on("data", () => undefined);
        ok(s);
      }
    });
    s.write(
      `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${MUC}'>`,
    );
  });
}

const CAPS =
  "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://cordon.invalid/bench' ver='abcdefghijabcdefghijabcdefg='/>";
const presence = (i, to) =>
  `<presence from="big@${MUC}/m${i}" to="${to}">${CAPS}<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="participant" jid="s${i}@${DOMAIN}/r"/></x><occupant-id xmlns="urn:xmpp:occupant-id:0" id="abcdefghijklmnopqrstuvwxyz0123456789abcdefg${i}"/></presence>`;

async function measure(server, N, gc) {
  const clients = [];
  for (let i = 0; i < N; i += 50) {
    const batch = Array.from(
      { length: Math.min(50, N - i) },
      (_, j) =>
        new BenchClient({
          port: server.c2sPort,
          domain: DOMAIN,
          user: `s${i + j}`,
          resource: "r",
          waitMs: 120_000,
        }),
    );
    await Promise.all(batch.map((c) => c.connect()));
    clients.push(...batch);
  }
  const comp = await component(server.componentPort);
  await delay(1000);
  const target = clients[0];
  let got = 0;
  let want = 0;
  let done = () => undefined;
  target.observe = () => {
    if (++got === want) done();
  };
  const send = async (k) => {
    got = 0;
    want = k;
    const all = new Promise((r) => (done = r));
    const cpu0 = cpuMs(server.pid);
    const t0 = performance.now();
    for (let i = 0; i < k; i += 100)
      comp.write(
        Array.from({ length: Math.min(100, k - i) }, (_, j) => presence(i + j, target.jid)).join(""),
      );
    await all;
    const ms = performance.now() - t0;
    await delay(200);
    return {
      ms: Number(ms.toFixed(1)),
      usPerStanza: Number((((cpuMs(server.pid) - cpu0) * 1000) / k).toFixed(1)),
    };
  };
  await send(500);
  let perf;
  if (process.env.PROBE_PERF) {
    const out = `${process.env.PROBE_PERF}-${kind}-${N}-${gc}.data`;
    perf = spawn("perf", ["record", "-F", "2000", "-g", "-o", out, "-p", String(server.pid)], {
      stdio: "ignore",
    });
    await delay(500);
  }
  const runs = [];
  for (let r = 0; r < 3; r++) runs.push(await send(K));
  if (perf) {
    perf.kill("SIGINT");
    await delay(1500);
  }
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]);
  comp.end();
  for (const c of clients) c.close();
  await delay(800);
  return { kind, sessions: N, gc, rssKiB, runs };
}

const { startServer } = await import("@cordon/harness");
const results = [];
for (const N of sessionCounts) {
  const server = await startServer(kind, {
    domain: DOMAIN,
    components: [{ domain: MUC, secret: SECRET }],
    users: Array.from({ length: N }, (_, i) => ({ username: `s${i}`, password: `pw-s${i}` })),
  });
  try {
    for (const gc of collectors) {
      if (kind === "prosody") {
        // The harness's config with the collector line replaced, then the same server restarted.
        const file = `${server.dir}/prosody.cfg.lua`;
        const text = readFileSync(file, "utf8").replace(/^\s*gc = .*$/m, "");
        writeFileSync(file, `${GC_LINE[gc]}\n${text}`);
        await server.restart();
      }
      results.push(await measure(server, N, gc));
      process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
    }
  } finally {
    await server.stop();
  }
}
console.log(JSON.stringify({ bench: "probe-fanout", stanzas: K, results }));
process.exit(0);
