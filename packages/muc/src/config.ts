// The `components.muc` section of the Cordon config file (read with the runtime's ConfigReader;
// keys documented in packages/muc/README.md):
//   domain, secret, server            the component connection (see @cordon/component)
//   localDomains: [example.test]      users of these domains are ours (others get their peer clearance)
//   createRooms: local|anyone|[jids]  who may create rooms (default local)
//   labels: { NAME: LABEL }           named labels for forms and catalogs
//   serviceClearance: CLEARANCE       bounds every room and message label
//   roomLabel: NAME                   label of new rooms (required)
//   roomClearance: [NAME, ...]        labels messages of new rooms may carry (default: all named labels)
//   defaultLabel: NAME                label of unlabelled messages (default: none -> refused)
//   rooms: { persistent, public, membersOnly, moderated, whois, historyLength, flotAlways, allowPm }
//   occupantIdSecret, clearanceRefreshSeconds, capsTimeoutMs
//   catalogServices: [catalog.example.test]   catalog domains that may ask room catalogs for a user
//                                             (default: components.catalog.domain, set by the CLI)
//   cluster: { instance, slots, leaseSeconds, redialSeconds }   several instances (read by the CLI)
//   multicast: { service: multicast.example.test, chunk: 20, timeoutMs: 5000, maxBytes: 16 MiB }
//                                             XEP-0033 fan-out (ejabberd mod_multicast); off when absent
//   presetRooms: { NODE: { name, description, label: NAME, clearance: [NAME...], defaultLabel: NAME,
//                  owners: [bare JIDs], public, membersOnly } }   persistent rooms created at start if absent
// LABEL and CLEARANCE are written as everywhere in Cordon (@cordon/policy labelFromSpec): classification
// and categories by name (TagSet/NAME for a name two tag sets share), or { file: PATH }.
// Policies, store and directory come from the top level of the file (shared by all components).
import { createHash } from "node:crypto";
import {
  foldDomainpart,
  foldLocalpart,
  parseJid,
  readBytes,
  toBare,
  type ConfigReader,
} from "@cordon/component";
import { DEFAULT_MULTICAST, type MulticastSettings } from "./service/multicast.js";
import {
  clearanceFromSpec,
  encodeBerClearance,
  labelFromSpec,
  makeClearance,
  validDefaultLabel,
  type Clearance,
  type Label,
  type Policy,
  type SpecOptions,
} from "@cordon/policy";
import type { RoomRecord } from "@cordon/store";
import { readMucLimits } from "./limits.js";
import { DEFAULT_ROOM_CONFIG } from "./room/room-config.js";
import type { MucSettings, NamedLabel } from "./service/context.js";
import { storedLabel } from "./service/room-config-form.js";

export const MUC_CONFIG_KEYS: readonly string[] = [
  "domain",
  "secret",
  "server",
  "localDomains",
  "createRooms",
  "labels",
  "serviceClearance",
  "roomLabel",
  "roomClearance",
  "defaultLabel",
  "rooms",
  "occupantIdSecret",
  "clearanceRefreshSeconds",
  "capsTimeoutMs",
  "presetRooms",
  "limits",
  "catalogServices",
  // Several `cordon start` processes serving this domain (read by the CLI: packages/cli/src/muc-cluster-config.ts).
  "cluster",
  "multicast",
];

/** How labels are read (registry, `readFile` for `{ file: PATH }`), plus the connection's domain and secret. */
export interface MucConfigOptions extends Omit<SpecOptions, "policy"> {
  /** Labels and clearances written by name are in this policy unless they name another. */
  governing: Policy;
  domain: string;
  secret: string;
}

export interface MucConfig {
  settings: MucSettings;
  /** Persistent rooms to create at start when the store has none of that JID. */
  presetRooms: RoomRecord[];
}

/** Reads and validates `components.muc`; failures are ConfigErrors naming the key. */
export function readMucConfig(section: ConfigReader, options: MucConfigOptions): MucConfig {
  section.only(MUC_CONFIG_KEYS);
  const settings = readMucSettings(section, options);
  const presets = section.optionalSection("presetRooms");
  return {
    settings,
    presetRooms: (presets?.sections() ?? []).map(([node, room]) => presetRoom(room, node, settings, options)),
  };
}

