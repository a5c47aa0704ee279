// Catalogs: the catalog a given user would get toward a given target (the catalog service's own
// answer, with each label's marking in its colours), and editing of stored catalogs (a domain's,
// a room's or a user's personal catalog; labels by name, checked by Cordon before they are stored).
// API: GET /catalogs?requester=&target=, GET|PUT|DELETE /catalogs/stored/{target}?kind=.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Page } from "./types";
import { api, toError, seg, ApiError } from "../api";
import { useAsk } from "../hooks";
import { useCanChange } from "../session";
import { ErrorBox } from "../components/status";
import { Marking, type MarkingValue } from "../components/marking";

interface CatalogAnswer {
  requester: string;
  to: string;
  name?: string;
  desc?: string;
  restrict: boolean;
  items: { selector: string; default: boolean; marking: MarkingValue | null }[];
}

interface StoredAnswer {
  record: unknown;
  items: { selector?: string; default: boolean; marking: MarkingValue | null }[];
  problem?: string;
}

const EXAMPLE = JSON.stringify(
  {
    name: "Labels",
    items: [
      { selector: "UNCLASSIFIED", default: true, label: { classification: "UNCLASSIFIED" } },
      { selector: "SECRET", label: { classification: "SECRET" } },
    ],
  },
  null,
  2,
);

function Items({ items }: { items: CatalogAnswer["items"] }): JSX.Element {
  if (items.length === 0) return <p class="muted">No label: nothing is offered.</p>;
  return (
    <ul class="markings" data-testid="catalog-items">
      {items.map((i, n) => (
        <li key={n}>
          <Marking m={i.marking} empty="(no label)" />{" "}
          <span class="small muted">
            {i.selector}
            {i.default ? " — default" : ""}
          </span>
        </li>
      ))}
    </ul>
  );
}

function WouldGet(): JSX.Element {
  const [requester, setRequester] = useState("");
  const [target, setTarget] = useState("");
  const { answer, problem, ask: asked } = useAsk<CatalogAnswer>();
  const ask = () =>
    asked(() =>
      api.get<CatalogAnswer>(
        `/catalogs?requester=${encodeURIComponent(requester.trim())}&target=${encodeURIComponent(target.trim())}`,
      ),
    );
  return (
    <section aria-labelledby="would-h">
      <h2 id="would-h">What a user would get</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void ask();
        }}
      >
        <label for="cat-requester">User</label>
        <input
          id="cat-requester"
          value={requester}
          placeholder="name@domain"
          onInput={(e) => setRequester((e.target as HTMLInputElement).value)}
        />
        <label for="cat-target">Toward</label>
        <input
          id="cat-target"
          value={target}
          placeholder="a domain, room or user"
          onInput={(e) => setTarget((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary">
          Show catalog
        </button>
      </form>
      <ErrorBox error={problem} />
      {answer ? (
        <div class="panel">
          <p>
            <strong>{answer.name ?? "Catalog"}</strong> for {answer.requester} toward {answer.to}
            {answer.restrict ? " (restricted to these labels)" : ""}
          </p>
          <Items items={answer.items} />
        </div>
      ) : null}
    </section>
  );
}

function Stored(): JSX.Element {
  const canChange = useCanChange();
  const [target, setTarget] = useState("");
  const [kind, setKind] = useState("domain");
  const [text, setText] = useState("");
  const [items, setItems] = useState<StoredAnswer["items"] | undefined>(undefined);
  const [problem, setProblem] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState("");
  const path = () => `/catalogs/stored/${seg(target.trim())}?kind=${kind}`;
  const act = async (what: "load" | "save" | "delete") => {
    setProblem(undefined);
    setNotice("");
    try {
      if (what === "load") {
        const r = await api.get<StoredAnswer>(path());
        setText(JSON.stringify(r.record, null, 2));
        setItems(r.items);
        if (r.problem) setNotice(`The catalog service cannot use this record: ${r.problem}`);
      } else if (what === "save") {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw new ApiError(400, "CORDON_ADMIN_BAD_REQUEST", "the catalog is not JSON");
        }
        await api.send("PUT", path(), value);
        const r = await api.get<StoredAnswer>(path());
        setItems(r.items);
        setNotice("Saved.");
      } else {
        await api.send("DELETE", path());
        setItems(undefined);
        setText("");
        setNotice("Removed.");
      }
    } catch (e) {
      setProblem(toError(e));
      if (what === "load" && e instanceof ApiError && e.status === 404) {
        setText(EXAMPLE);
        setItems(undefined);
      }
    }
  };
  return (
    <section aria-labelledby="stored-h">
      <h2 id="stored-h">Stored catalogs</h2>
      <p class="small muted">
        A stored catalog takes precedence over the configured one. Labels by name in the governing policy (
        <code>{"{ classification, categories }"}</code>); an item without a label offers "no label".
      </p>
      <p class="row">
        <label for="stored-kind">Kind</label>
        <select
          id="stored-kind"
          value={kind}
          onChange={(e) => setKind((e.target as HTMLSelectElement).value)}
        >
          <option value="domain">domain</option>
          <option value="room">room</option>
          <option value="personal">personal (a user)</option>
        </select>
        <label for="stored-target">Target</label>
        <input
          id="stored-target"
          value={target}
          onInput={(e) => setTarget((e.target as HTMLInputElement).value)}
        />
        <button disabled={target.trim() === ""} onClick={() => void act("load")}>
          Load
        </button>
      </p>
      <label for="stored-text">Catalog (JSON)</label>
      <textarea
        id="stored-text"
        rows={10}
        class="wide mono"
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      {canChange ? (
        <p class="row">
          <button
            class="primary"
            disabled={target.trim() === "" || text.trim() === ""}
            onClick={() => void act("save")}
          >
            Save
          </button>
          <button class="danger" disabled={target.trim() === ""} onClick={() => void act("delete")}>
            Delete
          </button>
        </p>
      ) : null}
      <ErrorBox error={problem} />
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {items ? (
        <Items
          items={items.map((i) => ({ selector: i.selector ?? "", default: i.default, marking: i.marking }))}
        />
      ) : null}
    </section>
  );
}

function View(): JSX.Element {
  return (
    <div class="catalogs">
      <WouldGet />
      <Stored />
    </div>
  );
}

export const page: Page = { path: "/catalogs", title: "Catalogs", View };
