import { pino, type Logger } from "pino";

/** The logger used when none is injected: silent, so a library never writes on its own. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
