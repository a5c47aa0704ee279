// The XEP-0114 §3 handshake (https://xmpp.org/extensions/xep-0114.html#protocol): once the
// server's stream header arrives, send <handshake>hex(SHA-1(streamId + secret))</handshake>; the
// server answers with an empty <handshake/> (we are online) or a stream error (stream-errors.ts).
import { createHash } from "node:crypto";
import { xml, type Element } from "./xml.js";
import type { CoreEntity } from "./entity.js";

/** hex(SHA-1(streamId + secret)), the secret as UTF-8 (the library used latin1, breaking non-ASCII secrets). */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash("sha1")
    .update(streamId + secret, "utf8")
    .digest("hex");
}

/**
 * Answers every stream header with our handshake and brings the entity online on the server's.
 * One set of listeners for the whole life of the entity (not one per attempt): the first element
 * after our <handshake/> is either the server's <handshake/> or a stream error.
 */
export function installHandshake(
  entity: Pick<CoreEntity, "on" | "write" | "emit" | "_jid" | "_status">,
  domain: string,
  secret: string,
): void {
  let awaitingHandshake = false;
  entity.on("element", (el: Element) => {
    if (!awaitingHandshake) return;
    awaitingHandshake = false;
    if (el.name === "handshake") {
      entity._jid(domain);
      entity._status("online");
    }
    // A stream error here is reported through the entity's 'error' listener.
  });
  entity.on("open", (header: Element) => {
    awaitingHandshake = true;
    entity
      .write(xml("handshake", {}, handshakeDigest(header.attrs.id ?? "", secret)).toString())
      .catch((error: Error) => entity.emit("error", error));
  });
  entity.on("disconnect", () => {
    awaitingHandshake = false;
  });
}
