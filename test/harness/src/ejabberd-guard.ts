// Cordon's ejabberd module for the central check (deploy/ejabberd/modules/mod_cordon_guard.erl),
// compiled as an admin compiles it: the `erlc` that comes with ejabberd's Erlang, against the
// include files ejabberd's package installs (its own, and the xmpp library's — Debian names that
// application p1_xmpp), into an ebin directory the node is started with (`-pa`). The compiled module
// is kept per source: one erlc run per distinct mod_cordon_guard.erl (and erlc, include
// directories) for every ejabberd node of a test run, in the system temp directory.
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
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

/**
 * The compiled module's ebin directory: compiled once per source (about a second) into
 * `$TMPDIR/cordon-guard-ebin-<sha256 of the source, erlc (path, mtime) and include paths>`, reused by every later
 * node. `dir` is the node's own directory, where a first compilation happens before it is moved
 * into place (a rename: two test files compiling at once both end with a whole module).
 */
export function compileGuardModule(erl: string, erlLibs: string, dir: string): string {
  const roots = [erlLibs, "/usr/lib/erlang/lib"];
  const xmppInclude = includeOf(roots, /^(p1_)?xmpp-\d/);
  const ejabberdInclude = includeOf(roots, /^ejabberd-\d/);
  if (!xmppInclude || !ejabberdInclude)
    throw new GuardModuleError("ejabberd's include files (its own, the xmpp library's) are not installed");
  const erlc = join(dirname(erl), "erlc");
  const source = join(deployDir(), "ejabberd", "modules", "mod_cordon_guard.erl");
  const key = createHash("sha256")
    .update(readFileSync(source))
    .update(
      `\0${erlc}\0${existsSync(erlc) ? statSync(erlc).mtimeMs : ""}\0${xmppInclude}\0${ejabberdInclude}`,
    )
    .digest("hex")
    .slice(0, 32);
  const cached = join(tmpdir(), `cordon-guard-ebin-${key}`);
  if (existsSync(join(cached, "mod_cordon_guard.beam"))) return cached;
  mkdirSync(dir, { recursive: true });
  const ebin = mkdtempSync(join(dir, "cordon-ebin-"));
  const args = ["-Werror", "-o", ebin, "-I", xmppInclude, "-I", ejabberdInclude];
  args.push("-pa", join(dirname(ejabberdInclude), "ebin"), source);
  try {
    execFileSync(existsSync(erlc) ? erlc : "erlc", args, { cwd: dir, timeout: 60_000, stdio: "pipe" });
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new GuardModuleError(output.slice(0, 2000), { cause: error });
  }
  try {
    renameSync(ebin, cached);
  } catch {
    // Another node compiled the same source meanwhile (the target exists): use either copy.
    if (!existsSync(join(cached, "mod_cordon_guard.beam"))) return ebin;
    rmSync(ebin, { recursive: true, force: true });
  }
  return cached;
}
