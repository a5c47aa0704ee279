// Cordon's ejabberd module for the central check (deploy/ejabberd/modules/mod_cordon_guard.erl),
// compiled as an admin compiles it: the `erlc` that comes with ejabberd's Erlang, against the
// include files ejabberd's package installs (its own, and the xmpp library's — Debian names that
// application p1_xmpp), into an ebin directory the node is started with (`-pa`).
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { deployDir } from "./templates.js";
import { execFileSync } from "node:child_process";
import { HarnessError } from "./errors.js";

/** ejabberd's include files or `erlc` cannot be found, or the module does not compile. */
export class GuardModuleError extends HarnessError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super("CORDON_HARNESS_GUARD_MODULE", `cannot build mod_cordon_guard: ${detail}`, options);
  }
}

/** The include directory of the first application in `roots` whose name matches. */
function includeOf(roots: string[], name: RegExp): string | undefined {
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    const app = entries
      .filter((e) => name.test(e))
      .sort()
      .pop();
    if (app && existsSync(join(root, app, "include"))) return join(root, app, "include");
  }
  return undefined;
}

/** Compiles the module into `<dir>/cordon-ebin` (about a second); returns that directory. */
export function compileGuardModule(erl: string, erlLibs: string, dir: string): string {
  const roots = [erlLibs, "/usr/lib/erlang/lib"];
  const xmppInclude = includeOf(roots, /^(p1_)?xmpp-\d/);
  const ejabberdInclude = includeOf(roots, /^ejabberd-\d/);
  if (!xmppInclude || !ejabberdInclude)
    throw new GuardModuleError("ejabberd's include files (its own, the xmpp library's) are not installed");
  const ebin = join(dir, "cordon-ebin");
  mkdirSync(ebin, { recursive: true });
  const erlc = join(dirname(erl), "erlc");
  const source = join(deployDir(), "ejabberd", "modules", "mod_cordon_guard.erl");
  const args = ["-Werror", "-o", ebin, "-I", xmppInclude, "-I", ejabberdInclude];
  args.push("-pa", join(dirname(ejabberdInclude), "ebin"), source);
  try {
    execFileSync(existsSync(erlc) ? erlc : "erlc", args, { cwd: dir, timeout: 60_000, stdio: "pipe" });
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new GuardModuleError(output.slice(0, 2000), { cause: error });
  }
  return ebin;
}
