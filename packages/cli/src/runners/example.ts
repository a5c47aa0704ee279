// components.example: the runtime's example component (disco, ping, echo).
import { createExampleComponent, readConnection } from "@cordon/component";
import type { ComponentRunner } from "./runner.js";

export const runExample: ComponentRunner = async ({ config, logger }, section) => {
  section.only(["domain", "secret", "server", "name"]);
  const connection = readConnection(config, section);
  const component = createExampleComponent({ ...connection, logger, ...(section.has("name") ? { name: section.string("name") } : {}) });
  await component.start();
  return { name: "example", stop: () => component.stop() };
};
