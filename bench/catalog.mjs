// Catalog service throughput and latency on real servers: a real client asks its own server for a
// catalog (XEP-0355 delegated to the catalog component), the component directly, and, as the
// baseline in the same run, an echo-IQ component (XEP-0199 ping answered by the runtime's example
// component). Last line: one JSON object.
//   per server: { delegated, direct, echo } each { p50Ms, p99Ms, meanMs } over sequential requests
//   and { perSecond } with WINDOW requests in flight.
// Env: BENCH_SERVERS=prosody,ejabberd  BENCH_LATENCY_N=400  BENCH_RATE_N=3000  BENCH_WINDOW=32
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, serverKinds, connectClient, xml } from "@cordon/harness";
import { createExampleComponent, NS_SEC_LABEL_CATALOG } from "@cordon/component";
import { createCatalogService, parseCatalogSpec } from "@cordon/catalog";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 400);
const RATE_N = Number(process.env.BENCH_RATE_N ?? 3000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 32);
const kinds = (process.env.BENCH_SERVERS ?? serverKinds().join(",")).split(",").filter(Boolean);
const OID = "1.3.6.1.4.1.99999.1.1";
const clearanceXml = `<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='${OID}'/>${[1, 2, 3, 4].map((l) => `<classification lacv='${l}'/>`).join("")}<tag type='restrictive' id='${OID}.1' lacv='1'/></clearance>`;
const CATALOG = {
  name: "Demo",
  items: [
    {
      selector: "UNCLASSIFIED",
      default: true,
      label: { policy: "Cordon Demo", classification: "UNCLASSIFIED" },
    },
    { selector: "RESTRICTED", label: { policy: "Cordon Demo", classification: "RESTRICTED" } },
    { selector: "CONFIDENTIAL", label: { policy: "Cordon Demo", classification: "CONFIDENTIAL" } },
    { selector: "SECRET", label: { policy: "Cordon Demo", classification: "SECRET" } },
    {
      selector: "SECRET|ALPHA",
      label: { policy: "Cordon Demo", classification: "SECRET", categories: ["ALPHA"] },
    },
  ],
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (x) => Math.round(x * 1000) / 1000;

async function latency(make, client) {
  for (let i = 0; i < 50; i++) await client.iq(make(), 10_000); // warm-up
  const samples = [];
  for (let i = 0; i < LATENCY_N; i++) {
    const t0 = performance.now();
    await client.iq(make(), 10_000);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(samples, 50)),
    p99Ms: round(percentile(samples, 99)),
    meanMs: round(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
}

async function rate(make, client) {
  let sent = 0;
  const t0 = performance.now();
  async function lane() {
    while (sent < RATE_N) {
      sent++;
      await client.iq(make(), 30_000);
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return { perSecond: Math.round(RATE_N / ((performance.now() - t0) / 1000)) };
}

async function benchServer(kind) {
  const domain = `${kind}.bench`;
  const catalogDomain = `catalog.${domain}`;
  const echoDomain = `echo.${domain}`;
  const server = await startServer(kind, {
    domain,
    components: [
      { domain: catalogDomain, secret: "c" },
      { domain: echoDomain, secret: "e" },
    ],
    users: [{ username: "alice", password: "alice-pw" }],
    delegations: [{ namespace: NS_SEC_LABEL_CATALOG, component: catalogDomain }],
  });
  const store = new MemoryStore();
  await store.setUserClearance(`alice@${domain}`, { encoding: "xml", data: clearanceXml });
  const registry = new PolicyRegistry();
  registry.loadString(readFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"), "utf8"));
  const service = createCatalogService({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: catalogDomain,
    secret: "c",
    served: [domain],
    registry,
    store,
    catalogs: new Map([[domain, parseCatalogSpec(CATALOG, registry)]]),
  });
  const echo = createExampleComponent({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: echoDomain,
    secret: "e",
  });
  await Promise.all([service.start(), echo.start()]);
  const alice = await connectClient(server, "alice", "alice-pw");
  const delegatedIq = () =>
    xml("iq", { type: "get", to: domain }, xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: domain }));
  const directIq = () =>
    xml(
      "iq",
      { type: "get", to: catalogDomain },
      xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: domain }),
    );
  const echoIq = () => xml("iq", { type: "get", to: echoDomain }, xml("ping", { xmlns: "urn:xmpp:ping" }));
  // ejabberd delegates only after its disco#info round trip with the component: wait for it.
  for (let i = 0; ; i++) {
    try {
      await alice.iq(delegatedIq(), 2_000);
      break;
    } catch (error) {
      if (i > 50) throw error;
      await sleep(200);
    }
  }
  const result = {};
  try {
    for (const [name, make] of [
      ["echo", echoIq],
      ["delegated", delegatedIq],
      ["direct", directIq],
    ]) {
      result[name] = { ...(await latency(make, alice)), ...(await rate(make, alice)) };
    }
    const items =
      (await alice.iq(delegatedIq())).getChild("catalog", NS_SEC_LABEL_CATALOG)?.getChildren("item").length ??
      0;
    result.catalogItems = items;
    result.cacheHitRatio = round(service.cache.hits / Math.max(1, service.cache.hits + service.cache.misses));
  } finally {
    await alice.stop();
    await Promise.all([service.stop(), echo.stop()]);
    await store.close();
    await server.stop();
  }
  return result;
}

const out = {
  latencyRequests: LATENCY_N,
  rateRequests: RATE_N,
  window: WINDOW,
  node: process.version,
  servers: {},
};
for (const kind of kinds) {
  out.servers[kind] = await benchServer(kind);
  console.error(`${kind}: ${JSON.stringify(out.servers[kind])}`);
}
console.log(JSON.stringify(out));
