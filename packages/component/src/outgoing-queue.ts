// A bounded outgoing queue with socket backpressure. Stanzas are serialised once, batched into
// one socket write where several wait, and written only while the stream is online; the writer
// pauses on a full socket buffer until 'drain'. While offline, stanzas wait up to a deadline and
// then fail with NotConnectedError. Beyond `limit` waiting stanzas or `maxBytes` waiting bytes (two
// a character, as the byte-bounded caches count), further sends fail fast with QueueFullError, so
// memory stays bounded even if callers never await. A stanza is accepted while fewer than
// `maxBytes` wait, so the bound is `maxBytes` plus one stanza (which the server's own limit bounds).
// A fan-out hands its copies over as one group (`pushMany`): one entry and one promise for the
// group instead of one per copy, under the same bounds, counted per stanza (issue 19: the promise,
// its handlers and their microtasks per copy were most of the component's CPU per delivery).
import { NotConnectedError, QueueFullError, ComponentStoppedError } from "./errors.js";

/** The part of a net.Socket the queue writes to. */
export interface QueueSink {
  write(data: string, callback: (error?: Error | null) => void): boolean;
  once(event: "drain", listener: () => void): unknown;
  removeListener(event: "drain", listener: () => void): unknown;
}

export interface OutgoingQueueOptions {
  domain: string;
  /** Stanzas that may wait (queued, not yet handed to the socket). Default 10,000. */
  limit?: number;
  /** Bytes that may wait (UTF-16: two a character). Default 32 MiB. */
  maxBytes?: number;
  /** How long a stanza may wait while offline before it fails. Default 30 s. */
  offlineTimeoutMs?: number;
  /** Largest single socket write when batching, in UTF-16 code units. Default 64 Ki. */
  batchChars?: number;
}

