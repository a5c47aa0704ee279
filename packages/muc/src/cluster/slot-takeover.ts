// Cordon MUC on an ejabberd cluster: instances attached to different nodes share one component
// domain through `domain_balancing: {type: bare_destination, component_number: N}`. ejabberd 23.01
// keeps N route slots per domain in the Mnesia `route` table (ejabberd_router_mnesia.erl,
// register_route/5: a new connection takes the first free slot, or none when all are held;
// unregister_route/3 and the 'DOWN' handler free a slot when its connection or node goes) and sends
// every stanza for a bare JID to the slot phash2(JID) picks (ejabberd_router.erl balancing_route/4);
// a free slot's stanzas are dropped (do_route/2 with pid undefined). It never moves a slot to
// another connection, and a connection that found no free slot never gets one later.
//
// So Cordon moves the slot itself: every instance renews a lease in Redis while it holds an
// online connection (store: RedisMembership). The live instance with the lowest id (the leader)
// holds spare connections, each a whole MUC service of its own, for the slots no live instance
// covers (N − live instances): a spare takes a dead instance's freed slot and serves its rooms
// from Redis (persistent rooms, affiliations, label, history); the occupants' XEP-0410 self-ping
// gets not-acceptable (§3.2: not joined any more) and they rejoin. A spare is dropped again when
// an instance comes back (its lease is live), freeing the slot.
//
// A room is served by exactly one connection at a time because ejabberd hands each slot to one
// connection (one Mnesia transaction). In-memory room state lives exactly as long as the
// connection it came in on: a link that goes offline is stopped and replaced by a fresh one, so a
// slot that moved while an instance was only slow leaves no stale occupants behind. A link that
// connected while every slot was held has received nothing and is redialled (dropping nothing)
// until it finds a free slot or is no longer wanted.
//
// Instance names are claimed in the membership with a token of the process: a second process with
// a live name is refused at start (after a lease period, so a crashed predecessor's restart is not)
// and one that meets the conflict while running closes its links until the name is free. A round
// whose lease renewal fails (Redis down, a Sentinel failover) restarts the settling period, so
// peers whose leases lapsed meanwhile are not taken for gone.
import type { CordonComponent, Logger } from "@cordon/component";
import { silentLogger } from "@cordon/component";
import type { MucService } from "../service/muc-service.js";

/** The leases of a component's instances (store: RedisMembership). */
export interface ClusterMembership {
  /**
   * Renews `id`'s lease with its link count (with undefined only its claim on the name; id "" only
   * reads); returns live instances → links. Rejects with code CORDON_STORE_DUPLICATE_INSTANCE while
   * another process holds the name. `contested` on the answer: since this process's last claim,
   * another process with the name was refused while it still had live links (it stands down now,
   * freeing its slot).
   */
  beat(id: string, links: number | undefined): Promise<Map<string, number> & { contested?: boolean }>;
  leave(id: string): Promise<void>;
}

/** One component connection and the MUC service fed by it. */
export interface MucLink {
  service: MucService;
  component: CordonComponent;
}

export interface SlotTakeoverOptions {
  /** This instance's id, unique in the cluster (e.g. host + node). Leadership: the lowest live id. */
  id: string;
  /** ejabberd's `component_number` for the domain. */
  slots: number;
  membership: ClusterMembership;
  /** Creates a link not yet started (a component to this instance's node, without its own reconnect). */
  createLink(): MucLink;
  /** Lease renewal and decisions, default 1000 ms. */
  intervalMs?: number;
  /** The membership's lease length (RedisMembership.leaseMs): peers starting together get this long to appear. */
  leaseMs?: number;
  /** A link that received nothing for this long while a slot may be free is redialled; default 5000 ms. */
  redialMs?: number;
  /**
   * Whether a failure of the first primary connection ends start() (default: every failure does).
   * Return false for failures the rounds should retry: the server not up yet, or another instance
   * holding the domain on a server that accepts one connection per domain (Prosody: standby).
   */
  fatalAtStart?: (error: Error) => boolean;
  /** Called once for each link stopped (replaced, dropped, halted): e.g. to stop observing it. */
  closed?: (link: MucLink) => void;
  logger?: Logger;
  now?: () => number;
}

interface LinkState extends MucLink {
  role: "primary" | "spare";
  online: boolean;
  since: number;
  received: number;
  /** Connected while the cluster held more links than slots: maybe without a slot. */
  suspect: boolean;
  /** Lease renewals since the link came online. */
  beats: number;
}

/** RedisMembership's DuplicateInstanceError (by code: this package does not depend on the store). */
const isDuplicate = (error: unknown): boolean =>
  (error as { code?: unknown } | undefined)?.code === "CORDON_STORE_DUPLICATE_INSTANCE";

