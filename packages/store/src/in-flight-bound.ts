// A byte bound on what one ioredis connection holds: every command handed to it and not yet let go.
// ioredis keeps a command (its arguments, and the bytes written for it in the socket's buffer) in its
// command queue until Redis answers it or the connection closes — also after a timeout has rejected
// the caller. While Redis does not answer (paused, SIGSTOP, a stalled network) the connection stays
// up and every turn adds commands: measured +100 MB in a 6 s pause (packages/store/README.md).
//
// Counted: the bytes ioredis writes for each command (its name and arguments in RESP), from the
// moment it is handed to ioredis until ioredis settles the command itself — Redis's reply, Redis's error, or the queue
// flushed when the connection closes. The caller's timeout is ours (not ioredis' `commandTimeout`,
// which settles the same promise and would hide when ioredis lets go): it rejects the caller and
// leaves the command counted. Over the bound a new command fails at once with
// StoreUnavailableError and nothing is queued (fail closed). One command larger than the whole bound
// goes when nothing else is held (as one oversized history entry goes alone in history-batch.ts).
//
// A pipeline or MULTI (ioredis writes its commands in one piece once all of them are handed over) is
// admitted or refused whole, on its first command: a refused command in the middle would leave the
// others queued and never written, and Redis's replies would then be matched to the wrong commands.
// So an admitted pipeline may pass the bound by its own size (which its caller holds anyway).
//
// A connection's own setup (HELLO, AUTH, SELECT, CLIENT, READONLY, INFO sent by ioredis while its
// status is "connect") is counted but never refused: a connection that retries requests
// (maxRetriesPerRequest ≥ 1, the cluster membership's) keeps what the closed connection held to send
// it again once ready, still counted; refusing the next connection's setup because of it made ioredis
// give that connection up and try again, refused again, forever (adversarial review adv54). These are
// a handful of small commands per connection attempt, flushed with it.
import type { Redis } from "ioredis";
import { InvalidValueError, StoreUnavailableError } from "./errors.js";

/** Default bound per connection: 8 MiB of command bytes not yet answered. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

export interface InFlightBoundOptions {
  /** Bytes of commands held by the connection at most (default 8 MiB). */
  readonly maxBytes?: number;
  /** A command not answered within this time rejects its caller (undefined: never). */
  readonly timeoutMs?: number | undefined;
  /** Names the connection in the refusal's message (no command content is ever put there). */
  readonly what: string;
}

/** What ioredis' sendCommand hands over: its Command, as much of it as is read here. */
interface Command {
  readonly name: string;
  readonly args: readonly unknown[];
  promise: Promise<unknown>;
  resolve: (value: unknown) => unknown;
  reject: (err: Error) => unknown;
}

type SendCommand = (command: Command, stream?: unknown) => unknown;

// ioredis' handshake commands (its Command flag HANDSHAKE_COMMANDS; event_handler.js getHandshakeCommands
// and the ready check's INFO).
const SETUP = new Set(["auth", "hello", "select", "client", "readonly", "info"]);

// ioredis has made every argument a string or a Buffer when the command is built (Command
// stringifyArguments, run by its constructor), before it reaches sendCommand.
function argBytes(a: unknown): number {
  if (typeof a === "string") return Buffer.byteLength(a, "utf8");
  if (Buffer.isBuffer(a)) return a.length;
  if (typeof a === "number") return String(a).length;
  return 0;
}

// "$<len>\r\n<bytes>\r\n": one bulk string as written (RESP, https://redis.io/docs/latest/develop/reference/protocol-spec/#bulk-strings).
function bulkBytes(n: number): number {
  return 1 + String(n).length + 2 + n + 2;
}

// The bytes ioredis writes for the command (Command toWritable: "*<argc>\r\n" and one bulk string per
// name and argument), not only its arguments' bytes: with many short arguments the framing is most of
// what is written and held (adversarial review adv54: 100 one-byte arguments were counted 106 bytes and
// written 724, so the bound held almost 7 times its size).
function commandBytes(c: Command): number {
  let n = 1 + String(c.args.length + 1).length + 2 + bulkBytes(Buffer.byteLength(c.name, "utf8"));
  for (const a of c.args) n += bulkBytes(argBytes(a));
  return n;
}

