// `cordon audit verify FILE`: checks the hash chain of a relay audit log. Exit 0 when every record
// chains to the previous one, 1 naming the first bad record, 2 when the file cannot be read.
import { readFileSync } from "node:fs";
import { verifyAuditText } from "@cordon/relay";
import { UsageError, type Command } from "../command.js";

export const auditCommand: Command = {
  name: "audit",
  summary: "check a relay audit log's hash chain: audit verify FILE",
  async run(args, io) {
    const [sub, file, ...rest] = args;
    if (sub !== "verify" || !file || rest.length > 0) throw new UsageError("usage: cordon audit verify FILE");
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const result = verifyAuditText(text);
    if (result.ok) {
      io.stdout(`${file}: chain verified, ${result.records} records, head ${result.head}`);
      return 0;
    }
    io.stdout(`${file}: chain broken at line ${result.line}${result.seq !== undefined ? ` (record ${result.seq})` : ""}: ${result.problem}; ${result.records} records before it verify`);
    return 1;
  },
};
