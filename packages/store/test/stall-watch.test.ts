// Stall detection (stall-watch.ts) and what the notification barrier asks for after one
// (notification-barrier.ts), on a clock the test moves and a PING channel the test answers.
import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { StallWatch } from "../src/stall-watch.js";
import { NotificationBarrier, type PingChannel } from "../src/notification-barrier.js";

class Clock {
  t = 1_000;
  now = (): number => this.t;
}

/** PINGs answered when the test says, in order (as Redis answers one connection). */
class Channel implements PingChannel {
  readonly pending: Array<() => void> = [];
  sent = 0;
  ping(): Promise<unknown> {
    this.sent++;
    return new Promise<void>((resolve) => this.pending.push(resolve));
  }
  /** Answers the oldest unanswered PING (and lets its callbacks run). */
  async answer(): Promise<void> {
    this.pending.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
}

const stopped: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const s of stopped.splice(0)) s.stop();
});

describe("StallWatch", () => {
  test("a gap between two sightings longer than the threshold is a stall, seen at the later one", () => {
    const clock = new Clock();
    const w = new StallWatch({ thresholdMs: 50, tickMs: 20, now: clock.now });
    stopped.push(w);
    w.start();
    clock.t += 20;
    w.tick();
    clock.t += 50;
    assert.equal(w.sight(), false, "50 ms is not more than the threshold");
    assert.equal(w.stalledAt, Number.NEGATIVE_INFINITY);
    clock.t += 51;
    assert.equal(w.sight(), true);
    assert.equal(w.stalledAt, clock.t);
  });

  test("a sighting counts as a tick: the stanzas after the first of a burst find no new stall", () => {
    const clock = new Clock();
    const w = new StallWatch({ thresholdMs: 50, now: clock.now });
    stopped.push(w);
    w.start();
    clock.t += 600; // a SIGSTOP: the stanza socket is read before the timer runs
    assert.equal(w.sight(), true);
    const at = w.stalledAt;
    clock.t += 1;
    assert.equal(w.sight(), false);
    clock.t += 10;
    w.tick();
    assert.equal(w.stalledAt, at);
  });

  test("the timer finds a stall first after a stall inside a callback, and says so", () => {
    const clock = new Clock();
    const seen: number[] = [];
    const w = new StallWatch({ thresholdMs: 50, now: clock.now, onStall: (at) => seen.push(at) });
    stopped.push(w);
    w.start();
    clock.t += 700; // one stanza's handler ran 700 ms; the next turn runs timers first
    w.tick();
    assert.deepEqual(seen, [clock.t]);
    clock.t += 20;
    w.tick();
    assert.deepEqual(seen, [clock.t - 20], "one stall, told once");
  });

  test("nothing is seen while stopped, and a start is no stall", () => {
    const clock = new Clock();
    const w = new StallWatch({ thresholdMs: 50, now: clock.now });
    stopped.push(w);
    clock.t += 10_000;
    assert.equal(w.sight(), false);
    w.start();
    assert.equal(w.sight(), false);
    w.stop();
    clock.t += 10_000;
    assert.equal(w.sight(), false);
    assert.equal(w.stalledAt, Number.NEGATIVE_INFINITY);
  });

  test("the timer ticks only while checks come; after a quiet spell the first check finds a gap (safe side)", () => {
    const clock = new Clock();
    const w = new StallWatch({ thresholdMs: 50, tickMs: 20, activeMs: 1000, now: clock.now });
    stopped.push(w);
    w.start();
    clock.t += 20;
    w.tick();
    assert.equal(w.ticking, false, "no check yet: no timer (an idle process is not woken)");
    clock.t += 5;
    assert.equal(w.sight(), false);
    assert.equal(w.ticking, true, "a check arms it");
    for (let i = 0; i < 50; i++) {
      clock.t += 20;
      w.tick();
    }
    assert.equal(w.ticking, true, "1000 ms after the last check it still ticks");
    assert.equal(w.stalledAt, Number.NEGATIVE_INFINITY, "ticking: no gap");
    clock.t += 20;
    w.tick();
    assert.equal(w.ticking, false, "quiet: the timer stops");
    clock.t += 5000;
    assert.equal(w.sight(), true, "the first check after the quiet spell: a gap, taken for a stall");
    assert.equal(w.ticking, true);
  });

  test("the tick must be shorter than the threshold", () => {
    assert.throws(() => new StallWatch({ thresholdMs: 50, tickMs: 50 }), RangeError);
    assert.throws(() => new StallWatch({ thresholdMs: 0 }), RangeError);
  });
});

