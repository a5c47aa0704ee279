// The server side of Cordon's web console, used by the admin API (packages/cli/src/admin).
export * from "./roles.js";
export * from "./sessions.js";
export * from "./one-time-token.js";
export * from "./passwords.js";
export * from "./cookies.js";
export * from "./csrf.js";
export * from "./security-headers.js";
export * from "./assets.js";
export * from "./login-throttle.js";
