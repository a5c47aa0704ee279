// Graceful shutdown on SIGTERM/SIGINT: stop accepting, flush, close every stream, exit 0.
import type { Logger } from "pino";

export interface Stoppable {
  stop(): Promise<void>;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Hard deadline after which the process exits anyway (default 10 s). */
  timeoutMs?: number;
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/** Installs the handlers; returns a function that runs the same shutdown programmatically. Parts stop in order. */
export function installShutdown(parts: Stoppable[], options: ShutdownOptions): () => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.timeoutMs ?? 10_000;
  let running: Promise<void> | undefined;

  const shutdown = (signal?: string): Promise<void> => {
    if (running) return running;
    options.logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      options.logger.error("shutdown took too long; exiting");
      exit(1);
    }, timeoutMs);
    deadline.unref();
    // Parts stop in order (components before the connections they share).
    running = (async () => {
      let failed = 0;
      for (const part of parts) {
        try {
          await part.stop();
        } catch {
          failed += 1;
        }
      }
      clearTimeout(deadline);
      if (failed) options.logger.warn({ failed }, "some parts did not stop cleanly");
      exit(0);
    })();
    return running;
  };
  for (const signal of options.signals ?? ["SIGTERM", "SIGINT"]) {
    process.once(signal, () => void shutdown(signal));
  }
  return () => shutdown();
}