export class SlotTakeover {
  readonly #o: Required<Omit<SlotTakeoverOptions, "logger" | "now" | "fatalAtStart" | "closed">>;
  readonly #fatalAtStart: (error: Error) => boolean;
  readonly #closed: (link: MucLink) => void;
  readonly #log: Logger;
  readonly #now: () => number;
  #primary: LinkState | undefined;
  readonly #spares: LinkState[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #stopped = false;
  /** Another process renews this instance's name: no link held until the name is free again. */
  #duplicate = false;
  /** Start, or the last round whose lease renewal failed: peers get a lease period from then to appear. */
  #settleFrom = 0;
  /**
   * A process given this name was refused while holding links (it had lost the claim while paused
   * or cut off from Redis, and stands down): a link of ours that connected while it held its slot
   * is slotless though the counts say nothing (adversarial review adv44). Until every link of ours
   * has received a stanza, silent links are redialled as spares are.
   */
  #contested = false;

  constructor(options: SlotTakeoverOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError("slots must be ≥ 1");
    const { fatalAtStart, closed, ...rest } = options;
    this.#o = { intervalMs: 1000, leaseMs: 3000, redialMs: 5000, ...rest };
    this.#fatalAtStart = fatalAtStart ?? (() => true);
    this.#closed = closed ?? (() => undefined);
    this.#log = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
  }

