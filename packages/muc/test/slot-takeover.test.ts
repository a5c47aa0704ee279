// SlotTakeover against a model of ejabberd 23.01's balanced routes (ejabberd_router_mnesia.erl
// register_route/5: a connection takes the first free slot or none; a closed connection frees its
// slot; a slot never moves by itself) and an in-memory lease table, on a clock the test moves.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { CordonComponent } from "@cordon/component";
import {
  SlotTakeover,
  type ClusterMembership,
  type MucLink,
  type MucService,
  type SlotTakeoverOptions,
} from "../src/index.js";

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
}

/** N route slots; each held by at most one connection. */
class Router {
  readonly slots: (FakeLink | undefined)[];
  constructor(n: number) {
    this.slots = new Array<FakeLink | undefined>(n).fill(undefined);
  }
  register(link: FakeLink): void {
    const free = this.slots.indexOf(undefined);
    if (free >= 0) this.slots[free] = link;
  }
  unregister(link: FakeLink): void {
    const i = this.slots.indexOf(link);
    if (i >= 0) this.slots[i] = undefined;
  }
  /** The owner (instance id) of each slot, "-" when free. */
  owners(): string[] {
    return this.slots.map((l) => l?.owner ?? "-");
  }
  /** A stanza for a room in slot i reaches its connection (or nobody): read, then handled. */
  deliver(i: number): void {
    this.slots[i]?.emitter.emit("received");
    this.slots[i]?.emitter.emit("stanza");
  }
}

class FakeComponent {
  constructor(private readonly link: FakeLink) {}
  get status(): string {
    return this.link.status;
  }
  on(event: string, listener: () => void): this {
    this.link.emitter.on(event, listener);
    return this;
  }
}

class FakeLink {
  readonly emitter = new EventEmitter();
  status = "idle";
  constructor(
    readonly owner: string,
    readonly router: Router,
  ) {}
  asLink(): MucLink {
    const component = new FakeComponent(this);
    const service = {
      start: async () => {
        this.router.register(this);
        this.status = "online";
        this.emitter.emit("online");
      },
      stop: async () => {
        this.drop("stopped");
      },
      rooms: new Map(),
    };
    return {
      service: service as unknown as MucService,
      component: component as unknown as CordonComponent,
    };
  }
  /** The connection closes (the server side or our stop). */
  drop(status = "offline"): void {
    if (this.status !== "online") return;
    this.router.unregister(this);
    this.status = status;
    this.emitter.emit("offline", "closed");
  }
}

/** A link factory for SlotTakeover: each link a FakeLink of `owner` on `router`, kept in `links`. */
const fakeLinks = (owner: string, router: Router, links: FakeLink[]) => (): MucLink => {
  const link = new FakeLink(owner, router);
  links.push(link);
  return link.asLink();
};

class Leases implements ClusterMembership {
  readonly table = new Map<string, { until: number; links: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly leaseMs = 3000,
  ) {}
  async beat(id: string, links: number | undefined): Promise<Map<string, number>> {
    for (const [k, v] of this.table) if (v.until <= this.clock.t) this.table.delete(k);
    if (links !== undefined) this.table.set(id, { until: this.clock.t + this.leaseMs, links });
    return new Map([...this.table].map(([k, v]) => [k, v.links]));
  }
  async leave(id: string): Promise<void> {
    this.table.delete(id);
  }
}

/** Every instance a test created, halted after it (a failed assertion must not leave timers). */
const created: SlotTakeover[] = [];

function cluster(slots = 2) {
  const clock = new Clock();
  const router = new Router(slots);
  const leases = new Leases(clock);
  const links: FakeLink[] = [];
  const instance = (id: string): SlotTakeover => {
    const takeover = new SlotTakeover({
      id,
      slots,
      membership: leases,
      intervalMs: 1e9, // the test ticks
      leaseMs: 3000,
      redialMs: 5000,
      now: clock.now,
      createLink: fakeLinks(id, router, links),
    });
    created.push(takeover);
    return takeover;
  };
  /** Advance the clock and run one round on each instance. */
  const round = async (ms: number, ...instances: SlotTakeover[]) => {
    clock.t += ms;
    for (const i of instances) await i.tick();
  };
  /** Instances "a" and "b", started in that order. */
  const startPair = async () => {
    const a = instance("a");
    const b = instance("b");
    await a.start();
    await b.start();
    return { a, b };
  };
  return { clock, router, leases, links, instance, round, startPair };
}

