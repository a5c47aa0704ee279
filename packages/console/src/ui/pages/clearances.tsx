// Clearances: search and list users (the store's page, and the directory's matches), a user's
// clearance as its marking (policy colours), where it comes from and when it was read; set, change
// or remove it by picking classifications and categories from the policy; bulk import (CSV or LDIF)
// with a preview; peer-domain and service clearances the same way.
// API: GET /clearances?q=&cursor=, GET|PUT|DELETE /clearances/{jid}, POST /clearances/import,
// GET /peers, PUT|DELETE /peers/{domain}, GET /services, PUT|DELETE /services/{domain}, GET /policies.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Page, PageProps } from "./types";
import { api, toError, seg, type ApiError } from "../api";
import { useApi } from "../hooks";
import { href, navigate } from "../router";
import { useCanChange } from "../session";
import { ErrorBox, Loading } from "../components/status";
import { Marking, type MarkingValue } from "../components/marking";
import {
  ClearancePicker,
  EMPTY_CHOICE,
  governingOf,
  type ClearanceChoice,
  type PoliciesView,
  type PolicyView,
} from "../components/clearance-picker";

interface Detail {
  policy: string;
  policyName: string;
  classifications: string[];
  categories: { tagSet: string; names: string[] }[];
}

interface Entry {
  jid: string;
  policy?: string;
  /** "none": no policy-independent clearance, only per-policy entries (`perPolicy`). */
  source: "store" | "directory" | "none";
  marking?: MarkingValue;
  clearance?: Detail;
  unreadable?: true;
  readAt?: string;
  /** The store's entries for one policy: they decide for that policy's labels before this one. */
  perPolicy?: { policy: string; marking: MarkingValue }[];
}

/**
 * A user's console address: the JID as one encoded path segment (a JID may hold `%`, `?` or `#`:
 * unencoded, `bob%41@x` opened bobA@x — another user — and `x%zz@x` broke the page), and the
 * policy of a per-policy entry.
 */
const userPath = (jid: string) => `/clearances/${seg(jid)}`;
const slotQuery = (policy: string | undefined) => (policy ? { policy } : undefined);

interface ListAnswer {
  entries: Entry[];
  next?: string;
  directory?: { entries: Entry[]; truncated: boolean; error?: string };
}

interface ImportAnswer {
  format: "csv" | "ldif";
  dryRun: boolean;
  rows: { line: number; jid: string; policy?: string; marking: MarkingValue }[];
  problems: { line: number; jid?: string; error: string }[];
  written?: number;
}

/** A clearance's names as picker choices (categories as the policy's refs). */
function choiceOf(detail: Detail | undefined, policy: PolicyView): ClearanceChoice {
  if (!detail) return EMPTY_CHOICE;
  const refs: string[] = [];
  for (const group of detail.categories) {
    const ts = policy.tagSets.find((t) => t.name === group.tagSet);
    for (const name of group.names) {
      const c = ts?.tags.flatMap((t) => t.categories).find((x) => x.name === name);
      if (c) refs.push(c.ref);
    }
  }
  return { classifications: [...detail.classifications], categories: refs };
}

