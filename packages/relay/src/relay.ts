// The relay: for each peering, one XEP-0114 connection per claimed domain on each server (the
// remote side's domains on the local server, the local side's on the remote server; docs/servers.md §1),
// every arriving stanza decided, audited and counted, and what passes re-emitted with the same
// `from` on the other server. Decisions run concurrently; emission keeps each link's arrival order
// (RFC 6120 §10.1 in-order processing).
import {
  createComponent,
  DEFAULT_QUEUE_BYTES,
  elementBytes,
  errorReply,
  PendingBudget,
  RESOURCE_CONSTRAINT,
  SenderThrottle,
  silentLogger,
  throttleKey,
  throttledSpec,
  type BufferUse,
  type Release,
  type CordonComponent,
  type Element,
  type Logger,
  type BackoffOptions,
  type StanzaErrorSpec,
} from "@cordon/component";
import type { PolicyRegistry } from "@cordon/policy";
import type { UserClearanceSource } from "@cordon/store";
import { ClearanceReader, isRefusalReason, refusalError } from "@cordon/rules";
import type { AuditEntry, AuditSink } from "./audit.js";
import { ClearanceSource, type RelayClearanceStore } from "./clearances.js";
import { answersRefusal, decide, DirectionContext, type Decision } from "./decide.js";
import { directionsOf, routeOf, type Direction } from "./direction.js";
import { RelayStateError } from "./errors.js";
import { LabelEngine } from "./label-check.js";
import { IqTracker } from "./iq-control.js";
import type { RelayLimits } from "./limits.js";
import { validatePeerings, type PeeringConfig, type SideConfig } from "./peering.js";

export interface RelayOptions {
  peerings: PeeringConfig[];
  registry: PolicyRegistry;
  store: RelayClearanceStore;
  /** User clearances: the store + LDAP directory resolver (`ClearanceResolver`); default the store alone. */
  users?: UserClearanceSource;
  audit: AuditSink;
  logger?: Logger;
  reconnect?: BackoffOptions & { enabled?: boolean };
  connectTimeoutMs?: number;
  /** No checks at all, only the loop guard: the benchmark's baseline. Never for production. */
  passthrough?: boolean;
  /** How often the audit log's head is logged as an anchor (default 60 s; also at stop). */
  anchorIntervalMs?: number;
  /** Memory limits (defaults in packages/relay/README.md#memory-limits). */
  limits?: RelayLimits;
}

export interface DecisionCounts {
  pass: number;
  refuse: number;
  drop: number;
  reasons: Record<string, number>;
}

export type RelayMetrics = Record<
  string,
  { outbound: DecisionCounts; inbound: DecisionCounts; sendFailures: number }
>;

export interface Relay {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Decision counters per peering and direction. */
  metrics(): RelayMetrics;
  /** The same counters in the Prometheus text exposition format. */
  metricsText(): string;
  /** Resolves when every stanza received so far has been decided and handed to its link. */
  idle(): Promise<void>;
  /** What each bounded buffer holds now (IQ tracking, pending decisions, refusal throttle, outgoing queues). */
  memory(): BufferUse[];
  readonly links: readonly CordonComponent[];
}

interface Link {
  component: CordonComponent;
  ctx: DirectionContext;
  /** Where what passes is re-emitted: the other server's links by claimed domain. */
  out: Map<string, CordonComponent>;
  tail: Promise<void>;
  /** Stanzas that passed, each sent once its audit record is written, in decision order. */
  sends: Promise<void>;
}

const STANDARD_REFUSAL = { condition: "forbidden", type: "cancel" } as const;

/** Refusals for the relay's own limits: the sender should wait (RFC 6120 §8.3.3.18). */
const LIMIT_REASONS = new Set(["iq-pending-limit", "pending-limit"]);

/**
 * The error a refusal is answered with: a shared label or hidden-content code has its own
 * condition (@cordon/rules REFUSAL_REASONS, as in the MUC), without text; anything else is
 * forbidden (cancel). Never the content or the label.
 */
function refusalOf(reason: string | undefined): StanzaErrorSpec {
  if (reason !== undefined && LIMIT_REASONS.has(reason)) return RESOURCE_CONSTRAINT;
  return reason !== undefined && isRefusalReason(reason) ? refusalError(reason, false) : STANDARD_REFUSAL;
}

