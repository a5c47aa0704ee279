// Clearance routes of the admin API (the console's Clearances page):
//   GET    /clearances?q=&limit=&cursor=      stored user clearances, a bounded page (store listing),
//                                             and on the first page the directory's matches
//   GET    /clearances/{jid}?policy=OID       a user's clearance: marking, what it holds, source, readAt;
//                                             without policy, also `perPolicy`: the store's entries of
//                                             that user for a loaded policy, which decide for labels of
//                                             that policy before it (source "none" when only they exist)
//   PUT    /clearances/{jid}?policy=OID       set it (JSON names, XML, BER or base64 BER: clearance-body.ts)
//   DELETE /clearances/{jid}?policy=OID       remove the store's clearance
//   POST   /clearances/import?dryRun=1&format=csv|ldif   many users from one CSV or LDIF file
//                                             (clearance-import.ts); dryRun: the preview only
//   GET    /peers, GET|PUT|DELETE /peers/{domain}?direction=inbound|outbound|both
//   GET    /services, GET|PUT|DELETE /services/{domain}
// Every change is parsed before the store is touched, refused when the audit log cannot record it,
// and answered once its record (with who made it) is written.
import {
  normaliseBareJid,
  normaliseDomain,
  NotDurableError,
  type PeerDirection,
  type RawClearance,
} from "@cordon/store";
import {
  applyImport,
  planImport,
  userJid,
  type ImportFormat,
  type ImportPlan,
} from "../../clearance-import.js";
import {
  AdminBadRequestError,
  AdminImportPartialError,
  AdminImportRefusedError,
  AdminNotFoundError,
  AdminStoreUnavailableError,
} from "../../ops-errors.js";
import { parseClearanceBody } from "../clearance-body.js";
import type { RoutedRequest } from "../http.js";
import {
  audited,
  auditWritable,
  clip,
  clearanceView,
  json,
  rawView,
  segment,
  type PeopleContext,
  type PeopleRouteSpec,
} from "./people.js";

const DIRECTIONS: readonly PeerDirection[] = ["inbound", "outbound"];

const sameRaw = (a: RawClearance, b: RawClearance) => a.encoding === b.encoding && a.data === b.data;

function userOf(text: string): string {
  const jid = userJid(text);
  if (jid === undefined)
    throw new AdminBadRequestError(`not a user's bare JID: ${JSON.stringify(clip(text, 80))}`);
  return jid;
}

function domainOf(text: string): string {
  try {
    return normaliseDomain(text);
  } catch {
    throw new AdminBadRequestError(`not a domain: ${JSON.stringify(clip(text, 80))}`);
  }
}

function policySlot(q: URLSearchParams): string | undefined {
  const p = q.get("policy");
  if (p === null || p === "") return undefined;
  if (!/^[0-2](\.(0|[1-9][0-9]*)){1,64}$/u.test(p))
    throw new AdminBadRequestError("policy must be a dotted OID");
  return p;
}

function directions(q: URLSearchParams, fallback: "both" | undefined): PeerDirection[] {
  const d = q.get("direction") ?? fallback;
  if (d === "inbound" || d === "outbound") return [d];
  if (d === "both") return [...DIRECTIONS];
  throw new AdminBadRequestError("direction must be inbound, outbound or both");
}

function limitOf(q: URLSearchParams): number | undefined {
  const l = q.get("limit");
  if (l === null || l === "") return undefined;
  if (!/^[0-9]{1,4}$/u.test(l)) throw new AdminBadRequestError("limit must be a number from 1 to 500");
  return Number(l);
}

/** A store error that is the client's (bad JID, bad value, bad cursor) as a 400, the rest as is. */
async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "CORDON_STORE_INVALID_VALUE" || code === "CORDON_STORE_INVALID_JID")
      throw new AdminBadRequestError((error as Error).message);
    throw error;
  }
}

/**
 * A clearance write, and what follows from its having been made (`made`: record it). A write the
 * store made on the primary but no replica confirmed (NotDurableError, packages/store
 * durable-write.ts) is in force: `made` runs for it too (result unknown) before the error is
 * answered (503), so no change in force is missing from the audit log.
 */
async function written<T>(op: () => Promise<T>, made: (result: T | undefined) => unknown): Promise<T> {
  let result: T;
  try {
    result = await store(op);
  } catch (error) {
    if (error instanceof NotDurableError) await made(undefined);
    throw error;
  }
  await made(result);
  return result;
}

