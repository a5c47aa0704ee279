// Policies: the loaded policies with their classifications, categories and markings as they will
// appear (policy colours); upload a new SPIF (validated by Cordon before it replaces anything: a
// refusal says why and leaves the old one in force); reload; and a label tester (pick or paste a
// label, pick a clearance or a user: grant or deny, and why — decided by Cordon's own ACDF).
// API: GET /policies, POST /policies (application/xml), POST /policies/reload, POST /policies/test.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Page } from "./types";
import { api, toError, type ApiError } from "../api";
import { useApi, useAsk } from "../hooks";
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

function PolicyCard({ policy }: { policy: PolicyView }): JSX.Element {
  return (
    <article class="panel" data-testid="policy" aria-label={policy.name}>
      <h2>
        {policy.name} {policy.governing ? <span class="badge badge-ok">governing</span> : null}
      </h2>
      <p class="small muted">
        <code>{policy.id}</code>
      </p>
      <h3>Classifications</h3>
      <ul class="markings" data-testid="classifications">
        {policy.classifications.map((c) => (
          <li key={c.name}>
            <Marking m={c.marking} />{" "}
            <span class="small muted">
              lacv {c.lacv}
              {c.obsolete ? ", obsolete" : ""}
            </span>
          </li>
        ))}
      </ul>
      <h3>Categories</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Tag set</th>
              <th>Tag</th>
              <th>Type</th>
              <th>Categories</th>
            </tr>
          </thead>
          <tbody>
            {policy.tagSets.flatMap((ts) =>
              ts.tags.map((t) => (
                <tr key={`${ts.id}/${t.name}`}>
                  <td>{ts.name}</td>
                  <td>{t.name}</td>
                  <td>{t.tagType}</td>
                  <td>{t.categories.map((c) => c.name).join(", ")}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </article>
  );
}

function Upload({ onDone }: { onDone: () => void }): JSX.Element {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState("");
  const send = async (method: "upload" | "reload") => {
    setProblem(undefined);
    setNotice("");
    try {
      const r =
        method === "upload"
          ? await api.send<{ generation: number }>("POST", "/policies", text, "application/xml")
          : await api.send<{ generation: number }>("POST", "/policies/reload");
      setNotice(
        `${method === "upload" ? "Uploaded and in force" : "Reloaded"} (generation ${r.generation}).`,
      );
      onDone();
    } catch (e) {
      setProblem(toError(e));
    }
  };
  return (
    <section aria-labelledby="upload-h">
      <h2 id="upload-h">Upload a SPIF</h2>
      <p class="small muted">
        The document replaces the configured file that holds the policy with its id, once it loads and every
        component re-reads its labels under it; otherwise it is refused with the reason and nothing changes.
      </p>
      <p>
        <label for="spif-file">File</label>{" "}
        <input
          id="spif-file"
          type="file"
          accept=".xml,application/xml,text/xml"
          onChange={(e) => {
            const file = (e.target as HTMLInputElement).files?.[0];
            if (file) void file.text().then(setText);
          }}
        />
      </p>
      <label for="spif-text">SPIF (XML)</label>
      <textarea
        id="spif-text"
        rows={6}
        class="wide mono"
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <p class="row">
        <button
          class="primary"
          disabled={text.trim() === ""}
          onClick={() => void send("upload")}
          data-testid="spif-upload"
        >
          Upload and apply
        </button>
        <button onClick={() => void send("reload")} data-testid="policy-reload">
          Reload the policy files
        </button>
      </p>
      <div data-testid="upload-result">
        <ErrorBox error={problem} />
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
      </div>
    </section>
  );
}

interface TestAnswer {
  decision: "grant" | "deny";
  reason: string;
  why: string;
  label?: { marking: MarkingValue };
  clearance: { marking: MarkingValue };
}

function Tester({ policy }: { policy: PolicyView }): JSX.Element {
  const [labelMode, setLabelMode] = useState<"pick" | "paste">("pick");
  const [label, setLabel] = useState<ClearanceChoice>(EMPTY_CHOICE);
  const [pasted, setPasted] = useState("");
  const [clearanceMode, setClearanceMode] = useState<"pick" | "user">("pick");
  const [clearance, setClearance] = useState<ClearanceChoice>(EMPTY_CHOICE);
  const [user, setUser] = useState("");
  const { answer, problem, ask } = useAsk<TestAnswer>();
  const run = () =>
    ask(() =>
      api.send<TestAnswer>("POST", "/policies/test", {
        label:
          labelMode === "paste"
            ? pasted
            : { classification: label.classifications[0] ?? "", categories: label.categories },
        clearance: clearanceMode === "user" ? { jid: user.trim() } : clearance,
      }),
    );
  const radio = (name: string, value: string, current: string, set: (v: string) => void, text: string) => (
    <span class="choice">
      <input
        id={`${name}-${value}`}
        type="radio"
        name={name}
        checked={current === value}
        onChange={() => set(value)}
      />
      <label for={`${name}-${value}`}>{text}</label>
    </span>
  );
  return (
    <section aria-labelledby="tester-h">
      <h2 id="tester-h">Label tester</h2>
      <div class="split">
        <div>
          <h3>Label</h3>
          <p>
            {radio("label-mode", "pick", labelMode, (v) => setLabelMode(v as "pick"), "Pick")}
            {radio(
              "label-mode",
              "paste",
              labelMode,
              (v) => setLabelMode(v as "paste"),
              "Paste (XML or base64)",
            )}
          </p>
          {labelMode === "pick" ? (
            <ClearancePicker policy={policy} value={label} onChange={setLabel} idPrefix="test-label" single />
          ) : (
            <>
              <label for="label-paste">Label</label>
              <textarea
                id="label-paste"
                rows={5}
                class="wide mono"
                value={pasted}
                onInput={(e) => setPasted((e.target as HTMLTextAreaElement).value)}
              />
            </>
          )}
        </div>
        <div>
          <h3>Clearance</h3>
          <p>
            {radio("clearance-mode", "pick", clearanceMode, (v) => setClearanceMode(v as "pick"), "Pick")}
            {radio("clearance-mode", "user", clearanceMode, (v) => setClearanceMode(v as "user"), "A user's")}
          </p>
          {clearanceMode === "pick" ? (
            <ClearancePicker
              policy={policy}
              value={clearance}
              onChange={setClearance}
              idPrefix="test-clearance"
            />
          ) : (
            <p class="row">
              <label for="test-user">User</label>
              <input
                id="test-user"
                value={user}
                placeholder="name@domain"
                onInput={(e) => setUser((e.target as HTMLInputElement).value)}
              />
            </p>
          )}
        </div>
      </div>
      <button class="primary" onClick={() => void run()} data-testid="test-run">
        Test
      </button>
      <ErrorBox error={problem} />
      {answer ? (
        <div class={`verdict verdict-${answer.decision}`} role="status" data-testid="test-verdict">
          <p class="big">{answer.decision === "grant" ? "Granted" : "Denied"}</p>
          <p>
            {answer.label ? <Marking m={answer.label.marking} /> : null} against{" "}
            <Marking m={answer.clearance.marking} />
          </p>
          <p>
            {answer.why} <code>{answer.reason}</code>
          </p>
        </div>
      ) : null}
    </section>
  );
}

function View(): JSX.Element {
  const { data, error, loading, reload } = useApi<PoliciesView>("/policies");
  const canChange = useCanChange();
  const governing = governingOf(data);
  if (!data) return error ? <ErrorBox error={error} /> : <Loading what={loading ? "Loading" : "Waiting"} />;
  return (
    <div class="policies">
      <p class="muted small">Policy generation {data.generation}.</p>
      {data.policies.map((p) => (
        <PolicyCard key={p.id} policy={p} />
      ))}
      {canChange ? <Upload onDone={reload} /> : null}
      {governing ? <Tester policy={governing} /> : null}
    </div>
  );
}

export const page: Page = { path: "/policies", title: "Policies", View };
