export * from "./errors.js";
export * from "./types.js";
export * from "./store.js";
export * from "./jid.js";
export * from "./memory-store.js";
export * from "./redis-store.js";
export { KeySchema, DEFAULT_PREFIX, DEFAULT_POLICY_FIELD } from "./key-schema.js";
