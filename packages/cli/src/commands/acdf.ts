// cordon acdf --policy SPIF… --label L --clearance C — prints "grant" or "deny: <reason>"; exit 0 grant, 1 deny.
import { acdf as decide, parseClearance, parseLabelData, translateLabel } from "@cordon/policy";
import { parseArgs, readInput, required, UsageError } from "./io.js";
import type { Command, CommandIo } from "../command.js";
import { registryFrom } from "./policies.js";

function run(args: readonly string[], io: CommandIo): number {
  const p = parseArgs(args, ["policy", "label", "clearance"]);
  if (p.positional.length > 0)
    throw new UsageError("usage: cordon acdf --policy SPIF --label L --clearance C");
  const registry = registryFrom(p);
  let label = parseLabelData(readInput(required(p, "label")), registry);
  const clearance = parseClearance(readInput(required(p, "clearance")), registry);
  // A label from an equivalent policy is translated into the clearance's policy first.
  if (label.policy !== clearance.policy) label = translateLabel(label, clearance.policy);
  const d = decide(label, clearance);
  io.stdout(d.granted ? `grant (${d.reason})` : `deny (${d.reason})`);
  return d.granted ? 0 : 1;
}

export const acdfCommand: Command = {
  name: "acdf",
  summary: "acdf --policy SPIF --label L --clearance C: grant or deny, and why",
  run: async (args, io) => run(args, io),
};
