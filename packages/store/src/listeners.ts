// A set of change listeners. A throwing listener is logged and never breaks the writer or other listeners.
import type { Logger } from "pino";
import type { StoreEvent, StoreListener, Unsubscribe } from "./types.js";

export class ListenerSet {
  readonly #listeners = new Set<StoreListener>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: StoreListener): Unsubscribe {
    // Wrap so the same function can be subscribed twice and unsubscribed independently.
    const wrapped: StoreListener = (e) => listener(e);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  emit(event: StoreEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (err) {
        this.#log.error({ err, event: event.kind }, "store listener threw");
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
