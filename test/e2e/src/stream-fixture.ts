// What e2e guard-cache-stream and guard-cache-park share: a guard's users source that reads
// clearances slowly (a question is still out while the messages behind it arrive, as on a loaded
// machine), and the two clients, each with its presence sent.
import type { MemoryStore } from "@cordon/store";
import { connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import { xml } from "@cordon/component";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `store` as the guard's users source, each clearance read taking `ms`; `everyRead`: the guard
 * keeps no answer of it (its notifications never heard: packages/rules clearance-reader.ts #fresh),
 * so every decision reads — otherwise an answer is reused for a few seconds.
 */
export function slowedUsers(store: MemoryStore, ms: number, everyRead: boolean): MemoryStore {
  return new Proxy(store, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key, target);
      if (everyRead && key === "notificationsHeard") return () => Promise.resolve();
      if (key === "getUserClearance")
        return async (...a: Parameters<MemoryStore["getUserClearance"]>) => {
          await delay(ms);
          return target.getUserClearance(...a);
        };
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** `users` connected (resource "s"), each with its initial presence sent, in order. */
export async function connectWithPresence(
  server: XmppServer,
  users: readonly string[],
  password: string,
): Promise<TestClient[]> {
  const open: TestClient[] = [];
  for (const user of users) {
    const client = await connectClient(server, user, password, "s", { presence: false });
    await client.send(xml("presence"));
    open.push(client);
  }
  return open;
}
