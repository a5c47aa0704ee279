// The peering model: two sides (local and remote), each a server the relay attaches to by domain
// claiming (docs/servers.md §1), and the rules of each direction (outbound = local → remote,
// inbound = remote → local). `readRelayConfig` reads it from the `components.relay` section.
import { readAuditSection, type AuditSettings } from "./audit-config.js";
import { readFileSync } from "node:fs";
import { ConfigReader, DEFAULT_MAX_STANZA_BYTES, isObject, readMaxStanzaBytes } from "@cordon/component";
import {
  clearanceFromSpec,
  encodeBerClearance,
  encodeEssLabel,
  defaultLabelFromSpec,
  type PolicyRegistry,
  type SpecOptions,
} from "@cordon/policy";
import { PeeringConfigError } from "./errors.js";
import { DEFAULT_IQ_NAMESPACES, type IqRules } from "./iq-control.js";
import { readRelayLimits, type RelayLimits } from "./limits.js";

export type SideName = "local" | "remote";
export type DirectionName = "outbound" | "inbound";
export type MessageType = "chat" | "normal" | "groupchat" | "headline";
export const MESSAGE_TYPES: readonly MessageType[] = ["chat", "normal", "groupchat", "headline"];
export type TrafficMode = "any" | "muc-only" | "one-to-one-only";
export type ElementAction = "pass" | "strip" | "block";
export type UnlabelledAction = "default" | "refuse";
export type MalformedAction = "refuse" | "drop";
export type PresenceMode = "full" | "fold" | "none";
/** Parts of a presence that folding can keep (availability, i.e. the `type`, is always kept). */
export type PresencePart = "show" | "status" | "priority" | "caps" | "avatar" | "nick" | "idle" | "muc";
export const PRESENCE_PARTS: readonly PresencePart[] = [
  "show",
  "status",
  "priority",
  "caps",
  "avatar",
  "nick",
  "idle",
  "muc",
];

/** One server the relay attaches to, and the domains that server hosts. */
export interface SideConfig {
  /** `xmpp://host:port` of this server's component listener. */
  service: string;
  /** The XEP-0114 secret of every component the relay declares on this server. */
  secret: string;
  /** Domains hosted on this side; the relay claims them as components on the other side's server. */
  domains: string[];
  /** Which of `domains` are MUC services (for the muc-only / one-to-one-only modes). */
  mucDomains: string[];
  /** OID of the security policy this side's labels are expressed in. */
  policy: string;
  /** The side's policy default label (label data: XML, or base64 BER/DER). */
  defaultLabel?: string;
  /** False: clients here show no labels; messages get the marking as the body's first line (FLOT). */
  labelAware: boolean;
  /** Language of the display markings written for this side ("" = untagged). */
  markingLang: string;
  /** Remote side only: a clearance that stands for every sender of this side (clearance data). */
  senderClearance?: string;
  /** The largest stanza the relay writes to this side's server (`server.maxStanzaBytes`). */
  maxStanzaBytes?: number;
}

export type PeerRule = { kind: "grant"; domains: string[] } | { kind: "deny"; domains: string[] };

export interface ElementRule {
  ns: string;
  name?: string;
  action: Exclude<ElementAction, "pass">;
}

export interface WordList {
  words: string[];
  /** Apply only to stanzas whose label has one of these classification names (any when absent). */
  classifications?: string[];
}

/** Every check of one direction. */
export interface DirectionRules {
  /** Which far-side domains senders on this direction's source side may reach. */
  peers: PeerRule;
  /** The direction's clearance (clearance data); when absent, the store's peer clearance. */
  clearance?: string;
  /** The peering's default label for this direction (label data); overrides the side's. */
  defaultLabel?: string;
  /** What happens to a stanza without a label, per stanza kind. */
  unlabelled: { message: UnlabelledAction; presence: UnlabelledAction; iq: UnlabelledAction };
  /** What happens to a malformed or unknown label, or a stanza that cannot be classified. */
  malformed: MalformedAction;
  messageTypes: MessageType[];
  mode: TrafficMode;
  chatStates: ElementAction;
  receipts: ElementAction;
  elements: ElementRule[];
  fileTransfer: { ibb: "pass" | "block"; jingle: "pass" | "block"; si: "pass" | "block"; oob: ElementAction };
  presence: { mode: PresenceMode; keep: PresencePart[] };
  content: WordList[];
  /** IQ requests: the payload namespaces that may cross (answers cross only to requests that did). */
  iq: IqRules;
}

