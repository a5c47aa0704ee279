// Picking a clearance from the policy (no XML typing): the governing policy's classifications and
// categories as checkboxes, grouped by tag set, with the classifications in their marking colours.
// The value is what PUT /clearances/{jid} takes as JSON: {classifications, categories} by name
// (`ref`: TagSet/NAME where two tag sets share a name).
import type { JSX } from "preact";
import { Marking, type MarkingValue } from "./marking";

export interface PolicyView {
  id: string;
  name: string;
  governing: boolean;
  classifications: {
    name: string;
    lacv: number;
    hierarchy: number;
    obsolete?: boolean;
    marking: MarkingValue;
  }[];
  tagSets: {
    name: string;
    id: string;
    tags: {
      name: string;
      tagType: string;
      categories: { name: string; lacv: number; ref: string; obsolete?: boolean }[];
    }[];
  }[];
}

export interface PoliciesView {
  governing: string;
  generation: number;
  policies: PolicyView[];
}

export interface ClearanceChoice {
  classifications: string[];
  categories: string[];
}

export const EMPTY_CHOICE: ClearanceChoice = { classifications: [], categories: [] };

function toggle(list: string[], item: string, on: boolean): string[] {
  return on ? (list.includes(item) ? list : [...list, item]) : list.filter((x) => x !== item);
}

export function ClearancePicker({
  policy,
  value,
  onChange,
  idPrefix,
  single = false,
}: {
  policy: PolicyView;
  value: ClearanceChoice;
  onChange: (v: ClearanceChoice) => void;
  idPrefix: string;
  /** One classification (a label) instead of a set (a clearance). */
  single?: boolean;
}): JSX.Element {
  return (
    <div class="picker" data-testid={`${idPrefix}-picker`}>
      <fieldset>
        <legend>{single ? "Classification" : "Classifications held"}</legend>
        {!single ? (
          <p class="small muted">
            Up to:{" "}
            {policy.classifications.map((c) => (
              <button
                type="button"
                class="link-button"
                key={c.name}
                onClick={() =>
                  onChange({
                    ...value,
                    classifications: policy.classifications
                      .filter((o) => o.hierarchy <= c.hierarchy)
                      .map((o) => o.name),
                  })
                }
              >
                {c.name}
              </button>
            ))}
          </p>
        ) : null}
        <div class="choices">
          {policy.classifications.map((c, i) => {
            const id = `${idPrefix}-class-${i}`;
            return (
              <span class="choice" key={c.name}>
                <input
                  id={id}
                  type={single ? "radio" : "checkbox"}
                  name={`${idPrefix}-class`}
                  value={c.name}
                  checked={value.classifications.includes(c.name)}
                  onChange={(e) =>
                    onChange({
                      ...value,
                      classifications: single
                        ? [c.name]
                        : toggle(value.classifications, c.name, (e.target as HTMLInputElement).checked),
                    })
                  }
                />
                <label for={id}>
                  <Marking m={c.marking} />
                </label>
              </span>
            );
          })}
        </div>
      </fieldset>
      {policy.tagSets.map((ts, t) => (
        <fieldset key={ts.id}>
          <legend>
            {ts.name} <span class="muted small">({ts.tags.map((tag) => tag.tagType).join(", ")})</span>
          </legend>
          <div class="choices">
            {ts.tags.flatMap((tag) =>
              tag.categories.map((c, i) => {
                const id = `${idPrefix}-cat-${t}-${tag.name.replace(/\W/gu, "")}-${i}`;
                return (
                  <span class="choice" key={`${tag.name}/${c.name}`}>
                    <input
                      id={id}
                      type="checkbox"
                      value={c.ref}
                      checked={value.categories.includes(c.ref)}
                      onChange={(e) =>
                        onChange({
                          ...value,
                          categories: toggle(value.categories, c.ref, (e.target as HTMLInputElement).checked),
                        })
                      }
                    />
                    <label for={id}>{c.name}</label>
                  </span>
                );
              }),
            )}
          </div>
        </fieldset>
      ))}
    </div>
  );
}

/** The governing policy of a GET /policies answer. */
export function governingOf(p: PoliciesView | undefined): PolicyView | undefined {
  return p?.policies.find((x) => x.governing) ?? p?.policies[0];
}
