// User clearances and personal catalogs from the organisation's LDAP directory (ldapts).
//
// The clearance is read from the X.501 `clearance` attribute (OID 2.5.4.55, ITU-T X.501 §17.3.1,
// RFC 5755 §4.4.6) transferred as BER with the `;binary` option (RFC 4522), or from a text
// attribute holding an XML clearance. Answers are cached with a TTL and refreshed in the background;
// a change seen in the directory is published to subscribers. When the directory is unreachable,
// cached answers are served until their TTL, then lookups answer "unknown" (fail closed).
import { createHash } from "node:crypto";
import { ByteLru } from "@cordon/policy";
import { Client } from "ldapts";
import type { Logger } from "pino";
import { ConnectionWatch } from "./connection-watch.js";
import { DirectoryConfigError, StoreClosedError } from "./errors.js";
import { buildFilter, checkFilterTemplate, escapeFilterValue } from "./ldap-filter.js";
import { ListenerSet } from "./listeners.js";
import { silentLogger } from "./logger.js";
import { domainOf, normaliseBareJid, normaliseDomain } from "./jid.js";
import { readSecret, type SecretSource } from "./secret.js";
import type { UserClearanceSource } from "./store.js";
import { checkCacheBytes, TtlCache } from "./ttl-cache.js";
import { rawListBytes } from "./value-bytes.js";
import type { ClearanceLookup, RawClearance, RawLabel, StoreListener, Unsubscribe } from "./types.js";
import { checkPageQuery, checkPolicy } from "./validate.js";

/** An attribute holding clearances or labels, and how its values are encoded. */
export interface DirectoryAttribute {
  /** e.g. "clearance;binary" or "cordonXmlClearance". */
  attribute: string;
  /** "auto": XML when the value starts with '<', else BER. */
  encoding: "ber" | "xml" | "auto";
}

/**
 * Decides whether a raw clearance read from the directory is usable: `true` accepts it; a string
 * rejects it as malformed (the string is the reason, logged once per value). The store does not
 * parse clearances: callers inject a validator built on @cordon/policy.
 */
export type ClearanceValidator = (raw: RawClearance) => true | string;

/** The policy OID a raw clearance belongs to (for per-policy lookups), or undefined if unknown. */
export type PolicyOf = (raw: RawClearance) => string | undefined;

export interface LdapDirectoryOptions {
  /** ldap:// or ldaps:// URL. */
  url: string;
  /** Simple bind DN; anonymous when absent. */
  bindDn?: string;
  bindSecret?: SecretSource;
  /** Search base. */
  baseDn: string;
  scope?: "sub" | "one";
  /**
   * Filter template mapping a bare JID to its entry, with {jid}, {localpart} and {domain}
   * placeholders, e.g. `(&(objectClass=cordonPerson)(jid={jid}))` or `(mail={jid})`.
   * Values are escaped per RFC 4515.
   */
  filter: string;
  /**
   * Domains whose users the directory holds: a JID of any other domain is answered "none" without
   * a search (a remote server's users are not the organisation's, whatever their localpart).
   * Required when the filter names neither {jid} nor {domain}: `(uid={localpart})` would otherwise
   * give bob@any.other.domain the entry, and the clearance, of the local bob.
   */
  domains?: readonly string[];
  /** Attributes holding the clearance, in order of preference; the first usable value wins. */
  clearanceAttributes: DirectoryAttribute[];
  /** Attribute holding the user's personal catalog labels. */
  catalogAttribute?: DirectoryAttribute;
  validate?: ClearanceValidator;
  policyOf?: PolicyOf;
  /** How long an answer stays valid (default 60000 ms). */
  cacheTtlMs?: number;
  /** How often cached answers are re-read in the background (default a third of the TTL). */
  refreshIntervalMs?: number;
  /**
   * Bytes the cached answers may hold (default 16 MiB; ttl-cache.ts): keys, clearances, catalog
   * labels and overheads, the least recently used first out. 0 disables the cache.
   */
  cacheMaxBytes?: number;
  /** Timeout of each LDAP operation and of the TCP connect (default 2000 ms). */
  timeoutMs?: number;
  logger?: Logger;
}

