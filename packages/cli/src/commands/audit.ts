// `cordon audit verify FILE [--anchor SEQ:HASH] [--key-file FILE | --key-env NAME | --config FILE]`:
// checks an audit log's keyed hash chain (HMAC-SHA256, issue 16 item 9). Exit 0 when every record
// is canonical, under the key, and chains to the previous one (and, with an anchor — the head the
// writer logs every N records and every minute — the log still holds that record), 1 naming the
// first bad record, 2 when the file or key cannot be read or the arguments are wrong.
// The key: --key-env NAME (the variable holds it), --key-file FILE, the config's audit section
// whose file this is (--config or $CORDON_CONFIG), else the generated STATE_DIR/audit-key.
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { loadConfigFile, type ConfigReader } from "@cordon/component";
import {
  auditKey,
  MIN_AUDIT_KEY_LENGTH,
  parseAuditAnchor,
  readAuditSection,
  verifyAuditFileChunked,
  type AuditAnchor,
  type AuditKey,
  type AuditSettings,
} from "@cordon/relay";
import { UsageError, type Command } from "../command.js";
import { parseArgs } from "./io.js";
import { AUDIT_KEY_FILE_NAME, auditKeyFile, readAuditKeyFile } from "../audit-log.js";
import { configPath, stateDir } from "../state-dir.js";

const USAGE =
  "usage: cordon audit verify FILE [--anchor SEQ:HASH] [--key-file FILE | --key-env NAME | --config FILE]";

/** The `audit:` sections of a config: the top level's and the relay's. */
function auditSections(root: ConfigReader): AuditSettings[] {
  const found: AuditSettings[] = [];
  if (root.has("audit")) found.push(readAuditSection(root.section("audit")));
  const relay = root.optionalSection("components")?.optionalSection("relay");
  if (relay?.has("audit")) found.push(readAuditSection(relay.section("audit")));
  return found;
}

function keyFor(file: string, options: Map<string, string[]>): AuditKey {
  const env = options.get("key-env")?.at(-1);
  if (env !== undefined) {
    const secret = process.env[env];
    if (!secret || secret.length < MIN_AUDIT_KEY_LENGTH)
      throw new UsageError(
        `$${env} does not hold an audit key (at least ${MIN_AUDIT_KEY_LENGTH} characters)`,
      );
    return auditKey(secret);
  }
  const keyFile = options.get("key-file")?.at(-1);
  try {
    if (keyFile !== undefined) return readAuditKeyFile(keyFile);
    const configFile = options.get("config")?.at(-1) ?? process.env.CORDON_CONFIG;
    if (configFile) {
      const root = loadConfigFile(configFile).root;
      const sections = auditSections(root);
      const own = sections.find((s) => configPath(root, s.file) === resolve(file)) ?? sections[0];
      if (own) return own.key !== undefined ? auditKey(own.key) : readAuditKeyFile(auditKeyFile(own, root));
    }
    return readAuditKeyFile(`${stateDir(undefined)}/${AUDIT_KEY_FILE_NAME}`);
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}: the chain is keyed; pass --key-file FILE, --key-env NAME or --config FILE`,
    );
  }
}

export const auditCommand: Command = {
  name: "audit",
  summary: "check an audit log's keyed hash chain: audit verify FILE [--anchor SEQ:HASH] [--key-file FILE]",
  async run(args, io) {
    const p = parseArgs(args, ["anchor", "key-file", "key-env", "config"]);
    const [sub, file, ...extra] = p.positional;
    if (sub !== "verify" || !file || extra.length > 0) throw new UsageError(USAGE);
    let anchor: AuditAnchor | undefined;
    const anchorText = p.options.get("anchor")?.at(-1);
    if (anchorText !== undefined) {
      anchor = parseAuditAnchor(anchorText);
      if (!anchor)
        throw new UsageError(
          `--anchor expects SEQ:HASH (a record number and its 64-hex-digit hash), as the log shows it; ${USAGE}`,
        );
    }
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const key = keyFor(file, p.options);
    // Read in bounded chunks (the admin console's verify is the same function).
    let result: Awaited<ReturnType<typeof verifyAuditFileChunked>>;
    try {
      result = await verifyAuditFileChunked(file, key, anchor);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (result.ok) {
      io.stdout(
        `${file}: chain verified under key ${key.id}, ${result.records} records, head ${result.records}:${result.head}${anchor ? `, anchor ${anchor.seq} present` : ""}`,
      );
      return 0;
    }
    io.stdout(
      `${file}: chain broken at line ${result.line}${result.seq !== undefined ? ` (record ${result.seq})` : ""}: ${result.problem}; ${result.records} records before it verify`,
    );
    return 1;
  },
};
