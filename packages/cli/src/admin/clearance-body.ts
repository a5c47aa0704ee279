// The body of PUT /clearances/{jid}: a clearance in any supported form — XML (a spiffy or
// XML-SPIF clearance), BER/DER, BER as base64 text — or JSON naming classifications and
// categories of the governing policy: {"classifications": ["SECRET"], "categories": ["ALPHA"]}.
// It is parsed before anything is stored, so a bad body never reaches the store.
import {
  clearanceFromSpec,
  clearanceMarking,
  decodeBase64,
  detectFormat,
  encodeBerClearance,
  parseClearance,
  SpecError,
  type Clearance,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import type { RawClearance } from "@cordon/store";
import { AdminBadRequestError } from "../ops-errors.js";

export interface ParsedClearanceBody {
  raw: RawClearance;
  clearance: Clearance;
  marking: string;
}

export function parseClearanceBody(
  body: Uint8Array,
  registry: PolicyRegistry,
  governing: Policy,
): ParsedClearanceBody {
  if (body.length === 0)
    throw new AdminBadRequestError("empty body: send a clearance (XML, BER, base64 BER or JSON)");
  const text = Buffer.from(body).toString("utf8").trim();
  try {
    if (text.startsWith("{")) return fromNames(text, registry, governing);
    if (detectFormat(body) === "xml") {
      const clearance = parseClearance(text, registry);
      return { raw: { encoding: "xml", data: text }, clearance, marking: clearanceMarking(clearance) };
    }
    const ber = /^[A-Za-z0-9+/=\s]+$/u.test(text) ? decodeBase64(text) : body;
    const clearance = parseClearance(ber, registry);
    return {
      raw: { encoding: "ber", data: Buffer.from(ber).toString("base64") },
      clearance,
      marking: clearanceMarking(clearance),
    };
  } catch (error) {
    if (error instanceof AdminBadRequestError) throw error;
    throw new AdminBadRequestError(
      bounded(`not a clearance under the loaded policies: ${(error as Error).message}`),
    );
  }
}

/** JSON names: the config syntax of a clearance (@cordon/policy clearanceFromSpec), in the governing policy. */
function fromNames(text: string, registry: PolicyRegistry, policy: Policy): ParsedClearanceBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminBadRequestError("the JSON body does not parse");
  }
  const v = value as { classifications?: unknown };
  if (Array.isArray(v.classifications) && v.classifications.length === 0)
    throw new AdminBadRequestError("classifications: name at least one");
  let clearance: Clearance;
  try {
    clearance = clearanceFromSpec(value, "body", { registry, policy: policy.id });
  } catch (error) {
    if (error instanceof SpecError) throw new AdminBadRequestError(bounded(error.message));
    throw error;
  }
  return {
    raw: { encoding: "ber", data: Buffer.from(encodeBerClearance(clearance)).toString("base64") },
    clearance,
    marking: clearanceMarking(clearance),
  };
}

/** An error text that may quote the body, cut to a bounded length (never echo input unbounded). */
function bounded(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
