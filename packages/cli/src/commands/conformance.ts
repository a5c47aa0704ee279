// cordon conformance PATH/tests.xml — run a conformance tests.xml; one line per failed case, then "N passed, M failed".
import { existsSync } from "node:fs";
import { runConformance } from "@cordon/policy";
import { UsageError } from "./io.js";
import type { Command, CommandIo } from "../command.js";

function run(args: readonly string[], io: CommandIo): number {
  const path = args[0];
  if (args.length !== 1 || path === undefined)
    throw new UsageError("usage: cordon conformance PATH/tests.xml");
  if (!existsSync(path)) throw new UsageError(`cannot read ${path}: ENOENT`);
  const report = runConformance(path);
  for (const c of report.cases)
    if (!c.passed) io.stdout(`FAIL ${c.name}: expected ${c.expected ?? "?"}, got ${c.got ?? "?"}`);
  io.stdout(`${report.passed} passed, ${report.failed} failed`);
  return report.failed === 0 ? 0 : 1;
}

export const conformanceCommand: Command = {
  name: "conformance",
  summary: "run a conformance tests.xml (N passed, M failed)",
  run: async (args, io) => run(args, io),
};
