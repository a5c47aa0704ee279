// Stanza ids at the boundary. RFC 6120 §8.1.3: an id is chosen by the sender and echoed in replies;
// crossing verbatim, it is one more place for text no rule reads (`id="excalibur: operation dawn
// at 0400"` reached the peer). The relay therefore:
// - replaces the id of every IQ request with one of its own and maps the answer back to the
//   requester's id (RFC 6120 §8.2.3 only asks that a response carry the request's id);
// - lets the id of a message or presence cross only when it looks like an id (printable ASCII, no
//   space, at most MAX_CROSSING_ID characters) and passes the direction's word lists like any text:
//   receipts (XEP-0184 §5), corrections (XEP-0308), markers (XEP-0333) and replies (XEP-0461)
//   name a message by its id on the far side, so it cannot be replaced without breaking them.
import { randomBytes } from "node:crypto";

/** The longest message or presence id that crosses (UUIDs are 36 characters). */
export const MAX_CROSSING_ID = 128;

const ID_SHAPED = new RegExp(`^[\\x21-\\x7E]{1,${MAX_CROSSING_ID}}$`);

/** Whether a message or presence id may cross (it still goes through the word lists). */
export function idShaped(id: string): boolean {
  return ID_SHAPED.test(id);
}

/** Random bytes drawn from the CSPRNG in blocks (one call per 341 ids, not one per id); each byte is used once. */
const POOL_BYTES = 4092;
let pool = Buffer.alloc(0);
let poolAt = POOL_BYTES;

/** A fresh id for an IQ request that crosses: 96 random bits, nothing of the requester's. */
export function relayIqId(): string {
  if (poolAt + 12 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const id = pool.toString("base64url", poolAt, poolAt + 12);
  poolAt += 12;
  return `cordon-${id}`;
}
