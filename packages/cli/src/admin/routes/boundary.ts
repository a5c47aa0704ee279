// The admin API's boundary area (issue 18, CONSOLE.md "rooms" helper): the relay's peerings and
// the audit logs.
//   GET  /peerings        {peerings: counters per peering and direction (as before), details:
//                         each peering's sides, direction clearances and controls (peering-view.ts)}
//   GET  /audit           ?log=relay|process &decision= &reason= &peer= &component= &action=
//                         &since= &until= (ISO 8601 or ms) &cursor= &limit= (≤ 200)
//                         one page, newest first, bounded in bytes read and answered (audit-browse.ts)
//   POST /audit/verify    {log, anchor?: "SEQ:HASH"} (also GET ?log=&anchor=: read-only, for viewers): the chain check of `cordon audit verify`
//                         (verifyAuditFileChunked, the same function, bounded chunks); a break names
//                         its line, record and byte offset (the page shows the records there)
import { parseAuditAnchor, verifyAuditFileChunked, type AuditAnchor, type AuditKey } from "@cordon/relay";
import { AdminBadRequestError, AdminNotFoundError, AdminNotRunningError } from "../../ops-errors.js";
import { readAuditPage, type AuditFilter } from "../audit-browse.js";
import type { PeeringView } from "../peering-view.js";
import { jsonBody, stringField } from "./rooms.js";
import { json, type AdminResponse, type AdminRoute } from "../http.js";

/** An audit log this process writes: its name in the API, its file and the key of its chain. */
export interface AuditLogRef {
  name: "relay" | "process";
  file: string;
  key: AuditKey;
}

export interface BoundaryProvider {
  /** Relay counters (RelayMetrics) and peering views; undefined when no relay runs here. */
  relay(): { counters: unknown; peerings: PeeringView[] } | undefined;
  /** The audit logs of this process (the relay's, the process log of `audit:`). */
  auditLogs(): readonly AuditLogRef[];
}

export const MAX_AUDIT_PAGE = 200;

const FILTER_TEXT = 256;

function timeParam(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === "") return undefined;
  const t = /^\d{1,15}$/u.test(v) ? Number(v) : v.length <= 64 ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw new AdminBadRequestError(`${key}: expected an ISO 8601 time or milliseconds`);
  return t;
}

function textParam(q: URLSearchParams, key: string): string | undefined {
  const v = q.get(key);
  if (v === null || v === "") return undefined;
  if (v.length > FILTER_TEXT) throw new AdminBadRequestError(`${key}: at most ${FILTER_TEXT} characters`);
  return v;
}

export function boundaryRoutes(deps: { boundary: () => BoundaryProvider | undefined }): AdminRoute[] {
  const logs = (): readonly AuditLogRef[] => deps.boundary()?.auditLogs() ?? [];
  const log = (name: string | undefined): AuditLogRef => {
    const all = logs();
    if (all.length === 0) throw new AdminNotRunningError("an audit log");
    if (name === undefined || name === "") return all[0]!;
    const found = all.find((l) => l.name === name);
    if (!found) throw new AdminNotFoundError("that audit log");
    return found;
  };
  // One verification at a time, and the one asked for again while it runs is shared: each reads
  // the whole log through its own 1 MiB buffer, and viewers may ask (found in review, adv16: 64 asked
  // at once held 67 MiB and hashed the log 64 times side by side).
  let queue: Promise<unknown> = Promise.resolve();
  const running = new Map<string, Promise<AdminResponse>>();
  const verify = async (name: string | undefined, anchorText: string | undefined): Promise<AdminResponse> => {
    const ref = log(name);
    let anchor: AuditAnchor | undefined;
    if (anchorText !== undefined && anchorText !== "") {
      anchor = parseAuditAnchor(anchorText);
      if (!anchor) throw new AdminBadRequestError("anchor: expected SEQ:HASH as the log's head is written");
    }
    const key = `${ref.name} ${anchor ? `${anchor.seq}:${anchor.hash}` : ""}`;
    const shared = running.get(key);
    if (shared) return shared;
    const run = queue
      .catch(() => undefined)
      .then(async () => {
        // Asked for from now on: a new run (the log may have grown).
        running.delete(key);
        const result = await verifyAuditFileChunked(ref.file, ref.key, anchor);
        return json(200, { log: ref.name, keyId: ref.key.id, ...result });
      });
    running.set(key, run);
    queue = run;
    return run;
  };
  return [
    {
      pattern: /^\/peerings$/u,
      methods: {
        GET: async () => {
          const relay = deps.boundary()?.relay();
          if (relay === undefined) throw new AdminNotRunningError("the relay component");
          return json(200, { peerings: relay.counters, details: relay.peerings });
        },
      },
    },
    {
      pattern: /^\/audit$/u,
      methods: {
        GET: async (_req, _m, q) => {
          const ref = log(textParam(q, "log"));
          const limitText = q.get("limit");
          const limit = limitText === null || limitText === "" ? 50 : Number(limitText);
          if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE)
            throw new AdminBadRequestError(`limit: a whole number from 1 to ${MAX_AUDIT_PAGE}`);
          const cursorText = q.get("cursor");
          let cursor: number | undefined;
          if (cursorText !== null && cursorText !== "") {
            if (!/^\d{1,15}$/u.test(cursorText))
              throw new AdminBadRequestError("cursor: the `next` of a previous page");
            cursor = Number(cursorText);
          }
          const filter: AuditFilter = {};
          for (const key of ["decision", "reason", "peer", "component", "action"] as const) {
            const v = textParam(q, key);
            if (v !== undefined) filter[key] = v;
          }
          const since = timeParam(q, "since");
          const until = timeParam(q, "until");
          if (since !== undefined) filter.since = since;
          if (until !== undefined) filter.until = until;
          const page = await readAuditPage(ref.file, {
            limit,
            filter,
            ...(cursor !== undefined ? { cursor } : {}),
          });
          return json(200, { log: ref.name, logs: logs().map((l) => l.name), ...page });
        },
      },
    },
    {
      pattern: /^\/audit\/verify$/u,
      methods: {
        // Read-only: GET too, so a viewer may verify (POST is the contract's form, same check).
        GET: async (_req, _m, q) => verify(textParam(q, "log"), textParam(q, "anchor")),
        POST: async (req) => {
          const body = jsonBody(req, true);
          return verify(stringField(body, "log", 16), stringField(body, "anchor", 100));
        },
      },
    },
  ];
}
