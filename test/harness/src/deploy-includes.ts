// The parts of a server's config that an admin copies from deploy/ unchanged for both servers:
// the XEP-0114 component listeners (cordon-components) and the XEP-0355/0356 delegations
// (cordon-delegation), rendered from deploy/<server>/ with the test's values.
import { renderDeployFile } from "./templates.js";
import type { ServerOptions } from "./types.js";

type IncludeOptions = Required<Pick<ServerOptions, "domain" | "components" | "delegations">>;

/** The component and delegation includes of `server` (file name → text), as deploy/README.md has them. */
export function cordonIncludes(
  server: "prosody" | "ejabberd",
  options: IncludeOptions,
  componentPort: number,
): Record<string, string> {
  const ext = server === "prosody" ? ".cfg.lua" : ".yml";
  const out: Record<string, string> = {};
  if (options.components.length > 0)
    out[`cordon-components${ext}`] = renderDeployFile(`${server}/cordon-components${ext}`, {
      values: { COMPONENT_PORT: String(componentPort) },
      lists: { COMPONENT: options.components.map((c) => ({ COMPONENT_DOMAIN: c.domain, SECRET: c.secret })) },
    });
  if (options.delegations.length > 0)
    out[`cordon-delegation${ext}`] = renderDeployFile(`${server}/cordon-delegation${ext}`, {
      values: { DOMAIN: options.domain },
      lists: {
        DELEGATION: options.delegations.map((d) => ({
          NAMESPACE: d.namespace,
          COMPONENT_DOMAIN: d.component,
        })),
        DELEGATED_COMPONENT: [...new Set(options.delegations.map((d) => d.component))].map((c) => ({
          COMPONENT_DOMAIN: c,
        })),
      },
    });
  return out;
}