/** The service settings of `components.muc` (also re-read, under new policies, on a policy reload). */
export function readMucSettings(section: ConfigReader, options: MucConfigOptions): MucSettings {
  const { domain, governing } = options;
  const spec: SpecOptions = { ...options, policy: governing.id };
  const labelsSection = section.section("labels");
  const namedLabels: NamedLabel[] = labelsSection.sections().map(([name]) => ({
    name,
    label: labelsSection.parse(name, (value, key) => labelFromSpec(value, key, spec)),
  }));
  const byName = (key: string, name: string) => namedLabel(section, key, name, namedLabels);
  const roomClearance = section.stringList(
    "roomClearance",
    namedLabels.map((n) => n.name),
  );
  const rooms = section.optionalSection("rooms");
  rooms?.only([
    "persistent",
    "public",
    "membersOnly",
    "moderated",
    "whois",
    "historyLength",
    "flotAlways",
    "allowPm",
  ]);
  const createRooms =
    section.has("createRooms") && Array.isArray(section.value.createRooms)
      ? section.stringList("createRooms")
      : section.oneOf("createRooms", ["local", "anyone"] as const, "local");
  return {
    domain,
    createRooms,
    // Compared with JIDs folded by @cordon/jid: folded the same way (nameprep, as the servers).
    localDomains: section
      .stringList("localDomains", [domain.split(".").slice(1).join(".")])
      .map((d) => foldDomainpart(d)),
    ...(section.has("catalogServices")
      ? { catalogServices: section.stringList("catalogServices").map((d) => foldDomainpart(d)) }
      : {}),
    serviceClearance: section.has("serviceClearance")
      ? section.parse("serviceClearance", (value, key) => clearanceFromSpec(value, key, spec))
      : undefined,
    defaultRoomLabel: byName("roomLabel", section.string("roomLabel")),
    defaultRoomClearance: roomClearance.length
      ? clearanceOfLabels(
          section,
          "roomClearance",
          roomClearance,
          (n) => byName("roomClearance", n),
          governing,
        )
      : undefined,
    defaultMessageLabel: section.has("defaultLabel")
      ? validDefault(section, "defaultLabel", byName("defaultLabel", section.string("defaultLabel")))
      : undefined,
    namedLabels,
    roomDefaults: {
      ...DEFAULT_ROOM_CONFIG,
      persistent:
        rooms?.boolean("persistent", DEFAULT_ROOM_CONFIG.persistent) ?? DEFAULT_ROOM_CONFIG.persistent,
      public: rooms?.boolean("public", DEFAULT_ROOM_CONFIG.public) ?? DEFAULT_ROOM_CONFIG.public,
      membersOnly: rooms?.boolean("membersOnly", false) ?? false,
      moderated: rooms?.boolean("moderated", false) ?? false,
      whois: rooms?.oneOf("whois", ["moderators", "anyone"] as const, "moderators") ?? "moderators",
      historyLength:
        rooms?.integer("historyLength", DEFAULT_ROOM_CONFIG.historyLength, { min: 0, max: 10_000 }) ??
        DEFAULT_ROOM_CONFIG.historyLength,
      flotAlways: rooms?.boolean("flotAlways", false) ?? false,
      allowPm:
        rooms?.oneOf("allowPm", ["anyone", "participants", "moderators", "none"] as const, "anyone") ??
        "anyone",
    },
    occupantIdSecret: section.has("occupantIdSecret")
      ? section.secret("occupantIdSecret")
      : createHash("sha256").update(`occupant-id:${options.secret}`).digest("hex"),
    clearanceRefreshMs: section.integer("clearanceRefreshSeconds", 30, { min: 1, max: 3600 }) * 1000,
    capsTimeoutMs: section.integer("capsTimeoutMs", 1500, { min: 100, max: 30_000 }),
    limits: readMucLimits(section.optionalSection("limits")),
    ...(section.has("multicast") ? { multicast: readMulticast(section.section("multicast"), domain) } : {}),
  };
}

/**
 * `multicast`: the XEP-0033 service (a domain, not the MUC's own) and the addresses per stanza,
 * at most the server's cap (ejabberd `mod_multicast` `limits: remote: message`, default 20).
 */
