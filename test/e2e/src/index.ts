export {};
export * from "./caps.js";
