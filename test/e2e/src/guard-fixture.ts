// The central check's (issue 17) end-to-end set-up: a server loading the guard module, Cordon's
// guard component, clearances from a store that can be made to wait, clients at a cleared and an
// UNCLASSIFIED-only site. Used by every guard*.test.ts but guard-key-fuzz (a Lua fuzz, no server):
// guard, guard-access, guard-attack, guard-attack2, guard-attack3, guard-attack12, guard-sessions,
// guard-cache, guard-cache-attack to guard-cache-attack5, guard-hold, guard-lifecycle,
// guard-lifecycle-attack and guard-module-stop; with the label catalog beside the guard
// (startGuardedCatalog): slixmpp-guard and src/catalog-sites-fixture.ts (the catalog-* tests).
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startRedis,
  connectClient,
  startServer,
  type ServerKind,
  type ServerOptions,
  type TestClient,
  type XmppServer,
} from "@cordon/harness";
import { createGuardService, type GuardService, type GuardServiceOptions } from "@cordon/guard";
import {
  createCatalogService,
  parseCatalogSpec,
  type CatalogService,
  type CatalogServiceOptions,
} from "@cordon/catalog";
import { RedisStore, type MemoryStore, type UserClearanceSource } from "@cordon/store";
import { NS_SEC_LABEL_CATALOG, xml } from "@cordon/component";
import { demoPolicyFile, type Demo } from "./demo.js";
import { startCli, untilOnline } from "./cordon-process.js";
import { announceCaps } from "./caps.js";
import { RawClient } from "./raw-client.js";

/** The classifications a user of these tests is cleared for (the demo policy's, up to SECRET). */
export const GUARD_ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"];
/** 127.0.0.1: a site cleared for everything; 127.0.0.2: one cleared for UNCLASSIFIED only. */
export const CLEARED_SITE = "127.0.0.1";
export const UNCLASSIFIED_SITE = "127.0.0.2";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The guard's client locations (client-location.ts): the cleared and the UNCLASSIFIED-only site. */
export const twoSites = (
  demo: Demo,
  cleared = CLEARED_SITE,
): NonNullable<GuardServiceOptions["locations"]> => [
  { ranges: [`${cleared}/32`], clearance: demo.clearance(GUARD_ALL) },
  { ranges: [`${UNCLASSIFIED_SITE}/32`], clearance: demo.clearance(["UNCLASSIFIED"]) },
];

/**
 * Runs `cordon start --only NAME` (NAME: `component.name`) against `server` with a config file of
 * its own: a fresh Redis store in which `users` of `domain` are cleared for GUARD_ALL, the demo
 * policy, the component's section (its `domain`, its secret read from the environment variable
 * NAME_SECRET set to `component.secret`, then its other YAML `lines`) and the guard's section with
 * the two sites as its locations (the guard itself not run there: what the catalog and the MUC read
 * the locations from). `body` runs once the process is online; then the process, the store and
 * Redis are stopped (catalog-location L5, muc-location M6).
 */
export async function withCordonStart(
  o: {
    demo: Demo;
    server: XmppServer;
    domain: string;
    users: readonly string[];
  },
  component: { name: string; domain: string; secret: string; lines: readonly string[] },
  body: () => Promise<void>,
): Promise<void> {
  const secretEnv = `${component.name.toUpperCase()}_SECRET`;
  const redis = await startRedis();
  const admin = new RedisStore({ url: redis.url });
  const config = join(mkdtempSync(join(tmpdir(), "cordon-located-")), "cordon.yaml");
  try {
    await admin.ready(5000);
    for (const u of o.users)
      await admin.setUserClearance(`${u}@${o.domain}`, o.demo.raw(o.demo.clearance(GUARD_ALL)));
    writeFileSync(
      config,
      [
        "log: { level: info }",
        `server: { host: 127.0.0.1, port: ${o.server.componentPort} }`,
        `policies: [${demoPolicyFile}]`,
        `store: { redis: { url: "${redis.url}" } }`,
        "components:",
        `  ${component.name}:`,
        `    domain: ${component.domain}`,
        `    secret: { env: ${secretEnv} }`,
        ...component.lines,
        "  guard:",
        `    domain: guard.${o.domain}`,
        "    secret: guard",
        `    served: [${o.domain}]`,
        "    defaultLabel: { classification: UNCLASSIFIED }",
        "    locations:",
        `      - { ranges: [${CLEARED_SITE}/32], clearance: { classifications: [${GUARD_ALL.join(", ")}] } }`,
        `      - { ranges: [${UNCLASSIFIED_SITE}/32], clearance: { classifications: [UNCLASSIFIED] } }`,
        "",
      ].join("\n"),
    );
    const run = startCli(config, { [secretEnv]: component.secret }, ["--only", component.name]);
    try {
      await untilOnline(run);
      await body();
    } finally {
      const exited = once(run.child, "exit");
      run.child.kill("SIGTERM");
      await exited;
    }
  } finally {
    await admin.close();
    await redis.stop();
  }
}

