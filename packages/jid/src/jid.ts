// JID shapes (RFC 7622 §3.1: [localpart@]domainpart[/resourcepart]), each part normalised by
// fold.ts. Lenient: undefined for what is not a JID at all; the store adds the stricter checks of
// a key (forbidden characters, domain labels, lengths).
import { foldDomainpart, foldLocalpart, foldResourcepart } from "./fold.js";

export interface Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
}

/** RFC 7622 §3.1: at most 1023 octets per part, so 3071 characters is more than any JID. */
const MAX_JID_LENGTH = 3071;

/**
 * JIDs parsed recently, by their exact text: every component parses the same few addresses again
 * and again (a stanza's `from` and `to`, by each check that reads them). Bounded in bytes, not in
 * entries — an entry costs its text and its parts (two bytes a character) and a fixed overhead —
 * and oldest first out (a Map keeps insertion order). A JID is a pure function of its text, and
 * the results are frozen: sharing one is the same as parsing again.
 */
export const JID_MEMO_BYTES = 1024 * 1024;
const MEMO_OVERHEAD = 160;
const memo = new Map<string, { jid: Jid | undefined; bytes: number }>();
let memoBytes = 0;

/** Bytes the memo of parsed JIDs holds (its texts, parts and overheads). */
export function jidMemoBytes(): number {
  return memoBytes;
}

/**
 * A flat copy of `s` that shares nothing with the string it was cut from. What the memo keeps must
 * not be a substring of a stanza: V8 keeps a substring's whole parent alive, and a `from` parsed
 * off the stream is a slice of the network chunk it came in (up to 64 KiB) — the memo's byte bound
 * would count 40 bytes of an entry that holds a chunk (issue 19, measured by bench/muc-scale.mjs).
 * JSON escapes lone surrogates and restores them: the copy is exact.
 */
function own(s: string): string {
  return s.length === 0 ? "" : (JSON.parse(JSON.stringify(s)) as string);
}

export function parseJid(text: string): Jid | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_JID_LENGTH) return undefined;
  const hit = memo.get(text);
  if (hit) return hit.jid;
  const parsed = parseJidText(text);
  const jid = parsed
    ? Object.freeze({ local: own(parsed.local), domain: own(parsed.domain), resource: own(parsed.resource) })
    : undefined;
  // Its bare JID text too (bareJid, made at most once per entry): a localpart, "@", the domain.
  const bytes =
    MEMO_OVERHEAD +
    2 * (text.length + (jid ? 2 * jid.local.length + 2 * jid.domain.length + 1 + jid.resource.length : 0));
  for (const [oldest, entry] of memo) {
    if (memoBytes + bytes <= JID_MEMO_BYTES) break;
    memo.delete(oldest);
    memoBytes -= entry.bytes;
  }
  memo.set(own(text), { jid, bytes });
  memoBytes += bytes;
  return jid;
}

function parseJidText(text: string): Jid | undefined {
  // RFC 7622 §3.1: the resource is everything after the first "/", the localpart before the first "@".
  const slash = text.indexOf("/");
  const bare = slash >= 0 ? text.slice(0, slash) : text;
  const resource = slash >= 0 ? text.slice(slash + 1) : "";
  if (slash >= 0 && resource.length === 0) return undefined;
  const at = bare.indexOf("@");
  // Checked once folded: a localpart of characters mapped to nothing (a soft hyphen) is empty, and
  // "\u00ad@example.test" must not become the domain JID example.test.
  const local = at >= 0 ? foldLocalpart(bare.slice(0, at)) : "";
  const domain = foldDomainpart(at >= 0 ? bare.slice(at + 1) : bare);
  if (at >= 0 && (local.length === 0 || /[@/]/u.test(local))) return undefined;
  // Fullwidth "＠" and "／" fold to "@" and "/": a separator that appears only once folded is refused.
  if (domain.length === 0 || /[@/\s]/u.test(domain)) return undefined;
  return Object.freeze({ local, domain, resource: foldResourcepart(resource) });
}

/**
 * The bare JID text of each parsed JID (frozen: `parseJid`'s results), made once: the same JID
 * object gives the same string object, whose hash V8 keeps, so the caches keyed by bare JIDs do
 * not build and hash a new string per lookup (issue 19, docs/performance.md §5). Held as long as
 * the JID object is (the memo's entry).
 */
const bares = new WeakMap<Jid, string>();

export function bareJid(jid: Jid): string {
  if (!jid.local) return jid.domain;
  let bare = bares.get(jid);
  if (bare === undefined) {
    bare = `${jid.local}@${jid.domain}`;
    // A JID object a caller made (not frozen) may change: its text is made each time.
    if (Object.isFrozen(jid)) bares.set(jid, bare);
  }
  return bare;
}

export function fullJid(jid: Jid): string {
  const bare = bareJid(jid);
  return jid.resource ? `${bare}/${jid.resource}` : bare;
}

/** The bare form of a JID string, or undefined when it is not a JID. */
export function toBare(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const jid = parseJid(text);
  return jid ? bareJid(jid) : undefined;
}
