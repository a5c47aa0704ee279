// Logs a backend's connection loss and recovery once per transition, never per request.
import type { Logger } from "pino";

export class ConnectionWatch {
  readonly #log: Logger;
  readonly #what: string;
  #state: "initial" | "up" | "down" = "initial";

  constructor(log: Logger, what: string) {
    this.#log = log;
    this.#what = what;
  }

  get isUp(): boolean {
    return this.#state === "up";
  }

  get isDown(): boolean {
    return this.#state === "down";
  }

  /** Returns true when this is a recovery (down -> up). */
  up(): boolean {
    const was = this.#state;
    this.#state = "up";
    if (was === "down") {
      this.#log.info({ backend: this.#what }, `${this.#what} connection restored`);
      return true;
    }
    return false;
  }

  /** Returns true when this is a new loss (logged); repeated failures are silent. */
  down(reason: unknown): boolean {
    if (this.#state === "down") return false;
    const was = this.#state;
    this.#state = "down";
    const err = reason instanceof Error ? reason.message : String(reason);
    this.#log.warn(
      { backend: this.#what, err },
      was === "initial" ? `${this.#what} unreachable` : `${this.#what} connection lost`,
    );
    return true;
  }
}
