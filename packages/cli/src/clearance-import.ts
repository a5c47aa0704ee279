// Bulk import of user clearances (issue 18): one file, one process, one store connection — the
// `cordon clearance import FILE` command and the admin API's POST /clearances/import (the console's
// import with a preview). Every row is parsed under the loaded policies before anything is written:
// a file with a single bad row changes nothing (fail closed), and the preview (dry run) shows each
// row's resulting marking or its error.
//
// CSV (RFC 4180 quoting; `#` comment lines and blank lines skipped; a first row starting with `jid`
// is a header):
//   jid,policy,classifications,category,category,…
//   alice@example.mil,,UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET,ALPHA,Releasable To/GBR
//   - policy: a loaded policy's name or OID; empty: the governing policy, and the clearance is the
//     user's policy-independent one (as `cordon clearance set` without --for-policy); named: the
//     clearance is stored for that policy (as --for-policy OID).
//   - classifications: the classifications held, separated by `|` (at least one).
//   - categories: one name per cell, `TagSet/NAME` for a name two tag sets share; empty cells skipped.
//   Names are read by the one parser of clearances written by name (@cordon/policy clearanceFromSpec).
// LDIF (RFC 2849: entries separated by blank lines, folded lines, `attr:: base64`): the directory's
// own form (deploy/ldap/example-users.ldif) — each entry's `jid` and its clearance in
// `clearance;binary` (BER) or `cordonXmlClearance` (XML); other attributes are ignored. The entry's
// clearance is stored as the user's policy-independent one.
import {
  clearanceFromSpec,
  clearanceMarking,
  encodeBerClearance,
  parseClearance,
  type Clearance,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import { normaliseBareJid, NotDurableError, type ClearanceStore, type RawClearance } from "@cordon/store";

export type ImportFormat = "csv" | "ldif";

/** Rows (CSV records or LDIF entries) one import accepts. */
export const MAX_IMPORT_ROWS = 10_000;
/** Writes in flight at once while an import is applied. */
const IMPORT_CONCURRENCY = 16;
/** The longest error text a row carries (it may quote a name from the file). */
const MAX_PROBLEM_LENGTH = 240;

export interface ImportRow {
  /** 1-based line where the row starts. */
  line: number;
  jid: string;
  /** The policy slot it is stored under (an OID), or undefined for the policy-independent one. */
  forPolicy?: string;
  clearance: Clearance;
  raw: RawClearance;
  marking: string;
}

export interface ImportProblem {
  line: number;
  /** The row's JID when it is a well-formed one. */
  jid?: string;
  error: string;
}

export interface ImportPlan {
  format: ImportFormat;
  rows: ImportRow[];
  problems: ImportProblem[];
}

/** Text cut to a bounded length: a problem never carries more of the file than this. */
export function clip(text: string, max = MAX_PROBLEM_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** LDIF when the first entry line is `dn:` or `version:`, else CSV. */
export function detectImportFormat(text: string): ImportFormat {
  for (const line of text.split(/\r?\n/u)) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    return /^(dn|version)::?/iu.test(t) ? "ldif" : "csv";
  }
  return "csv";
}

/** Parses an import file; every row is checked, none is written. */
export function planImport(
  text: string,
  registry: PolicyRegistry,
  governing: Policy,
  format: ImportFormat = detectImportFormat(text),
): ImportPlan {
  const plan: ImportPlan = { format, rows: [], problems: [] };
  const records = format === "csv" ? csvRecords(text) : ldifEntries(text);
  const seen = new Map<string, number>();
  let count = 0;
  for (const record of records) {
    if (++count > MAX_IMPORT_ROWS) {
      plan.problems.push({ line: record.line, error: `more than ${MAX_IMPORT_ROWS} rows: split the file` });
      break;
    }
    const outcome =
      format === "csv"
        ? csvRow(record as CsvRecord, registry, governing)
        : ldifRow(record as LdifEntry, registry);
    if (outcome === undefined) continue; // a header
    if ("error" in outcome) {
      plan.problems.push({ ...outcome, error: clip(outcome.error) });
      continue;
    }
    const slot = `${outcome.jid}\u0000${outcome.forPolicy ?? "*"}`;
    const first = seen.get(slot);
    if (first !== undefined) {
      plan.problems.push({
        line: outcome.line,
        jid: outcome.jid,
        error: `the same user (and policy) as line ${first}`,
      });
      continue;
    }
    seen.set(slot, outcome.line);
    plan.rows.push(outcome);
  }
  if (plan.rows.length === 0 && plan.problems.length === 0)
    plan.problems.push({ line: 1, error: "no rows: the file holds no clearance" });
  return plan;
}

/**
 * Writes a plan without problems to the store, row after row on one connection; `onRow` runs after
 * each write (the caller's audit record). Throws before writing anything when the plan has problems.
 * A store that fails part-way throws; the rows before it are written (`written` on the error).
 */
export async function applyImport(
  plan: ImportPlan,
  store: Pick<ClearanceStore, "setUserClearance">,
  onRow?: (row: ImportRow) => void,
): Promise<{ written: number }> {
  if (plan.problems.length > 0)
    throw new Error(`the import has ${plan.problems.length} problem(s): nothing was written`);
  // Up to IMPORT_CONCURRENCY writes in flight on the one connection (rows are distinct users, so
  // their order does not matter); the first failure stops the rest from starting.
  let written = 0;
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < plan.rows.length) {
      const row = plan.rows[next++]!;
      try {
        await store.setUserClearance(row.jid, row.raw, row.forPolicy);
      } catch (error) {
        // Made on the primary though no replica confirmed it (durable-write.ts): in force, so it
        // counts as written (the caller audits it) before the import stops.
        if (error instanceof NotDurableError) {
          written++;
          onRow?.(row);
        }
        failure ??= error;
        return;
      }
      written++;
      onRow?.(row);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IMPORT_CONCURRENCY, plan.rows.length) }, worker));
  if (failure !== undefined) {
    const error = failure instanceof Error ? failure : new Error("the store failed");
    throw Object.assign(error, { written });
  }
  return { written };
}

