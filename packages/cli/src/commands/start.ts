// `cordon start --config FILE [--only NAME]`: runs the configured components in this process.
// Each entry under `components:` is started by the runner registered for its name (`example`
// today; `muc`, `catalog`, `relay` as their packages land).
import {
  ConfigError, createExampleComponent, createLogger, installShutdown, loadConfigFile, readConnection,
  type CordonComponent, type CordonConfig, type Logger,
} from "@cordon/component";
import type { ConfigReader } from "@cordon/component";
import type { Command } from "../command.js";

export interface RunningComponent {
  name: string;
  stop(): Promise<void>;
}

type ComponentRunner = (config: CordonConfig, section: ConfigReader, logger: Logger) => Promise<RunningComponent>;

const RUNNERS: Record<string, ComponentRunner> = {
  async example(config, section, logger) {
    section.only(["domain", "secret", "server", "name"]);
    const connection = readConnection(config, section);
    const component: CordonComponent = createExampleComponent({ ...connection, logger, ...(section.has("name") ? { name: section.string("name") } : {}) });
    await component.start();
    return { name: "example", stop: () => component.stop() };
  },
};

export interface StartOptions {
  config: string;
  only?: string[];
}

export function parseStartArgs(args: string[]): StartOptions {
  let config: string | undefined;
  const only: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--config" || arg === "-c") config = args[++i];
    else if (arg === "--only") only.push(...(args[++i] ?? "").split(",").filter(Boolean));
    else throw new ConfigError("(arguments)", `unknown argument ${arg}; usage: cordon start --config FILE [--only NAME[,NAME]]`);
  }
  config ??= process.env.CORDON_CONFIG;
  if (!config) throw new ConfigError("(arguments)", "missing --config FILE (or CORDON_CONFIG)");
  return { config, ...(only.length ? { only } : {}) };
}

/** Starts everything; resolves with the running components (the process then waits for signals). */
export async function startComponents(options: StartOptions): Promise<{ running: RunningComponent[]; logger: Logger; shutdown: () => Promise<void> }> {
  const config = loadConfigFile(options.config);
  const logger = createLogger({ level: config.log.level, redactJids: config.log.redactJids, name: "cordon" });
  const selected = [...config.components.entries()].filter(([name]) => !options.only || options.only.includes(name));
  if (options.only) {
    for (const name of options.only) if (!config.components.has(name)) throw new ConfigError(`components.${name}`, "not configured (named by --only)", options.config);
  }
  for (const [name, section] of selected) {
    if (!RUNNERS[name]) section.fail("", `unknown component "${name}" (known: ${Object.keys(RUNNERS).join(", ")})`);
  }
  const running: RunningComponent[] = [];
  const shutdown = installShutdown(running, { logger });
  for (const [name, section] of selected) {
    const runner = RUNNERS[name] as ComponentRunner;
    running.push(await runner(config, section, logger));
    logger.info({ component: name }, "component started");
  }
  return { running, logger, shutdown };
}

export const startCommand: Command = {
  name: "start",
  summary: "run the components of a config file: start --config FILE [--only NAME[,NAME]]",
  async run(args) {
    await startComponents(parseStartArgs(args));
    return -1; // keep running until SIGTERM/SIGINT (the shutdown handler exits)
  },
};
