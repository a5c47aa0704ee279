// One connection attempt: TCP connect, stream open (RFC 6120 §4.2) and the XEP-0114 §3 handshake
// (handshake.ts), bounded by a timeout. reconnect.ts retries it with backoff.
import type { CoreEntity } from "./entity.js";
import type { LinkState } from "./link-state.js";

export interface AttemptOptions {
  service: string;
  domain: string;
  /** Timeout for the whole attempt (TCP + stream + handshake). */
  timeoutMs: number;
  /** A fatal stream error seen during the attempt is what the attempt fails with. */
  link: LinkState;
}

type Listener = (...args: never[]) => void;

/** Resolves when the entity is online; rejects (and destroys the socket) on error, close or timeout. */
export function connectOnce(
  entity: Pick<CoreEntity, "on" | "removeListener" | "connect" | "open" | "socket">,
  options: AttemptOptions,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      entity.removeListener("online", onOnline);
      entity.removeListener("error", onError);
      entity.removeListener("disconnect", onDisconnect);
      if (error) {
        entity.socket?.destroy();
        reject(error);
      } else resolve();
    };
    const onOnline = (() => finish()) as Listener;
    const onError = ((error: Error) => finish(options.link.fatalError ?? error)) as Listener;
    const onDisconnect = (() =>
      finish(options.link.fatalError ?? new Error("connection closed during handshake"))) as Listener;
    const timer = setTimeout(
      () => finish(new Error(`no handshake within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    entity.on("online", onOnline);
    entity.on("error", onError);
    entity.on("disconnect", onDisconnect);
    entity
      .connect(options.service)
      .then(() => entity.open({ domain: options.domain }))
      .catch((error: Error) => finish(options.link.fatalError ?? error));
  });
}