export interface PeeringConfig {
  name: string;
  local: SideConfig;
  remote: SideConfig;
  outbound: DirectionRules;
  inbound: DirectionRules;
}

export interface RelayConfig {
  /** SPIF files to load. */
  policies: string[];
  /** Hash-chained JSON-lines audit file (audit.file). */
  auditFile: string;
  /** The whole `audit:` section: file, key or key file, anchor interval (audit-config.ts). */
  audit: AuditSettings;
  peerings: PeeringConfig[];
  /** Memory limits (README "Memory limits"); every default when absent. */
  limits: RelayLimits;
}

/** Safe defaults of a direction: file transfer blocked, presence folded, every message type allowed. */
export function defaultRules(overrides: Partial<DirectionRules> = {}): DirectionRules {
  return {
    peers: { kind: "deny", domains: [] },
    unlabelled: { message: "refuse", presence: "refuse", iq: "refuse" },
    malformed: "refuse",
    messageTypes: [...MESSAGE_TYPES],
    mode: "any",
    chatStates: "pass",
    receipts: "pass",
    elements: [],
    fileTransfer: { ibb: "block", jingle: "block", si: "block", oob: "block" },
    presence: { mode: "fold", keep: ["show", "priority", "muc"] },
    content: [],
    iq: { namespaces: [...DEFAULT_IQ_NAMESPACES] },
    ...overrides,
  };
}

/** Cross-checks a peering: disjoint domain sets, MUC domains among the side's domains, no domain in two peerings. */
export function validatePeerings(peerings: readonly PeeringConfig[]): void {
  const owner = new Map<string, string>();
  for (const p of peerings) {
    for (const side of ["local", "remote"] as const) {
      const s = p[side];
      if (s.domains.length === 0)
        throw new PeeringConfigError(`peerings.${p.name}.${side}.domains`, "expected at least one domain");
      for (const m of s.mucDomains) {
        if (!s.domains.includes(m))
          throw new PeeringConfigError(
            `peerings.${p.name}.${side}.mucDomains`,
            `${m} is not one of this side's domains`,
          );
      }
      for (const d of s.domains) {
        // A domain on both sides would make the relay claim it on the server that hosts it: a loop.
        const where = `${p.name}.${side}`;
        const seen = owner.get(d);
        if (seen && !(side === "local" && seen.endsWith(".local"))) {
          throw new PeeringConfigError(`peerings.${where}.domains`, `${d} is also a domain of ${seen}`);
        }
        owner.set(d, where);
      }
    }
  }
}

const DOMAIN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function domainList(r: ConfigReader, name: string, fallback?: string[]): string[] {
  const list = r.stringList(name, fallback).map((d) => d.toLowerCase());
  for (const d of list) if (!DOMAIN.test(d)) r.fail(name, `expected domain names, got "${d}"`);
  return list;
}

/** Reads the labels and clearances of the relay's config (policies loaded, files resolved). */
interface LabelReader {
  /**
   * A default label (`defaultLabel`) as data (base64 DER): any form of @cordon/policy labelFromSpec,
   * by name in `policy`, and valid under its policy (defaultLabelFromSpec):
   * one its policy excludes would refuse every unlabelled stanza (@cordon/rules stanza-label,
   * default-label-invalid), so the configuration is refused, as the MUC's and the guard's are.
   */
  defaultLabel(r: ConfigReader, policy: string): string | undefined;
  /** A clearance as data (base64 BER), likewise. */
  clearance(r: ConfigReader, name: string, policy: string): string | undefined;
}

function labelReader(options: ReadRelayOptions): LabelReader {
  const spec = (policy: string): SpecOptions => ({
    registry: options.registry,
    policy,
    readFile: (p) => readFileSync(options.path?.(p) ?? p),
  });
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  return {
    defaultLabel: (r, policy) =>
      r.has("defaultLabel")
        ? r.parse("defaultLabel", (v, key) =>
            base64(encodeEssLabel(defaultLabelFromSpec(v, key, spec(policy)))),
          )
        : undefined,
    clearance: (r, name, policy) =>
      r.has(name)
        ? r.parse(name, (v, key) => base64(encodeBerClearance(clearanceFromSpec(v, key, spec(policy)))))
        : undefined,
  };
}

