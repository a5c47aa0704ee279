// Rooms: every room of the labelled MUC with its label, clearance and default label as markings in
// their policy colours, and its occupants with each one's clearance marking; an admin creates,
// relabels, kicks and destroys — as the service's operator, through the MUC's own rules (an owner's
// rules for a relabel: occupants the new label does not cover are removed, the subject and status
// texts are forgotten; no label outside the service clearance). GET/POST /rooms, GET/DELETE
// /rooms/{jid}, PUT /rooms/{jid}/label, POST /rooms/{jid}/kick. "#/rooms/ROOM-JID" shows one room.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Page, PageProps } from "./types";
import { api, ApiError } from "../api";
import { useApi } from "../hooks";
import { useCanChange } from "../session";
import { Marking, type MarkingValue } from "../components/marking";
import { ErrorBox, Loading } from "../components/status";

export interface RoomSummary {
  jid: string;
  name: string;
  label: MarkingValue | null;
  clearance: MarkingValue | null;
  /** null: unlabelled messages refused; "service": the service's default label. */
  defaultLabel: MarkingValue | null | "service";
  occupants: number;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  locked: boolean;
}

export interface OccupantInfo {
  nick: string;
  jid: string;
  role: string;
  affiliation: string;
  clearance: { status: "known"; marking: MarkingValue } | { status: "none" } | { status: "unknown" };
}

export interface RoomDetail extends Omit<RoomSummary, "occupants"> {
  description: string;
  owners: string[];
  occupants: OccupantInfo[];
}

interface RoomList {
  rooms: RoomSummary[];
  labels: { name: string; marking: MarkingValue }[];
}

// Layout through style objects (set through the CSSOM, which the strict CSP allows; never a style
// attribute), so this page needs nothing from the shell's stylesheet beyond its classes.
const FORM_ROW = { display: "flex", flexWrap: "wrap", gap: "0.75rem", alignItems: "flex-end" } as const;
const FIELD = { display: "flex", flexDirection: "column", gap: "0.25rem" } as const;
const FACTS = { display: "grid", gridTemplateColumns: "max-content 1fr", gap: "0.35rem 1rem" } as const;
const DD = { margin: 0 } as const;

const roomHref = (jid: string) => `#/rooms/${encodeURIComponent(jid)}`;

function DefaultLabel({ value }: { value: RoomSummary["defaultLabel"] }): JSX.Element {
  if (value === "service") return <span class="muted">service default</span>;
  if (value === null) return <span class="muted">none (unlabelled refused)</span>;
  return <Marking m={value} />;
}

function ClearanceCell({ c }: { c: OccupantInfo["clearance"] }): JSX.Element {
  if (c.status === "known") return <Marking m={c.marking} />;
  if (c.status === "none") return <span class="muted">no clearance</span>;
  return <span class="muted">unknown now (store down)</span>;
}

