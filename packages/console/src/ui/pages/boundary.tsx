// Boundary: each relay peering with its direction clearances and controls and its counters, and the
// audit logs (the relay's and the process log) — browsed newest first a page at a time, filtered by
// decision, reason, peer and time, and verified from the page with the same check as
// `cordon audit verify` (a broken chain shows where it breaks, and the records there).
// GET /peerings, GET /audit, GET /audit/verify.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Page } from "./types";
import { api, type ApiError } from "../api";
import { useApi } from "../hooks";
import { Marking, type MarkingValue } from "../components/marking";
import { ErrorBox, Loading } from "../components/status";

type Configured = { marking: MarkingValue } | { unreadable: true };

interface SideView {
  service: string;
  domains: string[];
  policy: { id: string; name?: string };
  labelAware: boolean;
  defaultLabel?: Configured;
  senderClearance?: Configured;
}

interface DirectionView {
  clearance: ({ source: "config" } & Configured) | { source: "store"; domains: string[] };
  defaultLabel?: Configured;
  peers: { kind: "grant" | "deny"; domains: string[] };
  unlabelled: { message: string; presence: string; iq: string };
  malformed: string;
  messageTypes: string[];
  mode: string;
  chatStates: string;
  receipts: string;
  elements: { ns: string; name?: string; action: string }[];
  fileTransfer: Record<string, string>;
  presence: { mode: string; keep: string[] };
  content: { words: number; classifications?: string[] }[];
  iq: { namespaces: string[] | "any" };
}

interface PeeringView {
  name: string;
  local: SideView;
  remote: SideView;
  outbound: DirectionView;
  inbound: DirectionView;
}

interface Counts {
  pass: number;
  refuse: number;
  drop: number;
  reasons: Record<string, number>;
}

interface Peerings {
  peerings: Record<string, { outbound: Counts; inbound: Counts; sendFailures: number }>;
  details: PeeringView[];
}

interface AuditRow {
  offset: number;
  record?: Record<string, unknown>;
  unreadable?: true;
}

interface AuditPage {
  log: string;
  logs: string[];
  records: AuditRow[];
  next: number | null;
  size: number;
  problem?: string;
}

type Verify =
  | { ok: true; records: number; head: string; keyId: string; bytes: number }
  | {
      ok: false;
      records: number;
      line: number;
      seq?: number;
      problem: string;
      offset?: number;
      lineEnd?: number;
      keyId: string;
    };

function Configured({ c, empty = "—" }: { c: Configured | undefined; empty?: string }): JSX.Element {
  if (!c) return <span class="muted">{empty}</span>;
  if ("unreadable" in c) return <span class="error-text">does not read under the loaded policies</span>;
  return <Marking m={c.marking} />;
}

function DirectionTable({ name, d, counts }: { name: string; d: DirectionView; counts?: Counts }) {
  const rows: [string, JSX.Element | string][] = [
    [
      "Clearance",
      d.clearance.source === "config" ? (
        <Configured c={d.clearance} />
      ) : (
        <span>
          the store's peer clearance of {d.clearance.domains.join(", ")}{" "}
          <span class="muted">(People page)</span>
        </span>
      ),
    ],
    ["Default label", <Configured c={d.defaultLabel} empty="the side's" />],
    [`Peers (${d.peers.kind})`, d.peers.domains.join(", ") || "none"],
    [
      "Unlabelled",
      `message ${d.unlabelled.message}, presence ${d.unlabelled.presence}, iq ${d.unlabelled.iq}`,
    ],
    ["Malformed labels", d.malformed],
    ["Message types", d.messageTypes.join(", ")],
    ["Traffic", d.mode],
    ["Chat states / receipts", `${d.chatStates} / ${d.receipts}`],
    [
      "File transfer",
      Object.entries(d.fileTransfer)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ],
    [
      "Presence",
      `${d.presence.mode}${d.presence.mode === "fold" ? ` (keeps ${d.presence.keep.join(", ")})` : ""}`,
    ],
    ["IQ namespaces", d.iq.namespaces === "any" ? "any" : `${d.iq.namespaces.length} allowed`],
    [
      "Word lists",
      d.content.length === 0
        ? "none"
        : d.content
            .map((w) => `${w.words} words${w.classifications ? ` (${w.classifications.join(", ")})` : ""}`)
            .join("; "),
    ],
    [
      "Elements",
      d.elements.length === 0 ? "none" : d.elements.map((e) => `${e.name ?? "*"} ${e.action}`).join(", "),
    ],
  ];
  return (
    <div class="direction">
      <h4>
        {name}
        {counts ? (
          <span class="counts" data-testid={`counts-${name.toLowerCase()}`}>
            {" "}
            — <span class="badge badge-ok">{counts.pass} passed</span>{" "}
            <span class="badge badge-bad">{counts.refuse} refused</span>{" "}
            <span class="badge">{counts.drop} dropped</span>
          </span>
        ) : null}
      </h4>
      <table class="facts-table">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {counts && Object.keys(counts.reasons).length > 0 ? (
        <p class="small muted">
          {Object.entries(counts.reasons)
            .sort((a, b) => b[1] - a[1])
            .map(([k, n]) => `${k}: ${n}`)
            .join(" · ")}
        </p>
      ) : null}
    </div>
  );
}