  /** Every MUC service this instance runs now (primary first). */
  get services(): MucService[] {
    return [this.#primary, ...this.#spares]
      .filter((l): l is LinkState => l !== undefined)
      .map((l) => l.service);
  }
  get spareCount(): number {
    return this.#spares.length;
  }

  /** Connects the primary link and starts the lease loop. */
  async start(): Promise<void> {
    this.#settleFrom = this.#now();
    await this.#claimName();
    this.#primary = await this.#open("primary").catch((error: Error) => {
      if (this.#fatalAtStart(error)) throw error;
      this.#log.info({ err: error.message }, "primary link not up yet: retried every round");
      return undefined;
    });
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), this.#o.intervalMs);
  }

  /** A clean stop: leaves the membership at once, so the others take the slots without waiting for the lease. */
  async stop(): Promise<void> {
    await this.#halt();
    await this.#o.membership.leave(this.#o.id).catch(() => undefined);
  }

  /** Stops without leaving (what a crash looks like to the others: the lease runs out). */
  async crash(): Promise<void> {
    await this.#halt();
  }

  async #halt(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const links = [this.#primary, ...this.#spares.splice(0)].filter((l): l is LinkState => l !== undefined);
    this.#primary = undefined;
    await Promise.all(links.map((l) => this.#stopLink(l)));
  }

  /** One round: replace dead links, renew the lease, hold the spares the cluster needs. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    try {
      await this.#round();
    } catch (error) {
      if (this.#stopped) return;
      if (!isDuplicate(error)) this.#log.warn({ err: (error as Error).message }, "cluster round failed");
      else if (!this.#duplicate) await this.#standDown();
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Renews the claim (and the lease with `links`). Never once halted: a round under way when stop()
   * left (a slow reconnection) would claim the name and lease again for a lease period (adversarial
   * review adv44). The membership's commands go out in order, so one sent before the leave is
   * dropped by it.
   */
  async #renew(links: number | undefined): Promise<Map<string, number>> {
    if (this.#stopped) throw new Error("cluster instance stopped");
    const live = await this.#o.membership.beat(this.#o.id, links);
    // The mark is answered once, to whichever claim of this name comes next (start, resume, round).
    if (live.contested && !this.#contested) {
      this.#contested = true;
      this.#log.warn(
        { instance: this.#o.id },
        "another process with this instance name stood down: silent links are redialled until each holds a slot",
      );
    }
    return live;
  }

  async #round(): Promise<void> {
    const { id, slots } = this.#o;
    if (this.#duplicate) {
      await this.#renew(undefined); // throws while the other process still holds the name
      this.#duplicate = false;
      this.#log.warn({ instance: id }, "cluster instance name free again: taking part");
    }
    // A link that went offline takes its in-memory rooms with it (their slot may move meanwhile).
    if (this.#primary && !this.#primary.online) {
      await this.#stopLink(this.#primary);
      this.#primary = await this.#open("primary").catch(() => undefined);
    } else if (!this.#primary) {
      this.#primary = await this.#open("primary").catch(() => undefined);
    }
    for (const spare of [...this.#spares]) if (!spare.online) await this.#drop(spare);
    const mine = (): LinkState[] => (this.#primary ? [this.#primary, ...this.#spares] : []);
    // Only an instance with an online link holds a lease: one whose node is gone is not live.
    const live = await this.#renew(this.#primary?.online ? mine().length : undefined).catch(
      (error: unknown) => {
        // Leases unreachable (Redis down, a Sentinel failover): every peer's lease may lapse
        // meanwhile though its links are up. Once back, they get a lease period to renew before
        // this instance takes their slots to be free (a spare then would only find none).
        this.#settleFrom = this.#now();
        throw error;
      },
    );
    if (this.#stopped || !this.#primary?.online) return;
    const now = this.#now();
    if (this.#contested && mine().every((l) => l.received > 0)) this.#contested = false;
    const othersLinks = [...live].reduce((sum, [member, links]) => (member === id ? sum : sum + links), 0);
    // More links than slots at a link's first beat: it may have connected while every slot was
    // held (a newcomer while a spare still held its slot; a reconnect after its slot moved), and
    // then ejabberd never gives it one. Every instance announces a spare before opening it (below),
    // so the first beat after a link came online sees every link that could have held its slot.
    for (const link of mine()) {
      if (link.beats === 0 && othersLinks + mine().length > slots) link.suspect = true;
      link.beats++;
    }
    const leader = [...live.keys()].sort()[0] === id;
    // Peers started together, or renewing again after the leases were unreachable, get one lease
    // period to appear before the leader covers their slots.
    const settled = now - this.#settleFrom >= this.#o.leaseMs;
    const wanted = leader && settled ? Math.max(0, slots - live.size) : 0;
    if (this.#spares.length > wanted) {
      while (this.#spares.length > wanted) await this.#drop(this.#spares.at(-1)!);
      await this.#renew(mine().length);
    }
    if (this.#spares.length < wanted) {
      await this.#renew(1 + wanted);
      while (this.#spares.length < wanted) {
        const spare = await this.#open("spare").catch(() => undefined);
        if (!spare) break;
        this.#spares.push(spare);
        this.#log.info(
          { spares: this.#spares.length },
          "spare link opened for a slot no live instance holds",
        );
      }
      return;
    }
    if (othersLinks + mine().length > slots) return;
    // A slot may be free: redial the links that may be slotless and have received nothing (a link
    // that received a stanza holds a slot). A spare that received nothing for a while may have
    // connected while the instance it replaces was only slow (its slot still held then).
    for (const link of mine()) {
      if (link.received > 0) continue;
      const silentTooLong = now - link.since >= this.#o.redialMs;
      if (link.suspect || ((link.role === "spare" || this.#contested) && silentTooLong))
        await this.#redial(link);
    }
  }

  /**
   * Claims the instance name before connecting. Held by another token: a crashed predecessor's
   * claim lapses within a lease period (it is waited for); still renewed after that, another live
   * process has the same name and start() fails with its error (DuplicateInstanceError). Leases
   * unreachable: the rounds retry (and take no decision until they can).
   */
  async #claimName(): Promise<void> {
    const { id, intervalMs, leaseMs } = this.#o;
    const pause = Math.min(intervalMs, 500);
    for (let waited = 0; ; waited += pause) {
      try {
        await this.#renew(undefined);
        return;
      } catch (error) {
        if (!isDuplicate(error)) return;
        if (waited >= leaseMs + intervalMs) throw error;
        if (waited === 0)
          this.#log.warn(
            { instance: id },
            "cluster instance name held by another process: waiting a lease period",
          );
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** Another live process holds this instance's name: its links are closed (no slot held twice by one name). */
  async #standDown(): Promise<void> {
    this.#duplicate = true;
    this.#log.error(
      { instance: this.#o.id },
      "cluster instance name renewed by another live process: connections closed, waiting until the name is free (give each process its own instance)",
    );
    const links = [this.#primary, ...this.#spares.splice(0)].filter((l): l is LinkState => l !== undefined);
    this.#primary = undefined;
    await Promise.all(links.map((l) => this.#stopLink(l)));
  }

  async #open(role: LinkState["role"]): Promise<LinkState> {
    const { service, component } = this.#o.createLink();
    const link: LinkState = {
      service,
      component,
      role,
      online: false,
      since: this.#now(),
      received: 0,
      suspect: false,
      beats: 0,
    };
    // Counted as read, not as handled: held stanzas (incoming-hold.ts) or ones refused past the
    // hold's bound still prove the link holds a slot.
    component.on("received", () => link.received++);
    component.on("online", () => {
      link.online = true;
      link.since = this.#now();
      link.beats = 0;
    });
    component.on("offline", () => (link.online = false));
    component.on("fatal", () => (link.online = false));
    try {
      await service.start();
    } catch (error) {
      await this.#stopLink(link);
      throw error;
    }
    link.online = component.status === "online";
    if (this.#stopped) {
      // Halted while this link was connecting: it must not outlive the instance.
      await this.#stopLink(link);
      throw new Error("cluster instance stopped");
    }
    return link;
  }

  async #stopLink(link: LinkState): Promise<void> {
    await link.service.stop().catch(() => undefined);
    try {
      this.#closed(link);
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, "link close hook failed");
    }
  }

  async #drop(link: LinkState): Promise<void> {
    const i = this.#spares.indexOf(link);
    if (i >= 0) this.#spares.splice(i, 1);
    await this.#stopLink(link);
  }

  async #redial(link: LinkState): Promise<void> {
    const fresh = await (async () => {
      await this.#stopLink(link);
      return this.#open(link.role).catch(() => undefined);
    })();
    if (link.role === "primary") this.#primary = fresh;
    else {
      const i = this.#spares.indexOf(link);
      if (fresh && i >= 0) this.#spares[i] = fresh;
      else if (i >= 0) this.#spares.splice(i, 1);
    }
  }
}
