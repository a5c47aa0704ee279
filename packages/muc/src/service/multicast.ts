// XEP-0033 multicast of the groupchat fan-out (issue 19 goal 2; `components.muc.multicast`, off by
// default; ejabberd's mod_multicast). The recipients of one message that get an identical copy
// (same label decision, same client kind) are handed to the server as ONE stanza to the multicast
// service (XEP-0033 §3: addressed to the service, `from` kept) per `chunk` recipients, every one a
// `bcc` address: the service removes the header before delivery and a bcc recipient never sees
// another's address (XEP-0033 §4.6.3, §5 step 8). Groups of one go as a plain copy.
//
// The service may refuse a stanza whole (XEP-0033 §8: forbidden; not-acceptable over its address
// cap; where there is no service, whatever the server answers: Prosody 0.12 says not-allowed).
// Each multicast stanza is kept (its recipients and the copy's payload, bounded in bytes, for
// `timeoutMs`) so that an error for it is met by delivering that chunk per copy — to the
// recipients that are still the same occupants with the same decision now (`check`), and to
// nobody else: a recipient that cannot be re-checked is dropped (fail closed). Errors are never
// answered. Repeated errors open a circuit breaker: per-copy delivery for a while, one warning.
//
// ejabberd 23.01 (src/mod_multicast.erl) copies the outer stanza with its `id` to every recipient
// (route_individual/5 sets only from/to), so the outer id must be the sender's own (XEP-0045 §7.4
// reflects it). An error is matched by (the room, its id) and, when the error carries the
// <addresses/> back (ejabberd's route_error keeps the payload), by its first bcc address; otherwise
// the oldest stanza of that key is taken: one error releases exactly one chunk, never two.
import type { Element } from "@cordon/component";
import type { Occupant } from "../room/occupant.js";
import type { Room } from "../room/room.js";
import type { MucContext } from "./context.js";
import { attr } from "./stanzas.js";
import { internalized } from "@cordon/policy";
import { discoverMulticast as rediscover } from "./multicast-discovery.js";

import { NS_ADDRESS } from "../namespaces.js";

export { NS_ADDRESS };

export interface MulticastSettings {
  /** The XEP-0033 service, e.g. `multicast.example.mil` (ejabberd: `multicast.@HOST@`). */
  service: string;
  /**
   * Addresses per stanza: at most the server's cap (ejabberd: `limits: remote: message`, 20);
   * 1..100 (XEP-0033 §8: a server's cap "SHOULD be more than 20 and less than 100").
   */
  chunk: number;
  /** How long a sent multicast stanza is kept for its error. */
  timeoutMs: number;
  /** Bytes of kept stanzas (recipients and payload); past it, chunks go per copy. */
  maxBytes: number;
}

export const DEFAULT_MULTICAST = { chunk: 20, maxChunk: 100, timeoutMs: 5000, maxBytes: 16 * 1024 * 1024 };
/** `errors` errors within `windowMs` open the breaker; it stays open `cooldownMs`. */
export const BREAKER = { errors: 3, windowMs: 30_000, cooldownMs: 60_000 };
/** Counted per kept stanza besides its strings (objects, map and queue slots). */
const ENTRY_OVERHEAD = 160;
const RECIPIENT_OVERHEAD = 16;

/** Recipients that get one identical copy: `payload` is everything after the copy's `to` value. */
export interface CopyGroup {
  payload: string;
  recipients: readonly Occupant[];
  /** Whether the occupant would get this same copy now (its clearance, client kind, the room). */
  check(occupant: Occupant): boolean;
}

/** Consecutive slices of at most `size` items. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The outer stanza: the copy's start tag (`<message from=… type=… id=…`, left open before `to`)
 * addressed to the service, the copy's payload, and one bcc address per recipient.
 */
export function multicastStanza(
  start: string,
  service: string,
  payload: string,
  jids: readonly string[],
): string {
  let addresses = `<addresses xmlns="${NS_ADDRESS}">`;
  for (const jid of jids) addresses += `<address type="bcc" jid="${attr(jid)}"/>`;
  // `payload` is `">…</message>`: the header goes in before the end tag.
  return `${start} to="${attr(service)}${payload.slice(0, -"</message>".length)}${addresses}</addresses></message>`;
}

interface Kept {
  key: string;
  at: number;
  bytes: number;
  room: string;
  start: string;
  group: CopyGroup;
  recipients: readonly Occupant[];
  done: boolean;
}

/** Sent multicast stanzas awaiting a possible error: FIFO, bounded in bytes, expiring. */
export class MulticastBook {
  readonly #byKey = new Map<string, Kept[]>();
  #queue: Kept[] = [];
  #head = 0;
  #bytes = 0;
  #entries = 0;

  constructor(
    readonly maxBytes: number,
    readonly timeoutMs: number,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }
  get entries(): number {
    return this.#entries;
  }

