// What the MUC high-availability and cluster tests share (muc-ha, muc-standby, muc-cluster,
// muc-cluster-cli, muc-cluster-attack, muc-sentinel-cluster): waiting, labelled groupchat, the
// XEP-0410 self-ping that tells an occupant whether it is still joined (§3.2), history replay
// (XEP-0045 §7.2.15), clearances seeded in Redis, one Cordon SlotTakeover instance, and two MUC
// services sharing one Redis on one server (ejabberd domain_balancing, or Prosody active/standby).
// For clustered `cordon start` processes (muc-cluster-pause, muc-sentinel-cli): the server, the
// working folder, the YAML config of one process, the rooms entered by alice, bob and carol, and
// the teardown (stopClusterCli).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as path } from "node:path";
import {
  startServer,
  startRedis,
  connectClient,
  xml,
  type Element,
  type RedisInstance,
  type ServerKind,
  type TestClient,
  type RedisSentinelSet,
  type XmppServer,
} from "@cordon/harness";
import { createComponent, parseElement } from "@cordon/component";
import type { Label } from "@cordon/policy";
import { RedisMembership, RedisStore, type RedisStoreOptions } from "@cordon/store";
import {
  SlotTakeover,
  type MucAuditEvent,
  type MucObserver,
  type MucService,
  type MucSettings,
} from "@cordon/muc";
import { ALL_CLASSES, createDemoMuc, demoPolicyFile, type Demo } from "./demo.js";
import { configureRoom, joinRoom } from "./muc-client.js";
import { stopSpawned, type SpawnedCordon } from "./cordon-process.js";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `ok` every 50 ms until it holds; fails with `what` after `ms`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(50);
  }
}

/** A groupchat message to `room`, labelled when `label` is given (XEP-0258 §4). */
export const groupchat = (room: string, id: string, body: string, label?: Label, demo?: Demo): Element =>
  xml(
    "message",
    { to: room, type: "groupchat", id },
    xml("body", {}, body),
    label && demo ? parseElement(demo.labelXml(label)) : null,
  );

/** XEP-0410 self-ping of `occupant` (room/nick): joined, not-acceptable (not joined, §3.2) or no answer. */
export const selfPing = (
  client: TestClient,
  occupant: string,
  timeoutMs = 2000,
): Promise<"joined" | "not-acceptable" | "no answer"> =>
  client
    .iq(xml("iq", { type: "get", to: occupant }, xml("ping", { xmlns: "urn:xmpp:ping" })), timeoutMs)
    .then(
      () => "joined" as const,
      (e: Error) => (/not-acceptable/.test(e.message) ? ("not-acceptable" as const) : ("no answer" as const)),
    );

/** Bodies of the history (delayed, XEP-0203) messages `client` received since `mark`. */
export const replayed = (client: TestClient, mark: number): string[] =>
  client.received
    .slice(mark)
    .filter((m: Element) => m.is("message") && m.getChild("delay", "urn:xmpp:delay"))
    .map((m) => m.getChildText("body") ?? "");

/** Makes `room` persistent (XEP-0045 §10.2), with more muc#roomconfig fields when given. */
export const configurePersistent = (
  owner: TestClient,
  room: string,
  fields: Record<string, string> = {},
): Promise<void> => configureRoom(owner, room, { "muc#roomconfig_persistentroom": "1", ...fields });

/** Writes each user's clearance (classification names) to the store, then disconnects. */
export async function seedClearances(
  demo: Demo,
  options: RedisStoreOptions,
  domain: string,
  users: Record<string, readonly string[]>,
): Promise<void> {
  const seed = new RedisStore(options);
  await seed.ready(10_000);
  for (const [user, classes] of Object.entries(users))
    await seed.setUserClearance(`${user}@${domain}`, demo.raw(demo.clearance([...classes])));
  await seed.close();
}

