// The state of a component's one link to its server (XEP-0114 §3: one stream per component
// connection), shared by the modules that drive it: reconnect.ts moves it between connecting,
// online and offline, stream-errors.ts records a fatal error, component.ts stops it.
import type { CordonComponentError } from "./errors.js";

export type ComponentStatus =
  "idle" | "connecting" | "online" | "offline" | "stopping" | "stopped" | "failed";

export interface LinkState {
  status: ComponentStatus;
  /** The first fatal stream error (stream-errors.ts); once set, the link is never retried. */
  fatalError?: CordonComponentError;
}

/** True once stop() began: nothing more is dispatched or retried. */
export function isStopping(state: LinkState): boolean {
  return state.status === "stopping" || state.status === "stopped";
}