/** One push: `list[next..end)` still to be written, settled once all of them were. */
interface Pending {
  list: readonly string[];
  next: number;
  end: number;
  deadline: number;
  /** A write of part of the group failed: the group is rejected with this once written. */
  error?: Error;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** What `pushMany` took: the first `taken` stanzas from `start`, settled together by `written`. */
export interface PushedGroup {
  taken: number;
  written: Promise<void>;
}

export interface OutgoingQueue {
  /** Queues serialised XML; resolves once the socket accepted it. */
  push(data: string): Promise<void>;
  /**
   * Queues the longest run of `list` from `start` that fits, as one group that resolves once the
   * socket accepted all of it: each stanza is accepted as `push` would accept it (fewer than
   * `limit` stanzas and `maxBytes` bytes waiting before it). `taken` is 0 only when the queue is
   * full; rejects (the group) when closed.
   */
  pushMany(list: readonly string[], start?: number): PushedGroup;
  /** Resolves when there is room for another stanza (for fan-out loops). */
  room(): Promise<void>;
  /** Begins writing to a socket (call when the stream is online). */
  attach(sink: QueueSink): void;
  /** Stops writing (call when the stream goes down); queued stanzas wait for the next attach. */
  detach(): void;
  /** Resolves when everything queued has been written, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Fails everything queued and refuses further pushes. */
  close(): void;
  readonly depth: number;
  /** Bytes waiting (two a character). */
  readonly bytes: number;
  readonly full: boolean;
}

export const DEFAULT_QUEUE_BYTES = 32 * 1024 * 1024;

export function createOutgoingQueue(options: OutgoingQueueOptions): OutgoingQueue {
  const limit = options.limit ?? 10_000;
  const maxBytes = options.maxBytes ?? DEFAULT_QUEUE_BYTES;
  let bytes = 0;
  const offlineTimeoutMs = options.offlineTimeoutMs ?? 30_000;
  const batchChars = options.batchChars ?? 65_536;
  const items: Pending[] = [];
  let head = 0; // index of the first live item (amortised O(1) shift)
  let stanzas = 0; // stanzas waiting, over every group
  let sink: QueueSink | undefined;
  let waitingForDrain: (() => void) | undefined;
  let closed = false;
  let roomWaiters: (() => void)[] = [];
  let emptyWaiters: (() => void)[] = [];
  let expiryTimer: NodeJS.Timeout | undefined;
  let pumpScheduled = false;

  const depth = () => stanzas;
  const full = () => depth() >= limit || bytes >= maxBytes;

  function compact() {
    if (head > 1024 && head * 2 > items.length) {
      items.splice(0, head);
      head = 0;
    }
  }

  function notify() {
    if (!full() && roomWaiters.length) {
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const wake of waiters) wake();
    }
    if (depth() === 0 && emptyWaiters.length) {
      const waiters = emptyWaiters;
      emptyWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  function pump() {
    while (sink && !waitingForDrain && stanzas > 0) {
      const parts: string[] = [];
      /** Groups with a part in this write; the last may go on in the next one. */
      const touched: Pending[] = [];
      let finished = 0; // touched[0..finished) end in this write
      let size = 0;
      while (stanzas > 0 && (parts.length === 0 || size < batchChars)) {
        const item = items[head] as Pending;
        if (touched[touched.length - 1] !== item) touched.push(item);
        while (item.next < item.end && (parts.length === 0 || size < batchChars)) {
          const data = item.list[item.next] as string;
          item.next += 1;
          parts.push(data);
          size += data.length;
          bytes -= 2 * data.length;
          stanzas -= 1;
        }
        if (item.next < item.end) break;
        items[head] = undefined as unknown as Pending;
        head += 1;
        finished = touched.length;
      }
      compact();
      const data = parts.length === 1 ? (parts[0] as string) : parts.join("");
      const accepted = sink.write(data, (error) => {
        for (let k = 0; k < touched.length; k++) {
          const item = touched[k] as Pending;
          if (error) item.error ??= error;
          if (k >= finished) continue;
          if (item.error) item.reject(item.error);
          else item.resolve();
        }
      });
      if (!accepted) {
        const target = sink;
        waitingForDrain = () => {
          waitingForDrain = undefined;
          if (sink === target) pump();
        };
        target.once("drain", waitingForDrain);
      }
    }
    notify();
  }

  /**
   * Pushes made in one synchronous run (a fan-out) are written together: the pump runs once, in a
   * microtask, and joins them into batches of up to `batchChars` — one socket write per batch
   * instead of one per stanza (fewer syscalls here, fewer reads and wake-ups in the server).
   */
  function schedulePump() {
    if (pumpScheduled) return;
    pumpScheduled = true;
    queueMicrotask(() => {
      pumpScheduled = false;
      if (sink && !waitingForDrain) pump();
    });
  }

  function expire() {
    expiryTimer = undefined;
    if (sink || depth() === 0) return;
    const now = Date.now();
    let kept = 0;
    const live = items.slice(head);
    items.length = 0;
    head = 0;
    for (const item of live) {
      if (item.deadline <= now) {
        drop(item);
        item.reject(new NotConnectedError(options.domain, offlineTimeoutMs));
      } else {
        items.push(item);
        kept += 1;
      }
    }
    notify();
    if (kept > 0) scheduleExpiry();
  }

  /** Takes a group's unwritten stanzas off the counts. */
  function drop(item: Pending) {
    for (let k = item.next; k < item.end; k++) bytes -= 2 * (item.list[k] as string).length;
    stanzas -= item.end - item.next;
    item.next = item.end;
  }

  function enqueue(item: Pending) {
    items.push(item);
    if (sink) {
      if (!waitingForDrain) schedulePump();
    } else scheduleExpiry();
  }

  function scheduleExpiry() {
    if (expiryTimer || sink || depth() === 0) return;
    const first = items[head] as Pending;
    expiryTimer = setTimeout(expire, Math.max(0, first.deadline - Date.now()) + 5);
  }

  return {
    push(data) {
      if (closed) return Promise.reject(new ComponentStoppedError(options.domain));
      if (depth() >= limit) return Promise.reject(new QueueFullError(options.domain, limit));
      if (bytes >= maxBytes) return Promise.reject(new QueueFullError(options.domain, limit, maxBytes));
      bytes += 2 * data.length;
      stanzas += 1;
      return new Promise<void>((resolve, reject) => {
        enqueue({ list: [data], next: 0, end: 1, deadline: Date.now() + offlineTimeoutMs, resolve, reject });
      });
    },
    pushMany(list, start = 0) {
      if (closed) return { taken: 0, written: Promise.reject(new ComponentStoppedError(options.domain)) };
      let end = start;
      while (end < list.length && stanzas < limit && bytes < maxBytes) {
        bytes += 2 * (list[end] as string).length;
        stanzas += 1;
        end += 1;
      }
      if (end === start) return { taken: 0, written: Promise.resolve() };
      const written = new Promise<void>((resolve, reject) => {
        enqueue({ list, next: start, end, deadline: Date.now() + offlineTimeoutMs, resolve, reject });
      });
      return { taken: end - start, written };
    },
    room() {
      if (closed) return Promise.reject(new ComponentStoppedError(options.domain));
      if (!full()) return Promise.resolve();
      return new Promise<void>((resolve) => roomWaiters.push(resolve));
    },
    attach(next) {
      if (expiryTimer) clearTimeout(expiryTimer);
      expiryTimer = undefined;
      sink = next;
      pump();
    },
    detach() {
      if (sink && waitingForDrain) sink.removeListener("drain", waitingForDrain);
      waitingForDrain = undefined;
      sink = undefined;
      scheduleExpiry();
    },
    flush(timeoutMs) {
      if (depth() === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        emptyWaiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
    close() {
      closed = true;
      if (expiryTimer) clearTimeout(expiryTimer);
      const live = items.slice(head);
      items.length = 0;
      head = 0;
      bytes = 0;
      stanzas = 0;
      for (const item of live) item.reject(new ComponentStoppedError(options.domain));
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const wake of waiters) wake();
      notify();
    },
    get depth() {
      return depth();
    },
    get bytes() {
      return bytes;
    },
    get full() {
      return full();
    },
  };
}