describe("NotificationBarrier after a stall", () => {
  const setup = () => {
    const clock = new Clock();
    const channel = new Channel();
    const barrier = new NotificationBarrier(channel, {
      maxLagMs: 1000,
      stallMs: 50,
      timeoutMs: 60_000,
      now: clock.now,
    });
    stopped.push(barrier);
    return { clock, channel, barrier };
  };

  test("steady state: current, nothing held, no PING beyond the periodic one", async () => {
    const { clock, channel, barrier } = setup();
    barrier.start();
    await channel.answer();
    for (let i = 0; i < 100; i++) {
      clock.t += 1;
      assert.equal(barrier.heard(), undefined);
    }
    assert.equal(channel.sent, 1);
  });

  test("a stall shorter than maxLagMs: not current until a PING sent after it answers", async () => {
    const { clock, channel, barrier } = setup();
    barrier.start();
    await channel.answer();
    clock.t += 600; // < maxLagMs
    const until = barrier.heard();
    assert.ok(until, "held (was: current, nothing held)");
    assert.equal(channel.sent, 2, "a PING sent at the stall");
    assert.equal(barrier.current, false);
    let settled = false;
    void until.then(() => (settled = true));
    clock.t += 1;
    await channel.answer();
    assert.equal(settled, true);
    assert.equal(barrier.current, true);
    assert.equal(barrier.heard(), undefined);
  });

  test("the answer to a PING sent before the stall, read after it, proves nothing", async () => {
    const { clock, channel, barrier } = setup();
    barrier.start();
    await channel.answer();
    clock.t += 1001; // lagging: a PING goes out
    const first = barrier.heard();
    assert.ok(first);
    assert.equal(channel.sent, 2);
    clock.t += 600; // the loop stalled before its answer was read
    const second = barrier.heard();
    assert.ok(second);
    assert.notEqual(second, first, "a new PING: the one in flight was sent before the stall");
    assert.equal(channel.sent, 3);
    await channel.answer(); // the one from before the stall
    assert.equal(barrier.current, false, "heard only up to before the stall");
    assert.equal(barrier.heard(), second);
    await channel.answer();
    assert.equal(barrier.current, true);
  });

  test("while stopped (the subscriber is lost) nothing is held, stall or not", () => {
    const { clock, barrier } = setup();
    barrier.start();
    barrier.stop();
    clock.t += 600;
    assert.equal(barrier.heard(), undefined);
  });
});

// Session 14: a give-up with no stanza waiting must still reach the caches that decide without
// asking a component (the guard's server modules): the barrier says when it is behind and when it
// caught up (the store turns both into "connection" events: redis-notification-behind.test.ts).
describe("NotificationBarrier behind and caught up", () => {
  const setup = () => {
    const clock = new Clock();
    const channel = new Channel();
    const told: string[] = [];
    const barrier = new NotificationBarrier(channel, {
      maxLagMs: 1000,
      stallMs: 50,
      timeoutMs: 40,
      now: clock.now,
      onBehind: () => told.push("behind"),
      onCaughtUp: () => told.push("caught up"),
    });
    stopped.push(barrier);
    return { clock, channel, barrier, told };
  };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("the periodic PING unanswered in time: behind once, with nothing asked; its answer: caught up once", async () => {
    const { channel, barrier, told } = setup();
    barrier.start();
    await wait(120);
    assert.deepEqual(told, ["behind"], "told once, though no stanza asked");
    assert.equal(barrier.behind, true);
    await channel.answer();
    assert.deepEqual(told, ["behind", "caught up"]);
    assert.equal(barrier.behind, false);
    assert.equal(barrier.heard(), undefined, "current again");
  });

  test("a PING answered in time: never behind", async () => {
    const { channel, barrier, told } = setup();
    barrier.start();
    await channel.answer();
    await wait(100);
    assert.deepEqual(told, []);
  });

  test("an answer too late to make the barrier current is not caught up; the next prompt one is", async () => {
    const { clock, channel, barrier, told } = setup();
    barrier.start();
    await wait(80);
    assert.deepEqual(told, ["behind"]);
    clock.t += 2_000; // the answer comes 2 s after its PING was sent (longer than maxLagMs)
    await channel.answer();
    assert.deepEqual(told, ["behind"], "heard only up to 2 s ago: still behind");
    const held = barrier.heard();
    assert.ok(held, "not current: a stanza would be held");
    await channel.answer();
    await held;
    assert.deepEqual(told, ["behind", "caught up"]);
  });

  test("stopped (the subscriber lost: the store's own down) resets it; an old PING's give-up tells nothing", async () => {
    const { channel, barrier, told } = setup();
    barrier.start();
    await wait(80);
    barrier.stop();
    assert.equal(barrier.behind, false);
    await channel.answer();
    assert.deepEqual(told, ["behind"], "no caught up from an answer after stop");
    barrier.start(); // a new subscription: its PING unanswered, then a give-up of its own
    await wait(80);
    assert.deepEqual(told, ["behind", "behind"]);
    barrier.stop();
    await wait(60);
    assert.deepEqual(told, ["behind", "behind"]);
  });
});