describe("SlotTakeover (issue 19 goal 5: a dead instance's slot moves to a survivor)", () => {
  afterEach(async () => {
    for (const t of created.splice(0)) await t.crash();
  });

  test("two instances each take a slot; no spare while both are live", async () => {
    const { router, startPair, round } = cluster();
    const { a, b } = await startPair();
    for (let i = 0; i < 5; i++) await round(1000, a, b);
    assert.deepEqual(router.owners().sort(), ["a", "b"]);
    assert.equal(a.spareCount + b.spareCount, 0);
    await a.stop();
    await b.stop();
  });

  test("a crashed instance's slot is taken by the survivor once its lease runs out, and handed back", async () => {
    const { router, instance, startPair, round, leases } = cluster();
    const { a, b } = await startPair();
    await round(1000, a, b);
    await b.crash(); // its connection closes: ejabberd frees the slot
    assert.deepEqual(router.owners().sort(), ["-", "a"]);
    await round(1000, a);
    assert.equal(a.spareCount, 0, "not before the lease runs out");
    await round(2500, a);
    assert.equal(a.spareCount, 1);
    assert.deepEqual(router.owners(), ["a", "a"]);
    assert.equal(a.services.length, 2);
    // b comes back: it connects while a's spare holds the slot (slotless), a hands back, b redials.
    const b2 = instance("b");
    await b2.start();
    assert.deepEqual(router.owners(), ["a", "a"], "b2 found no free slot");
    await round(1000, a, b2);
    assert.equal(a.spareCount, 0, "the spare is handed back");
    await round(1000, a, b2);
    assert.deepEqual(router.owners().sort(), ["a", "b"], "b2 redialled and took the freed slot");
    assert.ok(leases.table.has("b"));
    await a.stop();
    await b2.stop();
  });

  test("after the leases were unreachable (a Redis failover), peers get a lease period to renew before a spare is opened", async () => {
    const { router, startPair, round, leases, links } = cluster();
    const { a, b } = await startPair();
    await round(1000, a, b);
    const before = router.owners();
    const linksBefore = links.length;
    // Redis unreachable for longer than a lease: every beat fails, both leases lapse meanwhile.
    const beat = leases.beat.bind(leases);
    leases.beat = () => Promise.reject(new Error("store unavailable"));
    await round(1000, a, b);
    await round(1000, a, b);
    await round(1500, a, b);
    leases.beat = beat;
    // Back: a beats first and sees itself alone (b's lease expired during the outage).
    await round(1000, a);
    assert.equal(a.spareCount, 0, "no spare for a peer whose lease lapsed while Redis was away");
    await round(0, b);
    await round(1000, a, b);
    await round(1000, a, b);
    assert.equal(a.spareCount + b.spareCount, 0);
    assert.equal(links.length, linksBefore, "no connection opened");
    assert.deepEqual(router.owners(), before);
    // A peer that really died during the outage is still taken over, one lease period later.
    await b.crash();
    await round(1000, a);
    await round(2500, a);
    assert.equal(a.spareCount, 1);
    assert.deepEqual(router.owners(), ["a", "a"]);
    await a.stop();
  });

  test("an instance name renewed by another process: refused at start after a lease period; met while running, the links are closed until the name is free", async () => {
    const { router, instance, round, leases, links } = cluster();
    const a = instance("a");
    await a.start();
    // A second process named "a": the membership refuses its claims (RedisMembership's token).
    let held = true;
    const duplicate = Object.assign(new Error('cluster instance "a" is live in another process'), {
      code: "CORDON_STORE_DUPLICATE_INSTANCE",
    });
    /** Another process named "a" (its links owned by `owner`), refused by the membership while `held`. */
    const sameName = (owner: string, timing: Pick<SlotTakeoverOptions, "intervalMs" | "leaseMs">) => {
      const t = new SlotTakeover({
        id: "a",
        slots: 2,
        membership: {
          beat: (id, n) => (held ? Promise.reject(duplicate) : leases.beat(id, n)),
          leave: () => Promise.resolve(),
        },
        ...timing,
        now: () => Date.now(),
        createLink: fakeLinks(owner, router, links),
      });
      created.push(t);
      return t;
    };
    const twin = sameName("twin", { intervalMs: 10, leaseMs: 30 });
    const t0 = Date.now();
    await assert.rejects(twin.start(), (e: Error & { code?: string }) => e.code === duplicate.code);
    assert.ok(Date.now() - t0 >= 30, "waited a lease period for a crashed predecessor's claim to lapse");
    assert.equal(links.filter((l) => l.owner === "twin").length, 0, "never connected");
    assert.deepEqual(router.owners(), ["a", "-"]);
    await twin.crash();

    // Both claimed the name at once (the start check raced): the one refused while running closes its links.
    held = false;
    const racer = sameName("racer", { intervalMs: 1e9 });
    await racer.start();
    assert.deepEqual(router.owners(), ["a", "racer"]);
    held = true;
    await racer.tick();
    assert.equal(racer.services.length, 0, "links closed");
    assert.deepEqual(router.owners(), ["a", "-"], "its slot is free for the leader's spare");
    await racer.tick();
    assert.equal(racer.services.length, 0, "still standing by");
    // The name is free again (the other process is gone): it takes part again.
    held = false;
    await racer.tick();
    assert.equal(racer.services.length, 1);
    assert.deepEqual(router.owners(), ["a", "racer"]);
    await round(0, a);
  });

  test("an instance that is only slow keeps its slot: the spare finds none and is dropped when it is back", async () => {
    const { router, startPair, round, links } = cluster();
    const { a, b } = await startPair();
    await round(1000, a, b);
    const before = router.owners();
    // b misses its renewals (event loop blocked) but its connection stays up.
    await round(4000, a);
    assert.equal(a.spareCount, 1);
    assert.deepEqual(router.owners(), before, "b still holds its slot; the spare got none");
    // Traffic for b's rooms still reaches b only.
    const bLink = links.find((l) => l.owner === "b")!;
    let got = 0;
    bLink.emitter.on("stanza", () => got++);
    router.deliver(router.slots.indexOf(bLink));
    assert.equal(got, 1);
    await round(0, b); // b renews
    await round(1000, a);
    assert.equal(a.spareCount, 0);
    assert.deepEqual(router.owners(), before);
    await a.stop();
    await b.stop();
  });

  test("a spare that found no slot (the peer was slow) is redialled and takes the slot when the peer then dies", async () => {
    const { router, startPair, round, links } = cluster();
    const { a, b } = await startPair();
    await round(1000, a, b);
    await round(4000, a); // b slow: a opens a spare, slotless
    assert.equal(a.spareCount, 1);
    assert.ok(router.owners().includes("b"));
    // b's connection now dies too (its lease already lapsed).
    links.find((l) => l.owner === "b" && l.status === "online")!.drop();
    await b.crash();
    await round(1000, a);
    await round(5000, a);
    assert.deepEqual(router.owners(), ["a", "a"], "the redialled spare holds the freed slot");
    await a.stop();
  });

  test("a spare whose stanzas are all held (the incoming hold waits for the store) is not taken for a slotless one", async () => {
    const { router, startPair, round, links } = cluster();
    const { a, b } = await startPair();
    await round(1000, a, b);
    links.find((l) => l.owner === "b" && l.status === "online")!.drop();
    await b.crash();
    await round(4000, a); // b's lease ran out: a spare takes its slot
    assert.equal(a.spareCount, 1);
    assert.deepEqual(router.owners(), ["a", "a"]);
    const spare = links.filter((l) => l.owner === "a").at(-1)!;
    // A stanza read for one of its rooms, held: the component says "received", not yet "stanza".
    spare.emitter.emit("received");
    await round(6000, a);
    await round(6000, a);
    assert.equal(
      links.filter((l) => l.owner === "a").length,
      2,
      "no link redialled (was: the spare, as silent)",
    );
    assert.equal(spare.status, "online");
    await a.stop();
  });

  test("a dropped link's rooms go with it: the instance opens a fresh link, which takes a free slot", async () => {
    const { router, startPair, round, links } = cluster();
    const { a, b } = await startPair();
    await round(1000, a, b);
    const first = a.services[0];
    links.find((l) => l.owner === "a" && l.status === "online")!.drop();
    await round(1000, a, b);
    assert.notEqual(a.services[0], first, "a fresh service (no stale occupants)");
    assert.deepEqual(router.owners().sort(), ["a", "b"]);
    await a.stop();
    await b.stop();
  });

  test("a clean stop leaves the membership at once", async () => {
    const { instance, round, leases } = cluster();
    const a = instance("a");
    await a.start();
    await round(1000, a);
    assert.ok(leases.table.has("a"));
    await a.stop();
    assert.ok(!leases.table.has("a"));
  });
});