/**
 * `store`'s user clearances, but a read for the user `gated()` names waits for `gate()` once read
 * (a slow directory: the guard's decision waits with the clearance as it was read); `readFirst`
 * false: waits first, then reads (the guard is slow asking: the clearance as it is once the gate opens).
 */
export const gatedClearances = (
  store: MemoryStore,
  gated: () => string | undefined,
  gate: () => Promise<void>,
  readFirst = true,
): UserClearanceSource => ({
  getUserClearance: async (who, policy) => {
    if (!readFirst && who === gated()) await gate();
    const read = await store.getUserClearance(who, policy);
    if (readFirst && who === gated()) await gate();
    return read;
  },
  subscribe: (listener) => store.subscribe(listener),
});

/**
 * A gate on one user's clearance reads (the guard is slow deciding): after `hold(who)` each read
 * of `who`'s clearance waits until `open()`; `users(store, readFirst)` is the source to give the
 * guard (gatedClearances).
 */
export class ClearanceGate {
  #gated: string | undefined;
  #gate: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;

  hold(who: string): void {
    this.#gate = new Promise((r) => (this.#release = r));
    this.#gated = who;
  }

  open(): void {
    this.#gated = undefined;
    this.#release();
  }

  users(store: MemoryStore, readFirst = true): UserClearanceSource {
    return gatedClearances(
      store,
      () => this.#gated,
      () => this.#gate,
      readFirst,
    );
  }
}

/**
 * Starts a server for `domain` loading the guard module (its component `guard.${domain}`, secret
 * "guard", before `more.components`), with `users` (one password); each of `cleared` (default:
 * every user) is cleared in `store` for GUARD_ALL (without a store nobody is: a guard never started).
 */
export async function startGuardedServer(
  kind: ServerKind,
  o: {
    demo: Demo;
    domain: string;
    store?: MemoryStore;
    users: readonly string[];
    cleared?: readonly string[];
    password: string;
    guard: Omit<NonNullable<ServerOptions["guard"]>, "component">;
  },
  more: Omit<ServerOptions, "domain" | "guard" | "users"> = {},
): Promise<XmppServer> {
  const guardDomain = `guard.${o.domain}`;
  const server = await startServer(kind, {
    ...more,
    domain: o.domain,
    components: [{ domain: guardDomain, secret: "guard" }, ...(more.components ?? [])],
    guard: { component: guardDomain, ...o.guard },
    users: o.users.map((u) => ({ username: u, password: o.password })),
  });
  for (const u of o.store ? (o.cleared ?? o.users) : [])
    await o.store?.setUserClearance(`${u}@${o.domain}`, o.demo.raw(o.demo.clearance(GUARD_ALL)));
  return server;
}

/**
 * Cordon's guard component for `domain` on `server`, started, once the module was told its cache
 * epoch (`told` false: once started, the module told or not): the demo policy, UNCLASSIFIED by
 * default, reconnecting after 100 ms to 1 s; `more` adds or overrides options (store, users,
 * locations, onDecision).
 */
export async function startGuard(
  demo: Demo,
  server: XmppServer,
  domain: string,
  more: Omit<GuardServiceOptions, "service" | "domain" | "secret" | "registry" | "served" | "defaultLabel"> &
    Partial<Pick<GuardServiceOptions, "served" | "defaultLabel" | "registry">>,
  told = true,
): Promise<GuardService> {
  const guard = createGuardService({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: `guard.${domain}`,
    secret: "guard",
    served: [domain],
    registry: demo.registry,
    defaultLabel: demo.label("UNCLASSIFIED"),
    reconnect: { initialMs: 100, maxMs: 1000 },
    ...more,
  });
  await guard.start();
  if (!told) return guard;
  await sleep(300);
  await guard.cacheEpochTold();
  return guard;
}

/** The catalog the guard's tests offer: SECRET, CONFIDENTIAL and UNCLASSIFIED (the default), restrictive. */
export const GUARD_CATALOG = {
  restrict: true,
  items: ["SECRET", "CONFIDENTIAL", "UNCLASSIFIED"].map((c) => ({
    selector: c,
    label: { policy: "Cordon Demo", classification: c },
    ...(c === "UNCLASSIFIED" ? { default: true } : {}),
  })),
};

/**
 * Cordon's label catalog beside the guard, as deploy/README.md has it: component
 * `catalog.${domain}` (secret "catalog" — declare it, delegate catalog:2 to it and list it among
 * the guard module's trusted components when starting the server), over `store`, GUARD_CATALOG,
 * the guard's default label UNCLASSIFIED; `more` adds options (guardLocations). Resolves once
 * `client` gets its server's delegated answer (ejabberd delegates only after the component
 * answered its disco#info: docs/delegation.md §2), failing after 15 s.
 */
