// What the console's "people" routes (clearances, policies, catalogs) work on, and what they share:
// the context the running process (or a test) gives them, who made a change and its audit record,
// and markings as `{text, fg?, bg?}` with the policy's colours (XML-SPIF classification `color`).
import type { Logger } from "@cordon/component";
import type { Catalog, CatalogQuery } from "@cordon/catalog";
import {
  clearanceMarking,
  labelMarking,
  markingColours,
  parseClearance,
  type Clearance,
  type Classification,
  type Label,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import type { AuditEvent, AuditSink } from "@cordon/relay";
import type { ClearanceLookup, ClearanceStore, RawClearance } from "@cordon/store";
import { assertAuditWritable, recordEvent } from "../../audit-log.js";
import type { ReloadSummary } from "../../reload.js";
import { AdminBadRequestError } from "../../ops-errors.js";
import type { AdminRoute, Route, RoutedRequest } from "../http.js";
export { json } from "../http.js";

/** A directory of user clearances the console can read and search (an LdapDirectory). */
export interface DirectoryReader {
  getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup>;
  /** How long ago the answer for `jid` was read from the directory, when it is cached. */
  ageOf?(jid: string): number | undefined;
  /** Entries whose JID contains `query`, at most `limit` (the directory's size limit). */
  listUsers?(query: {
    query?: string;
    limit?: number;
  }): Promise<{ entries: { jid: string; clearance: RawClearance }[]; truncated: boolean }>;
}

export interface PeopleContext {
  /** The loaded policies and the governing one, read at each request (a reload replaces them). */
  registry(): PolicyRegistry;
  governing(): Policy;
  store: ClearanceStore;
  directory?: DirectoryReader | undefined;
  /** The process audit log (none: changes are not recorded, as without an `audit:` section). */
  audit?: AuditSink | undefined;
  logger?: Logger;
  reload?(): Promise<ReloadSummary>;
  /** Replaces the configured file of the uploaded policy's id, after every check (reload.ts). */
  uploadPolicy?(text: string): Promise<ReloadSummary>;
  /** The catalog service's own answer (CatalogService.catalogFor); undefined without a catalog. */
  catalog?(query: CatalogQuery): Promise<Catalog>;
  now?(): number;
}

export type PeopleRoute = Route;
export type PeopleRouteSpec = AdminRoute;

/** Who made a change: the session's user, or "token" for the bearer token (CONSOLE.md). */
export function whoOf(req: RoutedRequest): string {
  return req.who.user;
}

/** Text cut to a bounded length (anything a request carried, quoted in an answer). */
export function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A path segment, decoded (a bad escape is a bad request, never a 500). */
export function segment(m: RegExpExecArray, i = 1): string {
  try {
    return decodeURIComponent(m[i] ?? "");
  } catch {
    throw new AdminBadRequestError("the path is not well-formed percent-encoding");
  }
}

/** The JSON body of a request (an object), or a 400. */
export function jsonBody(req: RoutedRequest): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(req.body).toString("utf8"));
  } catch {
    throw new AdminBadRequestError("the body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new AdminBadRequestError("the body must be a JSON object");
  return value as Record<string, unknown>;
}

/**
 * Records an admin change with who made it and resolves once it is on disk: the change is answered
 * only then (audit-log.ts recordEventWritten). Without a log, nothing to wait for.
 */
export async function audited(
  ctx: PeopleContext,
  req: RoutedRequest,
  events: readonly Omit<AuditEvent, "component" | "actor">[],
): Promise<void> {
  if (!ctx.audit) return;
  for (const e of events)
    recordEvent(ctx.audit, { component: "admin", actor: whoOf(req), ...e }, ctx.logger ?? silent);
  await ctx.audit.written();
}

/** Throws before a change when the log can no longer record it (fail closed). */
export function auditWritable(ctx: PeopleContext): void {
  assertAuditWritable(ctx.audit);
}

const silent = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
} as unknown as Logger;

// --- markings ------------------------------------------------------------------------------------

/** A marking as the console shows it: the policy's text and colours. */
export interface MarkingView {
  text: string;
  fg?: string;
  bg?: string;
}

/** A colour as CSS can take it: `#rgb`, `#rrggbb` or a plain name; anything else is left out. */
function colour(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  return /^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$/u.test(v) || /^[a-zA-Z]{1,30}$/u.test(v) ? v : undefined;
}

function coloured(text: string, classification: Classification | undefined): MarkingView {
  const { fgcolor, bgcolor } = classification
    ? markingColours(classification)
    : { fgcolor: undefined, bgcolor: undefined };
  const fg = colour(fgcolor);
  const bg = colour(bgcolor);
  return { text, ...(fg ? { fg } : {}), ...(bg ? { bg } : {}) };
}

export function labelView(label: Label): MarkingView {
  return coloured(labelMarking(label), label.classification);
}

/** A clearance's marking, in the colours of the highest classification it holds. */
export function clearanceView(clearance: Clearance): MarkingView {
  return coloured(clearanceMarking(clearance), clearance.classifications.at(-1));
}

/** What a clearance holds, by name: for the console's pickers. */
export interface ClearanceDetail {
  policy: string;
  policyName: string;
  classifications: string[];
  categories: { tagSet: string; names: string[] }[];
}

export function clearanceDetail(clearance: Clearance): ClearanceDetail {
  const byTagSet = new Map<string, string[]>();
  for (const c of clearance.categories) {
    const list = byTagSet.get(c.tagSet.name) ?? [];
    list.push(c.name);
    byTagSet.set(c.tagSet.name, list);
  }
  return {
    policy: clearance.policy.id,
    policyName: clearance.policy.name,
    classifications: clearance.classifications.map((c) => c.name),
    categories: [...byTagSet].map(([tagSet, names]) => ({ tagSet, names })),
  };
}

/** A stored clearance read under the loaded policies, or undefined when it does not parse. */
export function readRaw(raw: RawClearance, registry: PolicyRegistry): Clearance | undefined {
  try {
    return parseClearance(raw.encoding === "xml" ? raw.data : Buffer.from(raw.data, "base64"), registry);
  } catch {
    return undefined;
  }
}

/** A stored clearance as the console shows it. */
export function rawView(
  raw: RawClearance,
  registry: PolicyRegistry,
): { marking: MarkingView; clearance?: ClearanceDetail; unreadable?: true } {
  const c = readRaw(raw, registry);
  return c
    ? { marking: clearanceView(c), clearance: clearanceDetail(c) }
    : { marking: { text: "(does not parse under the loaded policies)" }, unreadable: true };
}