export interface ClusterInstanceOptions {
  demo: Demo;
  id: string;
  slots: number;
  /** The node this instance attaches to. */
  server: XmppServer;
  mucDomain: string;
  domain: string;
  secret: string;
  /** The shared Redis (url or sentinels) and prefix, for the store and the leases. */
  redis: Pick<RedisStoreOptions, "url" | "sentinels" | "sentinelName" | "prefix">;
  /** More store options (cache TTL, reconnect delay). */
  store?: Omit<RedisStoreOptions, "url" | "sentinels" | "sentinelName" | "prefix">;
  settings?: Partial<MucSettings>;
  /** One observer per link (a fresh service each). */
  observer?: (service: () => MucService | undefined) => MucObserver;
  fatalAtStart?: (error: Error) => boolean;
  leaseMs?: number;
}

/** One clustered Cordon MUC instance, not started: its store, its leases, its links. */
export interface ClusterInstance {
  takeover: SlotTakeover;
  store: RedisStore;
  membership: RedisMembership;
  /** Stops the takeover (leaving the membership unless `crashed`), then the Redis connections. */
  close(crashed?: boolean): Promise<void>;
}

export async function clusterInstance(o: ClusterInstanceOptions): Promise<ClusterInstance> {
  const store = new RedisStore({ ...o.redis, ...o.store });
  await store.ready(10_000);
  const { url, sentinels, sentinelName, prefix } = o.redis;
  const membership = new RedisMembership({
    ...(url !== undefined ? { url } : {}),
    ...(sentinels ? { sentinels, sentinelName: sentinelName ?? "" } : {}),
    prefix: (prefix ?? "cordon").replace(/:$/u, ""),
    group: o.mucDomain,
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
  });
  const takeover = new SlotTakeover({
    id: o.id,
    slots: o.slots,
    membership,
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
    ...(o.fatalAtStart ? { fatalAtStart: o.fatalAtStart } : {}),
    createLink: () => {
      // No reconnect of its own: a dropped link is replaced, with fresh in-memory rooms.
      const component = createComponent({
        service: `xmpp://127.0.0.1:${o.server.componentPort}`,
        domain: o.mucDomain,
        secret: o.secret,
        reconnect: { enabled: false },
      });
      const self: { service?: MucService } = {};
      const service = createDemoMuc(o.demo, {
        server: o.server,
        mucDomain: o.mucDomain,
        localDomain: o.domain,
        secret: o.secret,
        store,
        component,
        ...(o.observer ? { observer: o.observer(() => self.service) } : {}),
        settings: {
          serviceClearance: o.demo.clearance(ALL_CLASSES),
          defaultRoomClearance: o.demo.clearance(ALL_CLASSES),
          ...o.settings,
        },
      });
      self.service = service;
      return { service, component };
    },
  });
  return {
    takeover,
    store,
    membership,
    async close(crashed = false) {
      await (crashed ? takeover.crash() : takeover.stop()).catch(() => undefined);
      await membership.close().catch(() => undefined);
      await store.close().catch(() => undefined);
    },
  };
}

/**
 * An observer that hands every groupchat decision to `record` and checks, when it is called (once
 * the copies are decided, before they are sent: groupchat.ts), that the service sends no more copies
 * than the room has occupants whose clearance is known right now; a breach goes to `violations`.
 */
export function knownCopiesObserver(
  service: () => MucService | undefined,
  record: (event: MucAuditEvent) => void,
  violations: string[],
): MucObserver {
  return {
    decision: () => undefined,
    fanout: () => undefined,
    audit: (event) => {
      if (event.action !== "groupchat") return;
      record(event);
      if (!event.granted) return;
      const known = [...(service()?.rooms.get(event.room)?.occupants.values() ?? [])].filter(
        (o) => o.clearance.status === "known",
      ).length;
      if ((event.delivered ?? 0) > known && violations.length < 100)
        violations.push(`${event.room}: ${event.delivered} copies with ${known} occupants known`);
    },
  };
}

/** Every service of `instances` holding occupants of `room` (one at the most, whatever happens). */
export const holders = <T extends { services: MucService[] }>(
  instances: readonly T[],
  room: string,
): Array<{ instance: T; service: MucService }> =>
  instances.flatMap((instance) =>
    instance.services
      .filter((service) => (service.rooms.get(room)?.size ?? 0) > 0)
      .map((service) => ({ instance, service })),
  );

