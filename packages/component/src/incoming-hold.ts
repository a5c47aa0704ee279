// Incoming stanzas held while what decides them may be behind: a component whose decisions read
// kept state (clearances cached or held per occupant, verdicts) must not decide a stanza before it
// has heard every change published before the stanza arrived (@cordon/store
// notification-barrier.ts: after a pause, the stanzas and the change that concerns them wait in
// two sockets, read in an order nobody chose). The hold asks `heard()` for each stanza: undefined
// goes on at once; a promise holds that stanza and every later one, in order (RFC 6120 §10.1),
// until it settles — or, when a later stanza got another promise (the store wants a newer PING:
// the loop stalled meanwhile), until the latest settles. Held stanzas are bounded in bytes; past the bound a stanza is refused with
// `wait` (nothing of it in the error; errors and IQ results are dropped) — fail closed.
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
  /** The gate's promise the held stanzas wait for (the latest one it answered). */
  let waitingFor: Promise<void> | undefined;

  // Once the gate settled — heard, or no answer in time (then the store is not current and its
  // own outage rules decide: nothing is held twice) — what was held goes on, in order.
  const release = (): void => {
    waitingFor = undefined;
    const out = held.splice(0);
    bytes = 0;
    for (const { stanza } of out) options.dispatch(stanza);
  };
  const wait = (until: Promise<void>): void => {
    waitingFor = until;
    const settled = (): void => {
      if (waitingFor === until) release();
    };
    void until.then(settled, settled);
  };

  return {
    receive(stanza) {
      // Asked for every stanza, held ones too: what a stanza received while others wait needs may
      // be more (the loop stalled meanwhile: a PING sent after the stall), and then all wait for it.
      const until = heard?.();
      if (waitingFor === undefined) {
        if (!until) return options.dispatch(stanza);
        wait(until);
      } else if (until && until !== waitingFor) wait(until);
      const b = elementBytes(stanza);
      if (bytes + b > maxBytes) {
        if (!isErrorStanza(stanza) && !(stanza.name === "iq" && stanza.attrs.type === "result"))
          options.refuse(stanza);
        return;
      }
      held.push({ stanza, bytes: b });
      bytes += b;
    },
    gate(next) {
      heard = next;
    },
    get heldBytes() {
      return bytes;
    },
  };
}
