// Keeps the component's link up: attempt (connect-attempt.ts), stay online until the stream
// drops, wait a capped exponential backoff with jitter (backoff.ts), try again. A fatal stream
// error (RFC 6120 §4.9, stream-errors.ts) ends the loop instead: retrying a wrong secret or a
// duplicate domain (XEP-0114 §3) would loop forever.
import type { Backoff } from "./backoff.js";
import type { CordonComponentError } from "./errors.js";
import { isStopping, type LinkState } from "./link-state.js";
import type { Logger } from "./logger.js";

export interface ReconnectOptions {
  link: LinkState;
  backoff: Backoff;
  /** When false, the first failure (or the first drop) ends the loop. */
  enabled: boolean;
  logger: Logger;
  /** One connection attempt: resolves when online. */
  attempt(): Promise<void>;
  /** The online link dropped. */
  onOffline(reason: string): void;
  /** A fatal stream error ended the loop (the link is `failed`). */
  onFatal(error: CordonComponentError): void;
}

export interface Reconnect {
  /** The loop; `firstOnline` settles once: online, or the error that ended the loop first. */
  run(firstOnline: { resolve(): void; reject(error: Error): void }): Promise<void>;
  /** The entity came online. */
  online(): void;
  /** The entity's socket closed. */
  disconnected(): void;
  /** Ends a backoff sleep or a wait for the link to drop at once (stop()). */
  wake(): void;
  readonly reconnects: number;
}

export function createReconnect(options: ReconnectOptions): Reconnect {
  const { link, backoff, logger } = options;
  let reconnects = 0;
  let lastOfflineReason: string | undefined;
  let wake: (() => void) | undefined;

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  }

  /** Resolves when the online link drops (disconnected()) or on wake(). */
  function untilOffline(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (link.status !== "online") return resolve();
      wake = () => {
        wake = undefined;
        resolve();
      };
    });
  }

  async function run(firstOnline: { resolve(): void; reject(error: Error): void }): Promise<void> {
    let announced = false;
    for (;;) {
      if (isStopping(link)) return;
      if (link.status !== "online") link.status = "connecting";
      try {
        await options.attempt();
        if (!announced) {
          announced = true;
          firstOnline.resolve();
        }
        await untilOffline();
      } catch (error) {
        if (link.fatalError) {
          link.status = "failed";
          options.onFatal(link.fatalError);
          if (!announced) firstOnline.reject(link.fatalError);
          return;
        }
        if (lastOfflineReason === undefined) {
          lastOfflineReason = (error as Error).message;
          logger.warn({ err: lastOfflineReason }, "cannot reach the server; retrying with backoff");
        }
        if (!options.enabled && !announced) {
          link.status = "failed";
          firstOnline.reject(error as Error);
          return;
        }
      }
      if (isStopping(link)) return;
      if (!options.enabled) {
        link.status = "offline";
        return;
      }
      link.status = "connecting";
      const delay = backoff.next();
      reconnects += 1;
      logger.debug({ delay, attempt: backoff.attempts }, "reconnecting");
      await sleep(delay);
    }
  }

  return {
    run,
    online() {
      link.status = "online";
      backoff.reset();
      if (lastOfflineReason !== undefined) logger.info({ reconnects }, "reconnected");
      else logger.info("online");
      lastOfflineReason = undefined;
    },
    disconnected() {
      // Only a drop of the online link ends a wait: the late close of a failed attempt must not
      // cut the next backoff sleep short (that made the loop spin while the server refused us).
      if (link.status !== "online") return;
      link.status = "offline";
      lastOfflineReason = "connection closed";
      logger.warn("connection to the server lost");
      options.onOffline(lastOfflineReason);
      wake?.();
    },
    wake() {
      wake?.();
    },
    get reconnects() {
      return reconnects;
    },
  };
}