function CreateRoom({ labels, done }: { labels: RoomList["labels"]; done: (jid: string) => void }) {
  const [room, setRoom] = useState("");
  const [name, setName] = useState("");
  const [label, setLabel] = useState(labels[0]?.name ?? "");
  const [owners, setOwners] = useState("");
  const [persistent, setPersistent] = useState(true);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const owned = owners
        .split(/[\s,]+/u)
        .map((o) => o.trim())
        .filter((o) => o !== "");
      const made = await api.send<{ room: RoomDetail }>("POST", "/rooms", {
        room,
        label,
        persistent,
        ...(name ? { name } : {}),
        ...(owned.length > 0 ? { owners: owned } : {}),
      });
      setRoom("");
      setName("");
      setOwners("");
      done(made.room.jid);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="create-room-h" class="card form-card">
      <h2 id="create-room-h">Create a room</h2>
      <form onSubmit={(e) => void submit(e)} class="form-grid" style={FORM_ROW}>
        <label style={FIELD}>
          Room (local part or JID)
          <input
            name="room"
            required
            maxLength={1023}
            value={room}
            onInput={(e) => setRoom(e.currentTarget.value)}
          />
        </label>
        <label style={FIELD}>
          Name
          <input name="name" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label style={FIELD}>
          Room label
          <select name="label" value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
            {labels.map((l) => (
              <option key={l.name} value={l.name}>
                {l.marking.text}
              </option>
            ))}
          </select>
        </label>
        <label style={FIELD}>
          Owners (bare JIDs, cleared for the label)
          <input name="owners" value={owners} onInput={(e) => setOwners(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="persistent"
            checked={persistent}
            onChange={(e) => setPersistent(e.currentTarget.checked)}
          />{" "}
          Persistent
        </label>
        <div>
          <button type="submit" class="primary" disabled={busy}>
            Create room
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}

function RoomList(): JSX.Element {
  const canChange = useCanChange();
  const { data, error, reload } = useApi<RoomList>("/rooms", 5000);
  if (!data) return error ? <ErrorBox error={error} /> : <Loading />;
  return (
    <div class="rooms">
      <ErrorBox error={error} />
      <section aria-labelledby="rooms-h">
        <h2 id="rooms-h">Rooms</h2>
        {data.rooms.length === 0 ? (
          <p class="muted">No rooms.</p>
        ) : (
          <div class="table-wrap">
            <table class="rooms-table">
              <thead>
                <tr>
                  <th scope="col">Room</th>
                  <th scope="col">Label (who may be in it)</th>
                  <th scope="col">Clearance (labels of its messages)</th>
                  <th scope="col">Unlabelled messages</th>
                  <th scope="col" class="num">
                    Occupants
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.rooms.map((r) => (
                  <tr key={r.jid} data-room={r.jid}>
                    <th scope="row">
                      <a href={roomHref(r.jid)}>{r.jid}</a>
                      {r.name && r.name !== r.jid.split("@")[0] ? (
                        <div class="muted small">{r.name}</div>
                      ) : null}
                      {r.persistent ? null : <div class="muted small">temporary</div>}
                    </th>
                    <td>
                      <Marking m={r.label} empty="no label" />
                    </td>
                    <td>
                      <Marking m={r.clearance} empty="none" />
                    </td>
                    <td>
                      <DefaultLabel value={r.defaultLabel} />
                    </td>
                    <td class="num">{r.occupants}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {canChange ? (
        <CreateRoom
          labels={data.labels}
          done={(jid) => {
            reload();
            location.hash = roomHref(jid);
          }}
        />
      ) : null}
    </div>
  );
}

function RoomView({ jid }: { jid: string }): JSX.Element {
  const canChange = useCanChange();
  const path = `/rooms/${encodeURIComponent(jid)}`;
  const { data, error, reload } = useApi<{ room: RoomDetail }>(path, 3000);
  const labels = useApi<RoomList>("/rooms");
  const [newLabel, setNewLabel] = useState("");
  const [reason, setReason] = useState("");
  const [notice, setNotice] = useState<string | undefined>();
  const [failure, setFailure] = useState<ApiError | undefined>();
  const [confirmDestroy, setConfirmDestroy] = useState(false);
  const act = async (what: () => Promise<string>) => {
    setFailure(undefined);
    setNotice(undefined);
    try {
      setNotice(await what());
      reload();
    } catch (err) {
      setFailure(err as ApiError);
    }
  };
  if (!data) return error ? <ErrorBox error={error} /> : <Loading />;
  const room = data.room;
  const choices = labels.data?.labels ?? [];
  const chosen = newLabel || choices[0]?.name || "";
  return (
    <div class="room">
      <p>
        <a href="#/rooms">← All rooms</a>
      </p>
      <h2>{room.jid}</h2>
      {room.name ? <p class="muted">{room.name}</p> : null}
      <ErrorBox error={error} />
      <dl class="facts" style={FACTS}>
        <dt>Room label</dt>
        <dd data-testid="room-label" style={DD}>
          <Marking m={room.label} empty="no label" />
        </dd>
        <dt>Room clearance</dt>
        <dd style={DD}>
          <Marking m={room.clearance} empty="none" />
        </dd>
        <dt>Unlabelled messages</dt>
        <dd style={DD}>
          <DefaultLabel value={room.defaultLabel} />
        </dd>
        <dt>Owners</dt>
        <dd style={DD}>
          {room.owners.length > 0 ? room.owners.join(", ") : <span class="muted">none</span>}
        </dd>
        <dt>Kind</dt>
        <dd style={DD}>
          {room.persistent ? "persistent" : "temporary"}
          {room.membersOnly ? ", members only" : ""}
          {room.public ? ", listed" : ", not listed"}
          {room.locked ? ", locked (not yet configured)" : ""}
        </dd>
      </dl>
      <div role="status" aria-live="polite">
        {notice ? <p class="notice">{notice}</p> : null}
      </div>
      <ErrorBox error={failure} />

      <section aria-labelledby="occupants-h">
        <h3 id="occupants-h">Occupants ({room.occupants.length})</h3>
        {room.occupants.length === 0 ? (
          <p class="muted">Nobody is in the room.</p>
        ) : (
          <div class="table-wrap">
            <table class="occupants">
              <thead>
                <tr>
                  <th scope="col">Nick</th>
                  <th scope="col">Real JID</th>
                  <th scope="col">Role</th>
                  <th scope="col">Affiliation</th>
                  <th scope="col">Clearance</th>
                  {canChange ? (
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {room.occupants.map((o) => (
                  <tr key={o.nick} data-nick={o.nick}>
                    <th scope="row">{o.nick}</th>
                    <td>{o.jid}</td>
                    <td>{o.role}</td>
                    <td>{o.affiliation}</td>
                    <td>
                      <ClearanceCell c={o.clearance} />
                    </td>
                    {canChange ? (
                      <td>
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Kick ${o.nick}`}
                          onClick={() =>
                            void act(async () => {
                              await api.send("POST", `${path}/kick`, {
                                nick: o.nick,
                                // Who the page showed: refused if the nickname is someone else's now.
                                occupant: o.jid,
                                ...(reason ? { reason } : {}),
                              });
                              return `${o.nick} was kicked (XEP-0045 status 307).`;
                            })
                          }
                        >
                          Kick
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {canChange ? (
        <section aria-labelledby="change-h" class="card form-card">
          <h3 id="change-h">Change the room</h3>
          <p class="muted small">
            You act as the service: the new label must be within the service clearance; occupants it does not
            cover are removed at once, the subject and status texts are forgotten.
          </p>
          <form
            class="form-grid"
            style={FORM_ROW}
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => {
                const r = await api.send<{ removed: string[]; room: RoomDetail }>("PUT", `${path}/label`, {
                  label: chosen,
                });
                return r.removed.length > 0
                  ? `Relabelled to ${r.room.label?.text ?? chosen}; removed: ${r.removed.join(", ")}.`
                  : `Relabelled to ${r.room.label?.text ?? chosen}; nobody had to leave.`;
              });
            }}
          >
            <label style={FIELD}>
              New room label
              <select name="new-label" value={chosen} onChange={(e) => setNewLabel(e.currentTarget.value)}>
                {choices.map((l) => (
                  <option key={l.name} value={l.name}>
                    {l.marking.text}
                  </option>
                ))}
              </select>
            </label>
            <div>
              <button type="submit" class="primary">
                Relabel
              </button>
            </div>
          </form>
          <label style={FIELD}>
            Reason given to occupants (kick, destroy)
            <input
              name="reason"
              maxLength={500}
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </label>
          {confirmDestroy ? (
            <p>
              Destroy {room.jid}? Every occupant is told the room is gone.{" "}
              <button
                type="button"
                class="danger"
                onClick={() =>
                  void act(async () => {
                    await api.send("DELETE", path, reason ? { reason } : {});
                    location.hash = "#/rooms";
                    return `${room.jid} was destroyed.`;
                  })
                }
              >
                Destroy now
              </button>{" "}
              <button type="button" onClick={() => setConfirmDestroy(false)}>
                Keep it
              </button>
            </p>
          ) : (
            <p>
              <button type="button" class="danger" onClick={() => setConfirmDestroy(true)}>
                Destroy room…
              </button>
            </p>
          )}
        </section>
      ) : null}
    </div>
  );
}

function View({ rest }: PageProps): JSX.Element {
  const jid = rest.replace(/^\//u, "");
  if (jid === "") return <RoomList />;
  let decoded: string;
  try {
    decoded = decodeURIComponent(jid);
  } catch {
    return <ErrorBox error={new ApiError(400, "CORDON_CONSOLE_BAD_ADDRESS", "not a room address")} />;
  }
  return <RoomView jid={decoded} />;
}

export const page: Page = { path: "/rooms", title: "Rooms", View };
