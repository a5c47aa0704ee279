// A TCP proxy to Redis that can hold what Redis sends on the connection that sent SUBSCRIBE: the
// subscriber still "ready", its messages (and PONGs) delayed — a store PING that gives up
// (@cordon/store notification-barrier.ts). Adversarial review adv13s; used by store-giveup-reader,
// muc-giveup, guard-cache-giveup (e2e) and the store's redis-notification-behind test.
import net from "node:net";

export interface SubscriberDelay {
  /** redis://127.0.0.1:PORT of the proxy. */
  readonly url: string;
  hold(): void;
  /** Holds what Redis sends on every connection, the main one too (a congested path to Redis). */
  holdAll(): void;
  /** Holds what the store sends on its other connections (its commands, not the subscriber's). */
  holdRequests(): void;
  /** Sends on what was held, and holds nothing more. */
  release(): void;
  close(): void;
}

export async function subscriberDelay(port: number): Promise<SubscriberDelay> {
  const held: Array<() => void> = [];
  let holding = false;
  let holdingAll = false;
  let holdingRequests = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    let subscriber = false;
    client.on("data", (d) => {
      if (/subscribe/i.test(d.toString("latin1"))) subscriber = true;
      if (!subscriber && holdingRequests) held.push(() => upstream.write(d));
      else upstream.write(d);
    });
    upstream.on("data", (d) => {
      if ((subscriber && holding) || holdingAll) held.push(() => client.write(d));
      else client.write(d);
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: () => void (holding = true),
    holdAll: () => void (holdingAll = true),
    holdRequests: () => void (holdingRequests = true),
    release: () => {
      holding = false;
      holdingAll = false;
      holdingRequests = false;
      for (const write of held.splice(0)) write();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
