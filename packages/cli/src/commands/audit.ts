// `cordon audit verify FILE [--anchor SEQ:HASH]`: checks the hash chain of a relay audit log. Exit 0
// when every record chains to the previous one (and, with an anchor — the head the relay logs every
// minute — the log still holds that record), 1 naming the first bad record, 2 when the file cannot
// be read or the arguments are wrong.
import { readFileSync } from "node:fs";
import { parseAuditAnchor, verifyAuditText, type AuditAnchor } from "@cordon/relay";
import { UsageError, type Command } from "../command.js";

const USAGE = "usage: cordon audit verify FILE [--anchor SEQ:HASH]";

export const auditCommand: Command = {
  name: "audit",
  summary: "check a relay audit log's hash chain: audit verify FILE [--anchor SEQ:HASH]",
  async run(args, io) {
    const [sub, file, ...rest] = args;
    if (sub !== "verify" || !file || file.startsWith("--")) throw new UsageError(USAGE);
    let anchor: AuditAnchor | undefined;
    if (rest.length > 0) {
      if (rest.length !== 2 || rest[0] !== "--anchor") throw new UsageError(USAGE);
      anchor = parseAuditAnchor(rest[1] ?? "");
      if (!anchor)
        throw new UsageError(
          `--anchor expects SEQ:HASH (a record number and its 64-hex-digit hash), as the relay logs it; ${USAGE}`,
        );
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const result = verifyAuditText(text, anchor);
    if (result.ok) {
      io.stdout(
        `${file}: chain verified, ${result.records} records, head ${result.records}:${result.head}${anchor ? `, anchor ${anchor.seq} present` : ""}`,
      );
      return 0;
    }
    io.stdout(
      `${file}: chain broken at line ${result.line}${result.seq !== undefined ? ` (record ${result.seq})` : ""}: ${result.problem}; ${result.records} records before it verify`,
    );
    return 1;
  },
};
