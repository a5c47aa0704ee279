// The `admin:` section of the config:
//   admin:
//     listen: "127.0.0.1:9090"        host:port ([v6]:port); loopback by default
//     token: { env: CORDON_ADMIN_TOKEN } | { file: PATH } | "literal"   bearer token
//     tokenFile: PATH                 without `token`: the token generated at first start (0600;
//                                     default STATE_DIR/admin-token, state-dir.ts)
//     hosts: [admin.example.mil]      names the API answers to in the Host header besides the
//                                     listen address, IP literals and localhost (DNS rebinding)
//     perComponent: { muc: "127.0.0.1:9091", catalog: "127.0.0.1:9092", relay: "127.0.0.1:9093" }
//                                     address used instead of `listen` by `cordon start --only NAME`
//                                     (one process per component must not share a port)
//     console:                        the web console (issue 18), served at /console/
//       users:                        who may log in besides the admin token (and the one-time link)
//         - { name: alice, role: admin | viewer, passwordHash: "scrypt$…" }   (cordon admin hash-password)
//       secureCookie: false           Secure session cookie even over plain HTTP (behind a TLS proxy)
//       overviewSampleSeconds: 10     the Overview's time series: one point every N seconds (1 to
//                                     3600; the chart keeps 360 points: the last hour at 10 s)
// A token is always required (issue 16 item 12): without `token`, one is generated at first start
// into `tokenFile`, which `cordon admin` reads. A configured token is required when the address is
// not loopback: the API changes clearances and reloads policies.
import { isIP } from "node:net";
import { ConfigReader } from "@cordon/component";
import { isRole, parsePasswordHash, type Role } from "@cordon/console";
import { configPath, stateDir } from "../state-dir.js";

export interface AdminSettings {
  host: string;
  port: number;
  /** The configured token; undefined: the generated one in `tokenFile`. */
  token: string | undefined;
  tokenFile: string;
  /** Host names (lower case, no port) accepted in the Host header besides IP literals and localhost. */
  hosts: string[];
  /** The web console's settings. */
  console: ConsoleSettings;
}

export interface ConsoleUser {
  name: string;
  role: Role;
  passwordHash: string;
}

export interface ConsoleSettings {
  users: ConsoleUser[];
  /** Mark the session cookie Secure although the listener is plain HTTP (a TLS proxy in front). */
  secureCookie: boolean;
  /** The Overview's sample interval in seconds (its time series gets one point per interval). */
  overviewSampleSeconds: number;
}

export const ADMIN_KEYS = ["listen", "token", "tokenFile", "perComponent", "hosts", "console"] as const;
export const CONSOLE_KEYS = ["users", "secureCookie", "overviewSampleSeconds"] as const;
export const DEFAULT_OVERVIEW_SAMPLE_SECONDS = 10;
const MAX_CONSOLE_USERS = 1000;
export const TOKEN_FILE_NAME = "admin-token";
export const DEFAULT_ADMIN_LISTEN = "127.0.0.1:9090";

/** Parses "host:port" or "[v6]:port". */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/u.exec(text.trim());
  if (!m) return undefined;
  const host = (m[1] ?? m[2] ?? "").toLowerCase();
  const port = Number(m[3]);
  if (port < 0 || port > 65535) return undefined;
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return /^::ffff:127\./u.test(host);
}

/**
 * Reads `admin` (undefined when the section is absent: no admin API). `only` is the component of a
 * `--only NAME` process, whose `perComponent` address wins.
 */
export function readAdminSection(
  root: ConfigReader,
  only?: string,
  env: NodeJS.ProcessEnv = process.env,
): AdminSettings | undefined {
  if (!root.has("admin")) return undefined;
  const section = root.section("admin").only(ADMIN_KEYS);
  const per = section.optionalSection("perComponent");
  const key = only !== undefined && per?.has(only) ? "perComponent" : "listen";
  const text = key === "perComponent" ? per!.string(only!) : section.string("listen", DEFAULT_ADMIN_LISTEN);
  if (per)
    for (const name of Object.keys(per.value))
      if (!parseListen(per.string(name))) per.fail(name, "expected host:port, e.g. 127.0.0.1:9091");
  const address = parseListen(text);
  if (!address)
    return section.fail(
      key === "perComponent" ? `perComponent.${only}` : "listen",
      `expected host:port, e.g. ${DEFAULT_ADMIN_LISTEN}, got "${text}"`,
    );
  const token = section.has("token") ? section.secret("token", env) : undefined;
  if (token !== undefined && token.length < 16)
    section.fail("token", "too short: use at least 16 characters (e.g. openssl rand -hex 32)");
  if (!isLoopback(address.host) && token === undefined) {
    section.fail("token", `required when the admin API listens on a non-loopback address (${address.host})`);
  }
  const file = section.optionalString("tokenFile");
  const tokenFile = file !== undefined ? configPath(root, file) : `${stateDir(root, env)}/${TOKEN_FILE_NAME}`;
  const hosts = section.stringList("hosts").map((h) => h.trim().toLowerCase());
  for (const [i, h] of hosts.entries())
    if (!/^[a-z0-9.-]+$/u.test(h)) section.fail(`hosts[${i}]`, "expected a host name without a port");
  return { ...address, token, tokenFile, hosts, console: readConsoleSection(section) };
}

/** `admin.console`: its users (name, role, scrypt hash), cookie setting and Overview sample interval. */
export function readConsoleSection(admin: ConfigReader): ConsoleSettings {
  const section = admin.optionalSection("console")?.only(CONSOLE_KEYS);
  if (!section)
    return { users: [], secureCookie: false, overviewSampleSeconds: DEFAULT_OVERVIEW_SAMPLE_SECONDS };
  const list = section.value.users ?? [];
  if (!Array.isArray(list)) return section.fail("users", "expected a list of { name, role, passwordHash }");
  if (list.length > MAX_CONSOLE_USERS) section.fail("users", `at most ${MAX_CONSOLE_USERS} users`);
  const users: ConsoleUser[] = [];
  list.forEach((entry: unknown, i) => {
    const key = `users[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry))
      section.fail(key, "expected a mapping { name, role, passwordHash }");
    const user = new ConfigReader(entry as Record<string, unknown>, section.key(key), section.file).only([
      "name",
      "role",
      "passwordHash",
    ]);
    const name = user.string("name").trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/u.test(name))
      user.fail("name", "expected 1 to 64 letters, digits or . _ @ -");
    if (name === "token")
      user.fail("name", '"token" names the admin token in the audit log: pick another name');
    if (users.some((u) => u.name === name)) user.fail("name", `"${name}" is listed twice`);
    const role = user.string("role");
    if (!isRole(role)) return user.fail("role", 'expected "viewer" or "admin"');
    const passwordHash = user.string("passwordHash");
    if (!parsePasswordHash(passwordHash))
      user.fail(
        "passwordHash",
        "expected a hash made by `cordon admin hash-password` (scrypt$N$r$p$salt$hash)",
      );
    users.push({ name, role, passwordHash });
  });
  return {
    users,
    secureCookie: section.boolean("secureCookie", false),
    overviewSampleSeconds: section.integer("overviewSampleSeconds", DEFAULT_OVERVIEW_SAMPLE_SECONDS, {
      min: 1,
      max: 3600,
    }),
  };
}
