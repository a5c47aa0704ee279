// Catalog routes of the admin API (the console's Catalogs page):
//   GET    /catalogs?requester=JID&target=JID   the catalog that user would get toward that target:
//                                              the catalog service's own answer (catalogFor), never a
//                                              second computation of it
//   GET    /catalogs/stored/{target}?kind=domain|room|personal   a stored catalog record (JSON)
//   PUT    /catalogs/stored/{target}?kind=…     store one: { name?, desc?, restrict?, items: [{ selector?,
//                                              default?, label? }] }, labels by name (the governing
//                                              policy when they name none); read by the catalog
//                                              service's own parser before it is stored
//   DELETE /catalogs/stored/{target}?kind=…
// `kind` defaults to domain for a target without `@`, and must be given for one with it.
import { StanzaErrorException } from "@cordon/component";
import { parseCatalogJson, CatalogSpecError } from "@cordon/catalog";
import type { CatalogScope } from "@cordon/store";
import { normaliseBareJid, normaliseDomain } from "@cordon/store";
import { userJid } from "../../clearance-import.js";
import {
  AdminBadRequestError,
  AdminCatalogRefusedError,
  AdminNotFoundError,
  AdminNotRunningError,
} from "../../ops-errors.js";
import {
  audited,
  auditWritable,
  clip,
  json,
  jsonBody,
  labelView,
  segment,
  type PeopleContext,
  type PeopleRouteSpec,
} from "./people.js";

function scopeOf(target: string, kind: string | null): CatalogScope {
  const k = kind ?? (target.includes("@") ? undefined : "domain");
  try {
    if (k === "domain") return { kind: "domain", domain: normaliseDomain(target) };
    if (k === "room") return { kind: "room", jid: normaliseBareJid(target) };
    if (k === "personal") return { kind: "personal", jid: normaliseBareJid(target) };
  } catch {
    throw new AdminBadRequestError(
      `not a ${k === "domain" ? "domain" : "bare JID"}: ${JSON.stringify(clip(target, 80))}`,
    );
  }
  throw new AdminBadRequestError("kind must be domain, room or personal");
}

const scopeName = (s: CatalogScope) => (s.kind === "domain" ? `domain:${s.domain}` : `${s.kind}:${s.jid}`);

/** Labels without a policy are in the governing one (a store record names every label's policy). */
function withPolicies(value: Record<string, unknown>, governing: string): Record<string, unknown> {
  const items = value.items;
  if (!Array.isArray(items)) return value;
  return {
    ...value,
    items: items.map((item: unknown) => {
      if (typeof item !== "object" || item === null) return item;
      const label = (item as { label?: unknown }).label;
      if (typeof label === "object" && label !== null && !Array.isArray(label) && !("policy" in label)) {
        const l = label as Record<string, unknown>;
        if ("classification" in l) return { ...item, label: { ...l, policy: governing } };
      }
      return item;
    }),
  };
}

export function catalogRoutes(ctx: PeopleContext): PeopleRouteSpec[] {
  return [
    {
      pattern: /^\/catalogs$/u,
      methods: {
        GET: async (_req, _m, q) => {
          if (!ctx.catalog) throw new AdminNotRunningError("the catalog component");
          const requester = userJid(q.get("requester") ?? "");
          if (requester === undefined) throw new AdminBadRequestError("requester must be a user's bare JID");
          const target = q.get("target") ?? "";
          if (target === "" || target.length > 3071) throw new AdminBadRequestError("target must be a JID");
          let catalog;
          try {
            catalog = await ctx.catalog({
              requester,
              home: requester.slice(requester.indexOf("@") + 1),
              target,
            });
          } catch (error) {
            if (error instanceof StanzaErrorException)
              throw new AdminCatalogRefusedError(error.spec.condition);
            throw error;
          }
          return json(200, {
            requester,
            to: catalog.to,
            ...(catalog.name !== undefined ? { name: catalog.name } : {}),
            ...(catalog.desc !== undefined ? { desc: catalog.desc } : {}),
            restrict: catalog.restrict,
            id: catalog.id,
            items: catalog.items.map((item) => ({
              selector: item.selector,
              default: item.default,
              ...(item.label ? { marking: labelView(item.label) } : { marking: null }),
            })),
          });
        },
      },
    },
    {
      pattern: /^\/catalogs\/stored\/([^/]+)$/u,
      methods: {
        GET: async (_req, m, q) => {
          const scope = scopeOf(segment(m), q.get("kind"));
          const text = await ctx.store.getCatalog(scope);
          if (text === undefined)
            throw new AdminNotFoundError(`stored catalog of ${clip(scopeName(scope), 100)}`);
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            value = undefined;
          }
          // How the catalog service reads it (an unusable record is ignored by the service).
          let problem: string | undefined;
          let items: { selector?: string; default: boolean; marking: ReturnType<typeof labelView> | null }[] =
            [];
          try {
            const spec = parseCatalogJson(text, ctx.registry(), "catalog");
            items = spec.items.map((e) => ({
              ...(e.selector ? { selector: e.selector } : {}),
              default: e.default === true,
              marking: e.label ? labelView(e.label) : null,
            }));
          } catch (error) {
            problem = clip((error as Error).message, 300);
          }
          return json(200, { scope, record: value ?? null, items, ...(problem ? { problem } : {}) });
        },
        PUT: async (req, m, q) => {
          const scope = scopeOf(segment(m), q.get("kind"));
          const value = withPolicies(jsonBody(req), ctx.governing().id);
          const text = JSON.stringify(value);
          try {
            // The catalog service's own parser: what it will read is what is stored.
            parseCatalogJson(text, ctx.registry(), "catalog");
          } catch (error) {
            if (error instanceof CatalogSpecError) throw new AdminBadRequestError(clip(error.message, 300));
            throw error;
          }
          auditWritable(ctx);
          await ctx.store.setCatalog(scope, text);
          await audited(ctx, req, [
            { action: "catalog-set", decision: "change", reason: "admin-api", target: scopeName(scope) },
          ]);
          return json(200, { scope, record: value });
        },
        DELETE: async (req, m, q) => {
          const scope = scopeOf(segment(m), q.get("kind"));
          auditWritable(ctx);
          if (!(await ctx.store.deleteCatalog(scope)))
            throw new AdminNotFoundError(`stored catalog of ${clip(scopeName(scope), 100)}`);
          await audited(ctx, req, [
            { action: "catalog-removed", decision: "change", reason: "admin-api", target: scopeName(scope) },
          ]);
          return json(200, { scope, removed: true });
        },
      },
    },
  ];
}