/** What the directory says about one user. */
interface DirectoryEntry {
  found: boolean;
  /** Usable clearances (validated), in attribute order. */
  clearances: RawClearance[];
  catalog: RawLabel[];
}

/** What a cached directory entry holds: the entry object and its two lists. */
function directoryEntryBytes(entry: DirectoryEntry): number {
  return 48 + rawListBytes(entry.clearances) + rawListBytes(entry.catalog);
}

export type PersonalCatalogLookup =
  | { status: "known"; labels: RawLabel[]; source: "directory" | "cache" }
  | { status: "none" }
  | { status: "unknown"; reason: string };

const DEFAULT_TTL_MS = 60_000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toBuffers(v: unknown): Buffer[] {
  if (v === undefined || v === null) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(String(x), "utf8")));
}

function decode(buf: Buffer, encoding: DirectoryAttribute["encoding"]): RawClearance {
  if (encoding === "xml") return { encoding: "xml", data: buf.toString("utf8") };
  if (encoding === "ber") return { encoding: "ber", data: buf.toString("base64") };
  const text = buf
    .toString("utf8")
    .replace(/^\uFEFF/u, "")
    .trimStart();
  return text.startsWith("<")
    ? { encoding: "xml", data: buf.toString("utf8") }
    : { encoding: "ber", data: buf.toString("base64") };
}

/** Attribute names as ldapts reports them (the description as requested, case preserved). */
function valuesOf(entry: Record<string, unknown>, attribute: string): Buffer[] {
  const lower = attribute.toLowerCase();
  for (const [k, v] of Object.entries(entry)) if (k.toLowerCase() === lower) return toBuffers(v);
  return [];
}

/** Bytes of the "already logged" memory of malformed values: ~1,100 digests. */
export const MALFORMED_LOGGED_BYTES = 256 * 1024;

export class LdapDirectory implements UserClearanceSource {
  readonly #opts: LdapDirectoryOptions;
  readonly #domains: ReadonlySet<string> | undefined;
  readonly #log: Logger;
  readonly #watch: ConnectionWatch;
  readonly #listeners: ListenerSet;
  readonly #cache: TtlCache<DirectoryEntry>;
  readonly #inflight = new Map<string, Promise<DirectoryEntry>>();
  /**
   * Malformed values already logged, by a SHA-256 of (JID, attribute, value): bounded in bytes
   * (MALFORMED_LOGGED_BYTES), not in count — was a Set of the values themselves, cleared past 10,000,
   * so one entry with megabyte values held up to 10,000 of them (test: "huge malformed values").
   * One let go is logged again when seen again.
   */
  readonly #loggedMalformed = new ByteLru<true>(MALFORMED_LOGGED_BYTES, () => 0);
  readonly #timer: NodeJS.Timeout;
  #client: Client | undefined;
  #refreshing = false;
  #closed = false;