describe("SlotTakeover hooks used by `cordon start` (components.muc.cluster)", () => {
  afterEach(async () => {
    for (const t of created.splice(0)) await t.crash();
  });

  /** A one-slot server that refuses a second connection (Prosody: conflict), as a link factory. */
  const oneConnection = (clock: Clock, leases: Leases) => {
    let holder: string | undefined;
    const closed: string[] = [];
    const instance = (id: string, fatalAtStart?: (e: Error) => boolean): SlotTakeover => {
      const t = new SlotTakeover({
        id,
        slots: 1,
        membership: leases,
        intervalMs: 1e9,
        leaseMs: 3000,
        now: clock.now,
        ...(fatalAtStart ? { fatalAtStart } : {}),
        closed: (link) => closed.push((link.component as unknown as { id: string }).id),
        createLink: () => {
          const emitter = new EventEmitter();
          let status = "idle";
          const component = {
            id,
            get status() {
              return status;
            },
            on(event: string, listener: () => void) {
              emitter.on(event, listener);
              return this;
            },
          };
          const service = {
            start: async () => {
              if (holder !== undefined) throw Object.assign(new Error("conflict"), { code: "CONFLICT" });
              holder = id;
              status = "online";
              emitter.emit("online");
            },
            stop: async () => {
              if (status !== "online") return;
              holder = undefined;
              status = "stopped";
              emitter.emit("offline", "closed");
            },
            rooms: new Map(),
          };
          return {
            service: service as unknown as MucService,
            component: component as unknown as CordonComponent,
          };
        },
      });
      created.push(t);
      return t;
    };
    return { instance, closed, holder: () => holder };
  };

  test("by default a refused first connection ends start(); fatalAtStart false makes it a standby that takes the domain once it is free", async () => {
    const clock = new Clock();
    const leases = new Leases(clock);
    const { instance, closed, holder } = oneConnection(clock, leases);
    const active = instance("a");
    await active.start();
    await assert.rejects(instance("b").start(), /conflict/);
    const standby = instance("b", () => false);
    await standby.start();
    assert.equal(standby.services.length, 0, "the standby holds nothing");
    clock.t += 1000;
    await standby.tick();
    assert.equal(holder(), "a");
    assert.deepEqual([...(await leases.beat("", undefined)).keys()], ["a"], "a standby holds no lease");
    await active.crash();
    clock.t += 1000;
    await standby.tick();
    assert.equal(holder(), "b", "the standby took the domain");
    assert.equal(standby.services.length, 1);
    // Every link stopped was reported once (refused attempts and the crashed active's link).
    assert.ok(closed.filter((id) => id === "b").length >= 2, closed.join(","));
    assert.ok(closed.includes("a"));
  });
});

