// The muc#roomconfig form (XEP-0045 §10.2, field registry §15.5.3) with Cordon's XEP-0258 fields
// (XEP-0258 §"Room Configuration" illustrates a `sec-label#` namespace):
//   sec-label#label            list-single of named labels: who may be in the room
//   sec-label#custom-label     text-single: any label (XEP-0258 element XML, XML label, base64 ESS)
//   sec-label#clearance        list-multi of named labels: which labels messages may carry
//   sec-label#custom-clearance text-single: a clearance (XML, or base64 BER)
//   sec-label#default-label    list-single of named labels (or "none"): label of unlabelled messages
import { xml, stanzaError, textFits, type Element } from "@cordon/component";
import {
  retainedLabel,
  acdf,
  dominates,
  encodeBerClearance,
  encodeEssLabel,
  makeClearance,
  parseClearance,
  parseLabelData,
  isValidLabel,
  type Clearance,
  type Label,
} from "@cordon/policy";
import type { RawValue } from "@cordon/store";
import type { Room } from "../room/room.js";
import type { RoomConfig } from "../room/room-config.js";
import type { MucContext, NamedLabel } from "./context.js";
import { NS_DATA, NS_MUC_ROOMCONFIG } from "../namespaces.js";
import { governedLabel } from "../security/governed-label.js";
import { serviceGrants, type ServiceBound } from "../security/service-clearance.js";
import { SERVICE_OPERATOR } from "../security/service-operator.js";
import { ownString } from "../room/own-string.js";

const f = (
  v: string,
  type: string,
  label: string,
  values: string[],
  options?: { label: string; value: string }[],
) =>
  xml(
    "field",
    { var: v, type, label },
    ...values.map((x) => xml("value", {}, x)),
    ...(options ?? []).map((o) => xml("option", { label: o.label }, xml("value", {}, o.value))),
  );
const bool = (b: boolean) => (b ? "1" : "0");

function namedFor(named: readonly NamedLabel[], label: Label | undefined): string | undefined {
  if (!label) return undefined;
  return named.find(
    (n) =>
      n.label === label ||
      (n.label.policy === label.policy &&
        n.label.classification === label.classification &&
        n.label.categories.length === label.categories.length &&
        n.label.categories.every((c, i) => c === label.categories[i])),
  )?.name;
}

