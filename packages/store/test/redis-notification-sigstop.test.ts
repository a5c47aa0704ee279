// Adversarial review adv12b: a component process stopped (SIGSTOP) for 600 ms — shorter than the
// barrier's maxLagMs (1000 ms), so on waking the barrier is still current and holds nothing. While
// it is stopped, the clearance of bob is lowered (published, acknowledged) and only then a stanza
// sent; its stanza connection is busy (a stanza every turn, as under load), so on waking the kernel
// hands the stanza socket over first and 1e8427d decided the stanza from the cache with the old
// clearance (7 runs of 8; "ber" below). The store now sees the stall at the stanza's receipt (the
// loop was not sighted for 600 ms: stall-watch.ts) and holds it until a PING sent after the wake
// answers, behind the notification (stall13: xml in 5 runs of 5 x3; integ df9c45e: ber ber ber, xml ber ber).
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startRedis, type RedisInstance } from "@cordon/harness";
import { RedisStore } from "../src/index.js";
import { BER_ALL_OKAY, XML_CLEARANCE } from "./helpers.js";

const INDEX = new URL("../src/index.js", import.meta.url).href;
const JID = "bob@example.mil";
const PREFIX = "sg:";

/** The component: a store, the hold gated on it, stanzas from us; prints how `after` was decided. */
const component = (url: string, port: number) => `
  const net = await import("node:net");
  const { RedisStore } = await import(${JSON.stringify(INDEX)});
  const { createIncomingHold, xml } = await import("@cordon/component");
  const store = new RedisStore({ url: ${JSON.stringify(url)}, prefix: ${JSON.stringify(PREFIX)}, cacheTtlMs: 60000 });
  await store.ready(5000);
  while (store.notificationsHeard() !== undefined) await new Promise((r) => setTimeout(r, 20));
  await store.getUserClearance(${JSON.stringify(JID)});
  const hold = createIncomingHold({
    dispatch: (s) => {
      const id = String(s.attrs.id);
      if (id !== "after") return;
      void store.getUserClearance(${JSON.stringify(JID)}).then((l) =>
        process.stdout.write("after=" + (l.status === "known" ? l.clearance.encoding : l.status) + "\\n"));
    },
    refuse: () => undefined,
  });
  hold.gate(() => store.notificationsHeard());
  const c = net.connect(${port}, "127.0.0.1");
  let buf = "";
  c.on("data", (d) => {
    const parts = (buf + d.toString()).split(";");
    buf = parts.pop();
    for (const id of parts) hold.receive(xml("message", { id }));
  });
  process.stdout.write("ready\\n");`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pausedRun(url: string, admin: RedisStore, pauseMs: number): Promise<string> {
  await admin.setUserClearance(JID, BER_ALL_OKAY);
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const connected = new Promise<net.Socket>((r) => server.once("connection", r));
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", component(url, (server.address() as net.AddressInfo).port)],
    { cwd: fileURLToPath(new URL(".", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  let ticking = true;
  let socket: net.Socket | undefined;
  try {
    const ready = new Promise<void>((r) =>
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready")) r();
      }),
    );
    const sock = await connected;
    socket = sock;
    sock.on("error", () => undefined); // reset when the component is killed
    await ready;
    let n = 0;
    const tick = (): void => {
      if (!ticking) return;
      sock.write(`t${n++};`);
      setImmediate(tick);
    };
    tick();
    await sleep(300);
    const stopped = Date.now();
    process.kill(child.pid!, "SIGSTOP");
    await sleep(20);
    await admin.setUserClearance(JID, XML_CLEARANCE); // published and acknowledged
    sock.write("after;");
    await sleep(Math.max(0, pauseMs - (Date.now() - stopped)));
    process.kill(child.pid!, "SIGCONT");
    for (let i = 0; i < 250 && !out.includes("after="); i++) await sleep(20);
    return /after=(\w+)/.exec(out)?.[1] ?? "not decided";
  } finally {
    ticking = false;
    child.kill("SIGKILL");
    socket?.destroy();
    server.close();
  }
}

describe("a component stopped for 600 ms, shorter than maxLagMs (adv12b)", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  test(
    "the stanza sent after a published lowering is decided with the lowered clearance",
    { timeout: 60_000 },
    async () => {
      redis = await startRedis();
      const admin = new RedisStore({ url: redis.url, prefix: PREFIX });
      try {
        await admin.ready();
        const runs: string[] = [];
        for (let i = 0; i < 3; i++) runs.push(await pausedRun(redis.url, admin, 600));
        assert.deepEqual(runs, ["xml", "xml", "xml"], "never the cached clearance (was: ber)");
      } finally {
        await admin.close();
      }
    },
  );
});
