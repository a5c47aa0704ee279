// cordon label decode|marking|translate — inspect and convert labels.
//   label decode --policy SPIF… FILE|-            JSON: policy, classification, categories, marking, validity
//   label marking --policy SPIF… [--lang L] FILE   the display marking computed from the policy
//   label translate --policy SPIF… --to OID FILE   the label in the equivalent policy (JSON, with marking and DER base64)
import { encodeEssLabel, labelMarking, labelProblems, parseLabelData, translateLabel } from "@cordon/policy";
import type { Label } from "@cordon/policy";
import { parseArgs, readInput, required, UsageError } from "./io.js";
import type { Command, CommandIo } from "../command.js";
import { registryFrom } from "./policies.js";

function describe(label: Label, lang: string): Record<string, unknown> {
  return {
    policy: { id: label.policy.id, name: label.policy.name },
    classification: { name: label.classification.name, lacv: label.classification.lacv },
    categories: label.categories.map((c) => ({
      tagSet: c.tagSet.name,
      tagSetId: c.tagSet.id,
      tag: c.tag.name,
      type: c.tagType,
      name: c.name,
      lacv: c.lacv,
    })),
    marking: labelMarking(label, lang),
    valid: labelProblems(label).length === 0,
    problems: labelProblems(label),
    ...(label.privacyMark !== undefined ? { privacyMark: label.privacyMark } : {}),
    ess: Buffer.from(encodeEssLabel(label)).toString("base64"),
  };
}

function run(args: readonly string[], io: CommandIo): number {
  const [sub, ...rest] = args;
  const p = parseArgs(rest, ["policy", "lang", "to"]);
  const file = p.positional[0];
  if (p.positional.length !== 1 || file === undefined)
    throw new UsageError(`usage: cordon label ${sub ?? "decode|marking|translate"} --policy SPIF FILE|-`);
  const lang = p.options.get("lang")?.at(-1) ?? "";
  const registry = registryFrom(p);
  const parsed = parseLabelData(readInput(file), registry);
  switch (sub) {
    case "decode":
      io.stdout(JSON.stringify(describe(parsed, lang), null, 2));
      return 0;
    case "marking":
      io.stdout(labelMarking(parsed, lang));
      return 0;
    case "translate": {
      const target = registry.require(required(p, "to"));
      io.stdout(JSON.stringify(describe(translateLabel(parsed, target), lang), null, 2));
      return 0;
    }
    default:
      throw new UsageError("usage: cordon label decode|marking|translate …");
  }
}

export const labelCommand: Command = {
  name: "label",
  summary: "label decode|marking|translate --policy SPIF FILE|-",
  run: async (args, io) => run(args, io),
};
