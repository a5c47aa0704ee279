// The demo policy, labels and clearances the e2e tests share (deploy/quickstart/demo-policy.xml).
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  PolicyRegistry,
  makeLabel,
  makeClearance,
  buildSecurityLabelXml,
  encodeBerClearance,
  type Label,
  type Clearance,
  type Policy,
} from "@cordon/policy";
import type { RawValue, ClearanceStore, UserClearanceSource } from "@cordon/store";
import { createComponent, type CordonComponent, type Logger } from "@cordon/component";
import {
  createMucService,
  DEFAULT_ROOM_CONFIG,
  type MucService,
  type MucServiceOptions,
  type MucSettings,
  type MucObserver,
} from "@cordon/muc";
import type { XmppServer } from "@cordon/harness";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const demoPolicyFile = resolve(repoRoot, "deploy/quickstart/demo-policy.xml");

export interface Demo {
  registry: PolicyRegistry;
  policy: Policy;
  label(classification: string, ...categories: string[]): Label;
  clearance(classifications: string[], categories?: string[]): Clearance;
  raw(clearance: Clearance): RawValue;
  labelXml(label: Label): string;
}

export function loadDemo(): Demo {
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(demoPolicyFile);
  const cls = (name: string) => {
    const c = policy.classifications.find((x) => x.name === name);
    if (!c) throw new Error(`no classification ${name}`);
    return c;
  };
  const cat = (name: string) => {
    const c = policy.categories.find((x) => x.name === name);
    if (!c) throw new Error(`no category ${name}`);
    return c;
  };
  return {
    registry,
    policy,
    label: (classification, ...categories) => makeLabel(policy, cls(classification), categories.map(cat)),
    clearance: (classifications, categories = []) =>
      makeClearance(policy, classifications.map(cls), categories.map(cat)),
    raw: (clearance) => ({
      encoding: "ber",
      data: Buffer.from(encodeBerClearance(clearance)).toString("base64"),
    }),
    labelXml: (label) => buildSecurityLabelXml(label),
  };
}

export const ALL_CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
export const ALL_CATEGORIES = ["ALPHA", "BRAVO", "GBR", "USA", "FRA"];

/**
 * Starts the labelled MUC for `mucDomain` on a harness server, with the demo policy and the
 * settings most tests want (rooms labelled UNCLASSIFIED, everything allowed within the service
 * clearance, UNCLASSIFIED as the default message label); `settings` overrides any of them.
 */
export interface DemoMucOptions {
  server: XmppServer;
  mucDomain: string;
  localDomain: string;
  secret: string;
  store: ClearanceStore;
  /** User clearances when not the store alone (a resolver over store and directory). */
  users?: UserClearanceSource;
  settings?: Partial<MucSettings>;
  logger?: Logger;
  /** The MUC's clock (tests move it instead of waiting). */
  now?: () => number;
  /** The component link, when the test watches it (status, reconnects); else one is created. */
  component?: CordonComponent;
  /** Decisions and fan-out, when the test counts them. */
  observer?: MucObserver;
  /** The guard's client locations (issue 17: occupants located at their join); none by default. */
  locations?: MucServiceOptions["locations"];
}

export async function startDemoMuc(demo: Demo, options: DemoMucOptions): Promise<MucService> {
  const muc = createDemoMuc(demo, options);
  await muc.start();
  return muc;
}

/** The demo MUC service, not started (the cluster tests start it through SlotTakeover). */
export function createDemoMuc(demo: Demo, options: DemoMucOptions): MucService {
  const U = demo.label("UNCLASSIFIED");
  const everything = demo.clearance(ALL_CLASSES, ALL_CATEGORIES);
  const muc = createMucService({
    component:
      options.component ??
      createComponent({
        service: `xmpp://127.0.0.1:${options.server.componentPort}`,
        domain: options.mucDomain,
        secret: options.secret,
      }),
    registry: demo.registry,
    governingPolicy: demo.policy.id,
    store: options.store,
    ...(options.users ? { users: options.users } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.locations ? { locations: options.locations } : {}),
    settings: {
      domain: options.mucDomain,
      createRooms: "local",
      localDomains: [options.localDomain],
      serviceClearance: everything,
      defaultRoomLabel: U,
      defaultRoomClearance: everything,
      defaultMessageLabel: U,
      namedLabels: [
        { name: "UNCLASSIFIED", label: U },
        { name: "SECRET", label: demo.label("SECRET") },
      ],
      roomDefaults: { ...DEFAULT_ROOM_CONFIG },
      occupantIdSecret: options.secret,
      clearanceRefreshMs: 60_000,
      capsTimeoutMs: 500,
      ...options.settings,
    },
  });
  return muc;
}
