// Public API of @cordon/policy.
export * from "./errors.js";
export type * from "./spif/model.js";
export { loadPolicy } from "./spif/load.js";
export { PolicyRegistry } from "./registry.js";
export type { Label } from "./label.js";
export { makeLabel, sameLabel } from "./label.js";
export type { Clearance } from "./clearance.js";
export { makeClearance, dominates } from "./clearance.js";
export { findCategory, findCategoryByName } from "./category.js";
export type { AcdfDecision, AcdfReason } from "./acdf.js";
export { acdf, clearanceGrants } from "./acdf.js";
export { labelProblems, isValidLabel, assertValidLabel } from "./validate.js";
export type { MarkingColours } from "./marking.js";
export { labelMarking, clearanceMarking, markingColours } from "./marking.js";
export { translateLabel } from "./translate.js";
export type { InputFormat } from "./formats/detect.js";
export { detectFormat, decodeBase64, parseLabelData, parseClearance } from "./formats/detect.js";
export { decodeEssLabel, encodeEssLabel } from "./formats/ess.js";
export { decodeBerClearance, encodeBerClearance } from "./formats/clearance-ber.js";
export { rebindLabel, rebindClearance, isLoaded } from "./rebind.js";
export type {
  DisplayMarking,
  SecurityLabelElement,
  SecurityLabelForms,
  BuildSecurityLabelOptions,
} from "./formats/xep0258.js";
export {
  parseSecurityLabelElement,
  serializeSecurityLabelElement,
  securityLabelForms,
  buildSecurityLabelXml,
} from "./formats/xep0258.js";
export type { SpecOptions } from "./config-spec.js";
export {
  SpecError,
  labelFromSpec,
  defaultLabelFromSpec,
  validDefaultLabel,
  clearanceFromSpec,
} from "./config-spec.js";
export {
  LabelCache,
  ByteLru,
  GenerationalLru,
  labelBytes,
  clearanceBytes,
  ENTRY_OVERHEAD_BYTES,
} from "./cache.js";
export { retainedLabel, sharesBuffer } from "./retain.js";
export * from "./namespaces.js";
export type { XmlElementLike } from "./xml/node.js";
export type { CaseResult, ConformanceReport } from "./conformance/runner.js";
export { runConformance } from "./conformance/runner.js";
// The one XML escaping helper of Cordon (XML 1.0 §2.4, §3.1); @cordon/component re-exports it.
export { escapeText, escapeAttr } from "./xml/serialize.js";
export { internalized } from "./intern.js";