export function roomConfigForm(ctx: MucContext, room: Room): Element {
  const c = room.config;
  const named = ctx.settings.namedLabels;
  const options = named.map((n) => ({
    label: `${n.name} — ${ctx.rendering.marking(n.label)}`,
    value: n.name,
  }));
  const clearanceSelected = named
    .filter((n) => acdf(n.label, room.security.clearance).granted)
    .map((n) => n.name);
  return xml(
    "x",
    { xmlns: NS_DATA, type: "form" },
    xml("title", {}, `Configuration of ${room.jid}`),
    f("FORM_TYPE", "hidden", "", [NS_MUC_ROOMCONFIG]),
    f("muc#roomconfig_roomname", "text-single", "Name", [c.name]),
    f("muc#roomconfig_roomdesc", "text-single", "Description", [c.description]),
    f("muc#roomconfig_persistentroom", "boolean", "Persistent", [bool(c.persistent)]),
    f("muc#roomconfig_publicroom", "boolean", "Listed in the directory", [bool(c.public)]),
    f("muc#roomconfig_membersonly", "boolean", "Members only", [bool(c.membersOnly)]),
    f("muc#roomconfig_moderatedroom", "boolean", "Moderated", [bool(c.moderated)]),
    f("muc#roomconfig_passwordprotectedroom", "boolean", "Password protected", [bool(c.password !== "")]),
    f("muc#roomconfig_roomsecret", "text-private", "Password", [c.password]),
    f("muc#roomconfig_maxusers", "text-single", "Maximum occupants (0: no limit)", [String(c.maxUsers)]),
    f(
      "muc#roomconfig_whois",
      "list-single",
      "Who may see real JIDs",
      [c.whois],
      [
        { label: "Moderators", value: "moderators" },
        { label: "Anyone", value: "anyone" },
      ],
    ),
    f("muc#roomconfig_changesubject", "boolean", "Participants may change the subject", [
      bool(c.changeSubject),
    ]),
    f("muc#roomconfig_allowinvites", "boolean", "Participants may invite", [bool(c.allowInvites)]),
    f(
      "muc#roomconfig_allowpm",
      "list-single",
      "Who may send private messages",
      [c.allowPm],
      ["anyone", "participants", "moderators", "none"].map((v) => ({ label: v, value: v })),
    ),
    f("muc#maxhistoryfetch", "text-single", "History length", [String(c.historyLength)]),
    f(
      "sec-label#label",
      "list-single",
      "Room label (who may be in the room)",
      [namedFor(named, room.security.label) ?? ""],
      options,
    ),
    f("sec-label#custom-label", "text-single", "Custom room label", []),
    f("sec-label#clearance", "list-multi", "Labels messages may carry", clearanceSelected, options),
    f("sec-label#custom-clearance", "text-single", "Custom room clearance", []),
    f(
      "sec-label#default-label",
      "list-single",
      "Label of unlabelled messages",
      // What unlabelled messages get now: the room's default, else the service's; "none" only when refused.
      [
        namedFor(
          named,
          room.security.defaultLabel === null
            ? undefined
            : (room.security.defaultLabel ?? ctx.settings.defaultMessageLabel),
        ) ?? "none",
      ],
      [{ label: "None (refuse unlabelled messages)", value: "none" }, ...options],
    ),
    f("sec-label#flot", "boolean", "Show the marking as the first line of every message", [
      bool(c.flotAlways),
    ]),
  );
}

export interface SubmittedConfig extends SecuritySettings {
  config: RoomConfig;
}

/** A room's security settings as chosen (each absent when not changed). */
export interface SecuritySettings {
  label?: { label: Label; raw: RawValue };
  clearance?: { clearance: Clearance; raw: RawValue };
  /** label null: "none", unlabelled messages refused (not the service's default). */
  defaultLabel?: { label: Label | null; raw: RawValue | undefined };
}

/** The security fields of the form (or of the admin console's request), as submitted. */
export interface SecurityChoices {
  /** A named label (`namedLabels`). */
  label?: string | undefined;
  /** Any label: XEP-0258 element XML, XML label, base64 ESS. */
  customLabel?: string | undefined;
  /** Named labels whose union is the room clearance. */
  clearance?: readonly string[] | undefined;
  /** A clearance: XML, or base64 BER. */
  customClearance?: string | undefined;
  /** A named label, or "none"/"" (unlabelled messages refused). */
  defaultLabel?: string | undefined;
}

function values(form: Element): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const field of form.getChildren("field")) {
    if (!field.attrs.var) continue;
    map.set(
      field.attrs.var,
      field.getChildren("value").map((v) => v.getText()),
    );
  }
  return map;
}

const invalid = (text: string) => stanzaError("not-acceptable", "modify", text);

// Errors name the field (our text), never the value submitted (never echo what the sender chose).
function asBool(field: string, v: string | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  throw invalid(`${field} is not a boolean`);
}

function asInt(v: string | undefined, fallback: number, max: number): number {
  if (v === undefined || v === "") return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) > max) throw invalid("not a valid number");
  return Number(v);
}

/** Room labels are stored in one canonical form every component reads: ESS DER in base64. */
export function storedLabel(label: Label): RawValue {
  return { encoding: "ber", data: Buffer.from(encodeEssLabel(label)).toString("base64") };
}