function readSide(
  r: ConfigReader,
  serverDefaults: { host: string; port: number; maxStanzaBytes?: number } | undefined,
  env: NodeJS.ProcessEnv,
  labels: LabelReader,
): SideConfig {
  r.only([
    "server",
    "secret",
    "domains",
    "mucDomains",
    "policy",
    "defaultLabel",
    "labelAware",
    "markingLang",
    "senderClearance",
  ]);
  const server = r.optionalSection("server")?.only(["host", "port", "maxStanzaBytes"]);
  const host = server?.optionalString("host") ?? serverDefaults?.host ?? "127.0.0.1";
  const port = server?.has("port") ? server.port("port") : (serverDefaults?.port ?? 5347);
  const policy = r.string("policy");
  const defaultLabel = labels.defaultLabel(r, policy);
  const senderClearance = labels.clearance(r, "senderClearance", policy);
  return {
    service: `xmpp://${host}:${port}`,
    secret: r.secret("secret", env),
    domains: domainList(r, "domains"),
    mucDomains: domainList(r, "mucDomains", []),
    policy,
    ...(defaultLabel !== undefined ? { defaultLabel } : {}),
    labelAware: r.boolean("labelAware", true),
    markingLang: r.has("markingLang") ? r.string("markingLang") : "",
    ...(senderClearance !== undefined ? { senderClearance } : {}),
    maxStanzaBytes: server?.has("maxStanzaBytes")
      ? readMaxStanzaBytes(server, undefined)
      : (serverDefaults?.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES),
  };
}

/** Entry `i` of the list `name`, as a reader (each entry must be a mapping). */
function item(r: ConfigReader, name: string, i: number): ConfigReader {
  const list = r.value[name] as unknown[];
  const v = list[i];
  const key = `${name}[${i}]`;
  if (!isObject(v)) r.fail(key, "expected a mapping");
  return new ConfigReader(v, r.key(key), r.file);
}

const ACTIONS: readonly ElementAction[] = ["pass", "strip", "block"];
const UNLABELLED: readonly UnlabelledAction[] = ["default", "refuse"];

/** A direction's rules; its labels and clearances are by name in `policy`, its sending side's. */
function readRules(r: ConfigReader, labels: LabelReader, policy: string): DirectionRules {
  r.only([
    "peers",
    "clearance",
    "defaultLabel",
    "unlabelled",
    "malformed",
    "messageTypes",
    "mode",
    "chatStates",
    "receipts",
    "elements",
    "fileTransfer",
    "presence",
    "content",
    "iq",
  ]);
  const base = defaultRules();
  const peersR = r.section("peers").only(["grant", "deny"]);
  if (peersR.has("grant") === peersR.has("deny"))
    peersR.fail("", "expected exactly one of grant (an explicit list) or deny (any peer but these)");
  const peers: PeerRule = peersR.has("grant")
    ? { kind: "grant", domains: domainList(peersR, "grant") }
    : { kind: "deny", domains: domainList(peersR, "deny") };
  // "Never silently passed": the unlabelled behaviour has no default, it must be written down.
  if (!r.has("unlabelled"))
    r.fail("unlabelled", "required: default or refuse (or per kind: { message, presence, iq })");
  let unlabelled: DirectionRules["unlabelled"];
  if (typeof r.value.unlabelled === "string") {
    const all = r.oneOf("unlabelled", UNLABELLED);
    unlabelled = { message: all, presence: all, iq: all };
  } else {
    const u = r.section("unlabelled").only(["message", "presence", "iq"]);
    unlabelled = {
      message: u.oneOf("message", UNLABELLED),
      presence: u.oneOf("presence", UNLABELLED),
      iq: u.oneOf("iq", UNLABELLED),
    };
  }
  const types = r.stringList("messageTypes", base.messageTypes);
  for (const t of types)
    if (!(MESSAGE_TYPES as readonly string[]).includes(t))
      r.fail("messageTypes", `unknown message type "${t}" (expected ${MESSAGE_TYPES.join(", ")})`);
  const elements: ElementRule[] = [];
  const rawElements = r.value.elements;
  if (rawElements !== undefined && rawElements !== null) {
    if (!Array.isArray(rawElements)) r.fail("elements", "expected a list of { ns, name?, action }");
    rawElements.forEach((_e, i) => {
      const er = item(r, "elements", i).only(["ns", "name", "action"]);
      const name = er.optionalString("name");
      elements.push({
        ns: er.string("ns"),
        ...(name ? { name } : {}),
        action: er.oneOf("action", ["strip", "block"] as const),
      });
    });
  }
  const ft = r.optionalSection("fileTransfer")?.only(["ibb", "jingle", "si", "oob"]);
  const pr = r.optionalSection("presence")?.only(["mode", "keep"]);
  const keep = pr ? pr.stringList("keep", base.presence.keep) : base.presence.keep;
  for (const k of keep)
    if (!(PRESENCE_PARTS as readonly string[]).includes(k))
      pr?.fail("keep", `unknown presence part "${k}" (expected ${PRESENCE_PARTS.join(", ")})`);
  const content: WordList[] = [];
  const rawContent = r.value.content;
  if (rawContent !== undefined && rawContent !== null) {
    if (!Array.isArray(rawContent)) r.fail("content", "expected a list of { words, classifications? }");
    rawContent.forEach((_c, i) => {
      const cr = item(r, "content", i).only(["words", "classifications"]);
      const words = cr.stringList("words");
      if (words.length === 0) cr.fail("words", "expected at least one word or phrase");
      content.push({
        words,
        ...(cr.has("classifications") ? { classifications: cr.stringList("classifications") } : {}),
      });
    });
  }
  const clearance = labels.clearance(r, "clearance", policy);
  const defaultLabel = labels.defaultLabel(r, policy);
  const pass = ["pass", "block"] as const;
  const iqR = r.optionalSection("iq")?.only(["namespaces"]);
  let iq: IqRules = base.iq;
  if (iqR?.has("namespaces")) {
    iq =
      iqR.value.namespaces === "any" ? { namespaces: "any" } : { namespaces: iqR.stringList("namespaces") };
  }
  return {
    peers,
    ...(clearance !== undefined ? { clearance } : {}),
    ...(defaultLabel !== undefined ? { defaultLabel } : {}),
    unlabelled,
    malformed: r.oneOf("malformed", ["refuse", "drop"] as const, "refuse"),
    messageTypes: types as MessageType[],
    mode: r.oneOf("mode", ["any", "muc-only", "one-to-one-only"] as const, "any"),
    chatStates: r.oneOf("chatStates", ACTIONS, "pass"),
    receipts: r.oneOf("receipts", ACTIONS, "pass"),
    elements,
    fileTransfer: ft
      ? {
          ibb: ft.oneOf("ibb", pass, "block"),
          jingle: ft.oneOf("jingle", pass, "block"),
          si: ft.oneOf("si", pass, "block"),
          oob: ft.oneOf("oob", ACTIONS, "block"),
        }
      : base.fileTransfer,
    presence: {
      mode: pr ? pr.oneOf("mode", ["full", "fold", "none"] as const, "fold") : "fold",
      keep: keep as PresencePart[],
    },
    content,
    iq,
  };
}

