// `cordon admin hash-password`: the scrypt hash of a console user's password, for
// `admin.console.users[].passwordHash` (@cordon/console passwords.ts). The password is read from
// standard input (one line; piped, or typed at a prompt that does not echo), never from the
// command line, where other users of the machine could read it (ps, shell history).
import { hashPassword } from "@cordon/console";
import type { CommandIo } from "../command.js";
import { UsageError } from "./io.js";

const MIN_LENGTH = 8;
const MAX_LENGTH = 1024;

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LENGTH + 2) throw new UsageError(`the password is longer than ${MAX_LENGTH} characters`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/u, "");
}

/** Reads a line from the terminal without echoing it. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let text = "";
    const onData = (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          done();
          resolve(text);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(new UsageError("cancelled"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else if (text.length < MAX_LENGTH) text += ch;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

export async function hashPasswordCommand(args: readonly string[], io: CommandIo): Promise<number> {
  if (args.length > 0)
    throw new UsageError("usage: cordon admin hash-password   (reads the password from standard input)");
  let password: string;
  if (process.stdin.isTTY) {
    password = await prompt("Password: ");
    if ((await prompt("Again: ")) !== password) throw new UsageError("the two passwords differ");
  } else password = await readPiped();
  if (password.length < MIN_LENGTH)
    throw new UsageError(`the password is shorter than ${MIN_LENGTH} characters`);
  io.stdout(await hashPassword(password));
  return 0;
}
