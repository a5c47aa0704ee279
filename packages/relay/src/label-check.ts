// The relay's label machinery, wired from the shared rules (@cordon/rules): the effective label of
// a stanza (stanza-label.ts: its forms decoded, validated and checked against each other once,
// cached in bytes), translation into equivalent policies (XML-SPIF, one byte-bounded cache) and
// the outgoing <securitylabel/> with the policy's marking (marking.ts: never the sender's). What is
// the relay's own: the configured default labels and clearances it reads, and the ACDF verdict
// against a clearance of any policy (translated into it first).
import { isElement, NS_SEC_LABEL, type Element } from "@cordon/component";
import {
  acdf,
  clearanceBytes,
  GenerationalLru,
  isLoaded,
  LabelCache,
  parseClearance,
  PolicyError,
  type AcdfReason,
  type Clearance,
  type Label,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import { Markings, StanzaLabels } from "@cordon/rules";
import { copyElement } from "./copy.js";

export type GrantRefusal = "untranslatable" | "classification" | "category" | "policy-mismatch";

export function removeSecurityLabels(stanza: Element): void {
  stanza.children = stanza.children.filter(
    (c) => !(isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL),
  );
}

export interface LabelEngineOptions {
  /** Byte budget of the configured-clearance cache (default 1 MiB). */
  readonly maxClearanceBytes?: number;
  /** Byte budget of the configured-label cache (default 1 MiB). */
  readonly maxLabelBytes?: number;
}

/** The default budget of each of the engine's own caches. */
export const DEFAULT_ENGINE_CACHE_BYTES = 1024 * 1024;

/** The rules the relay applies to labels, with its caches keyed to the registry generation. */
export class LabelEngine {
  readonly labels: StanzaLabels;
  readonly markings = new Markings();
  readonly #labelData: LabelCache;
  /**
   * Clearance data as configured (or read) → its clearance or why it does not parse, keyed by the
   * exact text and bounded in bytes (keys count two bytes a character): a policy reload empties it.
   */
  readonly #clearances: GenerationalLru<Clearance | PolicyError>;

  constructor(
    readonly registry: PolicyRegistry,
    options: LabelEngineOptions = {},
  ) {
    this.labels = new StanzaLabels(registry);
    this.#labelData = new LabelCache(registry, options.maxLabelBytes ?? DEFAULT_ENGINE_CACHE_BYTES);
    this.#clearances = new GenerationalLru(
      registry,
      options.maxClearanceBytes ?? DEFAULT_ENGINE_CACHE_BYTES,
      (v) => (v instanceof PolicyError ? 64 : clearanceBytes(v)),
    );
  }

  /** Bytes the clearance cache holds (keys, estimates, overheads), its limit and its entries. */
  get clearanceCacheBytes(): number {
    return this.#clearances.bytes;
  }

  get clearanceCacheMaxBytes(): number {
    return this.#clearances.maxBytes;
  }

  get clearanceCacheSize(): number {
    return this.#clearances.size;
  }

  policy(oid: string): Policy {
    return this.registry.require(oid);
  }

  /** Label data (XML or base64) as a label; throws PolicyError. */
  labelFromData(data: string): Label {
    return this.#labelData.get(data.trim());
  }

  /** Clearance data (XML or base64 BER) as a clearance; undefined when it cannot be read. */
  clearanceFromData(data: string): Clearance | undefined {
    let hit = this.#clearances.fresh().get(data);
    if (!hit) {
      try {
        hit = parseClearance(data.trim(), this.registry);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        hit = error;
      }
      this.#clearances.set(data, hit);
    }
    return hit instanceof PolicyError ? undefined : hit;
  }

  /** The label expressed in `target` (the label itself when already there). */
  translate(label: Label, target: Policy): Label | undefined {
    return this.labels.translate(label, target);
  }

  /** Undefined when `clearance` grants `label` (translated into the clearance's policy if needed), else why not. */
  refusal(label: Label, clearance: Clearance): GrantRefusal | undefined {
    // Either bound to a policy no longer loaded (read before a reload, decided after): nothing is
    // granted (as @cordon/rules Translations.decide; adv15: the old label was translated by its
    // old policy's table into the new clearance's policy, and granted).
    if (!isLoaded(label.policy, this.registry) || !isLoaded(clearance.policy, this.registry))
      return "policy-mismatch";
    const expressed = this.translate(label, clearance.policy);
    if (!expressed) return "untranslatable";
    return refusalOf(acdf(expressed, clearance).reason);
  }

  /**
   * The outgoing `<securitylabel/>` (policy marking, ESS payload) and its marking text. The label
   * crosses re-encoded from the decided label, its privacy mark dropped (@cordon/rules marking.ts).
   */
  outgoing(decided: Label, lang: string): { marking: string; element: Element } {
    return {
      marking: this.markings.marking(decided, lang),
      element: copyElement(this.markings.securityLabelElement(decided, lang)),
    };
  }
}

function refusalOf(reason: AcdfReason): GrantRefusal | undefined {
  switch (reason) {
    case "CORDON_ACDF_GRANTED":
      return undefined;
    case "CORDON_ACDF_CLASSIFICATION":
      return "classification";
    case "CORDON_ACDF_RESTRICTIVE_CATEGORY":
    case "CORDON_ACDF_PERMISSIVE_CATEGORY":
      return "category";
    default:
      return "policy-mismatch";
  }
}
