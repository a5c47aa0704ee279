// @cordon/rules: the security rules the MUC, the relay and the catalog share, one file per rule.

// --- labels: the effective label of a stanza, FLOT, markings, translation ---
export { REFUSAL_REASONS, isRefusalReason, isHiddenContentReason, refusalError } from "./refusal-reasons.js";
export { StanzaLabels, securityLabels, MAX_LABEL_FORMS } from "./stanza-label.js";
export type { StanzaLabel, StanzaLabelOptions, StanzaLabelsOptions, LabelReading } from "./stanza-label.js";
export { Translations, labelKey } from "./translation.js";
export { oneToOne } from "./one-to-one.js";
export {
  ANYWHERE,
  ClientLocations,
  SessionLocations,
  UNKNOWN_LOCATION,
  parseCidr,
  rebindLocations,
  recipientRefused,
  namedSession,
} from "./client-location.js";
export {
  askingServer,
  askingServerSessions,
  readSessionAddress,
  readSessions,
  MAX_TOLD_SESSIONS,
  SESSION_ADDRESS_TIMEOUT_MS,
  type RecipientSessions,
  type SessionAddress,
  type ToldSession,
} from "./session-address.js";
export type {
  ClientLocation,
  ClientLocationOptions,
  LocationRange,
  LocationVerdict,
} from "./client-location.js";
export { referencedIds } from "./referenced-ids.js";
export type { OneToOneClearances, OneToOneParty, OneToOneVerdict } from "./one-to-one.js";
export { Markings, canonicalLabel } from "./marking.js";
export {
  FLOT_TEXTS,
  flotText,
  addFlot,
  isRichBody,
  markShownTexts,
  needsMarkingBody,
  TEXTLESS_NAMESPACES,
} from "./flot.js";
export type {
  RefusalReason,
  RefusalReasonSpec,
  HiddenContentReason,
  LabelProblem,
} from "./refusal-reasons.js";

// --- clearances: the known / none / unknown state and the one clearance reader ---
export type { ClearanceAnswer, ClearanceLookup } from "@cordon/store";
export {
  type ClearanceState,
  NO_CLEARANCE,
  unknownClearance,
  grantingClearance,
  sameClearanceState,
} from "./clearance-state.js";
export { ClearanceReader, type ClearanceReaderOptions, type ClearanceSources } from "./clearance-reader.js";