  /** Keeps a stanza; false when it would not fit (the caller then sends its copies one by one). */
  add(entry: Omit<Kept, "done" | "bytes" | "at">, now: number, payloadShare: number): boolean {
    this.expire(now);
    let bytes = ENTRY_OVERHEAD + entry.key.length + payloadShare;
    for (const r of entry.recipients) bytes += r.jid.length + RECIPIENT_OVERHEAD;
    if (this.#bytes + bytes > this.maxBytes) return false;
    const kept: Kept = { ...entry, at: now, bytes, done: false };
    this.#queue.push(kept);
    const list = this.#byKey.get(entry.key);
    if (list) list.push(kept);
    else this.#byKey.set(entry.key, [kept]);
    this.#bytes += bytes;
    this.#entries++;
    return true;
  }

  /** The oldest kept stanza of `key` (whose recipients include `firstJid` when given), removed. */
  take(key: string, firstJid: string | undefined, now: number): Kept | undefined {
    this.expire(now);
    const list = this.#byKey.get(key);
    if (!list) return undefined;
    const i =
      firstJid === undefined ? 0 : list.findIndex((k) => k.recipients.some((r) => r.jid === firstJid));
    if (i < 0) return undefined;
    const [kept] = list.splice(i, 1);
    if (list.length === 0) this.#byKey.delete(key);
    if (!kept) return undefined;
    this.#release(kept);
    return kept;
  }

  /** Drops what is older than the timeout: no error came, the service delivered it. */
  expire(now: number): void {
    while (this.#head < this.#queue.length) {
      const kept = this.#queue[this.#head] as Kept;
      if (!kept.done && now - kept.at < this.timeoutMs) break;
      this.#head++;
      if (kept.done) continue;
      const list = this.#byKey.get(kept.key);
      // FIFO per key as well: the oldest of its key.
      list?.shift();
      if (list?.length === 0) this.#byKey.delete(kept.key);
      this.#release(kept);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #release(kept: Kept): void {
    kept.done = true;
    this.#bytes -= kept.bytes;
    this.#entries--;
  }
}

/** Opens after `BREAKER.errors` errors within the window; closed again after the cooldown. */
export class Breaker {
  #errors: number[] = [];
  #openUntil = 0;

  open(now: number): boolean {
    return now < this.#openUntil;
  }

  /** Records an error; true when this one opened the breaker. */
  failed(now: number): boolean {
    this.#errors = this.#errors.filter((t) => now - t < BREAKER.windowMs);
    this.#errors.push(now);
    if (this.open(now) || this.#errors.length < BREAKER.errors) return false;
    this.#errors = [];
    this.#openUntil = now + BREAKER.cooldownMs;
    return true;
  }
}

/**
 * The key an error is matched by: the room (the bare part of our `from`, the error's `to`) and the
 * id. Not the nick: a server may give it back prepared otherwise than we wrote it (ejabberd's
 * resourceprep), and an error that matches nothing loses its chunk.
 */
export const keyOf = (room: string, id: string | undefined): string => `${room}\n${id ?? ""}`;

/** The key of an error: the bare part of its `to` (folded as room JIDs are), and its id. */
export function errorKey(error: Element): string {
  const to = error.attrs.to ?? "";
  const slash = to.indexOf("/");
  return keyOf((slash < 0 ? to : to.slice(0, slash)).toLowerCase(), error.attrs.id);
}

/** The first bcc address of the <addresses/> an error carries back, if any. */
export function firstBcc(error: Element): string | undefined {
  return error
    .getChild("addresses", NS_ADDRESS)
    ?.getChildren("address")
    .find((a) => a.attrs.type === "bcc")?.attrs.jid;
}

export interface MulticastOut {
  /** Stanzas to send: outer multicast stanzas and the copies that go one by one. */
  stanzas: string[];
  multicast: number;
}

export interface MulticastErrorResult {
  /** Whether a kept stanza matched the error (else it had expired: nothing to deliver). */
  matched: boolean;
  /** The refused chunk's copies for the recipients re-checked now. */
  copies: string[];
  /** Recipients of the chunk left out: gone, or their decision changed. */
  dropped: number;
  /** This error opened the breaker. */
  opened: boolean;
  /** Matched by the first bcc address the error carried back (ejabberd), not by age. */
  byAddress: boolean;
}

/** Multicast of one service: builds the fan-out and answers the service's errors. */
export class Multicast {
  readonly book: MulticastBook;
  readonly breaker = new Breaker();
  /**
   * Whether the service answered disco#info as an XEP-0033 service (multicast-discovery.ts).
   * Until then every copy goes one by one: a stanza to a name that is no local service would be
   * routed on (s2s) with the labelled payload and every recipient's JID (fail closed).
   */
  verified: boolean;

  constructor(
    readonly settings: MulticastSettings,
    readonly fits: (stanza: string) => boolean,
    options: { verified?: boolean } = {},
  ) {
    this.book = new MulticastBook(settings.maxBytes, settings.timeoutMs);
    this.verified = options.verified ?? false;
  }

  /** Whether `from` is the service (its errors are ours to answer). */
  isService(from: string | undefined): boolean {
    return from !== undefined && from.toLowerCase() === this.settings.service;
  }

  /**
   * The fan-out of one message: `start` is the copies' start tag (left open before ` to="`),
   * `key` its error key (keyOf: the room and the copies' id).
   */
  fanout(room: Room, start: string, key: string, groups: Iterable<CopyGroup>, now: number): MulticastOut {
    const stanzas: string[] = [];
    let multicast = 0;
    const open = !this.verified || this.breaker.open(now);
    // What the book keeps are copies of their own, made once per message and group that is kept:
    // the key (the sender's id), the start tag and the payload are made of views of the text the
    // parser read, and the book keeps them until it is next used (review keep15: 200 messages kept
    // 41 MB alive behind 157 KB counted).
    let kept: { key: string; start: string } | undefined;
    for (const group of groups) {
      const parts = open || group.recipients.length < 2 ? [] : chunks(group.recipients, this.settings.chunk);
      const share = Math.ceil(group.payload.length / Math.max(1, parts.length));
      let keptGroup: CopyGroup | undefined;
      for (const part of parts) {
        const outer =
          part.length < 2
            ? undefined
            : multicastStanza(
                start,
                this.settings.service,
                group.payload,
                part.map((r) => r.jid),
              );
        const fits = outer !== undefined && this.fits(outer);
        if (fits) {
          // (The engine's copy: 1.1 µs for a 500-character payload, where ownString's JSON round
          // trip takes 5.8 µs — this is on every multicast message.)
          kept ??= { key: internalized(key), start: internalized(start) };
          keptGroup ??= { ...group, payload: internalized(group.payload) };
        }
        if (
          fits &&
          this.book.add({ ...kept!, room: room.jid, group: keptGroup!, recipients: part }, now, share)
        ) {
          stanzas.push(outer);
          multicast++;
        } else for (const r of part) stanzas.push(copy(start, r, group.payload));
      }
      if (parts.length === 0) for (const r of group.recipients) stanzas.push(copy(start, r, group.payload));
    }
    return { stanzas, multicast };
  }

  /**
   * An error from the service for one of our stanzas: its copies, one by one, to the recipients
   * that still pass `check` in the room as it is now; `matched` false when nothing kept matches
   * (expired). `opened`: this error opened the breaker.
   */
  onError(rooms: ReadonlyMap<string, Room>, error: Element, now: number): MulticastErrorResult {
    const key = errorKey(error);
    const opened = this.breaker.failed(now);
    const first = firstBcc(error);
    const byAddress = first === undefined ? undefined : this.book.take(key, first, now);
    const kept = byAddress ?? this.book.take(key, undefined, now);
    if (!kept) return { matched: false, copies: [], dropped: 0, opened, byAddress: false };
    const room = rooms.get(kept.room);
    const copies: string[] = [];
    for (const r of kept.recipients) {
      const still =
        room !== undefined && !room.destroyed && room.byJid.get(r.jid) === r && kept.group.check(r);
      if (still) copies.push(copy(kept.start, r, kept.group.payload));
    }
    const dropped = kept.recipients.length - copies.length;
    return { matched: true, copies, dropped, opened, byAddress: byAddress !== undefined };
  }
}

function copy(start: string, recipient: Occupant, payload: string): string {
  return `${start} to="${(recipient.jidAttr ??= attr(recipient.jid))}${payload}`;
}

/**
 * An error from the multicast service (stanza-routing.ts): never answered; the chunk it refused is
 * delivered per copy to those re-checked now, and the breaker counts it.
 */
export async function onMulticastError(
  ctx: Pick<MucContext, "multicast" | "rooms" | "logger" | "send" | "now" | "component" | "settings">,
  error: Element,
): Promise<void> {
  const multicast = ctx.multicast;
  if (!multicast) return;
  const condition = error.getChild("error")?.children.find((c) => typeof c !== "string")?.name;
  const result = multicast.onError(ctx.rooms, error, ctx.now());
  if (result.opened) {
    ctx.logger.warn(
      { service: multicast.settings.service, condition, cooldownMs: BREAKER.cooldownMs },
      "XEP-0033 multicast service keeps refusing: per-copy delivery for a while",
    );
    // The service may be gone (module removed, config reloaded): the server would then route
    // the next multicast stanza on (s2s). Not trusted again until it answers disco#info again.
    multicast.verified = false;
    setTimeout(() => void rediscover(ctx), BREAKER.cooldownMs).unref();
  }
  if (!result.matched) {
    ctx.logger.debug({ condition }, "multicast error for no kept stanza (expired): dropped");
    return;
  }
  ctx.logger.debug(
    { condition, copies: result.copies.length, dropped: result.dropped, byAddress: result.byAddress },
    "multicast refused: per copy",
  );
  if (result.copies.length > 0) await ctx.send(result.copies);
}
