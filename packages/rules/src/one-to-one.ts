// The one-to-one rule (the "core SEF" of label enforcement in an XMPP server, as Isode describes
// M-Link's: a user only receives what the user is cleared to access, checked as a message arrives
// at the server; XEP-0258 §"Use in XMPP"): a label goes from a sender to a user of a server only
// when the sender's clearance, the server's clearance (when it has one) and the recipient's
// clearance all grant it. An unknown clearance decides nothing (fail closed).
// One function for every place that applies it: the guard (each message, packages/guard) and the
// catalog (the labels a user may send to a user of the server: exactly those this lets through).
import type { Label } from "@cordon/policy";
import type { ClearanceState } from "./clearance-state.js";
import type { Translations } from "./translation.js";

/** Whose clearance stopped a label, in the order they are checked. */
export type OneToOneParty = "sender" | "server" | "recipient";

export interface OneToOneClearances {
  /** A local user's clearance, or for a user of another server its domain's inbound peer clearance. */
  readonly sender: ClearanceState;
  /** The server's clearance; "none" means the server sets no bound of its own. */
  readonly server: ClearanceState;
  readonly recipient: ClearanceState;
}

export type OneToOneVerdict =
  | { readonly ok: true }
  /** `unknown`: that party's clearance could not be read (refuse, retry later), else it does not grant. */
  | { readonly ok: false; readonly party: OneToOneParty; readonly unknown: boolean };

const ALLOWED: OneToOneVerdict = Object.freeze({ ok: true });

/** The verdict for `label` between the parties whose clearances are given. */
export function oneToOne(
  translations: Translations,
  label: Label,
  clearances: OneToOneClearances,
): OneToOneVerdict {
  const parties: [OneToOneParty, ClearanceState, boolean][] = [
    ["sender", clearances.sender, true],
    ["server", clearances.server, false],
    ["recipient", clearances.recipient, true],
  ];
  // Unknown first: a refusal that could be a lookup failure must say "try again", never "not cleared".
  for (const [party, state] of parties)
    if (state.status === "unknown") return { ok: false, party, unknown: true };
  for (const [party, state, required] of parties) {
    if (state.status === "none") {
      if (required) return { ok: false, party, unknown: false };
      continue;
    }
    // X.841 ACDF, the label expressed in the clearance's policy first (translation.ts `decide`).
    if (state.status === "known" && !translations.decide(label, state.clearance).granted)
      return { ok: false, party, unknown: false };
  }
  return ALLOWED;
}
