// components.example: the runtime's example component (disco, ping, echo).
import { createExampleComponent, readConnection } from "@cordon/component";
import type { ComponentRunner } from "./runner.js";
import { observeLinks, target } from "./ops.js";

export const runExample: ComponentRunner = async (context, section) => {
  const { config, logger } = context;
  section.only(["domain", "secret", "server", "name"]);
  const connection = readConnection(config, section);
  const component = createExampleComponent({
    ...connection,
    logger,
    ...(section.has("name") ? { name: section.string("name") } : {}),
  });
  if (context.check) return { name: "example", stop: async () => undefined, targets: [target(connection)] };
  observeLinks(context.ops, "example", [component]);
  await component.start();
  return { name: "example", stop: () => component.stop() };
};