function encodedLabel(ctx: MucContext, text: string): { label: Label; raw: RawValue } {
  const trimmed = text.trim();
  let label: Label | undefined;
  try {
    if (trimmed.startsWith("<securitylabel")) label = governedLabel(ctx, trimmed);
    else
      label = parseLabelData(
        trimmed.startsWith("<") ? trimmed : Buffer.from(trimmed, "base64"),
        ctx.registry,
      );
  } catch {
    label = undefined;
  }
  if (!label) throw invalid("the custom label cannot be read under the loaded policies");
  // Kept by the room: its encoded bytes of their own, not a view of Node's Buffer pool (retain.ts).
  return { label: retainedLabel(label), raw: storedLabel(label) };
}

function namedRaw(ctx: MucContext, name: string): { label: Label; raw: RawValue } {
  const named = ctx.settings.namedLabels.find((n) => n.name === name);
  if (!named) throw invalid("a label named in the form is not one the service offers");
  return { label: named.label, raw: storedLabel(named.label) };
}

/** Applies a submitted form; every security setting must stay within the service clearance. */
export function readSubmittedConfig(
  ctx: MucContext,
  room: Room,
  form: Element,
  submitter: Clearance | undefined,
  /** The service clearance now (readServiceBound); unknown refuses any security setting. */
  service: ServiceBound,
): SubmittedConfig {
  const v = values(form);
  const one = (name: string) => v.get(name)?.[0];
  const c = room.config;
  const whois = one("muc#roomconfig_whois") ?? c.whois;
  const allowPm = one("muc#roomconfig_allowpm") ?? c.allowPm;
  if (whois !== "moderators" && whois !== "anyone") throw invalid("muc#roomconfig_whois");
  if (!["anyone", "participants", "moderators", "none"].includes(allowPm))
    throw invalid("muc#roomconfig_allowpm");
  const flag = (name: string, fallback: boolean) => asBool(name, one(name), fallback);
  const passwordOn = flag("muc#roomconfig_passwordprotectedroom", c.password !== "");
  // Issue 14: the name and description go into every disco#info of the room and the service's
  // room list, the password into nothing but the form: each bounded like a status or a subject.
  const limits = ctx.component.limits;
  const text = (name: string, limit: number) => {
    const value = one(name);
    if (value !== undefined && !textFits(value, limit))
      throw stanzaError("policy-violation", "modify", `${name} too long (limit ${limit} bytes)`);
    // Kept by the room for as long as it lives: a copy of its own, not a view of the form's socket
    // read (room/own-string.ts; review keep15: 200 rooms' forms kept 40 MB alive).
    return value === undefined ? undefined : ownString(value);
  };
  const config: RoomConfig = {
    name: text("muc#roomconfig_roomname", limits.status) ?? c.name,
    description: text("muc#roomconfig_roomdesc", limits.subject) ?? c.description,
    persistent: flag("muc#roomconfig_persistentroom", c.persistent),
    public: flag("muc#roomconfig_publicroom", c.public),
    membersOnly: flag("muc#roomconfig_membersonly", c.membersOnly),
    moderated: flag("muc#roomconfig_moderatedroom", c.moderated),
    password: passwordOn ? (text("muc#roomconfig_roomsecret", limits.status) ?? c.password) : "",
    maxUsers: asInt(one("muc#roomconfig_maxusers"), c.maxUsers, 100_000),
    whois,
    changeSubject: flag("muc#roomconfig_changesubject", c.changeSubject),
    allowInvites: flag("muc#roomconfig_allowinvites", c.allowInvites),
    allowPm: allowPm as RoomConfig["allowPm"],
    historyLength: asInt(one("muc#maxhistoryfetch"), c.historyLength, 10_000),
    flotAlways: flag("sec-label#flot", c.flotAlways),
  };
  if (passwordOn && !config.password) throw invalid("a password-protected room needs a password");
  const clearanceNames = v.get("sec-label#clearance");
  const out: SubmittedConfig = {
    config,
    ...readSecurityChoices(
      ctx,
      room.security.clearance,
      {
        label: one("sec-label#label"),
        customLabel: one("sec-label#custom-label"),
        clearance: clearanceNames,
        customClearance: one("sec-label#custom-clearance"),
        defaultLabel: one("sec-label#default-label"),
      },
      submitter,
      service,
    ),
  };
  return out;
}
/**
 * Reads and checks the security settings chosen, by an owner's form or the service's operator
 * (security/service-operator.ts): every label within the service clearance, and, for an owner, the
 * room label within the owner's own clearance. Throws not-acceptable naming the field, never the
 * value.
 */
