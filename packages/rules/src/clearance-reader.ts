// The one clearance reader of the MUC, the relay and the catalog: user clearances through the
// store's resolver (administrator overrides in the store, then the LDAP directory), service and
// peer-domain clearances from the store; each value parsed under the loaded policies (X.501
// Clearance, RFC 5755 §4.4.6, or its XML form) and answered as the tri-state ClearanceState.
//
// Fail closed: a backend that cannot answer, a malformed JID, or a value that does not parse under
// the loaded policies is "unknown" (never "none": nothing is granted, and an occupant is not judged
// on a value nobody can read). Answers are cached (bounded in bytes, at most `maxAgeMs`), every
// clearance or connection notification drops the cache (room and catalog ones do not: they change
// no clearance, and an occupant changing a persistent room's subject must not flush every
// component's answers), and nothing is cached while the store reports its connection lost
// (cached answers then expire with the store's own TTL, not ours). A lookup that a notification overtook is made again (at most three times, then
// unknown), so no caller acts on an answer older than a notification it could have seen; one
// about another user does not make a user's lookup again (a bulk change would refuse everyone).
// Concurrent reads of one key share one lookup, never across a notification.
import {
  ByteLru,
  GenerationalLru,
  internalized,
  parseClearance,
  type Clearance,
  type PolicyRegistry,
} from "@cordon/policy";
import type {
  ClearanceLookup,
  PeerDirection,
  RawClearance,
  StoreEvent,
  Unsubscribe,
  UserClearanceSource,
} from "@cordon/store";
import { toBare } from "@cordon/component";
import { unknownClearance, type ClearanceState } from "./clearance-state.js";

/** Where clearances are read: the store (service, peer, and by default user clearances, notifications). */
export interface ClearanceSources extends UserClearanceSource {
  getServiceClearance(domain: string): Promise<ClearanceLookup>;
  getPeerClearance(domain: string, direction: PeerDirection): Promise<ClearanceLookup>;
}

export interface ClearanceReaderOptions {
  registry: PolicyRegistry;
  store: ClearanceSources;
  /** User clearances: the store + directory resolver (`ClearanceResolver`); default the store. */
  users?: UserClearanceSource;
  /** How long an answer is reused without a notification (default 5 s; 0: never). */
  maxAgeMs?: number;
  /** Byte budget of the answer cache and of the parsed-value cache (default 4 MiB each). */
  maxCacheBytes?: number;
  /** Called once per value (and policy set) that does not parse: who holds it, and why. */
  onUnreadable?: (subject: string, reason: string) => void;
}

const DEFAULT_MAX_AGE_MS = 5_000;
const DEFAULT_CACHE_BYTES = 4 * 1024 * 1024;
/** The user lookups' key memo (`#userKey`): its budget, and what one entry costs besides its texts. */
const USER_KEY_BYTES = 1024 * 1024;
const USER_KEY_OVERHEAD = 96;
/** How many times a lookup is made while notifications keep overtaking it. */
const MAX_READS = 3;
/** How many notifications are remembered to tell whether one concerned a lookup under way. */
const MAX_RECENT = 1024;

interface Answer {
  readonly state: ClearanceState;
  readonly at: number;
  readonly policies: number;
}

/** An estimate of what an answer holds beyond its key: the fingerprint (the raw value) or reason. */
function answerBytes(answer: Answer): number {
  const s = answer.state;
  return (
    64 + 2 * (s.status === "known" ? s.fingerprint.length : s.status === "unknown" ? s.reason.length : 0)
  );
}

/** An estimate of a parsed clearance (object, bitsets, references) or of a parse error. */
function parsedBytes(value: Clearance | Error): number {
  if (value instanceof Error) return 64 + 2 * value.message.length;
  return 256 + 16 * (value.classifications.length + value.categories.length) + value.catBits.byteLength;
}

export class ClearanceReader {
  readonly #options: ClearanceReaderOptions;
  readonly #users: UserClearanceSource;
  readonly #maxAgeMs: number;
  readonly #answers: ByteLru<Answer>;
  readonly #parsed: GenerationalLru<Clearance | Error>;
  /** Lookups under way, by notification generation, policy generation and key. */
  readonly #inflight = new Map<string, Promise<ClearanceState>>();
  /** The user lookups' cache keys by policy and bare JID (`#userKey`), and the bytes they hold. */
  readonly #userKeys = new Map<string, Map<string, string>>();
  #userKeyBytes = 0;
  /** Bumped by every clearance or connection notification. */
  #generation = 0;
  /** The latest notifications: the user JID each concerns (undefined: service, peer, connection). */
  readonly #recent: { readonly generation: number; readonly jid: string | undefined }[] = [];
  #storeDown = false;
  readonly #unsubscribe: Unsubscribe[];

