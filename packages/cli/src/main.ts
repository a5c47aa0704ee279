#!/usr/bin/env node
// The `cordon` command: a small dispatcher over commands/*.ts.
import type { Command, CommandIo } from "./command.js";
import { acdfCommand } from "./commands/acdf.js";
import { conformanceCommand } from "./commands/conformance.js";
import { labelCommand } from "./commands/label.js";
import { startCommand } from "./commands/start.js";
import { clearanceCommand } from "./commands/clearance.js";
import { peerCommand } from "./commands/peer.js";
import { auditCommand } from "./commands/audit.js";
import { checkConfigCommand } from "./commands/check-config.js";
import { adminCommand } from "./commands/admin.js";

const COMMANDS: Command[] = [
  startCommand,
  conformanceCommand,
  labelCommand,
  acdfCommand,
  clearanceCommand,
  peerCommand,
  auditCommand,
  checkConfigCommand,
  adminCommand,
];

const io: CommandIo = {
  stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: cordon <command> [options]",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    io.stdout(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`cordon: unknown command "${name}"\n${help()}`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // Typed errors from our packages carry a stable `code`: one clear line, no stack trace.
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("CORDON_")) {
      io.stderr(`cordon ${name}: ${(error as Error).message}`);
      return 2;
    }
    io.stderr(
      `cordon ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
}

const status = await main(process.argv.slice(2));
// `start` keeps running until a signal; every other command exits with its status.
if (status !== -1) process.exitCode = status;
