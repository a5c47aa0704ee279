// Public API of @cordon/relay: the label-filtering relay between two XMPP domains.
export * from "./errors.js";
export * from "./peering.js";
export { directionsOf, routeOf, peerAllowed, peerDomain } from "./direction.js";
export type { Direction, Route, RouteResult, StanzaKind } from "./direction.js";
export { checkType, isMucTraffic } from "./type-filter.js";
export type { TypeRefusal } from "./type-filter.js";
export { compileFolding, foldMessage, isEmptyMessage, NS_CHATSTATES, NS_RECEIPTS } from "./folding.js";
export type { FoldResult, FoldRefusal, FoldingRules } from "./folding.js";
export {
  checkFileTransfer,
  transferKind,
  NS_IBB,
  NS_JINGLE,
  NS_SI,
  NS_BYTESTREAMS,
  NS_OOB_X,
  NS_OOB_IQ,
} from "./file-transfer.js";
export type { TransferKind, TransferResult } from "./file-transfer.js";
export { foldPresence, presencePart } from "./presence-folding.js";
export type { PresenceFoldResult } from "./presence-folding.js";
export { compileContent, foldText, words, messageTexts } from "./content-check.js";
export type { ContentChecker } from "./content-check.js";
export { LabelEngine, removeSecurityLabels, DEFAULT_ENGINE_CACHE_BYTES } from "./label-check.js";
export type { GrantRefusal, LabelEngineOptions } from "./label-check.js";
export { ClearanceSource } from "./clearances.js";
export type { RelayClearanceStore } from "./clearances.js";
export { decide, DirectionContext, answersRefusal } from "./decide.js";
export type { Decision, DecideDeps } from "./decide.js";
export {
  GENESIS,
  canonicalJson,
  recordHash,
  verifyAuditText,
  verifyAuditFile,
  verifyAuditFileChunked,
  AuditChainVerifier,
  MAX_AUDIT_LINE_BYTES,
  parseAuditAnchor,
  MemoryAuditSink,
  FileAuditSink,
  auditKey,
  randomAuditKey,
  canonicalLine,
  duplicateJsonKey,
  DEFAULT_ANCHOR_EVERY,
  MIN_AUDIT_KEY_LENGTH,
} from "./audit.js";
export type {
  AuditEntry,
  AuditRecord,
  AuditOutcome,
  AuditSink,
  AuditAnchor,
  AuditKey,
  AuditEvent,
  AuditChainFields,
  FileAuditOptions,
  VerifyResult,
} from "./audit.js";
export { readAuditSection, AUDIT_KEYS } from "./audit-config.js";
export type { AuditSettings } from "./audit-config.js";
export { createRelay } from "./relay.js";
export type { Relay, RelayOptions, RelayMetrics, DecisionCounts } from "./relay.js";
export { readRelayLimits } from "./limits.js";
export type { RelayLimits } from "./limits.js";
export {
  checkIq,
  iqTexts,
  IqTracker,
  DEFAULT_IQ_NAMESPACES,
  DEFAULT_IQ_TRACKING,
  type IqTrackerOptions,
  type IqRules,
  type IqCheck,
} from "./iq-control.js";
