// Test helpers: polling with a deadline (never bare sleeps), fixtures and a recording logger.
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino, type Logger } from "pino";
import type { SlapdInstance } from "@cordon/harness";
import {
  RedisStore,
  type LdapDirectoryOptions,
  type RawClearance,
  type RedisStoreOptions,
  type StoreEvent,
  type StoreListener,
} from "../src/index.js";

/** Polls `check` until it returns a value other than undefined/false, or fails at the deadline. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The project's conformance corpus (test/conformance): real label and clearance files. */
export const CORPUS = fileURLToPath(new URL("../../../../test/conformance", import.meta.url));

export function corpusBer(name: string): Buffer {
  return readFileSync(`${CORPUS}/${name}`);
}

export function corpusText(name: string): string {
  return readFileSync(`${CORPUS}/${name}`, "utf8");
}

export const BER_ALL_OKAY: RawClearance = {
  encoding: "ber",
  data: Buffer.from([0x30, 0x03, 0x06, 0x01, 0x2a]).toString("base64"),
};
export const XML_CLEARANCE: RawClearance = {
  encoding: "xml",
  data: "<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='1.2.826.0.1.6726289.0.0'/><classification lacv='51'/></clearance>",
};

/** Collects events from a subscription. */
export function recorder(): { events: StoreEvent[]; listener: StoreListener } {
  const events: StoreEvent[] = [];
  return { events, listener: (e) => events.push(e) };
}

/** A pino logger writing JSON lines into an array, to assert "logged once". */
export function memoryLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString("utf8"));
      cb();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** LdapDirectory options for a harness slapd with Cordon's schema (deploy/ldap), as the README configures it. */
export function slapdDirectoryOptions(slapd: SlapdInstance): LdapDirectoryOptions {
  return {
    url: slapd.url,
    bindDn: slapd.bindDn,
    bindSecret: { value: slapd.bindPassword },
    baseDn: slapd.baseDn,
    filter: "(&(objectClass=cordonPerson)(jid={jid}))",
    clearanceAttributes: [
      { attribute: "clearance;binary", encoding: "ber" },
      { attribute: "cordonXmlClearance", encoding: "xml" },
    ],
  };
}

/**
 * A store reaching Redis through a proxy (`url`: @cordon/harness subscriber-delay.ts) and an admin
 * store writing to Redis directly, both ready, the store's events recorded; `jid`'s clearance (BER)
 * then written by the admin, heard by the store and answered from its cache, the events cleared.
 * The caller closes both stores.
 */
export async function cachedBehindProxy(
  options: RedisStoreOptions & { url: string; redisUrl: string; prefix: string },
  jid: string,
): Promise<{ store: RedisStore; admin: RedisStore; seen: ReturnType<typeof recorder> }> {
  const { redisUrl, ...storeOptions } = options;
  const store = new RedisStore(storeOptions);
  const admin = new RedisStore({ url: redisUrl, prefix: options.prefix });
  try {
    await Promise.all([store.ready(), admin.ready()]);
    const seen = recorder();
    store.subscribe(seen.listener);
    await admin.setUserClearance(jid, BER_ALL_OKAY);
    await eventually(() => seen.events.length > 0, "its notification heard");
    await eventually(() => store.notificationsHeard() === undefined, "the barrier is current");
    await eventually(async () => {
      const r = await store.getUserClearance(jid);
      return r.status === "known" && r.clearance.encoding === "ber" && r.source === "cache";
    }, "answered from the cache");
    seen.events.length = 0;
    return { store, admin, seen };
  } catch (error) {
    await Promise.allSettled([store.close(), admin.close()]);
    throw error;
  }
}
