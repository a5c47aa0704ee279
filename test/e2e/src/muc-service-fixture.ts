// One server with Cordon's MUC component, as the single-service MUC tests set it up (muc-attack,
// muc-leaks, muc-faults, muc-giveup, muc-budget, muc-catalog, muc-review, muc-whitespace): the
// server and its users, the users' clearances, the clients, an instant room opened by its owner,
// the teardown, a store whose chosen reads or writes wait until released (a slow or hung store),
// and polling until a condition holds.
import assert from "node:assert/strict";
import {
  startServer,
  connectClient,
  type ServerKind,
  type ServerOptions,
  type TestClient,
  type XmppServer,
} from "@cordon/harness";
import { MemoryStore, type ClearanceStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, type Demo } from "./demo.js";
import { configureRoom, joinRoom } from "./muc-client.js";

/** Polls `check` every `stepMs` until it holds; fails the test with `what` after `timeoutMs`. */
export async function pollUntil(
  check: () => boolean,
  what: string,
  timeoutMs = 5000,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A server for `domain` accepting the component `mucDomain`, with `users` (password `${user}-pw`). */
export const startMucServer = (
  kind: ServerKind,
  o: { domain: string; mucDomain: string; secret: string; users: readonly string[] },
  more: Omit<ServerOptions, "domain" | "components" | "users"> = {},
): Promise<XmppServer> =>
  startServer(kind, {
    domain: o.domain,
    ...more,
    components: [{ domain: o.mucDomain, secret: o.secret }],
    users: o.users.map((u) => ({ username: u, password: `${u}-pw` })),
  });

/** Writes to `store`, for each of `users` at `domain`, the clearance for `classes(user)`. */
export async function setClearances(
  store: Pick<ClearanceStore, "setUserClearance">,
  demo: Demo,
  domain: string,
  users: readonly string[],
  classes: (user: string) => readonly string[],
): Promise<void> {
  for (const u of users)
    await store.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance([...classes(u)])));
}

/** A MemoryStore holding, for each of `users` at `domain`, the clearance for `classes(user)`. */
export async function storeWithClearances(
  demo: Demo,
  domain: string,
  users: readonly string[],
  classes: (user: string) => readonly string[],
): Promise<MemoryStore> {
  const store = new MemoryStore();
  await setClearances(store, demo, domain, users, classes);
  return store;
}

/**
 * MUC settings with no service clearance, rooms cleared for every class by default and the named
 * label UNCLASSIFIED (the fail-closed tests: muc-faults, muc-giveup).
 */
export const openRoomSettings = (demo: Demo) => ({
  serviceClearance: undefined,
  defaultRoomClearance: demo.clearance(ALL_CLASSES),
  namedLabels: [{ name: "UNCLASSIFIED", label: demo.label("UNCLASSIFIED") }],
});

/**
 * The first of `members` creates `room` and configures it as an instant room (XEP-0045 §10.1.2);
 * the others then join it, in order.
 */
export async function openRoom(room: string, members: readonly [TestClient, string][]): Promise<void> {
  const [owner, ...others] = members;
  if (!owner) return;
  await joinRoom(owner[0], room, owner[1]);
  await configureRoom(owner[0], room);
  for (const [client, nick] of others) await joinRoom(client, room, nick);
}

/** Connects each of `users` (password `${user}-pw`) into `c`. */
export async function connectUsers(
  server: XmppServer,
  users: readonly string[],
  c: Record<string, TestClient>,
): Promise<void> {
  for (const u of users) c[u] = await connectClient(server, u, `${u}-pw`);
}

/** The tests' after(): stops the clients, then the service, the store and the server. */
export async function stopMucTest(
  clients: Iterable<TestClient | undefined>,
  muc: MucService | undefined,
  store: { close(): Promise<void> } | undefined,
  server: XmppServer | undefined,
): Promise<void> {
  for (const client of clients) await client?.stop().catch(() => undefined);
  await muc?.stop();
  await store?.close().catch(() => undefined);
  await server?.stop();
}

type Method = (...args: never[]) => Promise<unknown>;

/**
 * `target` seen through a proxy: a call of a method named in `held` waits, when its predicate
 * says so for the call's arguments, until the release pushed to `waiting` is called (then it
 * runs); every other call goes straight through.
 */
export function slowStore<S extends object>(
  target: S,
  waiting: (() => void)[],
  held: { [K in keyof S]?: (...args: never[]) => boolean },
): S {
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== "function") return value;
      const call = (value as Method).bind(t);
      const hold = (held as Record<string | symbol, ((...args: never[]) => boolean) | undefined>)[key];
      if (!hold) return call;
      return (...args: never[]) =>
        hold(...args)
          ? new Promise((resolve, reject) => waiting.push(() => void call(...args).then(resolve, reject)))
          : call(...args);
    },
  });
}
