// Writes carry a deadline Redis checks, so a write reported failed never lands later: clearance
// writes (session 15), room and catalog writes (session 16: a room's label, clearance or
// affiliations written late undid a change made meanwhile, as a late clearance did).
// A command that timed out is not withdrawn (in-flight-bound.ts): its bytes may still reach Redis
// — a congested path, a proxy, TCP retransmissions. Adversarial review adv15r measured it: a raise
// from one process failed after 301 ms (`commandTimeoutMs` 300), another process then lowered the
// same user (returned), the path cleared — and Redis held the *raised* clearance, the operator told
// that the raise had failed and the lowering stood.
//
// So each clearance write is a script that first reads Redis's own clock (TIME; allowed in scripts
// with effects replication, the default from Redis 5 — https://redis.io/docs/latest/commands/eval/)
// and refuses (nothing written, nothing published) once past a deadline set before the write was
// sent: `commandTimeoutMs` after it, minus the uncertainty of the clock offset (one measured round
// trip) and a margin. The offset between Redis's clock and ours (monotonic) is measured with one TIME
// on each new connection and again after `REMEASURE_MS`. A write that lands is then one Redis applied
// before its caller was told it failed. A Redis clock stepped forward refuses writes (fail closed:
// reported failed, not applied); one stepped back is caught by the next measurement.
export const REMEASURE_MS = 30_000;

/**
 * Lua prelude of every clearance, room and catalog write: ARGV[1] is the deadline in Redis milliseconds. Past it, an
 * error reply and nothing done. (redis.replicate_commands: Redis 3.2–4 need it before writing after
 * TIME; a no-op from Redis 5 on, gone from Redis 7.x's documented API but still defined.)
 */
export const BEFORE_DEADLINE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[1]) then
  return redis.error_reply('CORDON_LATE a write reached Redis after its deadline')
end
`;

interface Offset {
  readonly offsetMs: number;
  readonly rttMs: number;
  readonly at: number;
}

export class WriteDeadline {
  readonly #time: () => Promise<ReadonlyArray<string | number>>;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #offset: Promise<Offset> | undefined;

  constructor(
    time: () => Promise<ReadonlyArray<string | number>>,
    timeoutMs: number,
    now: () => number = () => performance.now(),
  ) {
    this.#time = time;
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /**
   * A new connection (possibly to another primary): measured again at once, so that a write does not
   * wait for it (a write's own round trip is then the only one, as before the deadline).
   */
  reset(): void {
    this.#offset = undefined;
    void this.deadline().catch(() => undefined);
  }

  /** The deadline, in Redis milliseconds, of a write sent now. Rejects when Redis's clock cannot be read. */
  async deadline(): Promise<number> {
    let pending = this.#offset;
    if (pending !== undefined) {
      const o = await pending.catch(() => undefined);
      if (o === undefined || this.#now() - o.at > REMEASURE_MS) pending = undefined;
    }
    if (pending === undefined) {
      pending = this.#measure();
      this.#offset = pending;
      pending.catch(() => {
        if (this.#offset === pending) this.#offset = undefined;
      });
    }
    const { offsetMs, rttMs } = await pending;
    const margin = Math.min(50, this.#timeoutMs / 10);
    return Math.floor(this.#now() + offsetMs + this.#timeoutMs - rttMs - margin);
  }

  async #measure(): Promise<Offset> {
    const sent = this.#now();
    const [s, us] = await this.#time();
    if (s === undefined || us === undefined) throw new Error("TIME answered no time");
    const at = this.#now();
    const redisMs = Number(s) * 1000 + Number(us) / 1000;
    return { offsetMs: redisMs - (sent + at) / 2, rttMs: at - sent, at };
  }
}
