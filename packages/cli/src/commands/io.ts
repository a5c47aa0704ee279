// Shared helpers for cordon commands: argument parsing, input reading, user errors (exit 2, no stack trace).
import { readFileSync } from "node:fs";

import { UsageError } from "../command.js";

export { UsageError };

export interface ParsedArgs {
  readonly positional: string[];
  readonly options: Map<string, string[]>;
}

/** Parse `--name value` options (repeatable) and positional arguments. `-` is positional. */
export function parseArgs(args: readonly string[], known: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      options.set(name, [...(options.get(name) ?? []), value]);
    } else positional.push(a);
  }
  return { positional, options };
}

/** The single value of a required option. */
export function required(p: ParsedArgs, name: string): string {
  const v = p.options.get(name);
  if (!v || v.length === 0) throw new UsageError(`missing --${name}`);
  return v[v.length - 1]!;
}

/** Read a file or stdin (`-`). A missing file is a user error. */
export function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path === "-" ? 0 : path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