export interface SharedRedisMucOptions {
  demo: Demo;
  kind: ServerKind;
  domain: string;
  /** Redis key prefix of the test. */
  prefix: string;
  secret: string;
  /** User → classifications (password `${user}-pw`). */
  users: Record<string, readonly string[]>;
  /** ejabberd `domain_balancing: bare_destination` for the MUC domain (two connections, one slot each). */
  balanced: boolean;
}

/**
 * One server, one real Redis, clearances seeded, clients connected: MUC services for the same
 * domain created on demand (`create`, not started; `instance`, started and kept) and torn down
 * in `teardown`.
 */
export class SharedRedisMuc {
  readonly mucDomain: string;
  server!: XmppServer;
  redis!: RedisInstance;
  readonly c: Record<string, TestClient> = {};
  readonly instances: MucService[] = [];
  readonly #stores: RedisStore[] = [];

  constructor(readonly o: SharedRedisMucOptions) {
    this.mucDomain = `rooms.${o.domain}`;
  }

  async setup(): Promise<void> {
    const { kind, domain, secret, users, balanced } = this.o;
    this.redis = await startRedis();
    this.server = await startServer(kind, {
      domain,
      components: [{ domain: this.mucDomain, secret }],
      // domain_balancing with component_number: N hash slots, each held by one connection;
      // bare_destination keeps every stanza of a room on the instance holding its slot.
      ...(balanced ? { componentBalancing: { [this.mucDomain]: "bare_destination" as const } } : {}),
      users: Object.keys(users).map((u) => ({ username: u, password: `${u}-pw` })),
    });
    await seedClearances(this.o.demo, { url: this.redis.url, prefix: this.o.prefix }, domain, users);
  }

  /** setup(), then `instances` started MUC services, then every user connected. */
  async start(instances: number): Promise<void> {
    await this.setup();
    for (let i = 0; i < instances; i++) await this.instance();
    await this.connectClients();
  }

  async connectClients(): Promise<void> {
    for (const u of Object.keys(this.o.users)) this.c[u] = await connectClient(this.server, u, `${u}-pw`);
  }

  /** A MUC service on its own store connection, not started. */
  async create(): Promise<MucService> {
    const store = new RedisStore({ url: this.redis.url, prefix: this.o.prefix });
    this.#stores.push(store);
    await store.ready(5000);
    return createDemoMuc(this.o.demo, {
      server: this.server,
      mucDomain: this.mucDomain,
      localDomain: this.o.domain,
      secret: this.o.secret,
      store,
      settings: {
        serviceClearance: this.o.demo.clearance(ALL_CLASSES),
        defaultRoomClearance: this.o.demo.clearance(ALL_CLASSES),
      },
    });
  }

  /** A MUC service started and kept in `instances`. */
  async instance(): Promise<MucService> {
    const muc = await this.create();
    await muc.start();
    this.instances.push(muc);
    return muc;
  }

  /** The instance holding `room`'s occupants and the other, once the other knows the room from Redis. */
  async servingAndOther(room: string): Promise<{ serving: MucService; other: MucService }> {
    const owners = this.instances.filter((m) => (m.rooms.get(room)?.size ?? 0) > 0);
    if (owners.length !== 1) throw new Error(`${owners.length} instances hold ${room}'s occupants`);
    const serving = owners[0]!;
    const other = this.instances.find((m) => m !== serving)!;
    await until(`the other instance knows ${room}`, () => other.rooms.has(room), 3000).catch(() => undefined);
    return { serving, other };
  }

