// Prosody's instructions per one-to-one message with and without Cordon's central check (issue 17),
// counted by valgrind's callgrind in the server process: a figure that does not move with the
// machine's load (bench/one-to-one.mjs reports CPU time, which does, by 2-5x on a busy 2-vCPU box).
// Per mode a fresh Prosody runs under callgrind; one sender and one receiver (@xmpp/client, in this
// process: their cost is not counted) exchange a warm-up, the counters are zeroed
// (callgrind_control -z), then `--messages` chat messages go with a window of `--window`, and the
// counters are dumped once every one has arrived (callgrind_control -d). The guard runs in its own
// process as in bench/one-to-one.mjs (not counted). On demand (not part of npm test):
//
//   node bench/one-to-one-callgrind.mjs [--messages 2000] [--window 20]
//        [--modes plain,plain-labelled,unlabelled,labelled,unlabelled-cached,labelled-cached]
//        [--gc generational,incremental]
//
// `--gc`: Prosody's Lua collector for every mode, in turn (the harness runs the generational one,
// deploy/README.md's recommendation; "incremental" is Prosody's own default). With both, each mode
// runs under each, in one run; the JSON then holds one object per collector.
//
// BENCH_KEEP_DUMPS=DIR keeps each mode's dump there (callgrind_annotate shows where the C time goes;
// the Lua code itself is luaV_execute). Needs valgrind (apt install valgrind). Prosody only: ejabberd's BEAM JIT-compiles its code, which
// callgrind cannot follow usefully. The last line of stdout is one JSON object:
// { mode: { instructionsPerMessage, addedPerMessage, ratioToPlain, guardDecisions } }.
import { fork, execFileSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), "..");
const POLICY = resolve(root, "deploy/quickstart/demo-policy.xml");
const ONE_TO_ONE = resolve(root, "bench/one-to-one.mjs");
const SECRET = "bench-guard";
const VGDB_PREFIX = join(tmpdir(), `cordon-vgdb-${process.pid}`);

function parseArgs(argv) {
  const o = {
    messages: 2000,
    window: 20,
    modes: ["plain", "plain-labelled", "unlabelled", "labelled", "unlabelled-cached", "labelled-cached"],
    gc: ["generational"],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--messages") o.messages = Number(v);
    else if (k === "--window") o.window = Number(v);
    else if (k === "--modes") o.modes = v.split(",");
    else if (k === "--gc") o.gc = v.split(",");
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

/** The interpreter of /usr/bin/prosody's #! line, e.g. ["lua5.4"]. */
function interpreter() {
  const path = execFileSync("sh", ["-c", "command -v prosody"], { encoding: "utf8" }).trim();
  const first = readFileSync(path, "utf8").split("\n", 1)[0];
  const words = first.replace(/^#!\s*/, "").split(/\s+/);
  return words[0].endsWith("/env") ? words.slice(1) : words;
}

/** The instructions (Ir) of the newest callgrind dump in `dir`. */
function lastDumpIr(dir) {
  const all = readdirSync(dir);
  if (process.env.BENCH_DEBUG) process.stderr.write(`${dir}: ${all.join(" ")}\n`);
  const dumps = all
    .filter((f) => /^cg\.out\.\d+\.\d+$/.test(f))
    .sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()));
  if (!dumps.length) throw new Error("no dump yet");
  const text = readFileSync(join(dir, dumps.at(-1)), "utf8");
  if (process.env.BENCH_KEEP_DUMPS)
    copyFileSync(join(dir, dumps.at(-1)), join(process.env.BENCH_KEEP_DUMPS, `cg.${dumps.at(-1)}`));
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!m) throw new Error("no totals in the callgrind dump");
  return Number(m[1]);
}

