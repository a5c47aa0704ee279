// XEP-0359 (https://xmpp.org/extensions/xep-0359.html#stanza-id): the room's id for each message it
// reflects. §"Business Rules" (#rules): unique within the room, and SHOULD be unpredictable;
// §"Security Considerations" (#security): nothing may be inferred from it, and it is not secret.
// 12 random bytes from the CSPRNG, 16 characters of base64url. The bytes are drawn in blocks of
// 256 ids: one `randomFillSync` per block instead of one `randomBytes` per message (OpenSSL's
// RAND_bytes costs several µs a call; issue 19, CPU per delivery). Each id's bytes are used once.
import { randomFillSync } from "node:crypto";

const ID_BYTES = 12;
const BLOCK_IDS = 256;
const block = Buffer.alloc(ID_BYTES * BLOCK_IDS);
let next = BLOCK_IDS;

export function newStanzaId(): string {
  if (next === BLOCK_IDS) {
    randomFillSync(block);
    next = 0;
  }
  const at = next * ID_BYTES;
  next += 1;
  return block.toString("base64url", at, at + ID_BYTES);
}