// --- CSV -----------------------------------------------------------------------------------------

interface CsvRecord {
  line: number;
  cells: string[];
}

/** RFC 4180 records: quoted cells may hold commas, quotes ("") and line breaks. */
function* csvRecords(text: string): Generator<CsvRecord> {
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    // Comment and blank lines.
    const eol = text.indexOf("\n", i);
    const raw = text.slice(i, eol === -1 ? n : eol).replace(/\r$/u, "");
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) {
      i = eol === -1 ? n : eol + 1;
      line++;
      continue;
    }
    const cells: string[] = [];
    let cell = "";
    let quoted = false;
    for (; i < n; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i++;
          } else quoted = false;
        } else {
          if (ch === "\n") line++;
          cell += ch;
        }
        continue;
      }
      if (ch === '"' && cell.trim() === "") {
        quoted = true;
        cell = "";
      } else if (ch === ",") {
        cells.push(cell.trim());
        cell = "";
      } else if (ch === "\n") {
        i++;
        line++;
        break;
      } else if (ch !== "\r") cell += ch;
    }
    cells.push(cell.trim());
    yield { line: start, cells };
  }
}

type RowOutcome = ImportRow | ImportProblem | undefined;

/** A user's bare JID (a localpart is required: a domain has no user clearance), normalised. */
export function userJid(text: string): string | undefined {
  if (!text.includes("@")) return undefined;
  try {
    return normaliseBareJid(text);
  } catch {
    return undefined;
  }
}

function csvRow(record: CsvRecord, registry: PolicyRegistry, governing: Policy): RowOutcome {
  const [jidCell = "", policyCell = "", classCell = "", ...categoryCells] = record.cells;
  const line = record.line;
  if (line === 1 && jidCell.toLowerCase() === "jid") return undefined;
  const jid = userJid(jidCell);
  if (jid === undefined) return { line, error: "the first cell is not a user's bare JID (name@domain)" };
  const classifications = classCell
    .split("|")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (classifications.length === 0)
    return { line, jid, error: "no classification: name at least one (several: A|B)" };
  const policy = policyCell === "" ? governing : registry.get(policyCell);
  if (!policy) return { line, jid, error: `no loaded policy named or numbered "${clip(policyCell, 80)}"` };
  let clearance: Clearance;
  try {
    clearance = clearanceFromSpec(
      { policy: policy.id, classifications, categories: categoryCells.filter((c) => c !== "") },
      `line ${line}`,
      { registry },
    );
  } catch (error) {
    return { line, jid, error: (error as Error).message };
  }
  return {
    line,
    jid,
    ...(policyCell !== "" ? { forPolicy: policy.id } : {}),
    clearance,
    raw: { encoding: "ber", data: Buffer.from(encodeBerClearance(clearance)).toString("base64") },
    marking: clearanceMarking(clearance),
  };
}

