// Room configuration (XEP-0045 §10.2 https://xmpp.org/extensions/xep-0045.html#roomconfig) plus
// the XEP-0258 security fields (§"Room Configuration", https://xmpp.org/extensions/xep-0258.html#muc-config).

export type WhoIs = "moderators" | "anyone";
export type AllowPm = "anyone" | "participants" | "moderators" | "none";

export interface RoomConfig {
  name: string;
  description: string;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  moderated: boolean;
  /** Empty: no password. */
  password: string;
  /** 0: no limit. */
  maxUsers: number;
  whois: WhoIs;
  changeSubject: boolean;
  allowInvites: boolean;
  allowPm: AllowPm;
  historyLength: number;
  /** FLOT for every occupant, not only label-unaware clients. */
  flotAlways: boolean;
}

export const DEFAULT_ROOM_CONFIG: RoomConfig = {
  name: "",
  description: "",
  persistent: false,
  public: true,
  membersOnly: false,
  moderated: false,
  password: "",
  maxUsers: 0,
  whois: "moderators",
  changeSubject: false,
  allowInvites: true,
  allowPm: "anyone",
  historyLength: 50,
  flotAlways: false,
};

/** Reads a stored config leniently: unknown or mistyped values fall back to the defaults. */
export function configFromRecord(
  value: Record<string, unknown>,
  defaults: RoomConfig = DEFAULT_ROOM_CONFIG,
): RoomConfig {
  const out: RoomConfig = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof RoomConfig)[]) {
    const v = value[key];
    if (v !== undefined && typeof v === typeof defaults[key])
      (out as unknown as Record<string, unknown>)[key] = v;
  }
  if (!["moderators", "anyone"].includes(out.whois)) out.whois = defaults.whois;
  if (!["anyone", "participants", "moderators", "none"].includes(out.allowPm)) out.allowPm = defaults.allowPm;
  return out;
}
