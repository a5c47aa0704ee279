// @cordon/guard: the central check — the decision service Prosody's and ejabberd's modules ask
// about every message delivered to a local user (issue 17).
export * from "./errors.js";
export { NS_GUARD } from "./namespaces.js";
export { readCheck, verdictElement } from "./protocol.js";
export type { CheckOrigin, CheckRequest, Verdict } from "./protocol.js";
export type { OutboundDestination } from "./outbound.js";
export { decide } from "./decide.js";
export type { DecideContext, GuardDecision, GuardReason } from "./decide.js";
export { readServedReport, MAX_SERVED_REPORT } from "./cache-report.js";
export { decideAccess, readAccess, accessVerdictElement } from "./access.js";
export type { AccessContext, AccessDecision, AccessReason } from "./access.js";
export { createGuardService } from "./guard-service.js";
export type { GuardService, GuardServiceOptions } from "./guard-service.js";
export { readGuardSection, GUARD_CONFIG_KEYS } from "./config.js";
export { rebindGuard } from "./policy-rebind.js";
export type { GuardBound } from "./policy-rebind.js";
export type { GuardSectionSettings } from "./config.js";
export { ConversationReferences, conversationKey, referencedIds } from "./message-references.js";
export {
  readLatencyReport,
  LATENCY_BOUNDS_US,
  LATENCY_BUCKETS,
  MAX_LATENCY_COUNT,
  MAX_LATENCY_SUM_US,
} from "./latency-report.js";
export type { LatencyDelta, LatencyKind, LatencyOf } from "./latency-report.js";
export {
  LatencyHistograms,
  LATENCY_NAMES,
  latencyQuantile,
  latencySince,
  latencyShareAtMost,
} from "./latency-histograms.js";
export type { LatencyName, LatencyTotals } from "./latency-histograms.js";
