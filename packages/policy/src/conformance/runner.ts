// Interpreter for conformance tests.xml files (format: docs/conformance.md §1–3).
// Each <sequence> starts with an empty registry; file names resolve against the tests.xml directory.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { acdf } from "../acdf.js";
import { PolicyError, PolicyMismatchError } from "../errors.js";
import { parseClearance, parseLabelData } from "../formats/detect.js";
import type { Label } from "../label.js";
import { clearanceMarking, labelMarking } from "../marking.js";
import { PolicyRegistry } from "../registry.js";
import { translateLabel } from "../translate.js";
import { isValidLabel } from "../validate.js";
import { SPIF_XML_LIMITS } from "../xml/limits.js";
import { childElements } from "../xml/node.js";
import type { XmlNode } from "../xml/node.js";
import { parseXml } from "../xml/reader.js";

export interface CaseResult {
  /** e.g. "sequence 3, test 2 (label=tlpx-amber-eu.xml)" */
  readonly name: string;
  readonly passed: boolean;
  readonly expected?: string;
  readonly got?: string;
}

export interface ConformanceReport {
  readonly cases: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
}

class Mismatch {
  constructor(
    readonly expected: string,
    readonly got: string,
  ) {}
}

function readData(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch {
    return new Uint8Array(0); // a missing file reads as empty: "No data to parse"
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function runTest(t: XmlNode, base: string, registry: PolicyRegistry): Mismatch | undefined {
  const a = t.attrs;
  const expectedException = a["exception"];
  try {
    let label: Label = parseLabelData(readData(resolve(base, a["label"] ?? "")), registry);
    const lang = a["xml:lang"] ?? "";
    if (a["valid"] !== undefined) {
      const want = a["valid"].startsWith("t");
      const got = isValidLabel(label);
      if (want !== got) return new Mismatch(`valid=${want}`, `valid=${got}`);
    }
    if (a["label-marking"] !== undefined) {
      const got = labelMarking(label, lang);
      if (got !== a["label-marking"])
        return new Mismatch(`label-marking "${a["label-marking"]}"`, `"${got}"`);
    }
    if (a["encrypt"] !== undefined) {
      label = translateLabel(label, registry.require(a["encrypt"]));
      if (a["encrypt-marking"] !== undefined) {
        const got = labelMarking(label, lang);
        if (got !== a["encrypt-marking"])
          return new Mismatch(`encrypt-marking "${a["encrypt-marking"]}"`, `"${got}"`);
      }
    }
    if (a["clearance"] !== undefined) {
      const clearance = parseClearance(readData(resolve(base, a["clearance"])), registry);
      if (a["clearance-marking"] !== undefined) {
        const got = clearanceMarking(clearance, "");
        if (got !== a["clearance-marking"])
          return new Mismatch(`clearance-marking "${a["clearance-marking"]}"`, `"${got}"`);
      }
      if (label.policy.id !== clearance.policy.id) throw new PolicyMismatchError("Label is incorrect policy");
      const want = (a["acdf-result"] ?? "").startsWith("1");
      const got = acdf(label, clearance).granted;
      if (want !== got) return new Mismatch(`acdf-result=${want ? 1 : 0}`, `acdf-result=${got ? 1 : 0}`);
    }
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    if (expectedException === undefined) return new Mismatch("no exception", `exception "${message(e)}"`);
    if (e.message !== expectedException)
      return new Mismatch(`exception "${expectedException}"`, `exception "${message(e)}"`);
    return undefined;
  }
  if (expectedException !== undefined)
    return new Mismatch(`exception "${expectedException}"`, "no exception");
  return undefined;
}

/** Run every case of a tests.xml document. Unexpected (non-policy) errors count as failures. */
export function runConformance(testsXmlPath: string): ConformanceReport {
  const base = dirname(resolve(testsXmlPath));
  const root = parseXml(readFileSync(testsXmlPath, "utf8"), SPIF_XML_LIMITS);
  const cases: CaseResult[] = [];
  let seqNo = 0;
  for (const seq of childElements(root, "sequence")) {
    seqNo++;
    const registry = new PolicyRegistry();
    let step = 0;
    for (const el of childElements(seq)) {
      step++;
      if (el.local === "policy") {
        const file = el.attrs["spif"] ?? "";
        const name = `sequence ${seqNo}, step ${step} (policy spif=${file})`;
        const want = el.attrs["exception"];
        let got: string | undefined;
        try {
          registry.loadString(readFileSync(resolve(base, file), "utf8"));
        } catch (e) {
          got = message(e);
        }
        if (got === want) cases.push({ name, passed: true });
        else
          cases.push({
            name,
            passed: false,
            expected: want === undefined ? "load" : `exception "${want}"`,
            got: got === undefined ? "loaded" : `exception "${got}"`,
          });
      } else if (el.local === "test") {
        const name = `sequence ${seqNo}, step ${step} (test label=${el.attrs["label"] ?? ""}${el.attrs["clearance"] ? ` clearance=${el.attrs["clearance"]}` : ""})`;
        let r: Mismatch | undefined;
        try {
          r = runTest(el, base, registry);
        } catch (e) {
          r = new Mismatch("a result", `unexpected error ${message(e)}`);
        }
        cases.push(r ? { name, passed: false, expected: r.expected, got: r.got } : { name, passed: true });
      }
    }
  }
  const passed = cases.filter((c) => c.passed).length;
  return { cases, passed, failed: cases.length - passed };
}
