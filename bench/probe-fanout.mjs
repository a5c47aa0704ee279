// probe: server CPU per component→client presence with N sessions connected (join11 investigation)
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { BenchClient } from "./lib/bench-client.mjs";
import { StanzaSplitter } from "./lib/stanza-splitter.mjs";

const DOMAIN = "bench.test", MUC = `rooms.${DOMAIN}`, SECRET = "probe";
const kind = process.argv[2] ?? "prosody";
const Ns = (process.argv[3] ?? "100,1000").split(",").map(Number);
const gcs = (process.argv[4] ?? "default").split(",");
const K = Number(process.argv[5] ?? 3000);
const perf = process.env.PROBE_PERF;
const cpuOf = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, "utf8"); const x = f.slice(f.lastIndexOf(")") + 2).split(" "); return (Number(x[11]) + Number(x[12])) * 10; };
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const GC = {
  default: null,
  gen: 'gc = { mode = "generational" }',
  inc200: 'gc = { mode = "incremental"; threshold = 200; speed = 200 }',
  inc150: 'gc = { mode = "incremental"; threshold = 150; speed = 500 }',
};
function component(port) {
  return new Promise((ok) => {
    const s = connect(port, "127.0.0.1");
    let buf = ""; let done = false;
    s.on("data", (d) => {
      buf += d.toString();
      if (!done) {
        const m = /id=['"]([^'"]+)['"]/.exec(buf);
        if (m && buf.includes("<stream:stream")) {
          done = true;
          s.write(`<handshake>${createHash("sha1").update(m[1] + SECRET).digest("hex")}</handshake>`);
        }
      } else if (buf.includes("<handshake")) { buf = ""; s.removeAllListeners("data"); s.on("data", () => {}); ok(s); }
    });
    s.write(`<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${MUC}'>`);
  });
}
const { startServer } = await import("@cordon/harness");
const results = [];
for (const N of Ns) {
  const server = await startServer(kind, { domain: DOMAIN, components: [{ domain: MUC, secret: SECRET }],
    users: Array.from({ length: N }, (_, i) => ({ username: `s${i}`, password: `pw-s${i}` })) });
  for (const g of gcs) {
    if (kind === "prosody") {
      const cfg = `${server.dir}/prosody.cfg.lua`;
      let text = readFileSync(cfg, "utf8").replace(/^gc = .*$/m, "");
      if (GC[g]) text = GC[g] + "\n" + text;
      writeFileSync(cfg, text);
      await server.restart();
    }
    const clients = [];
    for (let i = 0; i < N; i += 50) {
      const b = Array.from({ length: Math.min(50, N - i) }, (_, j) => new BenchClient({ port: server.c2sPort, domain: DOMAIN, user: `s${i + j}`, resource: "r", waitMs: 120000 }));
      await Promise.all(b.map((c) => c.connect())); clients.push(...b);
    }
    const comp = await component(server.componentPort);
    await delay(1000);
    let got = 0; let target = 0; let resolve;
    const c0 = clients[0];
    c0.observe = () => { if (++got === target) resolve(); };
    const cap = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://cordon.invalid/bench' ver='abcdefghijabcdefghijabcdefg='/>";
    const pres = (i) => `<presence from='big@${MUC}/m${i}' to='${c0.jid}' id='p${i}'>${cap}<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant' jid='s${i}@${DOMAIN}/r'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='abcdefghijklmnopqrstuvwxyz0123456789abcdefg${i}'/></presence>`;
    const run = async (k) => {
      got = 0; target = k; const p = new Promise((r) => (resolve = r));
      const s0 = cpuOf(server.pid); const t0 = performance.now();
      for (let i = 0; i < k; i += 100) comp.write(Array.from({ length: Math.min(100, k - i) }, (_, j) => pres(i + j)).join(""));
      await p; const t1 = performance.now(); await delay(200);
      return { ms: +(t1 - t0).toFixed(1), usPerStanza: +(((cpuOf(server.pid) - s0) * 1000) / k).toFixed(1) };
    };
    await run(500); // warm
    let perfProc;
    if (perf) { const { spawn } = await import("node:child_process"); perfProc = spawn("perf", ["record", "-F", "2000", "-g", "-o", `${perf}-${kind}-${N}-${g}.data`, "-p", String(server.pid)], { stdio: "ignore" }); await delay(500); }
    const r = [];
    for (let k = 0; k < 3; k++) r.push(await run(K));
    if (perfProc) { perfProc.kill("SIGINT"); await delay(1500); }
    const rss = readFileSync(`/proc/${server.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1];
    results.push({ kind, N, gc: g, rssKiB: +rss, runs: r });
    console.error(JSON.stringify(results.at(-1)));
    comp.end(); for (const c of clients) c.close(); await delay(800);
  }
  await server.stop();
}
console.log(JSON.stringify(results));
process.exit(0);