function PeeringsSection(): JSX.Element {
  const { data, error } = useApi<Peerings>("/peerings", 5000);
  if (!data)
    return error?.code === "CORDON_ADMIN_NOT_RUNNING" ? (
      <p class="muted">No relay runs in this Cordon.</p>
    ) : error ? (
      <ErrorBox error={error} />
    ) : (
      <Loading />
    );
  return (
    <section aria-labelledby="peerings-h">
      <h2 id="peerings-h">Peerings</h2>
      {data.details.map((p) => {
        const c = data.peerings[p.name];
        return (
          <article key={p.name} class="card peering" data-peering={p.name}>
            <h3>{p.name}</h3>
            <p>
              Local {p.local.domains.join(", ")} ({p.local.policy.name ?? p.local.policy.id}) ↔ remote{" "}
              {p.remote.domains.join(", ")} ({p.remote.policy.name ?? p.remote.policy.id})
              {p.remote.senderClearance ? (
                <>
                  ; remote senders stand as <Configured c={p.remote.senderClearance} />
                </>
              ) : null}
              {c && c.sendFailures > 0 ? (
                <span class="badge badge-bad"> {c.sendFailures} send failures</span>
              ) : null}
            </p>
            <div class="directions" style={DIRECTIONS}>
              <DirectionTable name="Outbound" d={p.outbound} {...(c ? { counts: c.outbound } : {})} />
              <DirectionTable name="Inbound" d={p.inbound} {...(c ? { counts: c.inbound } : {})} />
            </div>
          </article>
        );
      })}
    </section>
  );
}

// Layout through style objects (set through the CSSOM, which the strict CSP allows; never a style
// attribute), so this page needs nothing from the shell's stylesheet beyond its classes.
const FORM_ROW = { display: "flex", flexWrap: "wrap", gap: "0.75rem", alignItems: "flex-end" } as const;
const FIELD = { display: "flex", flexDirection: "column", gap: "0.25rem" } as const;
const DIRECTIONS = {
  display: "grid",
  gridTemplateColumns: "repeat(auto-fit, minmax(min(100%, 24rem), 1fr))",
  gap: "1rem",
} as const;

const DECISIONS = ["", "pass", "refuse", "drop", "grant", "deny", "change"];