/**
 * RedisMembership's model with instance names: each view is one process (its token); a claim by
 * another live token is refused (DuplicateInstanceError's code), and a refused process that still
 * had live links marks the name contested for its holder's next beat.
 */
class Names {
  readonly leases: Leases;
  readonly names = new Map<string, { until: number; token: string }>();
  readonly contested = new Set<string>();
  constructor(
    private readonly clock: Clock,
    private readonly leaseMs = 3000,
  ) {
    this.leases = new Leases(clock, leaseMs);
  }
  view(token: string): ClusterMembership {
    return {
      beat: async (id, links) => {
        for (const [k, v] of this.names) if (v.until <= this.clock.t) this.names.delete(k);
        let contested = false;
        if (id !== "") {
          const held = this.names.get(id);
          if (held && held.token !== token) {
            if (links !== undefined && links > 0) this.contested.add(id);
            throw Object.assign(new Error("duplicate"), { code: "CORDON_STORE_DUPLICATE_INSTANCE" });
          }
          this.names.set(id, { until: this.clock.t + this.leaseMs, token });
          contested = this.contested.delete(id);
        }
        const live = await this.leases.beat(id, links);
        return contested ? Object.assign(live, { contested: true }) : live;
      },
      leave: async (id) => {
        const held = this.names.get(id);
        if (held && held.token !== token) return;
        this.names.delete(id);
        await this.leases.leave(id);
      },
    };
  }
}

