// The cost of deciding a message to another domain on its way out (issue 17, review adv16b;
// packages/guard/src/outbound.ts): one client sends chat messages one at a time to a user of
// another domain (an XEP-0114 component on the same server, routed as any other domain) and
// times each from its send to the other domain receiving it — on the same server without the
// guard module ("plain") and with it ("guarded": each message asked about, outbound='peer'),
// unlabelled and SECRET-labelled. The added cost per message is the difference of the medians
// (and p90s). The guard runs in this process. The last line of stdout is one JSON object.
//
//   flock /work/bench.lock node bench/outbound.mjs [--servers prosody,ejabberd] [--messages 300]
import { Buffer } from "node:buffer";
import { setTimeout } from "node:timers";
import { setTimeout as delay } from "node:timers/promises";
import { startServer, connectClient, sendRaw } from "@cordon/harness";
import { createComponent } from "@cordon/component";
import { makeClearance, encodeBerClearance } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { policy, all, SECRET_XML, benchGuard, timeByLabel, addedMs, report } from "./lib/guard-bench.mjs";

const raw = (c) => ({ encoding: "ber", data: Buffer.from(encodeBerClearance(c)).toString("base64") });

async function run(kind, mode) {
  const domain = `${kind}-outbench.test`;
  const remote = `remote.${domain}`;
  const guarded = mode === "guarded";
  const server = await startServer(kind, {
    domain,
    users: [{ username: "alice", password: "pw" }],
    components: [
      ...(guarded ? [{ domain: `guard.${domain}`, secret: "guard" }] : []),
      { domain: remote, secret: "remote" },
    ],
    ...(guarded ? { guard: { component: `guard.${domain}`, timeoutSeconds: 2 } } : {}),
  });
  let guard;
  const arrivals = new Map();
  const component = createComponent({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: remote,
    secret: "remote",
  });
  component.onMessage((m) => {
    arrivals.get(m.attrs.id)?.();
  });
  try {
    await component.start();
    if (guarded) {
      const store = new MemoryStore();
      await store.setUserClearance(`alice@${domain}`, raw(makeClearance(policy, all, [])));
      await store.setPeerClearance(remote, "outbound", raw(makeClearance(policy, all, [])));
      guard = benchGuard(server, domain, store);
      await guard.start();
      await delay(500);
    }
    const client = await connectClient(server, "alice", "pw", "desk", { localAddress: "127.0.0.1" });
    try {
      return await timeByLabel((label, i, id) => ({
        got: new Promise((resolve, reject) => {
          arrivals.set(id, resolve);
          setTimeout(() => reject(new Error(`${kind} ${mode}: ${id} never arrived`)), 10_000).unref();
        }),
        send: () =>
          sendRaw(
            client,
            `<message to='bob@${remote}' id='${id}' type='chat'><body>m ${i}</body>${label === "SECRET" ? SECRET_XML : ""}</message>`,
          ),
        done: () => arrivals.delete(id),
      }));
    } finally {
      await client.stop();
    }
  } finally {
    await component.stop().catch(() => undefined);
    await guard?.stop();
    await server.stop();
  }
}

await report("outbound", async (kind) => {
  const plain = await run(kind, "plain");
  const guarded = await run(kind, "guarded");
  return { plainMs: plain, guardedMs: guarded, addedMs: addedMs(guarded, plain) };
});