// --- LDIF ----------------------------------------------------------------------------------------

interface LdifEntry {
  line: number;
  attributes: { name: string; value: Buffer; line: number }[];
}

/** RFC 2849 entries: unfolded lines, `name: value`, `name:: base64`; comments dropped. */
function* ldifEntries(text: string): Generator<LdifEntry> {
  const lines = text.split(/\r?\n/u);
  let entry: LdifEntry | undefined;
  let pending: { text: string; line: number } | undefined;
  const flush = (): void => {
    if (!pending || !entry) return;
    const m = /^([A-Za-z0-9][A-Za-z0-9;.-]*):(:?)[ ]*(.*)$/u.exec(pending.text);
    if (m) {
      const value = m[2] === ":" ? Buffer.from(m[3] ?? "", "base64") : Buffer.from(m[3] ?? "", "utf8");
      entry.attributes.push({ name: (m[1] ?? "").toLowerCase(), value, line: pending.line });
    } else entry.attributes.push({ name: "", value: Buffer.alloc(0), line: pending.line });
    pending = undefined;
  };
  let comment = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    if (raw.startsWith(" ")) {
      // A folded line continues the previous one (or the previous comment).
      if (!comment && pending) pending.text += raw.slice(1);
      continue;
    }
    if (raw.startsWith("#")) {
      flush();
      comment = true;
      continue;
    }
    comment = false;
    flush();
    if (raw.trim() === "") {
      if (entry && entry.attributes.length > 0) yield entry;
      entry = undefined;
      continue;
    }
    if (/^version:/iu.test(raw) && entry === undefined) continue;
    entry ??= { line: i + 1, attributes: [] };
    pending = { text: raw, line: i + 1 };
  }
  flush();
  if (entry && entry.attributes.length > 0) yield entry;
}

const LDIF_CLEARANCE_ATTRIBUTES = ["clearance;binary", "clearance", "cordonxmlclearance"];

function ldifRow(entry: LdifEntry, registry: PolicyRegistry): RowOutcome {
  const line = entry.line;
  if (entry.attributes.some((a) => a.name === ""))
    return { line, error: "a line of the entry is not `attribute: value`" };
  const changetype = entry.attributes.find((a) => a.name === "changetype");
  if (changetype && changetype.value.toString("utf8").trim().toLowerCase() !== "add")
    return { line, error: "only entries to add are imported (changetype: add)" };
  const jids = entry.attributes.filter((a) => a.name === "jid");
  if (jids.length !== 1) return { line, error: "the entry needs exactly one jid attribute" };
  const jid = userJid(jids[0]!.value.toString("utf8").trim());
  if (jid === undefined) return { line, error: "the jid attribute is not a user's bare JID (name@domain)" };
  const values = entry.attributes.filter((a) => LDIF_CLEARANCE_ATTRIBUTES.includes(a.name));
  if (values.length !== 1)
    return {
      line,
      jid,
      error: "the entry needs exactly one clearance (clearance;binary or cordonXmlClearance)",
    };
  const value = values[0]!;
  const xml = value.value.toString("utf8").trimStart().startsWith("<");
  let clearance: Clearance;
  try {
    clearance = parseClearance(xml ? value.value.toString("utf8") : new Uint8Array(value.value), registry);
  } catch (error) {
    return { line, jid, error: `not a clearance of a loaded policy: ${(error as Error).message}` };
  }
  return {
    line,
    jid,
    clearance,
    raw: xml
      ? { encoding: "xml", data: value.value.toString("utf8") }
      : { encoding: "ber", data: value.value.toString("base64") },
    marking: clearanceMarking(clearance),
  };
}