export function createRelay(options: RelayOptions): Relay {
  validatePeerings(options.peerings);
  const logger = (options.logger ?? silentLogger()).child({ component: "relay" });
  const engine = new LabelEngine(options.registry);
  const clearances = new ClearanceSource(
    new ClearanceReader({
      registry: options.registry,
      store: options.store,
      ...(options.users ? { users: options.users } : {}),
      onUnreadable: (subject, reason) =>
        logger.warn({ subject, reason }, "stored clearance does not parse; treated as unknown"),
    }),
    engine,
    options.store,
  );
  const audit = options.audit;
  const counters = new Map<
    string,
    { outbound: DecisionCounts; inbound: DecisionCounts; sendFailures: number }
  >();
  const links: Link[] = [];
  // One per peering: an IQ request crosses one way and its answer the other.
  const limits = options.limits ?? {};
  const iqTrackers = new Map<string, IqTracker>(
    options.peerings.map((p) => [p.name, new IqTracker(limits.iq ?? {})]),
  );
  // Stanzas held while their decision waits (clearances from Redis or LDAP, the audit write).
  const pending = new PendingBudget(limits.pending ?? {});
  // Repeated refusals to one sender: resource-constraint, then nothing (no amplification).
  const throttle = new SenderThrottle(limits.throttle ?? {});
  /** Sends the error for a refused stanza, within the sender's refusal budget. */
  const answer = (link: Link, original: Element, spec: StanzaErrorSpec) => {
    const allowed = throttledSpec(throttle, original, spec);
    if (allowed) link.component.send(errorReply(original, allowed)).catch(() => undefined);
  };
  // Every minute: forget IQ requests never answered, and log the audit log's head (SEQ:HASH) so
  // the log shipper keeps an anchor outside the file (`cordon audit verify --anchor`).
  let loggedHead = "";
  const logAuditHead = () => {
    if (options.passthrough) return;
    const head = audit.head();
    const text = `${head.seq}:${head.hash}`;
    if (head.seq === 0 || text === loggedHead) return;
    loggedHead = text;
    logger.info({ auditAnchor: text }, "audit log head");
  };
  const sweeper = setInterval(() => {
    for (const t of iqTrackers.values()) t.sweep();
    logAuditHead();
  }, options.anchorIntervalMs ?? 60_000);
  sweeper.unref();
  let state: "idle" | "started" | "stopped" = "idle";

  for (const p of options.peerings) {
    const { outbound, inbound } = directionsOf(p);
    counters.set(p.name, { outbound: emptyCounts(), inbound: emptyCounts(), sendFailures: 0 });
    // On the local server the relay claims the remote domains (arrivals there are outbound), and vice versa.
    const onLocal = claim(p.local, p.remote.domains, outbound);
    const onRemote = claim(p.remote, p.local.domains, inbound);
    const byDomain = (ls: Link[]) => new Map(ls.map((l) => [l.component.domain, l.component]));
    for (const l of onLocal) l.out = byDomain(onRemote);
    for (const l of onRemote) l.out = byDomain(onLocal);
  }

  function claim(
    side: Pick<SideConfig, "service" | "secret" | "maxStanzaBytes">,
    domains: string[],
    direction: Direction,
  ): Link[] {
    const { service, secret } = side;
    const ctx = new DirectionContext(direction, engine);
    return domains.map((domain) => {
      const component = createComponent({
        service,
        domain,
        secret,
        ...(side.maxStanzaBytes ? { maxStanzaBytes: side.maxStanzaBytes } : {}),
        logger,
        routeIqs: false,
        ...(options.reconnect ? { reconnect: options.reconnect } : {}),
        ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(limits.queue ? { queue: limits.queue } : {}),
      });
      const link: Link = {
        component,
        ctx,
        out: new Map(),
        tail: Promise.resolve(),
        sends: Promise.resolve(),
      };
      // Nothing is decided before the changes published until it arrived are heard (a pause: @cordon/store notification-barrier.ts).
      component.holdIncoming(() => options.store.notificationsHeard?.());
      component.on("stanza", (stanza) => receive(link, stanza));
      links.push(link);
      return link;
    });
  }

  function receive(link: Link, stanza: Element): void {
    if (options.passthrough) {
      const decided = passthrough(stanza, link.ctx.direction);
      link.tail = link.tail.then(() => decided).then((decision) => act(link, stanza, decision, () => {}));
      return;
    }
    // Held until decided and handed on: bounded per sender and in total, else refused at once.
    const release = pending.acquire(throttleKey(stanza), elementBytes(stanza));
    if (!release) return overLimit(link, stanza);
    const decided = safeDecide(stanza, link.ctx);
    link.tail = link.tail.then(() => decided).then((decision) => act(link, stanza, decision, release));
  }

  /** A stanza over the pending limits: audited and counted as refused, answered resource-constraint, not kept. */
  function overLimit(link: Link, stanza: Element): void {
    const d = link.ctx.direction;
    const entry: AuditEntry = {
      peering: d.peering,
      direction: d.name,
      stanza: ["message", "presence", "iq"].includes(stanza.name) ? stanza.name : "other",
      decision: "refuse",
      reason: "pending-limit",
    };
    count(entry);
    try {
      audit.append(entry);
    } catch (error) {
      logger.error({ err: String(error) }, "audit append failed");
    }
    if (answersRefusal(stanza) && stanza.attrs.from && stanza.attrs.to)
      answer(link, stanza, RESOURCE_CONSTRAINT);
  }

  async function safeDecide(stanza: Element, ctx: DirectionContext): Promise<Decision> {
    const d = ctx.direction;
    if (audit.failed)
      return {
        action: "drop",
        audit: {
          peering: d.peering,
          direction: d.name,
          stanza: stanza.name,
          decision: "drop",
          reason: "audit-unavailable",
        },
      };
    try {
      return await decide(stanza, ctx, { engine, clearances, iqs: iqTrackers.get(d.peering) as IqTracker });
    } catch (error) {
      // Fail closed: a bug or an unloadable policy refuses the stanza instead of passing it.
      logger.error(
        {
          err: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          peering: d.peering,
          direction: d.name,
        },
        "relay decision failed",
      );
      return {
        action: "refuse",
        audit: {
          peering: d.peering,
          direction: d.name,
          stanza: stanza.name,
          decision: "refuse",
          reason: "internal-error",
        },
      };
    }
  }

  function act(link: Link, original: Element, decision: Decision, release: Release): void {
    const entry = decision.audit;
    count(entry);
    if (!options.passthrough) {
      try {
        audit.append(entry);
      } catch (error) {
        logger.error({ err: String(error) }, "audit append failed");
      }
    }
    if (decision.action === "pass") {
      const out = link.out.get(entry.fromDomain ?? "");
      if (!out) return;
      // Write-ahead: nothing crosses before its audit record is on disk. If the record cannot be
      // written, the stanza does not cross (and the relay drops everything after: fail closed).
      const recorded = options.passthrough ? Promise.resolve() : audit.written();
      link.sends = link.sends
        .then(() => recorded)
        .then(
          () => send(link, out, original, decision.stanza, entry),
          () => {
            logger.error(
              { peering: entry.peering, direction: entry.direction },
              "audit record not written; stanza not relayed",
            );
            // A request that did not cross has no answer to wait for.
            if (original.name === "iq")
              iqTrackers
                .get(entry.peering)
                ?.forget(original.attrs.from ?? "", original.attrs.to ?? "", decision.stanza.attrs.id ?? "");
            if (answersRefusal(original))
              answer(link, original, { condition: "internal-server-error", type: "wait" });
          },
        )
        .finally(release);
      return;
    }
    release();
    logger.info(
      {
        peering: entry.peering,
        direction: entry.direction,
        stanza: entry.stanza,
        type: entry.type,
        decision: entry.decision,
        reason: entry.reason,
        detail: entry.detail,
        from: entry.fromDomain,
        to: entry.toDomain,
      },
      "stanza not relayed",
    );
    // XEP-0258 / docs/labels.md §1: forbidden (cancel), no copy of the content, no label.
    if (
      decision.action === "refuse" &&
      answersRefusal(original) &&
      original.attrs.from &&
      original.attrs.to
    ) {
      answer(link, original, refusalOf(entry.reason));
    }
  }

  function send(
    link: Link,
    out: CordonComponent,
    original: Element,
    stanza: Element,
    entry: AuditEntry,
  ): void {
    out.send(stanza).catch((error: unknown) => {
      const c = counters.get(entry.peering);
      if (c) c.sendFailures++;
      logger.warn(
        {
          err: error instanceof Error ? error.message : String(error),
          peering: entry.peering,
          direction: entry.direction,
        },
        "could not re-emit a stanza",
      );
      if (answersRefusal(original)) answer(link, original, { condition: "remote-server-timeout" });
    });
    logger.debug(
      {
        peering: entry.peering,
        direction: entry.direction,
        stanza: entry.stanza,
        type: entry.type,
        from: entry.fromDomain,
        to: entry.toDomain,
        marking: entry.marking,
      },
      "relayed",
    );
  }

  function count(entry: AuditEntry): void {
    const c = counters.get(entry.peering);
    if (!c) return;
    const d = entry.direction === "inbound" ? c.inbound : c.outbound;
    d[entry.decision]++;
    const key = `${entry.decision}:${entry.reason}`;
    d.reasons[key] = (d.reasons[key] ?? 0) + 1;
  }

  return {
    get links() {
      return links.map((l) => l.component);
    },
    async start() {
      if (state !== "idle") throw new RelayStateError("the relay can only be started once");
      state = "started";
      const results = await Promise.allSettled(links.map((l) => l.component.start()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) {
        await Promise.allSettled(links.map((l) => l.component.stop()));
        throw failed.reason;
      }
      logger.info({ links: links.length, peerings: options.peerings.map((p) => p.name) }, "relay online");
    },
    async stop() {
      if (state === "stopped") return;
      state = "stopped";
      await Promise.allSettled(links.map((l) => l.tail));
      await Promise.allSettled(links.map((l) => l.sends));
      await Promise.allSettled(links.map((l) => l.component.stop()));
      clearInterval(sweeper);
      await Promise.allSettled([audit.written()]);
      logAuditHead();
      clearances.close();
      await audit.close();
    },
    async idle() {
      await Promise.all(links.map((l) => l.tail));
      await Promise.all(links.map((l) => l.sends));
    },
    memory() {
      const use: BufferUse[] = [];
      let iqBytes = 0;
      let iqMax = 0;
      let iqEntries = 0;
      for (const t of iqTrackers.values()) {
        iqBytes += t.bytes;
        iqMax += t.maxBytes;
        iqEntries += t.size;
      }
      use.push({ buffer: "iq-tracking", bytes: iqBytes, maxBytes: iqMax, entries: iqEntries });
      use.push({
        buffer: "pending",
        bytes: pending.bytes,
        maxBytes: pending.limits.totalBytes,
        entries: pending.count,
      });
      use.push({
        buffer: "throttle",
        bytes: throttle.bytes,
        maxBytes: throttle.maxBytes,
        entries: throttle.senders,
      });
      let queueBytes = 0;
      let queueDepth = 0;
      for (const l of links) {
        queueBytes += l.component.queueBytes;
        queueDepth += l.component.queueDepth;
      }
      use.push({
        buffer: "outgoing-queue",
        bytes: queueBytes,
        maxBytes: links.length * (limits.queue?.maxBytes ?? DEFAULT_QUEUE_BYTES),
        entries: queueDepth,
      });
      use.push({
        buffer: "label-cache",
        bytes: engine.labels.cacheBytes,
        maxBytes: engine.labels.cacheMaxBytes,
        entries: engine.labels.cacheSize,
      });
      use.push({
        buffer: "clearance-cache",
        bytes: engine.clearanceCacheBytes,
        maxBytes: engine.clearanceCacheMaxBytes,
        entries: engine.clearanceCacheSize,
      });
      return use;
    },
    metrics() {
      const out: RelayMetrics = {};
      for (const [name, c] of counters) out[name] = structuredClone(c);
      return out;
    },
    metricsText() {
      const lines = [
        "# HELP cordon_relay_decisions_total Relay decisions by peering, direction, decision and reason.",
        "# TYPE cordon_relay_decisions_total counter",
      ];
      for (const [name, c] of counters) {
        for (const dir of ["outbound", "inbound"] as const) {
          for (const [key, n] of Object.entries(c[dir].reasons)) {
            const [decision, reason] = key.split(":");
            lines.push(
              `cordon_relay_decisions_total{peering=${q(name)},direction="${dir}",decision=${q(decision ?? "")},reason=${q(reason ?? "")}} ${n}`,
            );
          }
        }
        lines.push(`cordon_relay_send_failures_total{peering=${q(name)}} ${c.sendFailures}`);
      }
      return `${lines.join("\n")}\n`;
    },
  };
}

function q(v: string): string {
  return JSON.stringify(v);
}

function emptyCounts(): DecisionCounts {
  return { pass: 0, refuse: 0, drop: 0, reasons: {} };
}

/** The baseline: the loop guard, then the stanza as it came. */
async function passthrough(stanza: Element, d: Direction): Promise<Decision> {
  const routed = routeOf(stanza, d);
  const base = { peering: d.peering, direction: d.name, stanza: stanza.name };
  if (!routed.ok) return { action: "drop", audit: { ...base, decision: "drop", reason: routed.reason } };
  return {
    action: "pass",
    stanza,
    audit: {
      ...base,
      decision: "pass",
      reason: "passthrough",
      fromDomain: routed.route.fromDomain,
      toDomain: routed.route.toDomain,
    },
  };
}