function UserList({ onPick }: { onPick: (jid: string, policy: string | undefined) => void }): JSX.Element {
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const path = `/clearances?q=${encodeURIComponent(query)}&limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const { data, error, loading } = useApi<ListAnswer>(path);
  const rows = (list: Entry[]) =>
    list.map((e) => (
      <tr key={`${e.source}:${e.jid}:${e.policy ?? ""}`}>
        <td>
          <a
            href={href(userPath(e.jid), slotQuery(e.policy))}
            onClick={(ev) => {
              ev.preventDefault();
              onPick(e.jid, e.policy);
            }}
          >
            {e.jid}
          </a>
        </td>
        <td>{e.marking ? <Marking m={e.marking} /> : null}</td>
        <td>{e.source}</td>
        <td class="small muted">{e.policy ?? "any policy"}</td>
      </tr>
    ));
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setCursor(undefined);
          setQuery(q);
        }}
      >
        <label for="user-search">Search</label>
        <input
          id="user-search"
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
          placeholder="part of a JID"
        />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data ? (
        <div class="table-wrap">
          <table data-testid="clearance-list">
            <thead>
              <tr>
                <th>User</th>
                <th>Clearance</th>
                <th>Source</th>
                <th>Policy slot</th>
              </tr>
            </thead>
            <tbody>
              {rows(data.entries)}
              {data.directory ? rows(data.directory.entries) : null}
            </tbody>
          </table>
          {data.entries.length === 0 && (data.directory?.entries.length ?? 0) === 0 ? (
            <p class="muted">No user found.</p>
          ) : null}
          {data.directory?.truncated ? (
            <p class="muted small">The directory holds more matches: narrow the search.</p>
          ) : null}
          {data.directory?.error ? <p class="error">{data.directory.error}</p> : null}
          <p class="row">
            {cursor ? <button onClick={() => setCursor(undefined)}>First page</button> : null}
            {data.next ? <button onClick={() => setCursor(data.next)}>Next page</button> : null}
          </p>
        </div>
      ) : null}
    </section>
  );
}

function UserDetail({
  jid,
  slot,
  policy,
  onDone,
}: {
  jid: string;
  /** A per-policy entry's policy (`?policy=`), else the policy-independent clearance. */
  slot: string | undefined;
  policy: PolicyView;
  onDone: () => void;
}): JSX.Element {
  const canChange = useCanChange();
  const path = `${userPath(jid)}${slot ? `?policy=${encodeURIComponent(slot)}` : ""}`;
  const { data: answer, error, reload } = useApi<Entry>(path);
  // Only per-policy entries: no clearance of its own to show or change here.
  const data = answer?.source === "none" ? undefined : answer;
  const missing = error?.status === 404;
  const [choice, setChoice] = useState<ClearanceChoice | undefined>(undefined);
  const [problem, setProblem] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState("");
  const current = choice ?? choiceOf(data?.clearance, policy);
  const save = async () => {
    setProblem(undefined);
    try {
      const r = await api.send<Entry>("PUT", path, {
        classifications: current.classifications,
        categories: current.categories,
      });
      setNotice(`Saved: ${r.marking?.text ?? ""}`);
      setChoice(undefined);
      reload();
      onDone();
    } catch (e) {
      setProblem(toError(e));
    }
  };
  const remove = async () => {
    setProblem(undefined);
    try {
      await api.send("DELETE", path);
      setNotice("Removed from the store.");
      setChoice(undefined);
      reload();
      onDone();
    } catch (e) {
      setProblem(toError(e));
    }
  };
  return (
    <section aria-labelledby="detail-h" class="panel" data-testid="clearance-detail">
      <h2 id="detail-h">{jid}</h2>
      <p class="small muted" data-testid="detail-slot">
        {slot
          ? `For labels of policy ${slot}: its own entry, else the policy-independent clearance`
          : "Policy-independent clearance"}
      </p>
      {data ? (
        <dl class="facts">
          <dt>Clearance</dt>
          <dd data-testid="detail-marking">{data.marking ? <Marking m={data.marking} /> : null}</dd>
          <dt>Comes from</dt>
          <dd data-testid="detail-source">
            {data.source === "store" ? "the store (set by an administrator)" : "the directory (LDAP)"}
          </dd>
          <dt>Read at</dt>
          <dd>{data.readAt ? new Date(data.readAt).toLocaleString() : "—"}</dd>
        </dl>
      ) : missing || answer?.source === "none" ? (
        <p class="muted" data-testid="detail-none">
          {slot
            ? "No entry for this policy."
            : (answer?.perPolicy?.length ?? 0) > 0
              ? "No policy-independent clearance."
              : "No clearance: this user is refused everything labelled."}
        </p>
      ) : (
        <ErrorBox error={error} />
      )}
      {(answer?.perPolicy?.length ?? 0) > 0 ? (
        <div class="notice" role="note" data-testid="detail-per-policy">
          Entries for one policy decide for that policy's labels before this one:
          <ul>
            {answer?.perPolicy?.map((e) => (
              <li key={e.policy}>
                <a href={href(userPath(jid), slotQuery(e.policy))}>{e.policy}</a> <Marking m={e.marking} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBox error={problem} />
      {canChange ? (
        <>
          <h3>{data ? "Change" : "Set"} the clearance</h3>
          <ClearancePicker policy={policy} value={current} onChange={setChoice} idPrefix="edit" />
          <p class="row">
            <button
              class="primary"
              onClick={() => void save()}
              disabled={current.classifications.length === 0}
              data-testid="save-clearance"
            >
              Save clearance
            </button>
            {data?.source === "store" ? (
              <button class="danger" onClick={() => void remove()} data-testid="remove-clearance">
                Remove from the store
              </button>
            ) : null}
          </p>
        </>
      ) : null}
    </section>
  );
}

function ImportPanel({ onDone }: { onDone: () => void }): JSX.Element {
  const [text, setText] = useState("");
  const [preview, setPreview] = useState<ImportAnswer | undefined>(undefined);
  const [problem, setProblem] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState("");
  const run = async (dryRun: boolean) => {
    setProblem(undefined);
    setDone("");
    try {
      const r = await api.send<ImportAnswer>("POST", `/clearances/import${dryRun ? "?dryRun=1" : ""}`, {
        text,
      });
      setPreview(r);
      if (!dryRun) {
        setDone(`${r.written ?? 0} clearance(s) written.`);
        onDone();
      }
    } catch (e) {
      setProblem(toError(e));
    }
  };
  return (
    <section aria-labelledby="import-h">
      <h2 id="import-h">Import (CSV or LDIF)</h2>
      <p class="small muted">
        CSV: <code>jid,policy,classifications,category,…</code> — policy empty for the governing one,
        classifications separated by <code>|</code>, one category per cell (<code>TagSet/NAME</code> when two
        tag sets share a name). LDIF: entries with <code>jid</code> and <code>clearance;binary</code> or{" "}
        <code>cordonXmlClearance</code>.
      </p>
      <p>
        <label for="import-file">File</label>{" "}
        <input
          id="import-file"
          type="file"
          accept=".csv,.ldif,.txt,text/csv"
          onChange={(e) => {
            const file = (e.target as HTMLInputElement).files?.[0];
            if (file)
              void file.text().then((t) => {
                setText(t);
                setPreview(undefined);
              });
          }}
        />
      </p>
      <label for="import-text">Contents</label>
      <textarea
        id="import-text"
        rows={6}
        class="wide"
        value={text}
        onInput={(e) => {
          setText((e.target as HTMLTextAreaElement).value);
          setPreview(undefined);
        }}
      />
      <p class="row">
        <button onClick={() => void run(true)} disabled={text.trim() === ""} data-testid="import-preview">
          Preview
        </button>
        <button
          class="primary"
          onClick={() => void run(false)}
          disabled={!preview || !preview.dryRun || preview.problems.length > 0 || preview.rows.length === 0}
          data-testid="import-apply"
        >
          Import {preview?.dryRun ? `${preview.rows.length} user(s)` : ""}
        </button>
      </p>
      <ErrorBox error={problem} />
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
      {preview ? (
        <div class="table-wrap">
          <table data-testid="import-rows">
            <thead>
              <tr>
                <th>Line</th>
                <th>User</th>
                <th>Resulting clearance, or why not</th>
              </tr>
            </thead>
            <tbody>
              {[
                ...preview.rows.map((r) => ({
                  line: r.line,
                  jid: r.jid,
                  cell: <Marking m={r.marking} />,
                  bad: false,
                })),
                ...preview.problems.map((p) => ({
                  line: p.line,
                  jid: p.jid ?? "",
                  cell: <span>{p.error}</span>,
                  bad: true,
                })),
              ]
                .sort((a, b) => a.line - b.line)
                .map((r) => (
                  <tr key={`${r.line}`} class={r.bad ? "bad-row" : ""}>
                    <td class="num">{r.line}</td>
                    <td>{r.jid}</td>
                    <td>{r.cell}</td>
                  </tr>
                ))}
            </tbody>
          </table>
          {preview.problems.length > 0 ? (
            <p class="error">
              {preview.problems.length} row(s) do not read: nothing will be written until they are fixed.
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

interface DomainEntry {
  domain: string;
  direction?: string;
  marking: MarkingValue;
}

function DomainClearances({ kind, policy }: { kind: "peers" | "services"; policy: PolicyView }): JSX.Element {
  const canChange = useCanChange();
  const { data, error, reload } = useApi<{ peers?: DomainEntry[]; services?: DomainEntry[] }>(`/${kind}`);
  const [domain, setDomain] = useState("");
  const [direction, setDirection] = useState("both");
  const [choice, setChoice] = useState<ClearanceChoice>(EMPTY_CHOICE);
  const [problem, setProblem] = useState<ApiError | undefined>(undefined);
  const list = (kind === "peers" ? data?.peers : data?.services) ?? [];
  const q = kind === "peers" ? `?direction=${direction}` : "";
  const act = async (method: "PUT" | "DELETE", d: string, query: string) => {
    setProblem(undefined);
    try {
      await api.send(method, `/${kind}/${seg(d)}${query}`, method === "PUT" ? choice : undefined);
      reload();
    } catch (e) {
      setProblem(toError(e));
    }
  };
  const title = kind === "peers" ? "Peer domains" : "Services";
  return (
    <section aria-labelledby={`${kind}-h`}>
      <h2 id={`${kind}-h`}>{title}</h2>
      <p class="small muted">
        {kind === "peers"
          ? "What a peer domain may send us (inbound) and what we may send it (outbound), in the store (the relay's configured peerings answer first)."
          : "A service's own clearance (e.g. the MUC domain): it bounds every room and catalog of it."}
      </p>
      <ErrorBox error={error ?? problem} />
      <div class="table-wrap">
        <table data-testid={`${kind}-list`}>
          <thead>
            <tr>
              <th>Domain</th>
              {kind === "peers" ? <th>Direction</th> : null}
              <th>Clearance</th>
              {canChange ? <th>Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {list.map((e) => (
              <tr key={`${e.domain}:${e.direction ?? ""}`}>
                <td>{e.domain}</td>
                {kind === "peers" ? <td>{e.direction}</td> : null}
                <td>
                  <Marking m={e.marking} />
                </td>
                {canChange ? (
                  <td>
                    <button
                      class="danger"
                      onClick={() =>
                        void act("DELETE", e.domain, e.direction ? `?direction=${e.direction}` : "")
                      }
                    >
                      Remove
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {list.length === 0 ? <p class="muted">None in the store.</p> : null}
      </div>
      {canChange ? (
        <details>
          <summary>Set a {kind === "peers" ? "peer-domain" : "service"} clearance</summary>
          <p class="row">
            <label for={`${kind}-domain`}>Domain</label>
            <input
              id={`${kind}-domain`}
              value={domain}
              onInput={(e) => setDomain((e.target as HTMLInputElement).value)}
            />
            {kind === "peers" ? (
              <>
                <label for="peer-direction">Direction</label>
                <select
                  id="peer-direction"
                  value={direction}
                  onChange={(e) => setDirection((e.target as HTMLSelectElement).value)}
                >
                  <option value="both">both</option>
                  <option value="inbound">inbound</option>
                  <option value="outbound">outbound</option>
                </select>
              </>
            ) : null}
          </p>
          <ClearancePicker policy={policy} value={choice} onChange={setChoice} idPrefix={kind} />
          <button
            class="primary"
            disabled={domain.trim() === "" || choice.classifications.length === 0}
            onClick={() => void act("PUT", domain.trim(), q)}
          >
            Save
          </button>
        </details>
      ) : null}
    </section>
  );
}

/** A path segment decoded; a malformed one opens nobody (it never throws out of the page). */
function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function View({ rest, query }: PageProps): JSX.Element {
  const policies = useApi<PoliciesView>("/policies");
  const policy = governingOf(policies.data);
  const selected = rest.startsWith("/") && rest.length > 1 ? decoded(rest.slice(1)) : undefined;
  const slot = query.get("policy") || undefined;
  const [newJid, setNewJid] = useState("");
  const [version, setVersion] = useState(0);
  const canChange = useCanChange();
  if (!policy) return policies.error ? <ErrorBox error={policies.error} /> : <Loading />;
  return (
    <div class="clearances">
      <div class="split">
        <div>
          <UserList key={version} onPick={(jid, p) => navigate(userPath(jid), slotQuery(p))} />
          {canChange ? (
            <form
              class="row"
              onSubmit={(e) => {
                e.preventDefault();
                if (newJid.trim() !== "") navigate(userPath(newJid.trim()));
              }}
            >
              <label for="new-jid">Another user</label>
              <input
                id="new-jid"
                value={newJid}
                placeholder="name@domain"
                onInput={(e) => setNewJid((e.target as HTMLInputElement).value)}
              />
              <button type="submit">Open</button>
            </form>
          ) : null}
        </div>
        {selected ? (
          <UserDetail
            key={`${selected} ${slot ?? ""}`}
            jid={selected}
            slot={slot}
            policy={policy}
            onDone={() => setVersion((v) => v + 1)}
          />
        ) : null}
      </div>
      {canChange ? <ImportPanel onDone={() => setVersion((v) => v + 1)} /> : null}
      <DomainClearances kind="peers" policy={policy} />
      <DomainClearances kind="services" policy={policy} />
    </div>
  );
}

export const page: Page = { path: "/clearances", title: "Clearances", View };