export function readSecurityChoices(
  ctx: MucContext,
  /** The room clearance now (a default label is checked against it when no new clearance is chosen). */
  currentClearance: Clearance | undefined,
  choices: SecurityChoices,
  /** The submitter's clearance, or SERVICE_OPERATOR (the admin console: not an occupant). */
  submitter: Clearance | undefined | typeof SERVICE_OPERATOR,
  /** The service clearance now (readServiceBound); unknown refuses any security setting. */
  service: ServiceBound,
): SecuritySettings {
  const out: SecuritySettings = {};
  const one = (name: "customLabel" | "label" | "customClearance" | "defaultLabel") => choices[name];
  const custom = one("customLabel")?.trim();
  const chosen = one("label");
  if (custom) out.label = encodedLabel(ctx, custom);
  else if (chosen) out.label = namedRaw(ctx, chosen);
  if (out.label) {
    if (!isValidLabel(out.label.label)) throw invalid("the room label is not valid under its policy");
    if (!serviceGrants(ctx.labels, service, out.label.label))
      throw invalid("the room label is outside the service clearance");
    if (submitter !== SERVICE_OPERATOR && !ctx.labels.grants(out.label.label, submitter))
      throw invalid("your own clearance must cover the room label");
  }
  const customClearance = one("customClearance")?.trim();
  const clearanceNames = choices.clearance;
  if (customClearance) {
    try {
      const isXml = customClearance.startsWith("<");
      const clearance = parseClearance(
        isXml ? customClearance : Buffer.from(customClearance, "base64"),
        ctx.registry,
      );
      out.clearance = {
        clearance,
        raw: { encoding: isXml ? "xml" : "ber", data: ownString(customClearance) }, // kept: own-string.ts
      };
    } catch {
      throw invalid("the custom clearance cannot be read under the loaded policies");
    }
  } else if (clearanceNames && clearanceNames.length > 0) {
    const labels = clearanceNames.map((n) => namedRaw(ctx, n).label);
    const policy = labels[0]!.policy;
    if (labels.some((l) => l.policy !== policy)) throw invalid("the room clearance mixes policies");
    const clearance = makeClearance(
      policy,
      labels.map((l) => l.classification),
      labels.flatMap((l) => l.categories),
    );
    out.clearance = {
      clearance,
      raw: { encoding: "ber", data: Buffer.from(encodeBerClearance(clearance)).toString("base64") },
    };
  }
  if (out.clearance) {
    // Every classification and category of the room clearance within the service clearance (a
    // custom clearance may hold what no named label shows).
    if (
      service.status === "unknown" ||
      service.clearances.some((c) => !dominates(c, out.clearance!.clearance))
    )
      throw invalid("the room clearance is outside the service clearance");
    for (const n of ctx.settings.namedLabels) {
      if (acdf(n.label, out.clearance.clearance).granted && !serviceGrants(ctx.labels, service, n.label))
        throw invalid(`the room clearance allows ${n.name}, outside the service clearance`);
    }
  }
  const defaultName = one("defaultLabel");
  if (defaultName !== undefined) {
    if (defaultName === "none" || defaultName === "") out.defaultLabel = { label: null, raw: undefined };
    else {
      const d = namedRaw(ctx, defaultName);
      // Checked as the room label is: one its policy excludes would refuse every unlabelled message
      // (@cordon/rules stanza-label, default-label-invalid).
      if (!isValidLabel(d.label)) throw invalid("the default label is not valid under its policy");
      const roomClearance = out.clearance?.clearance ?? currentClearance;
      if (!acdf(d.label, roomClearance).granted)
        throw invalid("the default label is outside the room clearance");
      out.defaultLabel = d;
    }
  }
  return out;
}
