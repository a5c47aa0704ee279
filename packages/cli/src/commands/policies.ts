// Loading --policy SPIF files into a registry for the label and acdf commands.
import { readFileSync } from "node:fs";
import { PolicyRegistry } from "@cordon/policy";
import { UsageError } from "./io.js";
import type { ParsedArgs } from "./io.js";

export function registryFrom(p: ParsedArgs): PolicyRegistry {
  const files = p.options.get("policy") ?? [];
  if (files.length === 0) throw new UsageError("missing --policy SPIF (repeatable)");
  const registry = new PolicyRegistry();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    registry.loadString(text);
  }
  return registry;
}