function text(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

/** A datetime-local value as ms since the epoch (the browser's time zone), or "". */
function toMs(local: string): string {
  if (!local) return "";
  const t = new Date(local).getTime();
  return Number.isNaN(t) ? "" : String(t);
}

function AuditSection(): JSX.Element {
  const [log, setLog] = useState("");
  const [decision, setDecision] = useState("");
  const [reason, setReason] = useState("");
  const [peer, setPeer] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [applied, setApplied] = useState("");
  const [cursor, setCursor] = useState<number | undefined>();
  const [verify, setVerify] = useState<Verify | undefined>();
  const [verifyError, setVerifyError] = useState<ApiError | undefined>();
  const [verifying, setVerifying] = useState(false);
  const query = `${applied}${cursor !== undefined ? `&cursor=${cursor}` : ""}`;
  const { data, error } = useApi<AuditPage>(`/audit?limit=50${query}`);
  const apply = (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (log) q.set("log", log);
    if (decision) q.set("decision", decision);
    if (reason.trim()) q.set("reason", reason.trim());
    if (peer.trim()) q.set("peer", peer.trim());
    if (toMs(since)) q.set("since", toMs(since));
    if (toMs(until)) q.set("until", toMs(until));
    const s = q.toString();
    setApplied(s ? `&${s}` : "");
    setCursor(undefined);
  };
  const runVerify = async () => {
    setVerifying(true);
    setVerifyError(undefined);
    setVerify(undefined);
    try {
      // GET: read-only, so a viewer may verify too (POST /audit/verify is the same check).
      const which = data?.log ?? log;
      setVerify(await api.get<Verify>(`/audit/verify${which ? `?log=${encodeURIComponent(which)}` : ""}`));
    } catch (err) {
      setVerifyError(err as ApiError);
    } finally {
      setVerifying(false);
    }
  };
  const broken = verify && !verify.ok ? verify : undefined;
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <form class="filters" style={FORM_ROW} onSubmit={apply} aria-label="Filter the audit log">
        <label style={FIELD}>
          Log
          <select name="log" value={log || data?.log || ""} onChange={(e) => setLog(e.currentTarget.value)}>
            {(data?.logs ?? []).map((l) => (
              <option key={l} value={l}>
                {l === "relay" ? "relay (boundary)" : "process (MUC, catalog, admin)"}
              </option>
            ))}
          </select>
        </label>
        <label style={FIELD}>
          Decision
          <select name="decision" value={decision} onChange={(e) => setDecision(e.currentTarget.value)}>
            {DECISIONS.map((d) => (
              <option key={d} value={d}>
                {d || "any"}
              </option>
            ))}
          </select>
        </label>
        <label style={FIELD}>
          Reason
          <input
            name="reason"
            maxLength={256}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </label>
        <label style={FIELD}>
          Peer (peering, domain or JID)
          <input name="peer" maxLength={256} value={peer} onInput={(e) => setPeer(e.currentTarget.value)} />
        </label>
        <label style={FIELD}>
          From
          <input
            type="datetime-local"
            name="since"
            value={since}
            onInput={(e) => setSince(e.currentTarget.value)}
          />
        </label>
        <label style={FIELD}>
          Until
          <input
            type="datetime-local"
            name="until"
            value={until}
            onInput={(e) => setUntil(e.currentTarget.value)}
          />
        </label>
        <div>
          <button type="submit" class="primary">
            Apply filter
          </button>
        </div>
      </form>
      <p>
        <button type="button" onClick={() => void runVerify()} disabled={verifying}>
          {verifying ? "Verifying…" : "Verify the chain"}
        </button>
      </p>
      <div role="status" aria-live="polite" data-testid="verify-result">
        {verify?.ok ? (
          <p class="notice">
            Chain verified under key {verify.keyId}: {verify.records} records, head{" "}
            <code>
              {verify.records}:{verify.head.slice(0, 16)}…
            </code>
          </p>
        ) : null}
        {broken ? (
          <div class="error">
            Chain broken at line {broken.line}
            {broken.seq !== undefined ? ` (record ${broken.seq})` : ""}: {broken.problem}; {broken.records}{" "}
            records before it verify.{" "}
            {broken.lineEnd !== undefined ? (
              <button
                type="button"
                onClick={() => {
                  // The records there, unfiltered (the tampered one may no longer match a filter).
                  const which = data?.log;
                  setDecision("");
                  setReason("");
                  setPeer("");
                  setSince("");
                  setUntil("");
                  setApplied(which ? `&log=${encodeURIComponent(which)}` : "");
                  setCursor(broken.lineEnd);
                }}
              >
                Show the records there
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      <ErrorBox error={verifyError} />
      <ErrorBox error={error} />
      {!data ? (
        <Loading />
      ) : (
        <>
          {data.problem ? <p class="error">{data.problem}</p> : null}
          <div class="table-wrap">
            <table class="audit">
              <thead>
                <tr>
                  <th scope="col" class="num">
                    #
                  </th>
                  <th scope="col">Time (UTC)</th>
                  <th scope="col">Decision</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Where</th>
                  <th scope="col">Who / what</th>
                  <th scope="col">Marking</th>
                </tr>
              </thead>
              <tbody>
                {data.records.length === 0 ? (
                  <tr>
                    <td colSpan={7} class="muted">
                      No records{applied ? " match the filter" : ""}.
                    </td>
                  </tr>
                ) : null}
                {data.records.map((row) => {
                  const r = row.record ?? {};
                  const isBreak = broken?.offset === row.offset;
                  const decisionText = text(r.decision);
                  return (
                    <tr
                      key={row.offset}
                      data-seq={text(r.seq)}
                      data-decision={decisionText}
                      class={isBreak ? "broken-row" : undefined}
                    >
                      <td class="num">{row.unreadable ? "?" : text(r.seq)}</td>
                      <td>
                        {text(r.ts)
                          .replace("T", " ")
                          .replace(/\.\d+Z$/u, "")}
                      </td>
                      <td>
                        {row.unreadable ? (
                          <span class="badge badge-bad">unreadable line</span>
                        ) : (
                          <span
                            class={`badge ${["pass", "grant", "change"].includes(decisionText) ? "badge-ok" : "badge-bad"}`}
                          >
                            {decisionText}
                          </span>
                        )}
                        {isBreak ? <span class="badge badge-bad"> chain breaks here</span> : null}
                      </td>
                      <td>
                        <code>{text(r.reason)}</code>
                        {r.detail !== undefined ? <div class="small muted">{text(r.detail)}</div> : null}
                      </td>
                      <td>
                        {r.peering !== undefined
                          ? `${text(r.peering)} ${text(r.direction)}`
                          : `${text(r.component)} ${text(r.action)}`}
                      </td>
                      <td>
                        {r.fromDomain !== undefined || r.toDomain !== undefined
                          ? `${text(r.fromDomain)} → ${text(r.toDomain)} (${text(r.stanza)}${r.type !== undefined ? ` ${text(r.type)}` : ""})`
                          : `${text(r.actor)}${r.target !== undefined ? ` → ${text(r.target)}` : ""}`}
                      </td>
                      <td>{r.marking !== undefined ? <code>{text(r.marking)}</code> : null}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p class="pager">
            <button type="button" disabled={cursor === undefined} onClick={() => setCursor(undefined)}>
              Newest
            </button>{" "}
            <button
              type="button"
              disabled={data.next === null}
              onClick={() => data.next !== null && setCursor(data.next)}
            >
              Older
            </button>
          </p>
        </>
      )}
    </section>
  );
}

function View(): JSX.Element {
  return (
    <div class="boundary">
      <PeeringsSection />
      <AuditSection />
    </div>
  );
}

export const page: Page = { path: "/boundary", title: "Boundary", View };
