// The admin API's rooms area (issue 18, CONSOLE.md "rooms"): the MUC's rooms as the service's
// operator sees and changes them. Every change goes through the MUC's own code paths (the owner's
// and the moderator's rules, @cordon/muc service/operator.ts; what the operator may do:
// security/service-operator.ts) and is answered only once its audit record — with who made it —
// is on disk; a log that cannot be written refuses the change before it is made.
//   GET    /rooms                    rooms: label, clearance, default label (markings), occupant count;
//                                    and the labels the service offers by name (for the pickers)
//   GET    /rooms/{jid}              one room with its occupants, each with its clearance marking
//   POST   /rooms                    create {room, name?, label, clearance?: [name], defaultLabel?,
//                                    owners?: [jid], persistent?, public?, membersOnly?}
//   PUT    /rooms/{jid}/label        relabel {label} (a named label): the uncovered are removed (307)
//   POST   /rooms/{jid}/kick         {nick, occupant?, reason?} (XEP-0045 §8.2: 307); occupant: the
//                                    real JID the page showed with that nick (refused when it changed)
//   DELETE /rooms/{jid}              destroy, body {reason?} optional (XEP-0045 §10.9)
import type { AuditEvent } from "@cordon/relay";
import type { Label } from "@cordon/policy";
import { MucOperatorRefusedError, type MucOperator, type RoomView, type SecurityChoices } from "@cordon/muc";
import { isCordonError } from "@cordon/errors";
import { AdminBadRequestError, AdminNotRunningError } from "../../ops-errors.js";
import { json, type AdminRequest, type AdminResponse, type AdminRoute, type RoutedRequest } from "../http.js";
import { clearanceView, labelView, type MarkingView } from "../marking-view.js";

/** The MUC's operator surface, when a MUC runs in this process. */
export interface RoomsProvider {
  operator: MucOperator;
  /** Labels the service offers by name (the owner's form offers the same). */
  namedLabels(): readonly { name: string; label: Label }[];
}

/** Writes an admin change's record and resolves once it is on disk (audit-log.ts recordEventWritten). */
export interface ChangeAudit {
  /** Throws CORDON_AUDIT_UNAVAILABLE when the log has failed: the change is then not made. */
  assertWritable(): void;
  record(event: AuditEvent): Promise<void>;
}

/** Who asked, as the audit records it (CONSOLE.md: the session's user, or "token" for the bearer token). */
export function whoOf(req: RoutedRequest): string {
  return req.who.user !== "" ? req.who.user : "token";
}

/** A path segment decoded; a malformed percent-encoding is a bad request (never echoed). */
export function pathPart(text: string | undefined): string {
  try {
    return decodeURIComponent(text ?? "");
  } catch {
    throw new AdminBadRequestError("the path holds a malformed percent-encoding");
  }
}

/** The JSON object of a request body ({} when empty and `optional`); never echoes it. */
export function jsonBody(req: AdminRequest, optional = false): Record<string, unknown> {
  if (req.body.length === 0) {
    if (optional) return {};
    throw new AdminBadRequestError("send a JSON object");
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(req.body).toString("utf8"));
  } catch {
    throw new AdminBadRequestError("the JSON body does not parse");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new AdminBadRequestError("send a JSON object");
  return value as Record<string, unknown>;
}

/** An optional string field, at most `max` characters (the field is named, its value never). */
export function stringField(body: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length > max)
    throw new AdminBadRequestError(`${key}: expected a string of at most ${max} characters`);
  return v;
}

function stringList(body: Record<string, unknown>, key: string, max: number): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === "string" && x.length <= 3071))
    throw new AdminBadRequestError(`${key}: expected a list of at most ${max} strings`);
  return v as string[];
}

function boolField(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new AdminBadRequestError(`${key}: expected true or false`);
  return v;
}