describe("SlotTakeover: adversarial review adv44 (instance-name claims, stop races)", () => {
  afterEach(async () => {
    for (const t of created.splice(0)) await t.crash();
  });

  /** Two route slots, the names' model and the processes' links; `process` starts one with a token. */
  const world = () => {
    const clock = new Clock();
    const router = new Router(2);
    const names = new Names(clock);
    const links: FakeLink[] = [];
    const process = (id: string, token: string, gate?: () => Promise<void>): SlotTakeover => {
      const t = new SlotTakeover({
        id,
        slots: router.slots.length,
        membership: names.view(token),
        intervalMs: 1e9,
        leaseMs: 3000,
        redialMs: 5000,
        now: clock.now,
        createLink: () => {
          const l = fakeLinks(token, router, links)();
          const svc = l.service as unknown as { start: () => Promise<void> };
          const start = svc.start;
          svc.start = async () => {
            await gate?.();
            await start();
          };
          return l;
        },
      });
      created.push(t);
      return t;
    };
    /** `n` rounds of a second each: the clock moves, then each of `instances` ticks in turn. */
    const rounds = async (n: number, ...instances: SlotTakeover[]) => {
      for (let i = 0; i < n; i++) {
        clock.t += 1000;
        for (const t of instances) await t.tick();
      }
    };
    return { clock, router, names, links, process, rounds };
  };

  test("a holder paused past its lease while a twin took its name: once it stands down, its freed slot is held again", async () => {
    const { router, process, rounds } = world();
    const p1 = process("a", "p1");
    const b = process("b", "b");
    await p1.start();
    await b.start();
    await rounds(1, p1, b);
    assert.deepEqual(router.owners(), ["p1", "b"]);
    // p1 paused (SIGSTOP) past its lease: its connection is still up and holds slot 0.
    await rounds(4, b);
    // A second process given the name "a" starts meanwhile: the claim has lapsed, so it gets it.
    const p2 = process("a", "p2");
    await p2.start();
    assert.equal(router.owners()[0], "p1", "never two holders of one slot");
    await rounds(3, p2, b);
    // p1 resumes: refused, it stands down and frees slot 0.
    await rounds(1, p1);
    assert.equal(p1.services.length, 0, "the process that lost the name serves nothing");
    assert.ok(!router.owners().includes("p1"));
    await rounds(12, p1, p2, b);
    assert.ok(!router.owners().includes("-"), `every slot held again: ${router.owners().join(",")}`);
    assert.equal(router.owners().filter((o) => o === "p2").length, 1);
  });

  test("the contested mark is taken by the claim at start too: the new holder's silent primary is redialled into the freed slot", async () => {
    const { router, names, process, rounds } = world();
    const b = process("b", "b");
    await b.start();
    // A process named "a" was just refused while its link still held slot 0 (it marked the name)
    // and is closing that link; the next process named "a" starts meanwhile.
    const ghost = new FakeLink("ghost", router);
    await ghost.asLink().service.start();
    names.contested.add("a");
    const a = process("a", "p2");
    await a.start();
    assert.deepEqual(router.owners().sort(), ["b", "ghost"], "a's primary found no free slot");
    ghost.drop();
    await rounds(8, a, b);
    assert.deepEqual(router.owners().sort(), ["b", "p2"]);
  });

  test("a clean stop while a round is reconnecting leaves no claim behind (the round's late beat renewed it)", async () => {
    const { clock, names, links, process, rounds } = world();
    let release: () => void = () => undefined;
    let gated = false;
    const gate = () => (gated ? new Promise<void>((r) => (release = r)) : Promise.resolve());
    const a = process("a", "p1", gate);
    await a.start();
    await rounds(1, a);
    assert.ok(names.names.has("a") && names.leases.table.has("a"));
    // The connection drops; the next round reconnects it, slowly; the operator stops meanwhile.
    gated = true;
    links.find((l) => l.status === "online")!.drop();
    clock.t += 1000;
    const round = a.tick();
    await new Promise((r) => setImmediate(r));
    await a.stop();
    release();
    await round;
    assert.ok(!names.names.has("a"), "the name is free at once after a clean stop");
    assert.ok(!names.leases.table.has("a"));
    // A restart under the same name (another process) is not made to wait.
    const again = process("a", "p3");
    gated = false;
    await again.start();
    assert.equal(again.services.length, 1);
  });
});
