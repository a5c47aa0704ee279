// cordon clearance set|get|list|rm — administrator-set user clearances in the shared store.
//   clearance set JID FILE|- --policy SPIF… [--for-policy OID]   store a clearance (XML, BER or base64 BER); prints its marking
//   clearance get JID [--for-policy OID] [--policy SPIF…]        print the stored clearance's marking (exit 1 if none)
//   clearance list [--policy SPIF…]                              every stored user clearance
//   clearance rm JID [--for-policy OID]                          remove it (exit 1 if there was none)
//   clearance import FILE|- --policy SPIF… [--format csv|ldif] [--dry-run]
//                     many users from one CSV or LDIF file in one process (clearance-import.ts):
//                     every row is checked first; one bad row and nothing is written (exit 1)
// Store: --redis URL (key prefix --prefix or CORDON_REDIS_PREFIX), or --config FILE (its store.redis:
// one Redis or Sentinel), else REDIS_URL, else CORDON_CONFIG (store-access.ts).
import type { PolicyRegistry } from "@cordon/policy";
import { applyImport, planImport, type ImportFormat } from "../clearance-import.js";
import { normaliseBareJid } from "@cordon/store";
import type { Command, CommandIo } from "../command.js";
import { parseArgs, readInput, UsageError, type ParsedArgs } from "./io.js";
import { registryFrom } from "./policies.js";
import { describeClearance, openStore, readClearanceFile, STORE_OPTIONS } from "./store-access.js";

const USAGE =
  "usage: cordon clearance set JID FILE|- --policy SPIF [--for-policy OID] | get JID | list | rm JID | import FILE|- --policy SPIF [--format csv|ldif] [--dry-run]  [--redis URL | --config FILE]";

function optionalRegistry(p: ParsedArgs): PolicyRegistry | undefined {
  return (p.options.get("policy") ?? []).length > 0 ? registryFrom(p) : undefined;
}

async function run(args: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "import") return runImport(rest, io);
  const p = parseArgs(rest, ["policy", "for-policy", ...STORE_OPTIONS]);
  const forPolicy = p.options.get("for-policy")?.at(-1);
  const [jid, file] = p.positional;
  const arity: Record<string, number> = { set: 2, get: 1, list: 0, rm: 1 };
  if (sub === undefined || arity[sub] === undefined || p.positional.length !== arity[sub])
    throw new UsageError(USAGE);
  // Parse the file before touching the store, so a bad file never reaches it.
  const input = sub === "set" ? readClearanceFile(file ?? "-", registryFrom(p)) : undefined;
  const store = await openStore(p);
  try {
    switch (sub) {
      case "set": {
        if (input === undefined || jid === undefined) throw new UsageError(USAGE);
        await store.setUserClearance(jid, input.raw, forPolicy);
        io.stdout(`${normaliseBareJid(jid)}${forPolicy ? ` [${forPolicy}]` : ""}: ${input.marking}`);
        return 0;
      }
      case "get": {
        const r = await store.getUserClearance(jid ?? "", forPolicy);
        if (r.status === "known") {
          io.stdout(`${normaliseBareJid(jid ?? "")}: ${describeClearance(r.clearance, optionalRegistry(p))}`);
          return 0;
        }
        if (r.status === "none") {
          io.stdout(`${normaliseBareJid(jid ?? "")}: no clearance in the store`);
          return 1;
        }
        io.stderr(`cordon clearance: store unavailable: ${r.reason}`);
        return 2;
      }
      case "list": {
        const registry = optionalRegistry(p);
        for (const e of await store.listUserClearances()) {
          io.stdout(
            `${e.jid}${e.policy ? ` [${e.policy}]` : ""}\t${describeClearance(e.clearance, registry)}`,
          );
        }
        return 0;
      }
      case "rm": {
        const removed = await store.deleteUserClearance(jid ?? "", forPolicy);
        io.stdout(
          removed
            ? `${normaliseBareJid(jid ?? "")}: removed`
            : `${normaliseBareJid(jid ?? "")}: no clearance in the store`,
        );
        return removed ? 0 : 1;
      }
      default:
        throw new UsageError(USAGE);
    }
  } finally {
    await store.close();
  }
}

/**
 * `clearance import`: the whole file parsed under the policies (the first --policy is the governing
 * one, as the first of a config's `policies`), each row printed with its marking or its error,
 * then — only when every row is good and not --dry-run — written over one store connection.
 */
async function runImport(args: readonly string[], io: CommandIo): Promise<number> {
  const dryRun = args.includes("--dry-run");
  const p = parseArgs(
    args.filter((a) => a !== "--dry-run"),
    ["policy", "format", ...STORE_OPTIONS],
  );
  const [file] = p.positional;
  if (file === undefined || p.positional.length !== 1) throw new UsageError(USAGE);
  const format = p.options.get("format")?.at(-1);
  if (format !== undefined && format !== "csv" && format !== "ldif")
    throw new UsageError("--format must be csv or ldif");
  const registry = registryFrom(p);
  const governing = registry.policies()[0];
  if (!governing) throw new UsageError("missing --policy SPIF");
  const text = Buffer.from(readInput(file)).toString("utf8");
  const plan = planImport(text, registry, governing, format as ImportFormat | undefined);
  for (const row of plan.rows)
    io.stdout(`line ${row.line}\t${row.jid}${row.forPolicy ? ` [${row.forPolicy}]` : ""}\t${row.marking}`);
  for (const problem of plan.problems)
    io.stderr(`line ${problem.line}${problem.jid ? `\t${problem.jid}` : ""}\terror: ${problem.error}`);
  if (plan.problems.length > 0) {
    io.stderr(`cordon clearance import: ${plan.problems.length} row(s) refused: nothing was written`);
    return 1;
  }
  if (dryRun) {
    io.stdout(`${plan.rows.length} row(s) checked (dry run: nothing was written)`);
    return 0;
  }
  const store = await openStore(p);
  try {
    const { written } = await applyImport(plan, store);
    io.stdout(`${written} clearance(s) written`);
    return 0;
  } finally {
    await store.close();
  }
}

export const clearanceCommand: Command = {
  name: "clearance",
  summary:
    "clearance set|get|list|rm JID [FILE] | import FILE — user clearances in the store (--redis URL or --config FILE)",
  run: (args, io) => run(args, io),
};
