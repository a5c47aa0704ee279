// Test-only: a real MucContext (real policy engine, label resolver, rendering, clearance book over
// a MemoryStore) whose component link is replaced by capture arrays, so the room handlers can be
// driven without XMPP and everything they would send can be inspected.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createComponent,
  escapeXml,
  PendingBudget,
  SenderThrottle,
  silentLogger,
  type Element,
  type StanzaErrorSpec,
} from "@cordon/component";
import { HistoryBudget } from "../src/room/history-budget.js";
import { OccupantBudget } from "../src/room/occupant-budget.js";
import { PolicyRegistry, type Policy } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { ClearanceBook } from "../src/security/clearance-book.js";
import {
  ClearanceReader,
  Markings,
  SessionLocations,
  StanzaLabels,
  type ClientLocationOptions,
  type SessionAddress,
} from "@cordon/rules";
import { LabelAwareness } from "../src/service/label-awareness.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { MucContext, MucSettings } from "../src/service/context.js";
import type { Room } from "../src/room/room.js";

/** deploy/quickstart/demo-policy.xml, found upwards from this file (src or dist). */
export function demoPolicyPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "deploy", "quickstart", "demo-policy.xml");
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, "..");
  }
  throw new Error("deploy/quickstart/demo-policy.xml not found above the muc tests");
}

export interface CapturingContext extends MucContext {
  /** Every stanza handed to send(), in order. */
  readonly sent: string[];
  /** Every refusal: the refused stanza and the error spec. */
  readonly refused: { stanza: Element; spec: StanzaErrorSpec }[];
}

export function loadDemoPolicy(): { registry: PolicyRegistry; policy: Policy } {
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(demoPolicyPath());
  return { registry, policy };
}

export function capturingContext(
  registry: PolicyRegistry,
  policy: Policy,
  settings: Partial<MucSettings> & Pick<MucSettings, "defaultRoomLabel">,
  /** The guard's client locations, and where each session is (its server's answer; default: not known). */
  located: { locations?: ClientLocationOptions; sessionAddress?: SessionAddress } = {},
): CapturingContext {
  const domain = settings.domain ?? "rooms.example.test";
  // Never started: it only satisfies the context's type; nothing reaches it.
  const component = createComponent({ service: "xmpp://127.0.0.1:1", domain, secret: "unused" });
  const store = new MemoryStore();
  const sent: string[] = [];
  const refused: { stanza: Element; spec: StanzaErrorSpec }[] = [];
  let clock = Date.UTC(2025, 0, 1);
  const rooms = new Map<string, Room>();
  return {
    component,
    unreadableRooms: new Set<string>(),
    settings: {
      domain,
      createRooms: "anyone",
      localDomains: ["example.test"],
      serviceClearance: undefined,
      defaultRoomClearance: undefined,
      defaultMessageLabel: undefined,
      namedLabels: [],
      roomDefaults: { ...DEFAULT_ROOM_CONFIG },
      occupantIdSecret: "test",
      clearanceRefreshMs: 60_000,
      capsTimeoutMs: 100,
      ...settings,
    },
    registry,
    store,
    clearances: new ClearanceBook({
      reader: new ClearanceReader({ registry, store }),
      localDomains: ["example.test"],
    }),
    labels: new StanzaLabels(registry),
    governingPolicy: policy.id,
    rendering: new Markings(),
    awareness: new LabelAwareness(component, 100),
    locations: new SessionLocations(located.locations, registry),
    sessionAddress: located.sessionAddress ?? (async () => undefined),
    budgets: {
      history: new HistoryBudget(settings.limits?.history ?? {}),
      occupants: new OccupantBudget(settings.limits?.occupants ?? {}),
    },
    throttle: new SenderThrottle(settings.limits?.throttle ?? {}),
    pending: new PendingBudget(settings.limits?.pending ?? {}),
    rooms,
    logger: silentLogger(),
    sent,
    refused,
    async saveRoom() {},
    async send(stanzas) {
      for (const s of stanzas) sent.push(s);
    },
    // Each copy as the component's sendCopies writes it.
    async sendCopies({ head, to, payload }) {
      for (const [k, jid] of to.entries()) sent.push(`${head} to="${escapeXml(jid)}">${payload[k]}`);
    },
    async refuse(stanza, spec) {
      refused.push({ stanza, spec });
    },
    now: () => (clock += 1000),
  };
}
