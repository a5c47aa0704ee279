// `--config FILE [--only NAME[,NAME]]`, shared by `start` and `check-config`.
import { UsageError } from "../command.js";

export interface ConfigArgs {
  config: string;
  only?: string[];
}

/** Reads the arguments (the config may also come from CORDON_CONFIG); UsageError names `usage`. */
export function parseConfigArgs(args: readonly string[], usage: string): ConfigArgs {
  let config: string | undefined;
  const only: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--config" || arg === "-c") config = args[++i];
    else if (arg === "--only") only.push(...(args[++i] ?? "").split(",").filter(Boolean));
    else throw new UsageError(`unknown argument ${arg}; ${usage}`);
  }
  config ??= process.env.CORDON_CONFIG;
  if (!config) throw new UsageError(`missing --config FILE (or CORDON_CONFIG); ${usage}`);
  return { config, ...(only.length ? { only } : {}) };
}
