export { CordonError, isCordonError } from "./cordon-error.js";
export type { CordonErrorCode } from "./cordon-error.js";