function readMulticast(section: ConfigReader, mucDomain: string): MulticastSettings {
  section.only(["service", "chunk", "timeoutMs", "maxBytes"]);
  const raw = section.string("service");
  const jid = parseJid(raw);
  if (!jid || jid.local !== "" || jid.resource !== "")
    return section.fail(
      "service",
      `expected a domain (the XEP-0033 service, e.g. multicast.example.test), got "${raw}"`,
    );
  const service = foldDomainpart(jid.domain);
  if (service === mucDomain)
    section.fail("service", "must be the server's multicast service, not the MUC's own domain");
  return {
    service,
    chunk: section.integer("chunk", DEFAULT_MULTICAST.chunk, { min: 1, max: DEFAULT_MULTICAST.maxChunk }),
    timeoutMs: section.integer("timeoutMs", DEFAULT_MULTICAST.timeoutMs, { min: 100, max: 60_000 }),
    maxBytes: readBytes(section, "maxBytes", DEFAULT_MULTICAST.maxBytes),
  };
}

/** A default label (`defaultLabel`, the service's or a preset room's): valid under its policy. */
function validDefault(section: ConfigReader, key: string, label: Label): Label {
  return section.parse(key, (_value, fullKey) => validDefaultLabel(label, fullKey));
}

/** A label of `labels` by name (roomLabel, roomClearance, defaultLabel and the preset rooms' keys). */
function namedLabel(section: ConfigReader, key: string, name: string, labels: readonly NamedLabel[]): Label {
  const found = labels.find((n) => n.name === name);
  if (!found)
    return section.fail(key, `"${name}" is not one of the labels (${labels.map((n) => n.name).join(", ")})`);
  return found.label;
}

/**
 * The clearance that holds exactly the named labels (a room clearance written as label names). The
 * labels must be in the governing policy: a clearance cannot hold another policy's categories.
 */
function clearanceOfLabels(
  section: ConfigReader,
  key: string,
  names: readonly string[],
  label: (name: string) => Label,
  governing: Policy,
): Clearance {
  const labels = names.map((name) => {
    const found = label(name);
    if (found.policy !== governing)
      section.fail(
        key,
        `"${name}" is a label of policy "${found.policy.name}", not of the governing policy "${governing.name}"`,
      );
    return found;
  });
  return makeClearance(
    governing,
    labels.map((l) => l.classification),
    labels.flatMap((l) => l.categories),
  );
}

/** One `presetRooms` entry as the store record of a persistent room. */
function presetRoom(
  section: ConfigReader,
  node: string,
  settings: MucSettings,
  options: MucConfigOptions,
): RoomRecord {
  section.only([
    "name",
    "description",
    "label",
    "clearance",
    "defaultLabel",
    "owners",
    "public",
    "membersOnly",
  ]);
  const named = (key: string, name: string) => namedLabel(section, key, name, settings.namedLabels);
  const label = named("label", section.string("label"));
  const clearance = clearanceOfLabels(
    section,
    "clearance",
    section.stringList(
      "clearance",
      settings.namedLabels.map((n) => n.name),
    ),
    (n) => named("clearance", n),
    options.governing,
  );
  const defaultLabel = section.has("defaultLabel")
    ? validDefault(section, "defaultLabel", named("defaultLabel", section.string("defaultLabel")))
    : undefined;
  const affiliations: Record<string, "owner"> = {};
  for (const owner of section.stringList("owners")) affiliations[toBare(owner) ?? owner] = "owner";
  return {
    jid: `${foldLocalpart(node)}@${settings.domain}`,
    config: {
      ...settings.roomDefaults,
      persistent: true,
      name: section.string("name", node),
      description: section.string("description", ""),
      public: section.boolean("public", true),
      membersOnly: section.boolean("membersOnly", false),
    },
    label: storedLabel(label),
    clearance: { encoding: "ber", data: Buffer.from(encodeBerClearance(clearance)).toString("base64") },
    ...(defaultLabel ? { defaultLabel: storedLabel(defaultLabel) } : {}),
    affiliations,
    persistent: true,
  };
}
