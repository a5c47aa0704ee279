// Where Cordon keeps what it generates at first start (the admin API token, the audit key): the
// top-level `stateDir:` of the config, else $CORDON_STATE_DIR, else $STATE_DIRECTORY (set by
// systemd's StateDirectory=, deploy/systemd), else ~/.local/state/cordon (XDG base directories:
// $XDG_STATE_HOME/cordon). The `cordon` command resolves the same way, so it finds what a
// `cordon start` run as the same user generated.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { ConfigReader } from "@cordon/component";

export function stateDir(root: ConfigReader | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const configured = root?.optionalString("stateDir");
  if (configured !== undefined)
    return isAbsolute(configured) || !root?.file
      ? resolve(configured)
      : resolve(dirname(root.file), configured);
  if (env.CORDON_STATE_DIR) return resolve(env.CORDON_STATE_DIR);
  const systemd = env.STATE_DIRECTORY?.split(":")[0];
  if (systemd) return resolve(systemd);
  return join(
    env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), ".local", "state"),
    "cordon",
  );
}

/** A path of the config: absolute, or relative to the config file's directory. */
export function configPath(root: ConfigReader, p: string): string {
  return isAbsolute(p) || !root.file ? resolve(p) : resolve(dirname(root.file), p);
}

/**
 * Reads a secret file Cordon generated (or the operator wrote), creating it first — 32 random
 * bytes as hex, mode 0600 in a 0700 directory — when it does not exist. `created` says whether it
 * was made now (the caller logs where it is).
 */
export function ensureSecretFile(file: string): { secret: string; created: boolean } {
  let created = false;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // "wx": never overwrite one that another process created meanwhile.
      writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  // A secret others may read is no secret: tighten it (the owner keeps access).
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readFileSync(file, "utf8").replace(/\r?\n$/u, "");
  return { secret, created };
}

/** Reads a secret file if it exists (the CLI side: it never creates one). */
export function readSecretFile(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/u, "");
  } catch {
    return undefined;
  }
}
