// Many stanzas into the bounded queue, waiting for room whenever it is full (fan-out path).
import type { OutgoingQueue } from "./outgoing-queue.js";

/**
 * Pushes every item, waiting for room whenever the queue is full. Waiters are woken together when
 * room frees up, so fullness is re-checked before each push; every push gets a rejection handler
 * at once, so a failure never becomes an unhandled rejection (which would end the process) while
 * we wait for room. The first failure is rethrown once everything has settled.
 */
export async function writeWithBackpressure(
  queue: Pick<OutgoingQueue, "full" | "room" | "push">,
  data: Iterable<string>,
  onQueued?: (count: number) => void,
): Promise<void> {
  const pending: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  try {
    for (const item of data) {
      while (queue.full) await queue.room();
      const written = queue.push(item);
      written.catch((error: unknown) => {
        failure ??= { error };
      });
      pending.push(written);
    }
  } finally {
    if (pending.length > 0) onQueued?.(pending.length);
    await Promise.allSettled(pending);
  }
  if (failure) throw failure.error;
}