/** HTTP status of the MUC operator's errors (their codes are kept: docs/errors.md). */
const MUC_STATUS: Record<string, number> = {
  CORDON_MUC_ROOM_NOT_FOUND: 404,
  CORDON_MUC_ROOM_EXISTS: 409,
  CORDON_MUC_OPERATOR_REFUSED: 422,
  CORDON_MUC_OPERATOR_UNAVAILABLE: 503,
};

function mucStatus(error: unknown): number | undefined {
  return isCordonError(error) ? MUC_STATUS[error.code] : undefined;
}

export interface OccupantJson {
  nick: string;
  jid: string;
  role: string;
  affiliation: string;
  clearance: { status: "known"; marking: MarkingView } | { status: "none" } | { status: "unknown" };
}

function clearanceJson(state: RoomView["occupants"][number]["clearance"]): OccupantJson["clearance"] {
  if (state.status === "known") return { status: "known", marking: clearanceView(state.clearance) };
  return { status: state.status };
}

function summary(room: RoomView) {
  return {
    jid: room.jid,
    name: room.name,
    label: room.label ? labelView(room.label) : null,
    clearance: room.clearance ? clearanceView(room.clearance) : null,
    /** null: unlabelled messages refused; "service": the service's default label applies. */
    defaultLabel:
      room.defaultLabel === null ? null : room.defaultLabel ? labelView(room.defaultLabel) : "service",
    occupants: room.occupants.length,
    persistent: room.persistent,
    public: room.public,
    membersOnly: room.membersOnly,
    locked: room.locked,
  };
}

function detail(room: RoomView) {
  return {
    ...summary(room),
    description: room.description,
    owners: room.owners,
    occupants: room.occupants.map((o): OccupantJson => ({
      nick: o.nick,
      jid: o.jid,
      role: o.role,
      affiliation: o.affiliation,
      clearance: clearanceJson(o.clearance),
    })),
  };
}