async function runMode(mode, opts, labelXml, gc) {
  const { startServer, connectClient } = await import("@cordon/harness");
  const domain = "prosody-cg.test";
  const guarded = !mode.startsWith("plain");
  const server = await startServer("prosody", {
    domain,
    prosodyGc: gc,
    components: guarded ? [{ domain: `guard.${domain}`, secret: SECRET }] : [],
    ...(guarded
      ? {
          guard: {
            component: `guard.${domain}`,
            timeoutSeconds: 20,
            cacheSeconds: mode.endsWith("-cached") ? 60 : 0,
          },
        }
      : {}),
    users: [
      { username: "s0", password: "pw" },
      { username: "r0", password: "pw" },
    ],
    // (The dumps go to the server's own directory: %p is the process id.)
    wrapper: [
      "valgrind",
      "--tool=callgrind",
      "--callgrind-out-file=cg.out.%p",
      "--dump-instr=no",
      "--vgdb=yes",
      `--vgdb-prefix=${VGDB_PREFIX}`,
      // (Prosody is a #! script: callgrind must run its interpreter, or it follows no exec.)
      ...interpreter(),
    ],
    startTimeoutMs: 180_000,
  });
  let child;
  try {
    if (guarded) {
      child = fork(ONE_TO_ONE, ["--child"], {
        env: {
          ...process.env,
          BENCH_DOMAIN: domain,
          BENCH_SERVICE: `xmpp://127.0.0.1:${server.componentPort}`,
          BENCH_USERS: JSON.stringify(["s0", "r0"]),
        },
      });
      await new Promise((r, j) => {
        child.once("message", r);
        child.once("exit", () => j(new Error("guard exited")));
      });
    }
    const decisions = () =>
      child
        ? new Promise((r) => {
            child.once("message", (m) => r(m.decisions));
            child.send("count");
          })
        : Promise.resolve(null);
    const sender = await connectClient(server, "s0", "pw");
    const receiver = await connectClient(server, "r0", "pw");
    let received = 0;
    let errors = 0;
    receiver.xmpp.on("stanza", (el) => {
      if (el.name === "message" && el.attrs.type !== "error") received++;
    });
    sender.xmpp.on("stanza", (el) => {
      if (el.name === "message" && el.attrs.type === "error") errors++;
    });
    const label = mode.includes("labelled") && !mode.includes("unlabelled") ? labelXml : "";
    const send = async (count, prefix) => {
      const start = received + errors;
      let sent = 0;
      const deadline = Date.now() + 600_000;
      while (received + errors - start < count && Date.now() < deadline) {
        while (sent < count && sent - (received + errors - start) < opts.window) {
          const id = `${prefix}${sent++}`;
          await sender.xmpp.write(
            `<message to='r0@${domain}' id='${id}' type='chat'><body>bench ${id}</body>${label}</message>`,
          );
        }
        await delay(2);
      }
    };
    await send(100, "w");
    await delay(500);
    execFileSync("callgrind_control", [`--vgdb-prefix=${VGDB_PREFIX}`, "-z", String(server.pid)], {
      stdio: "ignore",
    });
    const d0 = await decisions();
    const errors0 = errors;
    await send(opts.messages, "m");
    await delay(200);
    const out = execFileSync(
      "callgrind_control",
      [`--vgdb-prefix=${VGDB_PREFIX}`, "-d", String(server.pid)],
      { encoding: "utf8" },
    );
    if (process.env.BENCH_DEBUG) process.stderr.write(out);
    const d1 = await decisions();
    let ir;
    for (let i = 0; i < 300 && ir === undefined; i++) {
      await delay(100);
      try {
        ir = lastDumpIr(server.dir);
      } catch {
        ir = undefined;
      }
    }
    if (ir === undefined) throw new Error("callgrind wrote no dump");
    await sender.stop().catch(() => undefined);
    await receiver.stop().catch(() => undefined);
    return {
      instructionsPerMessage: Math.round(ir / opts.messages),
      errors: errors - errors0,
      guardDecisions: d0 === null ? null : d1 - d0,
    };
  } finally {
    child?.send("stop");
    await server.stop();
  }
}

const opts = parseArgs(process.argv.slice(2));
const { PolicyRegistry, makeLabel, buildSecurityLabelXml } = await import("@cordon/policy");
const policy = new PolicyRegistry().loadFileSync(POLICY);
const labelXml = buildSecurityLabelXml(makeLabel(policy, policy.classificationByName.get("SECRET"), []));
const byGc = {};
for (const gc of opts.gc) {
  const results = {};
  for (const mode of opts.modes) {
    results[mode] = await runMode(mode, opts, labelXml, gc);
    process.stderr.write(`${gc} ${mode}: ${JSON.stringify(results[mode])}\n`);
  }
  // Each mode against the server without the check carrying the same messages: unlabelled modes
  // against "plain", labelled ones against "plain-labelled" (the label's own cost to the server —
  // parsing it, serialising it to the recipient — is not the check's).
  for (const [mode, r] of Object.entries(results)) {
    const base =
      results[mode.includes("labelled") && !mode.includes("unlabelled") ? "plain-labelled" : "plain"];
    if (base && r !== base) {
      r.addedPerMessage = r.instructionsPerMessage - base.instructionsPerMessage;
      r.ratioToPlain = +(base.instructionsPerMessage / r.instructionsPerMessage).toFixed(3);
    }
  }
  byGc[gc] = results;
}
// One collector: the object as before; several: one per collector.
const only = opts.gc.length === 1 ? byGc[opts.gc[0]] : undefined;
console.log(
  JSON.stringify({
    server: "prosody",
    messages: opts.messages,
    ...(only ? { gc: opts.gc[0], results: only } : { results: byGc }),
  }),
);
