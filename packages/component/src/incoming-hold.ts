// Incoming stanzas held while what decides them may be behind: a component whose decisions read
// kept state (clearances cached or held per occupant, verdicts) must not decide a stanza before it
// has heard every change published before the stanza arrived (@cordon/store
// notification-barrier.ts: after a pause, the stanzas and the change that concerns them wait in
// two sockets, read in an order nobody chose).
//
// Two waits, both in order (RFC 6120 §10.1: a later stanza never overtakes an earlier one):
//  - With a gate installed, a stanza is decided only after the event loop has polled every socket
//    once more since it was read (two `setImmediate` hops: the check phase after the poll that
//    read it, then the one after the next poll). A change that reached the subscriber socket
//    before the stanza was read is then read first, however long the stall that left both unread
//    (adversarial review adv12b: a 600 ms stall inside one stanza's handling, shorter than the
//    barrier's maxLagMs, let the stanza sent after a lowering be read and decided before the
//    lowering's notification — 6 runs of 6; https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick).
//  - When the stanza's turn comes the gate `heard()` is asked: undefined goes on; a promise holds
//    it and every later one until it settles (the subscriber silent or slow: a PING answers).
// Held stanzas are bounded in bytes; past the bound a stanza is refused with `wait` (nothing of it
// in the error; errors and IQ results are dropped) — fail closed.
import type { Element } from "./xml.js";
import { elementBytes } from "./element-bytes.js";
import { isErrorStanza } from "./stanza-error.js";

/** Undefined when decisions may go on now; else when they may (never rejects). */
export type HeardGate = () => Promise<void> | undefined;

export interface IncomingHoldOptions {
  /** Passes a stanza on to its handlers. */
  dispatch(stanza: Element): void;
  /** Refuses a stanza held past the bound (`wait`). */
  refuse(stanza: Element): void;
  /** Bytes of stanzas held at most (default 4 MiB). */
  maxBytes?: number;
}

export interface IncomingHold {
  receive(stanza: Element): void;
  /** Installs (or with undefined removes) the gate. */
  gate(heard: HeardGate | undefined): void;
  readonly heldBytes: number;
}

export function createIncomingHold(options: IncomingHoldOptions): IncomingHold {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  let heard: HeardGate | undefined;
  const held: Array<{ stanza: Element; bytes: number }> = [];
  let bytes = 0;
  /** Held stanzas, from the front, that a poll of every socket has followed since they were read. */
  let ripe = 0;
  /** A gate's promise is out: nothing goes on until it settles. */
  let waiting = false;
  let scheduled = false;

  const dispatchRipe = (): void => {
    const out = held.splice(0, ripe);
    ripe = 0;
    for (const { bytes: b } of out) bytes -= b;
    for (const { stanza } of out) options.dispatch(stanza);
  };
  const schedule = (): void => {
    if (scheduled || waiting || held.length === 0) return;
    scheduled = true;
    setImmediate(pump);
  };
  // Each check phase: what was read before the previous one has had a poll since — its turn;
  // what was read since waits for the next.
  const pump = (): void => {
    scheduled = false;
    if (waiting) return;
    if (ripe > 0) {
      const until = heard?.();
      if (until) {
        waiting = true;
        // Once the gate settled — heard, or no answer in time (then the store is not current and
        // its own outage rules decide: nothing is held twice) — the ripe ones go on, in order.
        const resume = (): void => {
          waiting = false;
          dispatchRipe();
          schedule();
        };
        void until.then(resume, resume);
        return;
      }
      dispatchRipe();
    }
    ripe = held.length;
    schedule();
  };

  return {
    receive(stanza) {
      // No gate and nothing held: nothing kept to be behind (in-memory stores notify at once).
      if (!heard && held.length === 0) return options.dispatch(stanza);
      const b = elementBytes(stanza);
      if (bytes + b > maxBytes) {
        if (!isErrorStanza(stanza) && !(stanza.name === "iq" && stanza.attrs.type === "result"))
          options.refuse(stanza);
        return;
      }
      held.push({ stanza, bytes: b });
      bytes += b;
      schedule();
    },
    gate(next) {
      heard = next;
    },
    get heldBytes() {
      return bytes;
    },
  };
}
