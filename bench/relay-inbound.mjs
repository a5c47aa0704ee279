// The cost of locating each recipient session of a message Cordon's relay delivers (issue 17,
// inbound across the relay; packages/guard/src/component-delivery.ts): a trusted XEP-0114
// component standing for the relay's claimed peer domain sends chat messages one at a time to a
// user of the guarded server, each timed from the component's send to the user's session
// receiving it — the module loaded in every mode, with the component listed in `inbound_unasked`
// ("unasked": not asked, as every trusted component was before), and not ("located": asked with
// origin='component'; with the module's verdict cache, default 2 s, and without it, "located-nocache":
// one round trip to the guard per message). Unlabelled and SECRET-labelled. The added cost is the
// difference of the medians (and p90s). The guard runs in this process. The last line of stdout is
// one JSON object.
//
//   flock /work/bench.lock node bench/relay-inbound.mjs [--servers prosody,ejabberd] [--messages 300]
import { setTimeout as delay } from "node:timers/promises";
import { startServer, connectClient } from "@cordon/harness";
import { createComponent, xml, parseElement } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import { SECRET_XML, benchGuard, timeByLabel, addedMs, report } from "./lib/guard-bench.mjs";

/** The guard's decisions per mode (a check that the modes ask what they say). */
const decided = {};

async function run(kind, mode) {
  decided[`${kind}/${mode}`] = 0;
  const domain = `${kind}-inbench.test`;
  const peer = `peer.${domain}`;
  const server = await startServer(kind, {
    domain,
    users: [{ username: "alice", password: "pw" }],
    components: [
      { domain: `guard.${domain}`, secret: "guard" },
      { domain: peer, secret: "peer" },
    ],
    guard: {
      component: `guard.${domain}`,
      timeoutSeconds: 2,
      trusted: [peer],
      ...(mode === "unasked" ? { inboundUnasked: [peer] } : {}),
      ...(mode === "located-nocache" ? { cacheSeconds: 0 } : {}),
    },
  });
  const component = createComponent({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: peer,
    secret: "peer",
  });
  const guard = benchGuard(server, domain, new MemoryStore(), {
    onDecision: () => decided[`${kind}/${mode}`]++,
  });
  try {
    await component.start();
    await guard.start();
    await delay(500);
    const client = await connectClient(server, "alice", "pw", "desk", { localAddress: "127.0.0.1" });
    try {
      return await timeByLabel((label, i, id) => {
        const got = client.waitFor((m) => m.attrs.id === id, 10_000);
        const children = [
          xml("body", {}, `m ${i}`),
          ...(label === "SECRET" ? [parseElement(SECRET_XML)] : []),
        ];
        return {
          got,
          send: () =>
            component.send(
              xml(
                "message",
                { from: `bob@${peer}/desk`, to: `alice@${domain}`, id, type: "chat" },
                ...children,
              ),
            ),
        };
      });
    } finally {
      await client.stop();
    }
  } finally {
    await component.stop().catch(() => undefined);
    await guard.stop();
    await server.stop();
  }
}

await report("relay-inbound", async (kind) => {
  const ms = {};
  for (const mode of ["unasked", "located", "located-nocache"]) ms[mode] = await run(kind, mode);
  return {
    ms,
    decisions: Object.fromEntries(Object.keys(ms).map((m) => [m, decided[`${kind}/${m}`]])),
    addedMs: {
      located: addedMs(ms.located, ms.unasked),
      "located-nocache": addedMs(ms["located-nocache"], ms.unasked),
    },
  };
});
