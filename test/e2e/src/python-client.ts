// A third-party client in a child process: Debian's python3-slixmpp driven over stdin/stdout JSON
// lines by clients/slix.py (docs/clients.md §3: slixmpp shows the body). The test asks, the script
// answers; every stanza the client receives comes back as XML, parsed here for the assertions.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseElement, type Element } from "@cordon/component";
import type { XmppServer } from "@cordon/harness";

const clientsDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../clients");
/** Debian's interpreter: the packages are Debian's (a pyenv python on PATH does not see them). */
const PYTHON = "/usr/bin/python3";

type Answer = Record<string, unknown> & { re: number; error?: string };

export class PythonClient {
  readonly received: Element[] = [];
  readonly stderr: string[] = [];
  #next = 1;
  #pending = new Map<number, (a: Answer) => void>();
  #waiters = new Set<() => void>();

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      let msg: Answer & { stanza?: string };
      try {
        msg = JSON.parse(line) as Answer & { stanza?: string };
      } catch {
        this.#note(`stdout: ${line.slice(0, 200)}`);
        return;
      }
      if (typeof msg.stanza === "string") {
        try {
          this.received.push(parseElement(msg.stanza));
        } catch {
          this.#note(`unparsable stanza: ${msg.stanza.slice(0, 200)}`);
          return;
        }
        for (const w of this.#waiters) w();
        return;
      }
      this.#pending.get(msg.re)?.(msg);
      this.#pending.delete(msg.re);
    });
    createInterface({ input: child.stderr }).on("line", (line) => this.#note(line));
  }

  /** Keeps a line of the script's diagnostics (at most 200, each at most 500 characters). */
  #note(line: string): void {
    if (this.stderr.length < 200) this.stderr.push(line.slice(0, 500));
  }

  /** Starts `script` (in test/e2e/clients) and logs in as `user` to `server`, plain c2s like connectClient. */
  static async connect(
    script: string,
    server: XmppServer,
    user: string,
    password: string,
    plugins: readonly string[],
  ): Promise<PythonClient> {
    const child = spawn(PYTHON, [resolve(clientsDir, script)], { stdio: "pipe" });
    const client = new PythonClient(child);
    const answer = await client.ask({
      op: "connect",
      host: server.host,
      port: server.c2sPort,
      jid: `${user}@${server.domain}/slix`,
      password,
      plugins,
    });
    if (answer.error) {
      await client.stop();
      throw new Error(`${script} ${user}: ${answer.error}`);
    }
    return client;
  }

  /** Sends one command; resolves with its answer, fails after `ms`. */
  ask(command: Record<string, unknown>, ms = 15_000): Promise<Answer> {
    const re = this.#next++;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(re);
        reject(new Error(`no answer to ${String(command.op)}; stderr: ${this.stderr.slice(-5).join(" | ")}`));
      }, ms);
      this.#pending.set(re, (a) => {
        clearTimeout(timer);
        resolvePromise(a);
      });
      this.child.stdin.write(`${JSON.stringify({ ...command, re })}\n`);
    });
  }

  /** The first received stanza matching `pred` (already received or arriving within `ms`). */
  waitFor(pred: (s: Element) => boolean, ms = 8000): Promise<Element> {
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        const found = this.received.find(pred);
        if (!found) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolvePromise(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error("no matching stanza received"));
      }, ms);
      this.#waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.write(`${JSON.stringify({ op: "stop" })}\n`);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Runs `script` (in test/e2e/clients) once with `args` as one JSON argument and resolves with the
 * JSON object it prints last; fails after `ms` (the process is killed).
 */
export function runPythonOnce(script: string, args: Record<string, unknown>, ms = 20_000): Promise<Answer> {
  const child = spawn(PYTHON, [resolve(clientsDir, script), JSON.stringify(args)], { stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-65_536)));
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").pop();
      if (!last) reject(new Error(`${script} exited ${String(code)} with no answer: ${err}`));
      else resolvePromise(JSON.parse(last) as Answer);
    });
  });
}