export function roomRoutes(deps: {
  rooms: () => RoomsProvider | undefined;
  audit: () => ChangeAudit | undefined;
}): AdminRoute[] {
  const provider = (): RoomsProvider => {
    const p = deps.rooms();
    if (!p) throw new AdminNotRunningError("the MUC component");
    return p;
  };
  /**
   * Runs a change: refused before anything is done when the log cannot record it; answered once
   * the record of what was done (or of the MUC's refusal) is written.
   */
  const change = async (
    req: RoutedRequest,
    action: string,
    target: string,
    run: () => Promise<{ status: number; body: unknown; marking?: string; detail?: string }>,
  ): Promise<AdminResponse> => {
    const audit = deps.audit();
    audit?.assertWritable();
    const actor = whoOf(req);
    let done: Awaited<ReturnType<typeof run>>;
    try {
      done = await run();
    } catch (error) {
      const status = mucStatus(error);
      if (status === undefined || !isCordonError(error)) throw error;
      await audit?.record({
        component: "admin",
        action,
        decision: "deny",
        reason: error.code,
        actor,
        target,
      });
      return json(status, { error: { code: error.code, message: error.message } });
    }
    await audit?.record({
      component: "admin",
      action,
      decision: "change",
      reason: "admin-api",
      actor,
      target,
      ...(done.marking !== undefined ? { marking: done.marking } : {}),
      ...(done.detail !== undefined ? { detail: done.detail } : {}),
    });
    return json(done.status, done.body);
  };
  const read = <T>(run: () => T): T | AdminResponse => {
    try {
      return run();
    } catch (error) {
      const status = mucStatus(error);
      if (status === undefined || !isCordonError(error)) throw error;
      return json(status, { error: { code: error.code, message: error.message } });
    }
  };
  const isResponse = (v: unknown): v is AdminResponse =>
    typeof v === "object" && v !== null && "contentType" in v && "status" in v;

  return [
    {
      pattern: /^\/rooms$/u,
      methods: {
        GET: async () => {
          const p = provider();
          return json(200, {
            rooms: p.operator.rooms().map(summary),
            labels: p.namedLabels().map((n) => ({ name: n.name, marking: labelView(n.label) })),
          });
        },
        POST: async (req) => {
          const p = provider();
          const body = jsonBody(req);
          const room = stringField(body, "room", 1023);
          if (!room) throw new AdminBadRequestError("room: name the room (a JID or its localpart)");
          const label = stringField(body, "label", 256);
          if (!label) throw new AdminBadRequestError("label: name one of the service's labels");
          const clearance = stringList(body, "clearance", 64);
          const defaultLabel = stringField(body, "defaultLabel", 256);
          const security: SecurityChoices = {
            label,
            ...(clearance ? { clearance } : {}),
            ...(defaultLabel !== undefined ? { defaultLabel } : {}),
          };
          const name = stringField(body, "name", 1024);
          const owners = stringList(body, "owners", 64);
          const persistent = boolField(body, "persistent");
          const isPublic = boolField(body, "public");
          const membersOnly = boolField(body, "membersOnly");
          return change(req, "room-create", room.slice(0, 1023), async () => {
            const made = await p.operator.create({
              room,
              security,
              ...(name !== undefined ? { name } : {}),
              ...(owners ? { owners } : {}),
              ...(persistent !== undefined ? { persistent } : {}),
              ...(isPublic !== undefined ? { public: isPublic } : {}),
              ...(membersOnly !== undefined ? { membersOnly } : {}),
            });
            return {
              status: 201,
              body: { room: detail(made) },
              ...(made.label ? { marking: labelView(made.label).text } : {}),
            };
          });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)$/u,
      methods: {
        GET: async (_req, m) => {
          const p = provider();
          const found = read(() => p.operator.room(pathPart(m[1])));
          return isResponse(found) ? found : json(200, { room: detail(found) });
        },
        DELETE: async (req, m) => {
          const p = provider();
          const jid = pathPart(m[1]);
          const reason = stringField(jsonBody(req, true), "reason", 1024);
          return change(req, "room-destroy", jid.slice(0, 1023), async () => {
            const { occupants } = await p.operator.destroy(jid, reason);
            return {
              status: 200,
              body: { destroyed: jid, occupants },
              detail: `${occupants} occupants told`,
            };
          });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)\/label$/u,
      methods: {
        PUT: async (req, m) => {
          const p = provider();
          const jid = pathPart(m[1]);
          const label = stringField(jsonBody(req), "label", 256);
          if (!label) throw new AdminBadRequestError("label: name one of the service's labels");
          return change(req, "room-relabel", jid.slice(0, 1023), async () => {
            const { room, removed } = await p.operator.relabel(jid, { label });
            return {
              status: 200,
              body: { room: detail(room), removed },
              ...(room.label ? { marking: labelView(room.label).text } : {}),
              detail: `${removed.length} occupants removed`,
            };
          });
        },
      },
    },
    {
      pattern: /^\/rooms\/([^/]+)\/kick$/u,
      methods: {
        POST: async (req, m) => {
          const p = provider();
          const jid = pathPart(m[1]);
          const body = jsonBody(req);
          const nick = stringField(body, "nick", 1023);
          if (!nick) throw new AdminBadRequestError("nick: name the occupant");
          const reason = stringField(body, "reason", 1024);
          const expected = stringField(body, "occupant", 3071);
          return change(req, "room-kick", jid.slice(0, 1023), async () => {
            // The occupant the page showed, checked in the same tick as the kick finds it (found in
            // review, adv16: a nickname taken by someone else since the page was drawn kicked them).
            if (expected !== undefined) {
              const now = p.operator.room(jid).occupants.find((o) => o.nick === nick);
              if (now !== undefined && now.jid !== expected)
                throw new MucOperatorRefusedError("that nickname is someone else's now: reload the room");
            }
            const { occupant } = await p.operator.kick(jid, nick, reason);
            return { status: 200, body: { kicked: nick, occupant }, detail: `kicked ${occupant}` };
          });
        },
      },
    },
  ];
}