function isPipeline(stream: unknown): stream is object {
  return typeof stream === "object" && stream !== null && "isPipeline" in stream;
}

export function checkMaxInFlightBytes(v: number | undefined): number {
  if (v === undefined) return DEFAULT_MAX_IN_FLIGHT_BYTES;
  if (!Number.isSafeInteger(v) || v < 1024)
    throw new InvalidValueError("maxInFlightBytes must be an integer ≥ 1024");
  return v;
}

export class InFlightBound {
  readonly maxBytes: number;
  readonly #timeoutMs: number | undefined;
  readonly #what: string;
  readonly #client: { readonly status: string };
  #bytes = 0;
  #commands = 0;
  #unrefused = false;
  #refused = 0;
  /** Commands counted once: ioredis hands a command over again when it resends it after a reconnection. */
  readonly #counted = new WeakSet<Command>();
  /** One decision per pipeline (its write stream is shared by its commands). */
  readonly #pipelines = new WeakMap<object, boolean>();

  constructor(client: Redis, options: InFlightBoundOptions) {
    this.maxBytes = checkMaxInFlightBytes(options.maxBytes);
    this.#timeoutMs = options.timeoutMs;
    this.#what = options.what;
    this.#client = client;
    const target = client as unknown as { sendCommand: SendCommand };
    const send = target.sendCommand.bind(client);
    target.sendCommand = (command, stream) => this.#send(send, command, stream);
  }

  /** Bytes of commands held by the connection now. */
  get heldBytes(): number {
    return this.#bytes;
  }

  /** Commands held by the connection now. */
  get heldCommands(): number {
    return this.#commands;
  }

  /** Commands refused at once since the start. */
  get refused(): number {
    return this.#refused;
  }

  #send(send: SendCommand, command: Command, stream: unknown): unknown {
    if (this.#counted.has(command)) return send(command, stream);
    const bytes = commandBytes(command);
    let admit: boolean;
    if (isPipeline(stream)) {
      const decided = this.#pipelines.get(stream);
      admit = decided ?? this.#admits(bytes);
      if (decided === undefined) this.#pipelines.set(stream, admit);
    } else admit = this.#unrefused || this.#isSetup(command, stream) || this.#admits(bytes);
    if (!admit) {
      this.#refused++;
      command.reject(
        new StoreUnavailableError(
          `${this.#what}: ${this.#bytes} bytes of commands unanswered (bound ${this.maxBytes}); refused at once`,
        ),
      );
      return command.promise;
    }
    this.#counted.add(command);
    this.#bytes += bytes;
    this.#commands++;
    // ioredis settles the command when Redis answers or the queue is flushed: then it lets go.
    const resolve = command.resolve;
    const reject = command.reject;
    let held = true;
    let timer: NodeJS.Timeout | undefined;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.#bytes -= bytes;
      this.#commands--;
      if (timer !== undefined) clearTimeout(timer);
    };
    command.resolve = (value) => {
      release();
      return resolve(value);
    };
    command.reject = (err) => {
      release();
      return reject(err);
    };
    if (this.#timeoutMs !== undefined) {
      // The caller's timeout: the command stays counted until ioredis lets go of it.
      timer = setTimeout(() => {
        timer = undefined;
        reject(new Error("Command timed out"));
      }, this.#timeoutMs);
      timer.unref();
    }
    return send(command, stream);
  }

  /**
   * Runs `send`: the commands it hands to the connection at once (synchronously) are counted but
   * never refused. For a command that must keep its place after those held (the cluster
   * membership's leave: refused, a beat held before it would renew the lease after the stop, with
   * no leave after it to drop it; adversarial review adv54). Only for one command a caller sends
   * once, never for a stream of them.
   */
  unrefused<T>(send: () => T): T {
    this.#unrefused = true;
    try {
      return send();
    } finally {
      this.#unrefused = false;
    }
  }

  #isSetup(command: Command, stream: unknown): boolean {
    return stream === undefined && this.#client.status === "connect" && SETUP.has(command.name);
  }

  #admits(bytes: number): boolean {
    return this.#bytes === 0 || this.#bytes + bytes <= this.maxBytes;
  }
}
