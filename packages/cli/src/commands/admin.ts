// `cordon admin …`: the admin API's operations from the command line, over HTTP.
//   admin health | ready | rooms | peerings | metrics | reload
//   admin clearance get JID | set JID FILE|- | rm JID        [--for-policy OID]
//   admin hash-password        a console user's password hash (stdin), for admin.console.users
// Where: --url URL, else the config's admin.listen (--config FILE or CORDON_CONFIG), else
// http://127.0.0.1:9090. Token: the env variable named by --token-env (default CORDON_ADMIN_TOKEN),
// else --token-file FILE, else the config's admin.token / admin.tokenFile, else the token file that
// `cordon start` generates in the state directory (STATE_DIR/admin-token, state-dir.ts).
// Exit 0 on success, 1 for a negative answer (not ready, not found), 2 for anything else.
import { loadConfigFile } from "@cordon/component";
import type { Command, CommandIo } from "../command.js";
import { parseArgs, readInput, UsageError } from "./io.js";
import { readAdminSection, DEFAULT_ADMIN_LISTEN, TOKEN_FILE_NAME } from "../admin/config.js";
import { readSecretFile, stateDir } from "../state-dir.js";
import { hashPasswordCommand } from "./hash-password.js";

const USAGE =
  "usage: cordon admin health|ready|rooms|peerings|metrics|reload | clearance get|set|rm JID [FILE|-] [--for-policy OID]  [--url URL | --config FILE] [--token-env NAME | --token-file FILE] | hash-password";

interface Target {
  base: string;
  token: string | undefined;
}

function target(
  url: string | undefined,
  configFile: string | undefined,
  tokenEnv: string | undefined,
  tokenFile: string | undefined,
): Target {
  let base = url?.replace(/\/+$/u, "");
  let configured: { token: string | undefined; tokenFile: string } | undefined;
  if (configFile) {
    const admin = readAdminSection(loadConfigFile(configFile).root);
    if (admin) {
      base ??= `http://${admin.host.includes(":") ? `[${admin.host}]` : admin.host}:${admin.port}`;
      configured = admin;
    }
  }
  const fromEnv = process.env[tokenEnv ?? "CORDON_ADMIN_TOKEN"] || undefined;
  const token =
    fromEnv ??
    (tokenFile !== undefined ? readSecretFile(tokenFile) : undefined) ??
    configured?.token ??
    readSecretFile(configured?.tokenFile ?? `${stateDir(undefined)}/${TOKEN_FILE_NAME}`);
  return { base: base ?? `http://${DEFAULT_ADMIN_LISTEN}`, token };
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
        // State-changing requests carry a type no web page can send cross-site (admin/guard.ts).
        ...(body
          ? { "content-type": "application/octet-stream" }
          : method !== "GET"
            ? { "content-type": "application/json" }
            : {}),
      },
      ...(body ? { body } : method !== "GET" ? { body: "{}" } : {}),
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
  if (args[0] === "hash-password") return hashPasswordCommand(args.slice(1), io);
  const p = parseArgs(args, ["url", "config", "token-env", "token-file", "for-policy"]);
  const [sub, verb, jid, file] = p.positional;
  const { base, token } = target(
    p.options.get("url")?.at(-1),
    p.options.get("config")?.at(-1) ?? process.env.CORDON_CONFIG,
    p.options.get("token-env")?.at(-1),
    p.options.get("token-file")?.at(-1),
  );
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
  summary:
    "talk to a running cordon's admin API: admin ready|rooms|reload|peerings|metrics|clearance … | hash-password",
  run: (args, io) => run(args, io),
};