  async teardown(): Promise<void> {
    for (const client of Object.values(this.c)) await client.stop().catch(() => undefined);
    for (const muc of this.instances) await muc.stop().catch(() => undefined);
    for (const store of this.#stores) await store.close().catch(() => undefined);
    await this.server?.stop();
    await this.redis?.stop();
  }
}

/** The users of the clustered `cordon start` tests (password `${user}-pw`). */
export const CLI_USERS = ["alice", "bob", "carol"] as const;

/** A server for `mucDomain` with alice, bob and carol; on ejabberd the domain is balanced (bare_destination). */
export const startClusterServer = (
  kind: ServerKind,
  domain: string,
  mucDomain: string,
  secret: string,
): Promise<XmppServer> =>
  startServer(kind, {
    domain,
    components: [{ domain: mucDomain, secret }],
    ...(kind === "ejabberd" ? { componentBalancing: { [mucDomain]: "bare_destination" as const } } : {}),
    users: CLI_USERS.map((u) => ({ username: u, password: `${u}-pw` })),
  });

/** A fresh working folder (`${name}-…` under the temp dir) holding the demo policy as policy.xml. */
export function policyDir(name: string): string {
  const dir = mkdtempSync(path(tmpdir(), `${name}-`));
  copyFileSync(demoPolicyFile, path(dir, "policy.xml"));
  return dir;
}

export interface ClusterCliConfig {
  server: XmppServer;
  domain: string;
  mucDomain: string;
  secret: string;
  /** Redis by url, or through a sentinel set; `prefix` as written (with its colon). */
  redis: { url: string } | { sentinels: RedisSentinelSet };
  prefix: string;
  instance: string;
  slots: number;
}

/** Writes `${dir}/${file}.yaml`: one clustered MUC process (labels UNCLASSIFIED, SECRET; 2 s leases). */
export function writeClusterCliConfig(dir: string, file: string, o: ClusterCliConfig): string {
  const f = path(dir, `${file}.yaml`);
  const redis =
    "url" in o.redis
      ? `url: "${o.redis.url}"`
      : `sentinels: [${o.redis.sentinels.sentinels.map((s) => `"${s.host}:${s.port}"`).join(", ")}], sentinelName: ${o.redis.sentinels.name}`;
  writeFileSync(
    f,
    `log: { level: info }
server: { host: 127.0.0.1, port: ${o.server.componentPort} }
policies: [policy.xml]
store: { redis: { ${redis}, prefix: "${o.prefix}" } }
components:
  muc:
    domain: ${o.mucDomain}
    secret: ${o.secret}
    localDomains: [${o.domain}]
    labels:
      UNCLASSIFIED: { classification: UNCLASSIFIED }
      SECRET: { classification: SECRET }
    serviceClearance: { classifications: [${ALL_CLASSES.join(", ")}] }
    roomLabel: UNCLASSIFIED
    defaultLabel: UNCLASSIFIED
    rooms: { persistent: true, historyLength: 20 }
    cluster: { instance: ${o.instance}, slots: ${o.slots}, leaseSeconds: 2 }
`,
  );
  return f;
}

/** alice enters each room (retried until its service answers) and configures it; bob and carol join. */
export async function enterRooms(c: Record<string, TestClient>, rooms: readonly string[]): Promise<void> {
  for (const room of rooms) {
    await until(`alice enters ${room}`, async () =>
      joinRoom(c.alice!, room, "Alice").then(
        (self) => self.attrs.type !== "error",
        () => false,
      ),
    );
    await configureRoom(c.alice!, room);
    await joinRoom(c.bob!, room, "Bob");
    await joinRoom(c.carol!, room, "Carol");
  }
}

/**
 * The clustered `cordon start` tests' after(): clients, `cordon` processes, the membership reader,
 * the server (or cluster), Redis, then the working folder; what was never started is passed over.
 */
export async function stopClusterCli(o: {
  c: Record<string, TestClient>;
  cordons: readonly SpawnedCordon[];
  membership?: RedisMembership | undefined;
  server: { stop(): Promise<void> } | undefined;
  redis: { stop(): Promise<void> } | undefined;
  dir: string | undefined;
}): Promise<void> {
  for (const client of Object.values(o.c)) await client.stop().catch(() => undefined);
  for (const x of o.cordons) await stopSpawned(x);
  await o.membership?.close();
  await o.server?.stop();
  await o.redis?.stop();
  if (o.dir) rmSync(o.dir, { recursive: true, force: true });
}
