// `cordon admin …`: the admin API's operations from the command line, over HTTP.
//   admin health | ready | rooms | peerings | metrics | reload
//   admin clearance get JID | set JID FILE|- | rm JID        [--for-policy OID]
// Where: --url URL, else the config's admin.listen (--config FILE or CORDON_CONFIG), else
// http://127.0.0.1:9090. Token: the env variable named by --token-env (default CORDON_ADMIN_TOKEN).
// Exit 0 on success, 1 for a negative answer (not ready, not found), 2 for anything else.
import { loadConfigFile } from "@cordon/component";
import type { Command, CommandIo } from "../command.js";
import { parseArgs, readInput, UsageError } from "./io.js";
import { readAdminSection, DEFAULT_ADMIN_LISTEN } from "../admin/config.js";

const USAGE =
  "usage: cordon admin health|ready|rooms|peerings|metrics|reload | clearance get|set|rm JID [FILE|-] [--for-policy OID]  [--url URL | --config FILE] [--token-env NAME]";

function baseUrl(url: string | undefined, configFile: string | undefined): string {
  if (url) return url.replace(/\/+$/u, "");
  if (configFile) {
    const admin = readAdminSection(loadConfigFile(configFile).root);
    if (admin) return `http://${admin.host.includes(":") ? `[${admin.host}]` : admin.host}:${admin.port}`;
  }
  return `http://${DEFAULT_ADMIN_LISTEN}`;
}

async function call(
  io: CommandIo,
  method: string,
  url: string,
  token: string | undefined,
  body?: Uint8Array,
): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { "content-type": "application/octet-stream" } : {}),
      },
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new UsageError(
      `cannot reach the admin API at ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
    );
  }
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  let shown = text;
  if (type.startsWith("application/json")) {
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON after all: print as is
    }
  }
  if (response.ok) {
    io.stdout(shown);
    return 0;
  }
  io.stderr(shown);
  return response.status === 404 || response.status === 503 ? 1 : 2;
}

async function run(args: readonly string[], io: CommandIo): Promise<number> {
  const p = parseArgs(args, ["url", "config", "token-env", "for-policy"]);
  const [sub, verb, jid, file] = p.positional;
  const base = baseUrl(
    p.options.get("url")?.at(-1),
    p.options.get("config")?.at(-1) ?? process.env.CORDON_CONFIG,
  );
  const token = process.env[p.options.get("token-env")?.at(-1) ?? "CORDON_ADMIN_TOKEN"] || undefined;
  const simple: Record<string, [string, string]> = {
    health: ["GET", "/health"],
    ready: ["GET", "/ready"],
    rooms: ["GET", "/rooms"],
    peerings: ["GET", "/peerings"],
    metrics: ["GET", "/metrics"],
    reload: ["POST", "/policies/reload"],
  };
  if (sub && simple[sub] && p.positional.length === 1) {
    const [method, path] = simple[sub];
    return call(io, method, `${base}${path}`, token);
  }
  if (sub === "clearance" && jid) {
    const policy = p.options.get("for-policy")?.at(-1);
    const url = `${base}/clearances/${encodeURIComponent(jid)}${policy ? `?policy=${encodeURIComponent(policy)}` : ""}`;
    if (verb === "get" && p.positional.length === 3) return call(io, "GET", url, token);
    if (verb === "rm" && p.positional.length === 3) return call(io, "DELETE", url, token);
    if (verb === "set" && p.positional.length === 4 && file)
      return call(io, "PUT", url, token, readInput(file));
  }
  throw new UsageError(USAGE);
}

export const adminCommand: Command = {
  name: "admin",
  summary: "talk to a running cordon's admin API: admin ready|rooms|reload|peerings|metrics|clearance …",
  run: (args, io) => run(args, io),
};
