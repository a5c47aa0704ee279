// A component runner: reads its config section and starts the component.
import type { ConfigReader, CordonConfig, Logger } from "@cordon/component";
import type { AuditSink } from "@cordon/relay";
import type { RuntimeEnvironment } from "../environment.js";
import type { RedisSection } from "../redis-config.js";
import type { ComponentOps, OpsContext } from "./ops.js";

export interface RunningComponent {
  name: string;
  stop(): Promise<void>;
  /** Where it connects: one line per XEP-0114 link, "domain -> host:port". */
  targets?: string[];
  /** Operator hooks (admin API, readiness, hot reload); see ops.ts. */
  ops?: ComponentOps;
}

export interface RunnerContext {
  config: CordonConfig;
  logger: Logger;
  /** Policies, store and directory, built on first use and shared by every component. */
  environment(): Promise<RuntimeEnvironment>;
  /**
   * `cordon check-config`: build everything (policies, labels, catalogs, services) but connect to
   * nothing; runners return before starting and report where they would connect.
   */
  check?: boolean;
  /** Metrics and link observation, when the process runs them (ops.ts). */
  ops?: OpsContext;
  /** The process's audit log (top-level `audit:`) for the MUC's and the catalog's decisions. */
  audit?: AuditSink;
  /**
   * The Redis store's settings (`store.redis`), when the config has one: also under check-config,
   * whose environment has no Redis (a clustered MUC needs it: muc-cluster-config.ts).
   */
  redis?: RedisSection;
}

export type ComponentRunner = (context: RunnerContext, section: ConfigReader) => Promise<RunningComponent>;
