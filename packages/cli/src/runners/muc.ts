// components.muc: the labelled MUC. Keys (see packages/muc/README.md):
//   domain, secret, server            the component connection
//   localDomains: [example.test]      users of these domains are ours (others get their peer clearance)
//   createRooms: local|anyone|[jids]  who may create rooms (default local)
//   labels: { NAME: {classification, categories} | {file} }   named labels for forms and catalogs
//   serviceClearance: {classifications, categories} | {file}  bounds every room and message label
//   roomLabel: NAME                   label of new rooms (required)
//   roomClearance: [NAME, ...]        labels messages of new rooms may carry (default: all named labels)
//   defaultLabel: NAME                label of unlabelled messages (default: none -> refused)
//   rooms: { persistent, public, membersOnly, moderated, whois, historyLength, flotAlways }
//   occupantIdSecret, clearanceRefreshSeconds, capsTimeoutMs
//   presetRooms: { NODE: { name, description, label: NAME, clearance: [NAME...], defaultLabel: NAME,
//                  owners: [bare JIDs], public, membersOnly } }   persistent rooms created at start if absent
import { createHash } from "node:crypto";
import { createComponent, readConnection, type ConfigReader } from "@cordon/component";
import { encodeBerClearance, makeClearance, type Label } from "@cordon/policy";
import {
  createMucService,
  DEFAULT_ROOM_CONFIG,
  storedLabel,
  type MucSettings,
  type NamedLabel,
} from "@cordon/muc";
import { readClearance, readLabel, type RuntimeEnvironment } from "../environment.js";
import type { ComponentRunner } from "./runner.js";
import { mucObserver, observeLinks, target, withObserver } from "./ops.js";
import { mucOps } from "./muc-ops.js";

export const runMuc: ComponentRunner = async (context, section) => {
  section.only([
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
  ]);
  const env = await context.environment();
  const connection = readConnection(context.config, section);
  const settings = readMucSettings(env, section, connection.domain, connection.secret);
  const presets = section.optionalSection("presetRooms");
  for (const [node, room] of presets?.sections() ?? []) await presetRoom(env, settings, node, room);
  const component = createComponent({ ...connection, logger: context.logger });
  const service = createMucService({
    component,
    registry: env.registry,
    governingPolicy: env.governing.id,
    store: env.store,
    users: env.users,
    settings,
    logger: component.logger,
    ...withObserver(mucObserver(context.ops)),
  });
  if (context.check) return { name: "muc", stop: async () => undefined, targets: [target(connection)] };
  observeLinks(context.ops, "muc", [component]);
  await service.start();
  const ops = mucOps(env, service, settings, (next) =>
    readMucSettings(next, section, connection.domain, connection.secret),
  );
  return { name: "muc", stop: () => service.stop(), ops };
};

export function readMucSettings(
  env: Parameters<typeof readLabel>[0],
  section: ConfigReader,
  domain: string,
  secret: string,
): MucSettings {
  const labelsSection = section.section("labels");
  const namedLabels: NamedLabel[] = labelsSection
    .sections()
    .map(([name]) => ({ name, label: readLabel(env, labelsSection, name) }));
  const byName = (key: string, name: string): Label => {
    const found = namedLabels.find((n) => n.name === name);
    if (!found)
      return section.fail(
        key,
        `"${name}" is not one of the labels (${namedLabels.map((n) => n.name).join(", ")})`,
      );
    return found.label;
  };
  const roomClearanceNames = section.stringList(
    "roomClearance",
    namedLabels.map((n) => n.name),
  );
  const roomClearanceLabels = roomClearanceNames.map((n) => byName("roomClearance", n));
  const defaultRoomClearance = roomClearanceLabels.length
    ? makeClearance(
        env.governing,
        roomClearanceLabels.map((l) => l.classification),
        roomClearanceLabels.flatMap((l) => l.categories),
      )
    : undefined;
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
    localDomains: section.stringList("localDomains", [domain.split(".").slice(1).join(".")]),
    serviceClearance: section.has("serviceClearance")
      ? readClearance(env, section, "serviceClearance")
      : undefined,
    defaultRoomLabel: byName("roomLabel", section.string("roomLabel")),
    defaultRoomClearance,
    defaultMessageLabel: section.has("defaultLabel")
      ? byName("defaultLabel", section.string("defaultLabel"))
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
      : createHash("sha256").update(`occupant-id:${secret}`).digest("hex"),
    clearanceRefreshMs: section.integer("clearanceRefreshSeconds", 30, { min: 1, max: 3600 }) * 1000,
    capsTimeoutMs: section.integer("capsTimeoutMs", 1500, { min: 100, max: 30_000 }),
  };
}

/** Creates a configured persistent room in the store unless it already exists. */
async function presetRoom(
  env: RuntimeEnvironment,
  settings: MucSettings,
  node: string,
  section: ConfigReader,
): Promise<void> {
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
  const jid = `${node.toLowerCase()}@${settings.domain}`;
  if (await env.store.getRoom(jid)) return;
  const named = (key: string, name: string): Label => {
    const found = settings.namedLabels.find((n) => n.name === name);
    if (!found) return section.fail(key, `"${name}" is not one of the labels`);
    return found.label;
  };
  const label = named("label", section.string("label"));
  const allowed = section
    .stringList(
      "clearance",
      settings.namedLabels.map((n) => n.name),
    )
    .map((n) => named("clearance", n));
  const clearance = makeClearance(
    env.governing,
    allowed.map((l) => l.classification),
    allowed.flatMap((l) => l.categories),
  );
  const defaultLabel = section.has("defaultLabel")
    ? named("defaultLabel", section.string("defaultLabel"))
    : undefined;
  const affiliations: Record<string, "owner"> = {};
  for (const owner of section.stringList("owners")) affiliations[owner.toLowerCase()] = "owner";
  await env.store.putRoom({
    jid,
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
  });
}