export function clearanceRoutes(ctx: PeopleContext): PeopleRouteSpec[] {
  const now = () => new Date(ctx.now?.() ?? Date.now()).toISOString();

  /** A user's clearance: the store's (an administrator's), else the directory's (resolver order). */
  async function userClearance(jid: string, slot: string | undefined) {
    const registry = ctx.registry();
    const fromStore = await ctx.store.getUserClearance(jid, slot);
    if (fromStore.status === "unknown") throw new AdminStoreUnavailableError(fromStore.reason);
    if (fromStore.status === "known")
      return { jid, source: "store" as const, readAt: now(), ...rawView(fromStore.clearance, registry) };
    if (!ctx.directory) return undefined;
    const fromDirectory = await ctx.directory.getUserClearance(jid, slot);
    if (fromDirectory.status === "unknown")
      throw new AdminStoreUnavailableError(`the directory: ${fromDirectory.reason}`);
    if (fromDirectory.status === "none") return undefined;
    const age = fromDirectory.source === "cache" ? (ctx.directory.ageOf?.(jid) ?? 0) : 0;
    return {
      jid,
      source: "directory" as const,
      readAt: new Date((ctx.now?.() ?? Date.now()) - age).toISOString(),
      ...rawView(fromDirectory.clearance, registry),
    };
  }

  /**
   * The store's per-policy entries of a user (`?policy=OID`) that differ from its policy-independent
   * one: the relay and the catalog read the label's policy's entry first (store getUserClearance), so
   * each of these decides for that policy's labels whatever the policy-independent one says (found in
   * review, adv16: the console showed a lowered or removed clearance while a per-policy SECRET entry
   * still decided, and named it nowhere).
   */
  async function perPolicy(jid: string) {
    const registry = ctx.registry();
    const own = await ctx.store.getUserClearance(jid);
    if (own.status === "unknown") throw new AdminStoreUnavailableError(own.reason);
    const out = [];
    for (const policy of registry.policies()) {
      const r = await ctx.store.getUserClearance(jid, policy.id);
      if (r.status === "unknown") throw new AdminStoreUnavailableError(r.reason);
      if (r.status !== "known") continue;
      if (own.status === "known" && sameRaw(own.clearance, r.clearance)) continue;
      out.push({ policy: policy.id, ...rawView(r.clearance, registry) });
    }
    return out;
  }

  async function importFile(req: RoutedRequest, q: URLSearchParams) {
    const dryRun = q.get("dryRun") === "1" || q.get("dryRun") === "true";
    const format = q.get("format") ?? undefined;
    if (format !== undefined && format !== "csv" && format !== "ldif")
      throw new AdminBadRequestError("format must be csv or ldif");
    let text = Buffer.from(req.body).toString("utf8");
    // A JSON body {text, format?} (what a page sends), or the file itself (octet-stream).
    if ((req.contentType ?? "").toLowerCase().startsWith("application/json")) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new AdminBadRequestError("the body is not JSON");
      }
      const t = (value as { text?: unknown }).text;
      if (typeof t !== "string")
        throw new AdminBadRequestError('expected {"text": "…the CSV or LDIF file…"}');
      text = t;
    }
    const plan: ImportPlan = planImport(
      text,
      ctx.registry(),
      ctx.governing(),
      format as ImportFormat | undefined,
    );
    const preview = {
      format: plan.format,
      dryRun,
      rows: plan.rows.map((r) => ({
        line: r.line,
        jid: r.jid,
        ...(r.forPolicy ? { policy: r.forPolicy } : {}),
        marking: clearanceView(r.clearance),
      })),
      problems: plan.problems,
    };
    if (dryRun) return json(200, preview);
    if (plan.problems.length > 0) {
      const e = new AdminImportRefusedError(plan.problems.length);
      return json(e.status, { error: { code: e.code, message: e.message }, ...preview });
    }
    auditWritable(ctx);
    const events: Parameters<typeof audited>[2][number][] = [];
    let written = 0;
    try {
      written = (
        await applyImport(plan, ctx.store, (row) =>
          events.push({
            action: "clearance-set",
            decision: "change",
            reason: "admin-api import",
            target: row.jid,
            marking: row.marking,
            ...(row.forPolicy ? { policy: row.forPolicy } : {}),
          }),
        )
      ).written;
    } catch {
      // What was written is recorded, and the answer says how much (found in review, adv16: the
      // store's 503 alone read as "nothing was written" while the rows before the failure were in force).
      await audited(ctx, req, events);
      const e = new AdminImportPartialError(events.length, plan.rows.length);
      ctx.logger?.warn({ rows: events.length, of: plan.rows.length }, "clearance import failed part-way");
      return json(e.status, {
        error: { code: e.code, message: e.message },
        ...preview,
        written: events.length,
      });
    }
    await audited(ctx, req, events);
    ctx.logger?.info({ rows: written, format: plan.format }, "clearances imported through the admin API");
    return json(200, { ...preview, written });
  }

  return [
    {
      pattern: /^\/clearances$/u,
      methods: {
        GET: async (_req, _m, q) => {
          const registry = ctx.registry();
          const query = q.get("q") ?? "";
          const cursor = q.get("cursor") ?? undefined;
          const limit = limitOf(q);
          const page = await store(() =>
            ctx.store.listUserClearancesPage({
              query,
              ...(cursor !== undefined ? { cursor } : {}),
              ...(limit !== undefined ? { limit } : {}),
            }),
          );
          const entries = page.entries.map((e) => ({
            jid: e.jid,
            ...(e.policy ? { policy: e.policy } : {}),
            source: "store" as const,
            ...rawView(e.clearance, registry),
          }));
          let directory:
            | { entries: { jid: string; source: "directory" }[]; truncated: boolean; error?: string }
            | undefined;
          if (ctx.directory?.listUsers && cursor === undefined) {
            try {
              const found = await ctx.directory.listUsers({ query, limit: limit ?? 50 });
              directory = {
                entries: found.entries.map((e) => ({
                  jid: e.jid,
                  source: "directory" as const,
                  ...rawView(e.clearance, registry),
                })),
                truncated: found.truncated,
              };
            } catch (error) {
              // The store's page still answers; the directory's part says it is unavailable.
              directory = {
                entries: [],
                truncated: false,
                error: `the directory is unavailable: ${clip((error as Error).message, 200)}`,
              };
            }
          }
          return json(200, {
            entries,
            ...(page.next !== undefined ? { next: page.next } : {}),
            ...(directory ? { directory } : {}),
          });
        },
      },
    },
    {
      pattern: /^\/clearances\/import$/u,
      methods: { POST: (req, _m, q) => importFile(req, q) },
    },
    {
      pattern: /^\/clearances\/([^/]+)$/u,
      methods: {
        GET: async (_req, m, q) => {
          const jid = userOf(segment(m));
          const slot = policySlot(q);
          const found = await store(() => userClearance(jid, slot));
          if (slot !== undefined) {
            if (!found) throw new AdminNotFoundError(`clearance of ${clip(jid, 80)}`);
            return json(200, found);
          }
          const entries = await store(() => perPolicy(jid));
          if (!found && entries.length === 0) throw new AdminNotFoundError(`clearance of ${clip(jid, 80)}`);
          return json(200, { ...(found ?? { jid, source: "none" as const }), perPolicy: entries });
        },
        PUT: async (req, m, q) => {
          const jid = userOf(segment(m));
          const slot = policySlot(q);
          // Parsed before anything else: a bad body never reaches the store or the log.
          const parsed = parseClearanceBody(req.body, ctx.registry(), ctx.governing());
          auditWritable(ctx);
          await written(
            () => ctx.store.setUserClearance(jid, parsed.raw, slot),
            () =>
              audited(ctx, req, [
                {
                  action: "clearance-set",
                  decision: "change",
                  reason: "admin-api",
                  target: jid,
                  marking: parsed.marking,
                  ...(slot ? { policy: slot } : {}),
                },
              ]),
          );
          ctx.logger?.info(
            { jid, policy: slot, marking: parsed.marking },
            "clearance set through the admin API",
          );
          return json(200, {
            jid,
            ...(slot ? { policy: slot } : {}),
            source: "store",
            readAt: now(),
            ...rawView(parsed.raw, ctx.registry()),
          });
        },
        DELETE: async (req, m, q) => {
          const jid = userOf(segment(m));
          const slot = policySlot(q);
          auditWritable(ctx);
          const removed = await written(
            () => ctx.store.deleteUserClearance(jid, slot),
            (r) =>
              r !== false &&
              audited(ctx, req, [
                {
                  action: "clearance-removed",
                  decision: "change",
                  reason: "admin-api",
                  target: jid,
                  ...(slot ? { policy: slot } : {}),
                },
              ]),
          );
          if (!removed) throw new AdminNotFoundError(`clearance of ${clip(jid, 80)}`);
          ctx.logger?.info({ jid, policy: slot }, "clearance cleared through the admin API");
          return json(200, { jid: normaliseBareJid(jid), removed: true });
        },
      },
    },
    {
      pattern: /^\/peers$/u,
      methods: {
        GET: async () => {
          const registry = ctx.registry();
          const list = await store(() => ctx.store.listPeerClearances());
          return json(200, {
            peers: list.map((e) => ({
              domain: e.domain,
              direction: e.direction,
              ...rawView(e.clearance, registry),
            })),
          });
        },
      },
    },
    {
      pattern: /^\/peers\/([^/]+)$/u,
      methods: {
        GET: async (_req, m, q) => {
          const domain = domainOf(segment(m));
          const registry = ctx.registry();
          const out: Record<string, unknown> = {};
          for (const dir of directions(q, "both")) {
            const r = await store(() => ctx.store.getPeerClearance(domain, dir));
            if (r.status === "unknown") throw new AdminStoreUnavailableError(r.reason);
            if (r.status === "known") out[dir] = rawView(r.clearance, registry);
          }
          if (Object.keys(out).length === 0)
            throw new AdminNotFoundError(`peer clearance of ${clip(domain, 80)}`);
          return json(200, { domain, readAt: now(), directions: out });
        },
        PUT: async (req, m, q) => {
          const domain = domainOf(segment(m));
          const dirs = directions(q, "both");
          const parsed = parseClearanceBody(req.body, ctx.registry(), ctx.governing());
          auditWritable(ctx);
          // Each direction is its own write: what was written is recorded, also when the store
          // failed part-way (found in review, adv16: inbound set, outbound failed, nothing recorded).
          const set: PeerDirection[] = [];
          try {
            for (const dir of dirs)
              await written(
                () => ctx.store.setPeerClearance(domain, dir, parsed.raw),
                () => set.push(dir),
              );
          } finally {
            await audited(
              ctx,
              req,
              set.map((dir) => ({
                action: "peer-clearance-set",
                decision: "change" as const,
                reason: "admin-api",
                target: domain,
                marking: parsed.marking,
                detail: dir,
              })),
            );
          }
          const view = rawView(parsed.raw, ctx.registry());
          return json(200, { domain, directions: Object.fromEntries(dirs.map((d) => [d, view])) });
        },
        DELETE: async (req, m, q) => {
          const domain = domainOf(segment(m));
          const dirs = directions(q, "both");
          auditWritable(ctx);
          const removed: PeerDirection[] = [];
          try {
            for (const dir of dirs)
              await written(
                () => ctx.store.deletePeerClearance(domain, dir),
                (r) => r !== false && removed.push(dir),
              );
          } finally {
            // What was removed is recorded, also when the store failed part-way.
            await audited(
              ctx,
              req,
              removed.map((dir) => ({
                action: "peer-clearance-removed",
                decision: "change" as const,
                reason: "admin-api",
                target: domain,
                detail: dir,
              })),
            );
          }
          if (removed.length === 0) throw new AdminNotFoundError(`peer clearance of ${clip(domain, 80)}`);
          return json(200, { domain, removed });
        },
      },
    },
    {
      pattern: /^\/services$/u,
      methods: {
        GET: async () => {
          const registry = ctx.registry();
          const list = await store(() => ctx.store.listServiceClearances());
          return json(200, {
            services: list.map((e) => ({ domain: e.domain, ...rawView(e.clearance, registry) })),
          });
        },
      },
    },
    {
      pattern: /^\/services\/([^/]+)$/u,
      methods: {
        GET: async (_req, m) => {
          const domain = domainOf(segment(m));
          const r = await store(() => ctx.store.getServiceClearance(domain));
          if (r.status === "unknown") throw new AdminStoreUnavailableError(r.reason);
          if (r.status === "none") throw new AdminNotFoundError(`service clearance of ${clip(domain, 80)}`);
          return json(200, { domain, readAt: now(), ...rawView(r.clearance, ctx.registry()) });
        },
        PUT: async (req, m) => {
          const domain = domainOf(segment(m));
          const parsed = parseClearanceBody(req.body, ctx.registry(), ctx.governing());
          auditWritable(ctx);
          await written(
            () => ctx.store.setServiceClearance(domain, parsed.raw),
            () =>
              audited(ctx, req, [
                {
                  action: "service-clearance-set",
                  decision: "change",
                  reason: "admin-api",
                  target: domain,
                  marking: parsed.marking,
                },
              ]),
          );
          return json(200, { domain, ...rawView(parsed.raw as RawClearance, ctx.registry()) });
        },
        DELETE: async (req, m) => {
          const domain = domainOf(segment(m));
          auditWritable(ctx);
          const removed = await written(
            () => ctx.store.deleteServiceClearance(domain),
            (r) =>
              r !== false &&
              audited(ctx, req, [
                {
                  action: "service-clearance-removed",
                  decision: "change",
                  reason: "admin-api",
                  target: domain,
                },
              ]),
          );
          if (!removed) throw new AdminNotFoundError(`service clearance of ${clip(domain, 80)}`);
          return json(200, { domain, removed: true });
        },
      },
    },
  ];
}