  constructor(options: ClearanceReaderOptions) {
    this.#options = options;
    this.#users = options.users ?? options.store;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const bytes = options.maxCacheBytes ?? DEFAULT_CACHE_BYTES;
    this.#answers = new ByteLru(bytes, answerBytes);
    this.#parsed = new GenerationalLru(options.registry, bytes, parsedBytes);
    const onEvent = (event: StoreEvent) => this.#invalidate(event);
    this.#unsubscribe = [options.store.subscribe(onEvent)];
    if (this.#users !== options.store) this.#unsubscribe.push(this.#users.subscribe(onEvent));
  }

  /** A user's clearance (bare JID), for one policy (OID) or the policy-independent one. Never throws. */
  user(bareJid: string, policy?: string): Promise<ClearanceState> {
    return this.#read(
      this.#userKey(bareJid, policy ?? ""),
      bareJid,
      () => this.#users.getUserClearance(bareJid, policy),
      toBare(bareJid) ?? bareJid,
    );
  }

  /** A component domain's service clearance. Never throws. */
  service(domain: string): Promise<ClearanceState> {
    return this.#read(`s ${domain}`, domain, () => this.#options.store.getServiceClearance(domain));
  }

  /** A peer domain's clearance for one direction. Never throws. */
  peer(domain: string, direction: PeerDirection): Promise<ClearanceState> {
    return this.#read(`p ${direction} ${domain}`, domain, () =>
      this.#options.store.getPeerClearance(domain, direction),
    );
  }

  /**
   * The synchronous path: the answer `user`, `service` or `peer` would give now from the answer
   * cache (same key, same freshness test: age, policy generation; a notification empties the
   * cache), or undefined when that call would have to look it up (then call it and await).
   */
  cachedUser(bareJid: string, policy?: string): ClearanceState | undefined {
    return this.#cached(this.#userKey(bareJid, policy ?? ""));
  }

  /**
   * `u ${policy} ${bareJid}`, the answer cache's key of a user lookup, made once per user and
   * policy and then found by the bare JID (issue 19: a key built and hashed anew per lookup was a
   * tenth of the relay's decision). The string is the same whichever way it is made, so the cache
   * answers exactly as it did. Bounded in bytes; emptied when full. Keys held are copies of their
   * own (`internalized`), never a slice of a stanza's text.
   */
  #userKey(bareJid: string, policy: string): string {
    let byJid = this.#userKeys.get(policy);
    if (byJid === undefined) {
      byJid = new Map();
      this.#userKeys.set(internalized(policy), byJid);
    }
    let key = byJid.get(bareJid);
    if (key === undefined) {
      key = internalized(`u ${policy} ${bareJid}`);
      const bytes = USER_KEY_OVERHEAD + 2 * (bareJid.length + key.length);
      if (this.#userKeyBytes + bytes > USER_KEY_BYTES) {
        this.#userKeys.clear();
        this.#userKeyBytes = 0;
        byJid = new Map();
        this.#userKeys.set(internalized(policy), byJid);
      }
      byJid.set(internalized(bareJid), key);
      this.#userKeyBytes += bytes + 2 * policy.length;
    }
    return key;
  }

  cachedService(domain: string): ClearanceState | undefined {
    return this.#cached(`s ${domain}`);
  }

  cachedPeer(domain: string, direction: PeerDirection): ClearanceState | undefined {
    return this.#cached(`p ${direction} ${domain}`);
  }

  /** A raw value parsed under the loaded policies (cached by its bytes); undefined when it does not parse. */
  parse(raw: RawClearance, subject = "a stored clearance"): Clearance | undefined {
    const hit = this.#parse(raw, subject);
    return hit instanceof Error ? undefined : hit;
  }

  /**
   * The notification generation now. A caller that acts on an answer later than it gets it (adds an
   * occupant, writes back a re-read) keeps the generation it read at and asks `overtaken` before
   * acting: an answer older than the latest notification about its JID is to be discarded.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Whether a notification that may concern the user `bareJid` (one about that user, or a service,
   * peer or connection one) came after `generation` — the same test that makes a lookup again.
   */
  overtaken(generation: number, bareJid: string): boolean {
    return this.#overtaken(generation, toBare(bareJid) ?? bareJid);
  }

  /** Bytes the answer and parsed-value caches hold (keys, estimates, overheads). */
  get cacheBytes(): number {
    return this.#answers.bytes + this.#parsed.bytes;
  }

  /** Stops listening to notifications. */
  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#answers.clear();
  }

  #invalidate(event: StoreEvent): void {
    if (event.kind === "room" || event.kind === "catalog") return;
    this.#generation++;
    this.#answers.clear();
    this.#recent.push({
      generation: this.#generation,
      jid: event.kind === "user-clearance" ? event.jid : undefined,
    });
    if (this.#recent.length > MAX_RECENT) this.#recent.shift();
    if (event.kind === "connection") this.#storeDown = event.state === "down";
  }

  #parse(raw: RawClearance, subject: string): Clearance | Error {
    const key = `${raw.encoding}:${raw.data}`;
    let hit = this.#parsed.fresh().get(key);
    if (hit === undefined) {
      try {
        const data = raw.encoding === "ber" ? Buffer.from(raw.data, "base64") : raw.data;
        hit = parseClearance(data, this.#options.registry);
      } catch (error) {
        hit = error instanceof Error ? error : new Error(String(error));
        this.#options.onUnreadable?.(subject, hit.message);
      }
      this.#parsed.set(key, hit);
    }
    return hit;
  }

  /**
   * Whether a notification since `generation` may concern the read: one about this user (or, for a
   * service or peer read, any), or about a service, peer or the connection; when the notifications
   * since are no longer all remembered, yes.
   */
  #overtaken(generation: number, userJid: string | undefined): boolean {
    if (generation === this.#generation) return false;
    const first = this.#recent[0];
    if (!first || first.generation > generation + 1) return true;
    for (const event of this.#recent) {
      if (event.generation <= generation) continue;
      if (event.jid === undefined || userJid === undefined || event.jid === userJid) return true;
    }
    return false;
  }

  /** The cached answer for `key` if `#read` would answer from the cache now (the one freshness test). */
  #cached(key: string): ClearanceState | undefined {
    const hit = this.#answers.get(key);
    return hit && this.#fresh(hit, performance.now(), this.#options.registry.generation)
      ? hit.state
      : undefined;
  }

  // A kept answer is reused only while the sources have heard every notification published until a
  // moment ago (@cordon/store notification-barrier.ts): a stanza the incoming hold let go because
  // the PING gave up (no answer within the timeout) must be decided from the store (itself not
  // reusing its cache then), not from an answer a notification still in flight would have dropped
  // (adversarial review adv13s: a user lowered to UNCLASSIFIED was still read SECRET from here).
  #fresh(hit: Answer, now: number, policies: number): boolean {
    return (
      now - hit.at < this.#maxAgeMs &&
      hit.policies === policies &&
      this.#options.store.notificationsHeard?.() === undefined &&
      (this.#users === this.#options.store || this.#users.notificationsHeard?.() === undefined)
    );
  }

  #read(
    key: string,
    subject: string,
    lookup: () => Promise<ClearanceLookup>,
    userJid?: string,
  ): Promise<ClearanceState> {
    // Ages on a monotonic clock: a wall clock stepped back (NTP, a VM restored) stretched `maxAgeMs`
    // by the step — a directory lowering unnoticed for as long (adversarial review adv15r).
    const now = performance.now();
    const policies = this.#options.registry.generation;
    const hit = this.#answers.get(key);
    if (hit && this.#fresh(hit, now, policies)) return Promise.resolve(hit.state);
    // A read joins one under way only if no notification (nor policy reload) came in between.
    const shared = `${this.#generation} ${policies} ${key}`;
    let pending = this.#inflight.get(shared);
    if (!pending) {
      pending = this.#fetch(key, subject, lookup, now, policies, userJid).finally(() =>
        this.#inflight.delete(shared),
      );
      this.#inflight.set(shared, pending);
    }
    return pending;
  }

  async #fetch(
    key: string,
    subject: string,
    lookup: () => Promise<ClearanceLookup>,
    now: number,
    policies: number,
    userJid: string | undefined,
  ): Promise<ClearanceState> {
    let answer: ClearanceLookup;
    let started = now;
    for (let reads = 1; ; reads++) {
      const generation = this.#generation;
      try {
        answer = await lookup();
      } catch (error) {
        // A malformed JID or a closed store: fail closed.
        return unknownClearance(`lookup failed: ${(error as Error).message}`);
      }
      if (!this.#overtaken(generation, userJid)) break;
      // A notification about it came in while we read: the answer may predate it (a lowering the caller
      // would then act on after the notification was handled — a join admitted on the old
      // clearance, which the notification's re-read, finding no occupant yet, did not remove).
      // Read again; if the clearances keep changing, we cannot tell: unknown.
      if (reads >= MAX_READS) return unknownClearance("clearances changed during every read");
      started = performance.now();
    }
    const state = this.#state(answer, subject);
    // Unknown answers are never kept, nor any while the store is down.
    if (state.status !== "unknown" && !this.#storeDown && this.#maxAgeMs > 0) {
      this.#answers.set(key, { state, at: started, policies });
    }
    return state;
  }

  #state(answer: ClearanceLookup, subject: string): ClearanceState {
    if (answer.status !== "known") return answer;
    const parsed = this.#parse(answer.clearance, subject);
    if (parsed instanceof Error) return unknownClearance(`unreadable clearance: ${parsed.message}`);
    return {
      status: "known",
      clearance: parsed,
      fingerprint: `${answer.clearance.encoding}:${answer.clearance.data}`,
    };
  }
}
