// What server.ts needs from each server implementation.
import type { ManagedProcess } from "./process.js";

export interface ServerLayout {
  dir: string;
  c2sPort: number;
  componentPort: number;
  /** HTTP listener (with `bosh`); 0 when none. */
  httpPort: number;
  /** Extra port (ejabberd: the Erlang distribution port of the node). */
  controlPort: number;
}

export interface ServerDriver {
  readonly label: string;
  spawn(): ManagedProcess;
  /** Extra readiness check after the ports answer (ejabberd: its "is started" log line at a first start, else ctl status). */
  ready(): Promise<boolean>;
  /** True when the logs show a listener could not bind (port taken by another process). */
  bindFailed(): boolean;
  logTail(lines: number): string;
  addUser(username: string, password: string, domain: string): Promise<void>;
  /** Registers many accounts at once (the initial users), faster than addUser one by one. */
  addUsers(users: { username: string; password: string }[], domain: string): Promise<void>;
  /** ejabberd: evaluates Erlang expressions on the node (an operator's `ejabberdctl debug`); the value printed. */
  evalErlang?(expressions: string): Promise<string>;
}
