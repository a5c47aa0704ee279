// The shape of a `cordon` sub-command. Each lives in commands/<name>.ts and is listed in main.ts.
import { CordonError } from "@cordon/errors";
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Command {
  /** e.g. "start", "label", "clearance". */
  name: string;
  /** One line for `cordon help`. */
  summary: string;
  /** Returns the exit status: 0 ok, 1 a negative answer (test failures, deny), 2 bad input. */
  run(args: string[], io: CommandIo): Promise<number>;
}

/** A user error: printed as one line without a stack trace, exit status 2. */
export class UsageError extends CordonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CORDON_CLI_USAGE", message, options);
  }
}
