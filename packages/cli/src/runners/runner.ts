// A component runner: reads its config section and starts the component.
import type { ConfigReader, CordonConfig, Logger } from "@cordon/component";
import type { RuntimeEnvironment } from "../environment.js";

export interface RunningComponent {
  name: string;
  stop(): Promise<void>;
}

export interface RunnerContext {
  config: CordonConfig;
  logger: Logger;
  /** Policies, store and directory, built on first use and shared by every component. */
  environment(): Promise<RuntimeEnvironment>;
}

export type ComponentRunner = (context: RunnerContext, section: ConfigReader) => Promise<RunningComponent>;
