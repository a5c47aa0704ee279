// Many stanzas into the bounded queue, waiting for room whenever it is full (fan-out path).
import type { OutgoingQueue } from "./outgoing-queue.js";

/** Stanzas taken from the iterable before they are handed to the queue as one group. */
const GROUP = 1024;

/**
 * Pushes every item, waiting for room whenever the queue is full. The items go as groups
 * (`pushMany`: one queue entry and one promise per group, not per stanza), each as large as the
 * queue's room allows, so the queue's bounds hold per stanza as with single pushes. Waiters are
 * woken together when room frees up, so fullness is re-checked before each group; every group
 * gets a rejection handler at once, so a failure never becomes an unhandled rejection (which
 * would end the process) while we wait for room. The first failure is rethrown once everything
 * has settled. When the iterable or `accept` throws, what was taken before is still written.
 */
export async function writeWithBackpressure(
  queue: Pick<OutgoingQueue, "full" | "room" | "pushMany">,
  data: Iterable<string>,
  onQueued?: (count: number) => void,
  /** Whether to write an item (false: left out); may throw to stop taking items. */
  accept?: (item: string) => boolean,
): Promise<void> {
  const pending: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  let queued = 0;
  let group: string[] = [];
  const hand = async (): Promise<void> => {
    const list = group;
    group = [];
    for (let at = 0; at < list.length;) {
      while (queue.full) await queue.room();
      const { taken, written } = queue.pushMany(list, at);
      written.catch((error: unknown) => {
        failure ??= { error };
      });
      pending.push(written);
      if (taken === 0) break; // closed: `written` rejects
      at += taken;
      queued += taken;
    }
  };
  try {
    for (const item of data) {
      if (accept && !accept(item)) continue;
      group.push(item);
      if (group.length >= GROUP) await hand();
    }
  } finally {
    // What was taken before a throw is still handed over; a failure here is reported below.
    await hand().catch((error: unknown) => {
      failure ??= { error };
    });
    if (queued > 0) onQueued?.(queued);
    await Promise.allSettled(pending);
  }
  if (failure) throw failure.error;
}
