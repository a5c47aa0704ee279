// The guard's client locations across Cordon's relay (issue 17): the guarded server (`kind`, domain
// `here`, user alice cleared up to RED under TLPX) loading the guard module, the other kind the peer
// (`there`, user bob cleared up to RED under TLP), Cordon's real relay between them (tlpPeering: TLPX
// ↔ TLP, up to AMBER each way) claiming `there` as a trusted component of the guarded server, and
// Cordon's guard with two sites: CLEARED_SITE up to RED, UNCLASSIFIED_SITE WHITE only. Used by
// guard-location-outbound (R1) and guard-location-relay.
import { startServer, type ServerKind, type TestClient, type XmppServer } from "@cordon/harness";
import type { GuardService, GuardServiceOptions } from "@cordon/guard";
import { makeLabel, parseClearance, PolicyRegistry } from "@cordon/policy";
import { createRelay, MemoryAuditSink, type Relay } from "@cordon/relay";
import { MemoryStore } from "@cordon/store";
import { TLP, TLPX, loadTlpPolicies, tlpClearance, tlpPeering, xmlValue } from "./relay-fixture.js";
import type { Demo } from "./demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "./guard-fixture.js";
import * as guarded from "./guard-fixture.js";

export interface GuardRelayOptions {
  demo: Demo;
  here: string;
  there: string;
  /** The relay's secret on both servers. */
  secret: string;
  /** The peering's name. */
  peering: string;
  /** More components of the guarded server, trusted by its module. */
  components?: readonly { domain: string; secret: string }[];
  /** The guard module's `inbound_unasked` components. */
  inboundUnasked?: string[];
  /** More modules of the guarded server. */
  extraModules?: string[];
  onDecision?: GuardServiceOptions["onDecision"];
}

export class GuardRelay {
  readonly registry = new PolicyRegistry();
  readonly store = new MemoryStore();
  readonly open: TestClient[] = [];
  readonly other: ServerKind;
  guardedServer!: XmppServer;
  otherServer!: XmppServer;
  relay: Relay | undefined;
  guard: GuardService | undefined;

  constructor(
    readonly kind: ServerKind,
    readonly o: GuardRelayOptions,
  ) {
    this.other = kind === "prosody" ? "ejabberd" : "prosody";
    loadTlpPolicies(this.registry);
  }

  /** Cordon's guard on the guarded server (WHITE by default, the two sites), kept in `guard`. */
  async startGuard(): Promise<GuardService> {
    const { registry } = this;
    const tlpx = registry.require(TLPX);
    const white = [...tlpx.classificationByName.values()].find((c) => c.lacv === 10)!;
    this.guard = await guarded.startGuard(this.o.demo, this.guardedServer, this.o.here, {
      registry,
      store: this.store,
      defaultLabel: makeLabel(tlpx, white, []),
      ...(this.o.onDecision ? { onDecision: this.o.onDecision } : {}),
      locations: [
        {
          ranges: [`${CLEARED_SITE}/32`],
          clearance: parseClearance(tlpClearance(TLPX, [10, 11, 12, 13]), registry),
        },
        {
          ranges: [`${UNCLASSIFIED_SITE}/32`],
          clearance: parseClearance(tlpClearance(TLPX, [10]), registry),
        },
      ],
    });
    return this.guard;
  }

  /** Both servers, the relay and the guard, started. */
  async start(): Promise<void> {
    const { demo, here, there, secret } = this.o;
    const more = this.o.components ?? [];
    this.guardedServer = await guarded.startGuardedServer(
      this.kind,
      {
        demo,
        domain: here,
        users: ["alice"],
        password: "pw",
        guard: {
          timeoutSeconds: 2,
          trusted: [there, ...more.map((c) => c.domain)],
          ...(this.o.inboundUnasked ? { inboundUnasked: this.o.inboundUnasked } : {}),
        },
      },
      {
        components: [{ domain: there, secret }, ...more],
        ...(this.o.extraModules ? { extraModules: this.o.extraModules } : {}),
      },
    );
    this.otherServer = await startServer(this.other, {
      domain: there,
      components: [{ domain: here, secret }],
      users: [{ username: "bob", password: "pw" }],
    });
    await this.store.setUserClearance(`alice@${here}`, xmlValue(tlpClearance(TLPX, [10, 11, 12, 13])));
    await this.store.setUserClearance(`bob@${there}`, xmlValue(tlpClearance(TLP, [10, 11, 12, 13])));
    this.relay = createRelay({
      peerings: [tlpPeering(this.o.peering, this.guardedServer, here, this.otherServer, there, secret)],
      registry: this.registry,
      store: this.store,
      audit: new MemoryAuditSink(),
      reconnect: { initialMs: 100, maxMs: 1000 },
    });
    await this.relay.start();
    await this.startGuard();
  }

  /** The tests' after(): the relay, the clients, the guard, both servers. */
  async stop(): Promise<void> {
    await this.relay?.stop();
    await guarded.stopGuarded(this.guardedServer, this.guard, this.open);
    await this.otherServer?.stop();
  }
}