/**
 * Reads `components.relay`: `policies`, `audit: { file, key | keyFile, anchorEvery }`, and `peerings: { NAME: { local, remote,
 * outbound, inbound } }` (keys documented in packages/relay/README.md). Throws ConfigError.
 */
export interface ReadRelayOptions {
  /** The loaded policies (the config's and the relay's own `policies`): labels and clearances are read with them. */
  registry: PolicyRegistry;
  /** Host and port used by sides that name no `server` (the config's top-level `server`). */
  serverDefaults?: { host: string; port: number; maxStanzaBytes?: number };
  env?: NodeJS.ProcessEnv;
  /** Resolves `{ file: PATH }` values (default: as written). */
  path?: (p: string) => string;
}

export function readRelayConfig(section: ConfigReader, options: ReadRelayOptions): RelayConfig {
  const { serverDefaults, env = process.env } = options;
  const labels = labelReader(options);
  section.only(["policies", "audit", "peerings", "limits"]);
  // Policies may also come from the config's top level (cordon start shares one registry).
  const policies = section.stringList("policies", []);
  const audit = readAuditSection(section.section("audit"), env);
  const peeringsR = section.section("peerings");
  const peerings: PeeringConfig[] = [];
  for (const [name, p] of peeringsR.sections()) {
    p.only(["local", "remote", "outbound", "inbound"]);
    const local = readSide(p.section("local"), serverDefaults, env, labels);
    const remote = readSide(p.section("remote"), serverDefaults, env, labels);
    peerings.push({
      name,
      local,
      remote,
      outbound: readRules(p.section("outbound"), labels, local.policy),
      inbound: readRules(p.section("inbound"), labels, remote.policy),
    });
  }
  if (peerings.length === 0) peeringsR.fail("", "expected at least one peering");
  try {
    validatePeerings(peerings);
  } catch (error) {
    if (error instanceof PeeringConfigError)
      section.fail(error.key, error.message.slice(error.key.length + 2));
    throw error;
  }
  const limits = readRelayLimits(section.optionalSection("limits"));
  return { policies, auditFile: audit.file, audit, peerings, limits };
}