  constructor(opts: LdapDirectoryOptions) {
    if (!/^ldaps?:\/\//u.test(opts.url))
      throw new DirectoryConfigError(`LDAP url must start with ldap:// or ldaps://, got ${opts.url}`);
    if (opts.baseDn.length === 0) throw new DirectoryConfigError("LDAP baseDn is required");
    if (opts.clearanceAttributes.length === 0)
      throw new DirectoryConfigError("at least one clearance attribute is required");
    if (opts.bindDn !== undefined && opts.bindSecret === undefined)
      throw new DirectoryConfigError("bindDn needs a bindSecret (file, env or value)");
    checkFilterTemplate(opts.filter);
    if (!/\{(?:jid|domain)\}/u.test(opts.filter) && (opts.domains ?? []).length === 0)
      throw new DirectoryConfigError(
        `filter ${opts.filter} names neither {jid} nor {domain}: it matches users of every domain; list the directory's domains`,
      );
    this.#domains = opts.domains ? new Set(opts.domains.map((d) => normaliseDomain(d))) : undefined;
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger();
    this.#watch = new ConnectionWatch(this.#log, "ldap");
    this.#listeners = new ListenerSet(this.#log);
    const ttl = opts.cacheTtlMs ?? DEFAULT_TTL_MS;
    this.#cache = new TtlCache(ttl, checkCacheBytes(opts.cacheMaxBytes), directoryEntryBytes);
    const every = opts.refreshIntervalMs ?? Math.max(50, Math.floor(ttl / 3));
    this.#timer = setInterval(() => void this.#refreshAll(), every);
    this.#timer.unref();
  }

  /** The clearance of a bare JID. `source` is "directory" for a fresh read, "cache" otherwise. */
  async getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup> {
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    if (!this.#holds(j)) return { status: "none" };
    const got = await this.#entry(j);
    if ("reason" in got) return { status: "unknown", reason: got.reason };
    const pick =
      p === undefined || this.#opts.policyOf === undefined
        ? got.entry.clearances[0]
        : got.entry.clearances.find((c) => this.#opts.policyOf?.(c) === p);
    return pick ? { status: "known", clearance: { ...pick }, source: got.source } : { status: "none" };
  }

  /** The labels of the user's personal catalog attribute. */
  async getPersonalCatalog(jid: string): Promise<PersonalCatalogLookup> {
    const j = normaliseBareJid(jid);
    if (this.#opts.catalogAttribute === undefined || !this.#holds(j)) return { status: "none" };
    const got = await this.#entry(j);
    if ("reason" in got) return { status: "unknown", reason: got.reason };
    return got.entry.catalog.length > 0
      ? { status: "known", labels: got.entry.catalog.map((l) => ({ ...l })), source: got.source }
      : { status: "none" };
  }

  /** How long ago the cached answer for `jid` was read from the directory (undefined: none cached). */
  ageOf(jid: string): number | undefined {
    return this.#cache.ageOf(normaliseBareJid(jid));
  }

  /**
   * Users whose JID contains `query` (case-insensitive), at most `limit` (1..500) — one search with
   * that size limit (RFC 4511 §4.5.1 sizeLimit), `truncated` when the directory holds more: the
   * console's search, never a dump of the directory. The filter template is used with its {jid}
   * (or {localpart}, with exactly one configured domain) as a substring assertion (RFC 4515 §3,
   * the search text escaped); each entry's JID is read from that attribute. Entries without a
   * usable clearance are left out. Throws when the directory cannot be searched.
   */
  async listUsers(q: { query?: string; limit?: number } = {}): Promise<{
    entries: { jid: string; clearance: RawClearance }[];
    truncated: boolean;
  }> {
    if (this.#closed) throw new StoreClosedError();
    const { query, limit } = checkPageQuery({ ...q, cursor: undefined });
    const m = /\(([A-Za-z0-9;.-]+)=\{(jid|localpart)\}\)/u.exec(this.#opts.filter);
    if (!m)
      throw new DirectoryConfigError(
        "the filter template has no (ATTRIBUTE={jid}) or ({localpart}) to list users by",
      );
    const attribute = m[1] ?? "";
    const kind = m[2] as "jid" | "localpart";
    let domain: string | undefined;
    let text = query;
    if (kind === "localpart") {
      const domains = [...(this.#domains ?? [])];
      if (domains.length !== 1)
        throw new DirectoryConfigError("listing by {localpart} needs exactly one configured domain");
      domain = domains[0];
      const at = query.indexOf("@");
      if (at >= 0) {
        if (domain === undefined || !domain.includes(query.slice(at + 1)))
          return { entries: [], truncated: false };
        text = query.slice(0, at);
      }
    }
    const value = text === "" ? "*" : `*${escapeFilterValue(text)}*`;
    const filter = this.#opts.filter.replace(/\{([a-z]+)\}/gu, (_all, name: string) =>
      name === kind ? value : "*",
    );
    const clearanceAttrs = this.#opts.clearanceAttributes.map((a) => a.attribute);
    let result;
    try {
      const client = await this.#connected();
      result = await client.search(this.#opts.baseDn, {
        scope: this.#opts.scope ?? "sub",
        filter,
        attributes: [attribute, ...clearanceAttrs],
        explicitBufferAttributes: clearanceAttrs,
        sizeLimit: limit + 1,
      });
    } catch (err) {
      this.#watch.down(err);
      const c = this.#client;
      this.#client = undefined;
      if (c) await c.unbind().catch(() => undefined);
      throw err;
    }
    this.#watch.up();
    const entries: { jid: string; clearance: RawClearance }[] = [];
    for (const raw of result.searchEntries.slice(0, limit)) {
      const entry = raw as unknown as Record<string, unknown>;
      const name = valuesOf(entry, attribute)[0]?.toString("utf8");
      if (name === undefined) continue;
      let jid: string;
      try {
        jid = normaliseBareJid(domain !== undefined ? `${name}@${domain}` : name);
      } catch {
        continue;
      }
      let clearance: RawClearance | undefined;
      for (const a of this.#opts.clearanceAttributes) {
        for (const buf of valuesOf(entry, a.attribute)) {
          const decoded = decode(buf, a.encoding);
          if ((this.#opts.validate ? this.#opts.validate(decoded) : true) === true) {
            clearance = decoded;
            break;
          }
        }
        if (clearance) break;
      }
      if (clearance) entries.push({ jid, clearance });
    }
    entries.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
    return { entries, truncated: result.searchEntries.length > limit };
  }

  subscribe(listener: StoreListener): Unsubscribe {
    if (this.#closed) throw new StoreClosedError();
    return this.#listeners.add(listener);
  }

  /** Drops every cached answer (e.g. after an administrator changed the directory). */
  invalidate(jid?: string): void {
    if (jid === undefined) this.#cache.clear();
    else this.#cache.delete(normaliseBareJid(jid));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#listeners.clear();
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.unbind().catch(() => undefined);
  }

  /** Whether the directory holds users of this (normalised) bare JID's domain. */
  #holds(bareJid: string): boolean {
    return this.#domains === undefined || this.#domains.has(domainOf(bareJid));
  }

  async #entry(
    jid: string,
  ): Promise<{ entry: DirectoryEntry; source: "directory" | "cache" } | { reason: string }> {
    if (this.#closed) throw new StoreClosedError();
    const cached = this.#cache.get(jid);
    if (cached !== undefined) return { entry: cached.value, source: "cache" };
    try {
      return { entry: await this.#fetchAndStore(jid), source: "directory" };
    } catch (err) {
      return { reason: `directory unavailable: ${errorText(err)}` };
    }
  }

  // One fetch per JID at a time; the result replaces the cached entry and changes are published.
  #fetchAndStore(jid: string): Promise<DirectoryEntry> {
    const pending = this.#inflight.get(jid);
    if (pending) return pending;
    const gen = this.#cache.generation;
    const p = this.#fetch(jid)
      .then((entry) => {
        const before = this.#cache.peek(jid);
        this.#cache.set(jid, entry, gen);
        if (before !== undefined) this.#publishChanges(jid, before, entry);
        return entry;
      })
      .finally(() => this.#inflight.delete(jid));
    this.#inflight.set(jid, p);
    return p;
  }

  #publishChanges(jid: string, before: DirectoryEntry, after: DirectoryEntry): void {
    if (JSON.stringify(before.clearances) !== JSON.stringify(after.clearances)) {
      this.#log.info({ jid }, "clearance changed in the directory");
      this.#listeners.emit({ kind: "user-clearance", jid });
    }
    if (JSON.stringify(before.catalog) !== JSON.stringify(after.catalog)) {
      this.#listeners.emit({ kind: "catalog", scope: { kind: "personal", jid } });
    }
  }

  async #connected(): Promise<Client> {
    if (this.#client?.isConnected === true && this.#client.isBound) return this.#client;
    if (this.#client) await this.#client.unbind().catch(() => undefined);
    const timeout = this.#opts.timeoutMs ?? 2000;
    const c = new Client({ url: this.#opts.url, timeout, connectTimeout: timeout, strictDN: true });
    this.#client = c;
    try {
      if (this.#opts.bindDn !== undefined && this.#opts.bindSecret !== undefined) {
        await c.bind(this.#opts.bindDn, readSecret(this.#opts.bindSecret));
      } else {
        await c.bind("", "");
      }
    } catch (err) {
      if (this.#client === c) this.#client = undefined;
      await c.unbind().catch(() => undefined);
      throw err;
    }
    return c;
  }

  async #fetch(jid: string): Promise<DirectoryEntry> {
    const attrs = this.#opts.clearanceAttributes.map((a) => a.attribute);
    if (this.#opts.catalogAttribute) attrs.push(this.#opts.catalogAttribute.attribute);
    let result;
    try {
      const client = await this.#connected();
      result = await client.search(this.#opts.baseDn, {
        scope: this.#opts.scope ?? "sub",
        filter: buildFilter(this.#opts.filter, jid),
        attributes: attrs,
        explicitBufferAttributes: attrs,
        sizeLimit: 2,
      });
    } catch (err) {
      this.#watch.down(err);
      const c = this.#client;
      this.#client = undefined;
      if (c) await c.unbind().catch(() => undefined);
      throw err;
    }
    this.#watch.up();
    const entries = result.searchEntries;
    if (entries.length === 0) return { found: false, clearances: [], catalog: [] };
    if (entries.length > 1) {
      // Ambiguous mapping: refuse rather than pick one (fail closed), and say why.
      this.#log.warn({ jid, count: entries.length }, "filter maps a JID to several directory entries");
      throw new DirectoryConfigError(`filter matches several entries for ${jid}`);
    }
    const entry = entries[0] as unknown as Record<string, unknown>;
    const clearances: RawClearance[] = [];
    for (const a of this.#opts.clearanceAttributes) {
      for (const buf of valuesOf(entry, a.attribute)) {
        const raw = decode(buf, a.encoding);
        const verdict = this.#opts.validate ? this.#opts.validate(raw) : true;
        if (verdict === true) clearances.push(raw);
        else this.#logMalformed(jid, String(entry.dn), a.attribute, raw, verdict);
      }
    }
    const catalog = this.#opts.catalogAttribute
      ? valuesOf(entry, this.#opts.catalogAttribute.attribute).map((b) =>
          decode(b, this.#opts.catalogAttribute?.encoding ?? "auto"),
        )
      : [];
    return { found: true, clearances, catalog };
  }

  #logMalformed(jid: string, dn: string, attribute: string, raw: RawClearance, reason: string): void {
    const key = createHash("sha256")
      .update(`${jid}\u0000${attribute}\u0000${raw.encoding}\u0000`)
      .update(raw.data)
      .digest("hex");
    if (this.#loggedMalformed.get(key) === true) return;
    this.#loggedMalformed.set(key, true);
    this.#log.warn(
      { jid, dn, attribute, reason },
      "malformed clearance in the directory, treated as no clearance",
    );
  }

  // Background refresh: re-read every cached user; stop at the first failure (the directory is down).
  async #refreshAll(): Promise<void> {
    if (this.#refreshing || this.#closed) return;
    this.#refreshing = true;
    try {
      for (const jid of this.#cache.keys()) {
        if (this.#closed) return;
        try {
          await this.#fetchAndStore(jid);
        } catch (err) {
          if (err instanceof DirectoryConfigError) continue;
          return;
        }
      }
    } finally {
      this.#refreshing = false;
    }
  }
}