export async function startGuardedCatalog(
  demo: Demo,
  server: XmppServer,
  domain: string,
  store: CatalogServiceOptions["store"],
  client: TestClient,
  more: Partial<CatalogServiceOptions> = {},
): Promise<CatalogService> {
  const catalog = createCatalogService({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: `catalog.${domain}`,
    secret: "catalog",
    served: [domain],
    registry: demo.registry,
    store,
    catalogs: new Map([[domain, parseCatalogSpec(GUARD_CATALOG, demo.registry)]]),
    guardDefaultLabel: demo.label("UNCLASSIFIED"),
    reconnect: { initialMs: 100, maxMs: 1000 },
    ...more,
  });
  await catalog.start();
  for (const end = Date.now() + 15_000; ;) {
    try {
      await client.iq(
        xml("iq", { type: "get", to: domain }, xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: domain })),
      );
      return catalog;
    } catch (error) {
      if (Date.now() > end) {
        await catalog.stop();
        throw error;
      }
      await sleep(200);
    }
  }
}

/** A client of `user`/`resource` connecting from `site` (when given), kept in `open` to be stopped. */
export async function openSession(
  server: XmppServer,
  open: TestClient[],
  password: string,
  user: string,
  resource: string,
  site?: string,
): Promise<TestClient> {
  const client = await connectClient(server, user, password, resource, site ? { localAddress: site } : {});
  open.push(client);
  return client;
}

/**
 * Sessions on `server()` (kept in `open`) announcing XEP-0115 caps: a session of `user`/`resource`
 * from `site`, with or without XEP-0258 labels, XEP-0280 carbons enabled when `carbons`, resolves
 * once the server asked what the client supports — Prosody's module each session, ejabberd's
 * mod_caps once per caps version (XEP-0115 §6.3: the answer is cached for every client), failing
 * after 8 s — and taken the answer in.
 */
export function capsSessions(
  kind: ServerKind,
  server: () => XmppServer,
  open: TestClient[],
  password: string,
): (user: string, resource: string, site: string, labels: boolean, carbons?: boolean) => Promise<TestClient> {
  const announced = new Set<string>();
  return async (user, resource, site, labels, carbons = false) => {
    const client = await connectClient(server(), user, password, resource, {
      localAddress: site,
      presence: false,
    });
    open.push(client);
    const { c, ver, asked } = announceCaps(client, labels);
    if (carbons) await client.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })));
    await client.send(xml("presence", {}, c));
    if (kind === "prosody" || !announced.has(ver))
      await Promise.race([
        asked,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error("the server never asked for caps")), 8000),
        ),
      ]);
    announced.add(ver);
    await sleep(300);
    return client;
  };
}

/**
 * Raw sessions on `server()` of `domain` (kept in `raws` to be closed): one of `user`/`resource`
 * from `site`, logged in and announcing caps with or without labels (ejabberd asks once per caps
 * version).
 */
export function rawSessions(
  kind: ServerKind,
  server: () => XmppServer,
  domain: string,
  raws: RawClient[],
  password: string,
): (user: string, resource: string, site: string, labels: boolean) => Promise<RawClient> {
  return async (user, resource, site, labels) => {
    const client = await RawClient.open(server().c2sPort, site);
    raws.push(client);
    client.onceAsked = kind === "ejabberd";
    await client.login(domain, user, password, resource);
    await client.announce(labels);
    return client;
  };
}

/** What the server answered `client` with: no error of it names `needle` (nothing it wrote echoed). */
export function noEcho(client: TestClient, needle: string): void {
  const echoed = client.received
    .filter((e) => e.attrs.type === "error")
    .map((e) => e.toString())
    .filter((x) => x.includes(needle));
  assert.deepEqual(echoed, [], "an error echoed what the sender wrote");
}

/** Waits until each of `ids` reached `to` or came back to `from` as an error; fails after `ms`. */
export async function settled(from: TestClient, to: TestClient, ids: string[], ms = 15_000): Promise<void> {
  const done = () =>
    ids.every(
      (id) =>
        to.received.some((m) => m.attrs.id === id) ||
        from.received.some((m) => m.attrs.id === id && m.attrs.type === "error"),
    );
  for (const end = Date.now() + ms; Date.now() < end && !done();) await sleep(100);
  assert.ok(done(), "every message delivered or refused");
}

/** The tests' after(): the server's log tail when GUARD_DEBUG is set, then clients, guard, server. */
export async function stopGuarded(
  server: XmppServer | undefined,
  guard: GuardService | undefined,
  open: readonly TestClient[],
  logLines = 120,
): Promise<void> {
  if (process.env["GUARD_DEBUG"]) console.log(server?.logTail(logLines));
  for (const client of open) await client.stop().catch(() => undefined);
  await guard?.stop();
  await server?.stop();
}
