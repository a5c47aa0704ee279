// XEP-0421 §4.1 (https://xmpp.org/extensions/xep-0421.html#id-generation): a stable, opaque id
// per (room, real bare JID) that other occupants cannot reverse.
import { createHmac } from "node:crypto";
import { ownString } from "../room/own-string.js";

export function occupantIdFor(secret: string, roomJid: string, bareJid: string): string {
  // Kept by the occupant for as long as it stays: a flat copy, not a slice of the whole digest.
  return ownString(
    createHmac("sha256", secret).update(`${roomJid}\u0000${bareJid}`).digest("base64url").slice(0, 22),
  );
}
