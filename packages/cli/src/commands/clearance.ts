// cordon clearance set|get|list|rm — administrator-set user clearances in the shared store.
//   clearance set JID FILE|- --policy SPIF… [--for-policy OID]   store a clearance (XML, BER or base64 BER); prints its marking
//   clearance get JID [--for-policy OID] [--policy SPIF…]        print the stored clearance's marking (exit 1 if none)
//   clearance list [--policy SPIF…]                              every stored user clearance
//   clearance rm JID [--for-policy OID]                          remove it (exit 1 if there was none)
// Store: --redis URL or REDIS_URL; key prefix --prefix or CORDON_REDIS_PREFIX.
import type { PolicyRegistry } from "@cordon/policy";
import { normaliseBareJid } from "@cordon/store";
import type { Command, CommandIo } from "../command.js";
import { parseArgs, UsageError, type ParsedArgs } from "./io.js";
import { registryFrom } from "./policies.js";
import { describeClearance, openStore, readClearanceFile, STORE_OPTIONS } from "./store-access.js";

const USAGE =
  "usage: cordon clearance set JID FILE|- --policy SPIF [--for-policy OID] | get JID | list | rm JID  [--redis URL]";

function optionalRegistry(p: ParsedArgs): PolicyRegistry | undefined {
  return (p.options.get("policy") ?? []).length > 0 ? registryFrom(p) : undefined;
}

async function run(args: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
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

export const clearanceCommand: Command = {
  name: "clearance",
  summary: "clearance set|get|list|rm JID [FILE] — user clearances in the store (--redis URL)",
  run: (args, io) => run(args, io),
};
